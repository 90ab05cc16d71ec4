"""M5 (Walmart) calendar lookups: day numbers and retail weeks to dates.

M5 keys days as ``d_<n>`` and price weeks as ``wm_yr_wk`` (a retailer week number); both
resolve to dates through the calendar, so a calendar with those columns must have landed before
wide sales or week-keyed prices can be normalised (``ml.data.normalise``).
"""

from __future__ import annotations

import pandas as pd

from ml.schema import DATE

M5_DAY = "d"
M5_WEEK = "wm_yr_wk"


def day_index(calendar: pd.DataFrame) -> pd.Series:
    """``d_<n>`` -> date, from the calendar days that carry a day number."""
    known = calendar[calendar[M5_DAY].notna()]
    return pd.Series(pd.to_datetime(known[DATE]).to_numpy(), index=known[M5_DAY].to_numpy())


def week_starts(calendar: pd.DataFrame) -> pd.Series:
    """Retail week number (``wm_yr_wk``) -> the first date of that week."""
    known = calendar[calendar[M5_WEEK].notna()]
    return pd.to_datetime(known[DATE]).groupby(known[M5_WEEK].astype("int64").to_numpy()).min()
