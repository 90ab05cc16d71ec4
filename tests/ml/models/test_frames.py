"""Frame helpers: per-series tails by position must equal the groupby they replace."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.models.frames import prepare_history, series_tails
from ml.schema import DS, UNIQUE_ID, Y


@pytest.fixture
def history() -> pd.DataFrame:
    """Three series of different lengths, given shuffled (prepare_history sorts them)."""
    rng = np.random.default_rng(3)
    frames = [
        pd.DataFrame({UNIQUE_ID: uid, DS: pd.date_range("2024-01-01", periods=n), Y: rng.random(n)})
        for uid, n in (("b", 5), ("a", 9), ("c", 1))
    ]
    return prepare_history(pd.concat(frames).sample(frac=1, random_state=0))


@pytest.mark.parametrize("window", [None, 1, 4, 50])
def test_series_tails_equal_the_groupby_tail(history, window):
    tails = series_tails(history, [DS, Y], window)
    grouped = history.groupby(UNIQUE_ID, sort=True).tail(window or len(history))
    assert list(tails) == ["a", "b", "c"]
    for uid, frame in grouped.groupby(UNIQUE_ID):
        expected = frame[[DS, Y]].reset_index(drop=True)
        pd.testing.assert_frame_equal(tails[uid], expected)


def test_series_tails_of_an_empty_history_is_empty(history):
    assert series_tails(history.iloc[:0], [Y]) == {}
