"""Every family on a real store that mixes five-year and three-month histories (M5 CA_1).

A retailer's store rarely has one history length: CA_1 has 28 items with all 1,969 days and
3,021 listed for the last 116. Each family is trained as its model asset trains it
(``train_family``: the backtest, then the verdict against seasonal naive on the same rows), on
the long items and a spread sample of the short ones, with budgets small enough for CI. None
may lose to seasonal naive, on the long or the short series.
"""

from __future__ import annotations

import pandas as pd
import pytest
from testkit.m5 import load_m5_sales_history, train_test_split

from feature_store.build import build_features
from ml.evaluation.backtest import cross_validation
from ml.evaluation.metrics import evaluate_forecasts
from ml.evaluation.training import NAIVE, BacktestSpec, train_family
from ml.models.families import ENSEMBLE_FAMILIES
from ml.models.seasonal_naive import SeasonalNaive
from ml.schema import CUTOFF, DS, UNIQUE_ID, Y

pytestmark = [pytest.mark.slow, pytest.mark.m5]

SHORT_SERIES = 40
SPEC = BacktestSpec(h=28, n_windows=2, step_size=28)
SMALL = {
    "xgboost": {"n_estimators": 150, "max_depth": 6, "n_jobs": 2},
    "lstm": {"epochs": 2, "samples_per_epoch": 8000, "n_threads": 2},
}


@pytest.fixture(scope="module")
def store(m5_dir) -> tuple[pd.DataFrame, set[str], pd.DataFrame]:
    history, _ = train_test_split(load_m5_sales_history(m5_dir, "mixed"), 28)
    days = history.groupby(UNIQUE_ID)[DS].nunique()
    long_ids = set(days[days > 365].index)
    short_ids = sorted(days[days <= 120].index)
    keep = long_ids | set(short_ids[:: len(short_ids) // SHORT_SERIES][:SHORT_SERIES])
    panel = history[history[UNIQUE_ID].isin(keep)].reset_index(drop=True)
    assert len(long_ids) == 28 and panel[UNIQUE_ID].nunique() == 28 + SHORT_SERIES
    return panel, long_ids, build_features(panel)


@pytest.mark.parametrize("family", [spec.key for spec in ENSEMBLE_FAMILIES])
def test_every_family_beats_seasonal_naive_on_long_and_short_series(store, family) -> None:
    panel, long_ids, features = store
    result = train_family(
        family, panel, SPEC, n_workers=2, params=SMALL.get(family), features=features
    )
    assert result.worse_than_naive == [], result.verdict()
    (alias,) = result.aliases
    naive = cross_validation(SeasonalNaive(), panel, SPEC.h, SPEC.n_windows, SPEC.step_size)
    both = result.cv[[UNIQUE_ID, DS, CUTOFF, Y, alias]].merge(
        naive.drop(columns=Y), on=[UNIQUE_ID, DS, CUTOFF]
    )
    per_series = evaluate_forecasts(both, panel, [alias, NAIVE]).per_series
    rmsse = per_series[per_series["metric"] == "rmsse"].set_index(UNIQUE_ID)
    is_long = rmsse.index.isin(long_ids)
    # a short series with no sale before a window's cutoff has no RMSSE scale there
    assert is_long.sum() == 28 and SHORT_SERIES - 5 <= (~is_long).sum() <= SHORT_SERIES
    for kind, rows in (("long", rmsse[is_long]), ("short", rmsse[~is_long])):
        model, baseline = rows[alias].mean(), rows[NAIVE].mean()
        assert model < baseline, f"{alias} on the {kind} series: {model:.3f} vs {baseline:.3f}"
