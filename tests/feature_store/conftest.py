"""Fixtures for the feature-store tests: small hand-made sales histories (``testkit.histories``)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest
from testkit import histories

MakeHistory = Callable[..., pd.DataFrame]


@pytest.fixture
def make_history() -> MakeHistory:
    """Build a ``sales_history`` frame from ``{(store, item): y}`` (see ``testkit.histories``)."""
    return histories.make_history


@pytest.fixture
def mixed_history() -> pd.DataFrame:
    """Three series over 200 days with promotions, a price gap, events and SNAP days."""
    return histories.mixed_history()
