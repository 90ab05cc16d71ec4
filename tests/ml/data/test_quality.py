import numpy as np
import pandas as pd

from ml.data.history import build_sales_history
from ml.data.quality import quality_rules, short_series


def _history():
    days = pd.date_range("2024-01-01", periods=60)
    rng = np.random.default_rng(0)
    frames = [
        pd.DataFrame({"date": days, "item_id": "GOOD_1_1", "units": rng.poisson(5, 60)}),
        pd.DataFrame({"date": days[-10:], "item_id": "SHORT_1_1", "units": rng.poisson(5, 10)}),
        pd.DataFrame({"date": days[::2], "item_id": "GAPPY_1_1", "units": rng.poisson(5, 30)}),
        pd.DataFrame({"date": days, "item_id": "FLAT_1_1", "units": 3}),
        pd.DataFrame(
            {
                "date": days,
                "item_id": "SPIKY_1_1",
                "units": np.where(np.arange(60) % 10 == 0, 500, 5),
            }
        ),
    ]
    sales = pd.concat(frames).assign(store_id="CA_1")
    sales["units"] = sales["units"].astype(float)
    return build_sales_history(sales)


def test_each_rule_flags_the_series_built_to_break_it():
    flagged = {r.name: set(r.flagged["unique_id"]) for r in quality_rules(_history())}
    assert flagged["min_history"] == {"CA_1__SHORT_1_1"}
    assert flagged["missing_days"] == {"CA_1__GAPPY_1_1"}
    assert flagged["near_zero_variance"] == {"CA_1__FLAT_1_1"}
    assert "CA_1__SPIKY_1_1" in flagged["outliers"]
    assert "CA_1__GOOD_1_1" not in set().union(*flagged.values())


def test_short_series_are_listed_for_exclusion():
    assert short_series(_history()) == ["CA_1__SHORT_1_1"]
    assert short_series(_history(), min_days=5) == []
