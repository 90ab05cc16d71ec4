"""Seeded synthetic retailer: the embedded default data, with known ground truth.

``generate(SyntheticConfig())`` returns M5-like landing frames (intermittent daily sales, weekly
prices with promotions, an events calendar with SNAP days, a product catalogue) together with
the truth that produced them: per-series level, trend, weekly and yearly seasonality, price
elasticity and promotion effect, and the uplift per event type. ``write_landing_files`` drops
the frames as the canonical CSVs a retailer would send, with the truth kept beside the landing
folder. Nothing here imports Dagster.
"""

from ml.synthetic.config import SyntheticConfig, SyntheticDataset
from ml.synthetic.generator import generate
from ml.synthetic.landing import read_truth, truth_dir, write_landing_files

__all__ = [
    "SyntheticConfig",
    "SyntheticDataset",
    "generate",
    "read_truth",
    "truth_dir",
    "write_landing_files",
]
