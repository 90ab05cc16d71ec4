"""The one contract every forecaster follows (Nixtla / scikit-learn style).

* ``__init__`` stores hyper-parameters only (no work, no data).
* ``fit(df)`` takes a long frame (``unique_id``, ``ds``, ``y`` plus optional exogenous columns
  such as ``sell_price``, ``snap`` and the event columns) and returns ``self``; fitted state
  lives in attributes ending in ``_``.
* ``predict(h, X_df=None, level=None)`` returns a long frame ``unique_id, ds, <alias>`` and, for
  each level in ``level``, ``<alias>-lo-<level>`` and ``<alias>-hi-<level>``. ``X_df`` holds
  future exogenous values (``unique_id``, ``ds`` and the same exogenous columns) for models
  that use them; others ignore it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import pandas as pd

from ml.schema import DS, UNIQUE_ID, Y


class NotFittedError(RuntimeError):
    """``predict`` was called before ``fit``."""


def check_choice(name: str, value: object, choices: Sequence[str]) -> None:
    """Reject a hyper-parameter outside its few allowed values (``ValueError`` naming them)."""
    if value not in choices:
        allowed = " or ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be {allowed}, got {value!r}")


class Forecaster(ABC):
    """Base class: subclasses implement ``_fit`` and ``_predict``."""

    alias: str = "Forecaster"

    def fit(self, df: pd.DataFrame) -> Forecaster:
        missing = {UNIQUE_ID, DS, Y} - set(df.columns)
        if missing:
            raise ValueError(f"{self.alias}.fit: missing columns {sorted(missing)}")
        if df.empty:
            raise ValueError(f"{self.alias}.fit: empty frame")
        self._fit(df)
        self.is_fitted_ = True
        return self

    def predict(
        self, h: int, X_df: pd.DataFrame | None = None, level: Sequence[int] | None = None
    ) -> pd.DataFrame:
        if not getattr(self, "is_fitted_", False):
            raise NotFittedError(f"{self.alias}: call fit() before predict()")
        if h < 1:
            raise ValueError(f"{self.alias}.predict: horizon h must be >= 1, got {h}")
        levels = sorted(int(lv) for lv in (level or []))
        if any(not 0 < lv < 100 for lv in levels):
            raise ValueError(f"{self.alias}.predict: levels must lie in (0, 100), got {levels}")
        return self._predict(h, X_df, levels)

    @abstractmethod
    def _fit(self, df: pd.DataFrame) -> None: ...

    @abstractmethod
    def _predict(self, h: int, X_df: pd.DataFrame | None, level: list[int]) -> pd.DataFrame: ...

    def get_params(self) -> dict:
        """Hyper-parameters as given to ``__init__`` (for MLflow logging)."""
        return {k: v for k, v in vars(self).items() if not (k.endswith("_") or k.startswith("_"))}
