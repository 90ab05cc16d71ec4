"""Write a synthetic dataset as the canonical CSV files a retailer drops in a landing zone.

The ground truth goes next to the landing folder (``<folder>/../truth``), never into it, so
ingestion sees exactly what a real retailer would send. Each file is written under a hidden
temporary name and renamed into place, so a watcher never sees a half-written file.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pandas as pd

from ml.schema import DATE
from ml.synthetic.config import SyntheticDataset

SALES_FILE, PRICES_FILE = "sales.csv", "prices.csv"
CALENDAR_FILE, PRODUCTS_FILE = "calendar.csv", "products.csv"
TRUTH_FILE, EVENT_UPLIFT_FILE = "truth.parquet", "event_uplift.json"
CONFIG_FILE, EXPECTED_UNITS_FILE = "config.json", "expected_units.parquet"
DATE_FORMAT = "%Y-%m-%d"


def truth_dir(landing_folder: Path) -> Path:
    """Where :func:`write_landing_files` puts the ground truth of a landing folder."""
    return Path(landing_folder).parent / "truth"


def daily_sales_name(day: pd.Timestamp) -> str:
    """File name of one day's sales in replay mode: ``sales_YYYY-MM-DD.csv``."""
    return f"sales_{day:%Y-%m-%d}.csv"


def _write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """CSV with ISO dates, written atomically (temporary hidden file, then rename)."""
    tmp = path.with_name(f".{path.name}.tmp")
    frame.to_csv(tmp, index=False, date_format=DATE_FORMAT)
    os.replace(tmp, path)
    return path


def _write_daily_sales(sales: pd.DataFrame, folder: Path) -> list[Path]:
    return [
        _write_csv(day_rows, folder / daily_sales_name(pd.Timestamp(day)))
        for day, day_rows in sales.groupby(DATE, sort=True)
    ]


def _write_truth(dataset: SyntheticDataset, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    dataset.truth.to_parquet(folder / TRUTH_FILE, index=False)
    if not dataset.expected_units.empty:
        dataset.expected_units.to_parquet(folder / EXPECTED_UNITS_FILE, index=False)
    (folder / EVENT_UPLIFT_FILE).write_text(json.dumps(dataset.event_uplift, indent=2))
    config = dataclasses.asdict(dataset.config)
    (folder / CONFIG_FILE).write_text(json.dumps(config, indent=2))


def write_landing_files(
    dataset: SyntheticDataset, folder: Path, *, daily_sales_files: bool = False
) -> list[Path]:
    """Write sales, prices, calendar and products CSVs into ``folder`` (created if needed).

    The ground truth (truth.parquet, expected_units.parquet, event_uplift.json, config.json)
    goes into :func:`truth_dir` (``folder.parent / "truth"``). With ``daily_sales_files`` the
    sales are split into one ``sales_YYYY-MM-DD.csv`` per day, to replay days one at a time.
    Returns the landing files written (sales first), not the truth files.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if daily_sales_files:
        written = _write_daily_sales(dataset.sales, folder)
    else:
        written = [_write_csv(dataset.sales, folder / SALES_FILE)]
    written += [
        _write_csv(dataset.prices, folder / PRICES_FILE),
        _write_csv(dataset.calendar, folder / CALENDAR_FILE),
        _write_csv(dataset.products, folder / PRODUCTS_FILE),
    ]
    _write_truth(dataset, truth_dir(folder))
    return written


def read_truth(landing_folder: Path) -> tuple[pd.DataFrame, dict[str, float]]:
    """The per-series truth and the event uplift written next to a landing folder."""
    folder = truth_dir(landing_folder)
    uplift = json.loads((folder / EVENT_UPLIFT_FILE).read_text())
    return pd.read_parquet(folder / TRUTH_FILE), {k: float(v) for k, v in uplift.items()}
