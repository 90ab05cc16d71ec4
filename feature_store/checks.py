"""Quality checks of a feature table, as plain functions the asset checks call.

* :func:`find_missing` -- NaN (or infinite) values where a feature must be defined, by the
  null rule each feature declares in ``feature_store.definitions``;
* :func:`find_leakage` -- recomputes features from the history truncated at each cutoff and
  lists every value that differs from the stored table (a difference means the stored value
  used data after the cutoff);
* :func:`find_training_leakage` -- the same for rows of a *training frame* (the exact rows a
  model was handed): each row is joined afresh from features built with every sale after its
  cutoff removed;
* version checks live with the stores (``OfflineStore.read``, ``OnlineStore.check_version``).

Each returns a frame of failing rows (empty when the check passes), ready for asset metadata.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from feature_store.build import DAY, KEY_COLUMNS, build_features
from feature_store.calendar import DEFAULT_COUNTRY
from feature_store.definitions import FEATURES, MODEL_FEATURES, STATE_FEATURES
from feature_store.joins import rejoin
from ml.schema import CUTOFF, DEPT_ID, DS, SELL_PRICE, STORE_ID, UNIQUE_ID, Y

FEATURE, RULE, VIOLATIONS = "feature", "rule", "violations"
STORED, RECOMPUTED, CUTOFF_DAY = "stored", "recomputed", "cutoff"
MISSING_COLUMNS = [FEATURE, RULE, VIOLATIONS, UNIQUE_ID, DS]
LEAK_COLUMNS = [CUTOFF_DAY, UNIQUE_ID, DS, FEATURE, STORED, RECOMPUTED]


def find_missing(features: pd.DataFrame) -> pd.DataFrame:
    """Per feature with violations: the rule broken, how many rows, and the first such row."""
    first_day = features.groupby(UNIQUE_ID)[DS].transform("min")
    position = (features[DS] - first_day).dt.days.to_numpy()
    has_price = features[SELL_PRICE].notna().to_numpy()
    rows = []
    for feature in FEATURES:
        values = features[feature.name].to_numpy()
        bad = ~np.isfinite(values.astype(np.float64))
        if feature.null_rule == "warmup":
            bad &= position >= feature.warmup
        elif feature.null_rule == "no_price":
            bad &= has_price
        if bad.any():
            first = int(np.argmax(bad))
            rows.append(
                [
                    feature.name,
                    feature.null_rule,
                    int(bad.sum()),
                    features[UNIQUE_ID].iat[first],
                    features[DS].iat[first],
                ]
            )
    return pd.DataFrame(rows, columns=MISSING_COLUMNS)


def find_leakage(
    history: pd.DataFrame,
    features: pd.DataFrame,
    cutoffs: Iterable[pd.Timestamp | str],
    ids: Sequence[str] | None = None,
    country: str = DEFAULT_COUNTRY,
    rtol: float = 1e-5,
    atol: float = 1e-6,
) -> pd.DataFrame:
    """Stored values that differ from a recomputation on the history truncated at each cutoff.

    For each cutoff, features are rebuilt from ``history`` rows with ``ds <= cutoff``; every
    feature of the stored rows ``ds <= cutoff`` and every state feature of the anchor row
    ``ds = cutoff + 1`` must match (NaN matches NaN; floats within ``rtol``/``atol``, the
    float32 rounding of the table). ``ids`` restricts the check to a sample of series, widened
    to their whole store-department groups so cross-series features are recomputed exactly.
    """
    history = _sample(history, ids)
    stored = features[features[UNIQUE_ID].isin(history[UNIQUE_ID].unique())]
    parts = [
        _compare_at(history, stored, pd.Timestamp(c).normalize(), country, rtol, atol)
        for c in cutoffs
    ]
    parts = [p for p in parts if not p.empty]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=LEAK_COLUMNS)


def find_training_leakage(
    history: pd.DataFrame,
    rows: pd.DataFrame,
    country: str = DEFAULT_COUNTRY,
    rtol: float = 1e-5,
    atol: float = 1e-6,
) -> pd.DataFrame:
    """Model inputs of training rows that differ from the same rows rebuilt without the future.

    ``rows`` are rows of a training frame as the model received them (``unique_id, ds, cutoff``
    and the :data:`MODEL_FEATURES`). For each cutoff the feature table is rebuilt from
    ``history`` with every sale after the cutoff removed (the rows' series, widened to their
    store-department groups) and the rows joined afresh; every input must match. A row that
    cannot be rebuilt (no such series or day) counts as a difference.
    """
    parts = []
    for cutoff, group in rows.groupby(CUTOFF, sort=True):
        past = _sample(history, group[UNIQUE_ID].unique()).copy()
        past.loc[past[DS] > cutoff, Y] = np.nan
        rebuilt = rejoin(build_features(past, country), group)
        both = group.merge(rebuilt, on=[UNIQUE_ID, DS, CUTOFF], how="left", suffixes=("", "_new"))
        parts.append(_differences(both, MODEL_FEATURES, rtol, atol).assign(**{CUTOFF_DAY: cutoff}))
    if not parts:
        return pd.DataFrame(columns=LEAK_COLUMNS)
    return pd.concat(parts, ignore_index=True)[LEAK_COLUMNS]


def _differences(
    both: pd.DataFrame,
    names: list[str],
    rtol: float,
    atol: float,
    ignored: np.ndarray | None = None,
) -> pd.DataFrame:
    """``unique_id, ds, feature, stored, recomputed`` where ``name`` and ``name_new`` differ
    (NaN matches NaN; ``ignored`` cells never differ)."""
    old = both[names].to_numpy(dtype=np.float64)
    new = both[[f"{n}_new" for n in names]].to_numpy(dtype=np.float64)
    same = (np.isnan(old) & np.isnan(new)) | np.isclose(old, new, rtol=rtol, atol=atol)
    if ignored is not None:
        same |= ignored
    rows, cols = np.nonzero(~same)
    return pd.DataFrame(
        {
            UNIQUE_ID: both[UNIQUE_ID].to_numpy()[rows],
            DS: both[DS].to_numpy()[rows],
            FEATURE: np.asarray(names)[cols],
            STORED: old[rows, cols],
            RECOMPUTED: new[rows, cols],
        }
    )


def _sample(history: pd.DataFrame, ids: Sequence[str] | None) -> pd.DataFrame:
    if ids is None:
        return history
    if {STORE_ID, DEPT_ID} <= set(history.columns):
        groups = pd.MultiIndex.from_frame(history[[STORE_ID, DEPT_ID]])
        wanted = groups[history[UNIQUE_ID].isin(ids).to_numpy()].unique()
        return history[groups.isin(wanted)]
    return history[history[UNIQUE_ID].isin(ids)]


def _compare_at(
    history: pd.DataFrame,
    stored: pd.DataFrame,
    cutoff: pd.Timestamp,
    country: str,
    rtol: float,
    atol: float,
) -> pd.DataFrame:
    truncated = history[history[DS] <= cutoff]
    if truncated.empty:
        return pd.DataFrame(columns=LEAK_COLUMNS)
    recomputed = build_features(truncated, country)
    expected = stored[
        (stored[DS] <= cutoff + DAY) & stored[UNIQUE_ID].isin(truncated[UNIQUE_ID].unique())
    ]
    names = [f.name for f in FEATURES]
    both = expected[[*KEY_COLUMNS, *names]].merge(
        recomputed[[*KEY_COLUMNS, *names]], on=KEY_COLUMNS, how="left", suffixes=("", "_new")
    )
    anchor = (both[DS] == cutoff + DAY).to_numpy()
    ignored = np.zeros((len(both), len(names)), dtype=bool)
    ignored[np.ix_(anchor, ~np.isin(names, STATE_FEATURES))] = True  # the anchor's own day
    return _differences(both, names, rtol, atol, ignored).assign(**{CUTOFF_DAY: cutoff})[
        LEAK_COLUMNS
    ]
