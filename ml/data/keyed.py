"""Key-level operations on the frames of lake parts: typed keys, 64-bit key hashes, uniqueness,
filling the columns a newer frame does not carry, and the pre-``parts`` whole-row last-wins rule.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DATE_KEYS = ("date", "month_start")


def prepared(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The frame with a fresh index and date keys as ``datetime64[ns]``."""
    missing = [k for k in keys if k not in frame.columns]
    if missing:
        raise ValueError(f"the frame lacks key column(s) {missing}")
    frame = frame.reset_index(drop=True)
    for key in keys:
        if key in DATE_KEYS and frame[key].dtype != "datetime64[ns]":
            frame[key] = pd.to_datetime(frame[key]).astype("datetime64[ns]")
    return frame


def key_hashes(frame: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """64-bit hashes of the key tuples (ids as plain objects, so dtypes do not matter)."""
    key_frame = frame[keys]
    for key in keys:
        if key not in DATE_KEYS and key_frame[key].dtype not in ("object", "category"):
            key_frame = key_frame.assign(**{key: key_frame[key].astype(object)})
    return pd.util.hash_pandas_object(key_frame, index=False).to_numpy()


def isin(values: np.ndarray, among: np.ndarray) -> np.ndarray:
    """``np.isin`` by a hash table (pandas'): several times faster on 64-bit hashes."""
    return pd.Series(values).isin(among).to_numpy()


def check_unique(frame: pd.DataFrame, keys: list[str], hashes: np.ndarray) -> None:
    clash = frame.loc[pd.Series(hashes).duplicated(keep=False).to_numpy(), keys]
    if clash.duplicated().any():  # equal hashes are only suspects: compare the keys
        example = clash[clash.duplicated()].iloc[0].to_dict()
        raise ValueError(f"repeated key(s) in the frame (the caller must dedupe), e.g. {example}")


def fill(frame: pd.DataFrame, carried: list[pd.DataFrame]) -> pd.DataFrame:
    """The frame plus the columns it does not carry, from the rows it replaces (by position)."""
    carried = [c for c in carried if len(c.columns)]
    if not carried:
        return frame
    extra = pd.concat(carried)
    return frame.join(extra[~extra.index.duplicated(keep="last")])


def last_wins(key_frames: list[pd.DataFrame]) -> list[np.ndarray]:
    """Per old part, which rows survive whole-row last-wins (the old ``read_table`` rule)."""
    stacked = pd.concat(key_frames, ignore_index=True)
    if not len(stacked.columns):
        return [np.ones(len(f), dtype=bool) for f in key_frames]
    keep = ~stacked.duplicated(list(stacked.columns), keep="last").to_numpy()
    return np.split(keep, np.cumsum([len(f) for f in key_frames])[:-1])
