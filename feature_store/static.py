"""Static per-series features: store, item, department and category as integer codes.

Codes are a stable hash (crc32 of the id, 31 bits) rather than positions in a vocabulary, so
the same item gets the same code in every table, in every training run and at serving time,
whichever other series happen to be present. Two ids may collide in principle (about a 0.2 %
chance among 3,000 ids); a collision only merges two categories for the model.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from feature_store.definitions import CAT_CODE, DEPT_CODE, ITEM_CODE, STORE_CODE
from ml.schema import CAT_ID, DEPT_ID, ITEM_ID, STORE_ID

STATIC_SOURCES: dict[str, str] = {
    STORE_CODE: STORE_ID,
    ITEM_CODE: ITEM_ID,
    DEPT_CODE: DEPT_ID,
    CAT_CODE: CAT_ID,
}


def stable_code(values: pd.Series) -> np.ndarray:
    """int32 code of each value: crc32 of its text, 31 bits; missing values get 0."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    table = np.array(
        [zlib.crc32(str(u).encode()) & 0x7FFFFFFF for u in uniques] + [0], dtype=np.int32
    )
    return table[codes]  # the NA sentinel -1 picks the trailing 0


def static_features(frame: pd.DataFrame) -> pd.DataFrame:
    """Store, item, department and category codes of every row."""
    return pd.DataFrame(
        {name: stable_code(frame[source]) for name, source in STATIC_SOURCES.items()},
        index=frame.index,
    )
