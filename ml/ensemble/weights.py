"""Weighted ensemble of the forecaster families, with weights learned from backtest error.

Input is one merged backtest frame (``unique_id, ds, cutoff, y`` and a point column per family
alias, as :func:`ml.evaluation.backtest.cross_validation` and :mod:`ml.evaluation.training`
produce). Weights come
from one of these schemes (:data:`SCHEMES`):

* ``fixed``: the design documents' weights (``ml.models.families``: ARIMA 20 / Prophet 25 /
  XGBoost 30 / LSTM 25; the fallback whenever nothing can be learned); ``equal``: the plain
  mean of the members;
* ``inverse_error``: weights proportional to 1 / MSE of each family's scaled errors;
* ``nnls``: constrained least squares -- the non-negative weights summing to 1 that minimise
  the squared scaled error of the combination (``scipy.optimize.nnls`` with the sum-to-one
  row appended);

each pooled over all series (no suffix), per segment (``_segment``: intermittency class of
Syntetos-Boylan, or department) or per series (``_series``). Segment and series weights are
shrunk towards the level above by ``n / (n + k)`` (``n`` the backtest points behind them), so a
noisy or short record moves little away from the pooled answer. Errors are divided by each
series' RMSSE scale first, so the fast movers do not decide the weights for everyone.

A family missing from the frame (or with no forecasts) is dropped and the weights renormalised;
where a family has no forecast for a row (a failed series) that row renormalises over the
others. :func:`compare_schemes` scores every scheme honestly -- weights learned on earlier
windows (only on actuals dated up to the scored window's cutoff), scored on later ones -- and
:mod:`ml.ensemble.intervals` calibrates the ensemble's intervals on its own residuals.
:mod:`ml.ensemble.evaluation` puts every model on the same windows side by side.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import nnls

from ml.ensemble.intervals import ResidualCalibration, add_intervals
from ml.evaluation.metrics import evaluate_forecasts
from ml.models.families import DESIGN_WEIGHTS
from ml.schema import CUTOFF, DEPT_ID, DS, UNIQUE_ID, Y

logger = logging.getLogger(__name__)

ENSEMBLE = "Ensemble"
SCHEMES = (
    "fixed",
    "equal",
    "inverse_error",
    "inverse_error_segment",
    "inverse_error_series",
    "nnls",
    "nnls_segment",
    "nnls_series",
)
SEGMENT = "segment"
BEST_MEMBER = "best_member"  # the scheme of an ensemble that fell back to its best member
MIN_SHARE = 0.5  # a member needs forecasts for this share of rows to take part
SHRINK_SEGMENT = 500  # points: segment weights move halfway from global at this many
SHRINK_SERIES = 168  # points: series weights move halfway from their segment at this many


@dataclass
class EnsembleWeights:
    """Weights of the members: one pooled row, and optionally one row per series."""

    scheme: str
    default: pd.Series  # member -> weight (sums to 1)
    per_series: pd.DataFrame = field(default_factory=pd.DataFrame)  # unique_id x members

    @property
    def members(self) -> list[str]:
        return list(self.default.index)

    def matrix(self, ids: np.ndarray) -> np.ndarray:
        """(rows, members) weights for series ``ids``; unknown series get the pooled row."""
        if self.per_series.empty:
            return np.tile(self.default.to_numpy(dtype="float64"), (len(ids), 1))
        table = self.per_series.reindex(columns=self.members).reindex(ids)
        return table.fillna(self.default).to_numpy(dtype="float64")

    def mean(self) -> pd.Series:
        """Average weight of each member over the series (the pooled row if none)."""
        return self.default if self.per_series.empty else self.per_series.mean()


def _normalised(weights: pd.Series) -> pd.Series:
    weights = weights.clip(lower=0.0).fillna(0.0)
    total = weights.sum()
    return weights / total if total > 0 else pd.Series(1.0 / len(weights), weights.index)


def available_members(frame: pd.DataFrame, members: Sequence[str]) -> list[str]:
    """Members with a column in ``frame`` and forecasts for at least half of its rows."""
    present = [m for m in members if m in frame.columns]
    usable = [m for m in present if frame[m].notna().mean() >= MIN_SHARE]
    dropped = sorted(set(members) - set(usable))
    if dropped:
        logger.warning("ensemble: dropping members without forecasts: %s", dropped)
    return usable


def fixed_weights(members: Sequence[str]) -> pd.Series:
    """The design documents' weights over ``members``, renormalised (equal if none match)."""
    weights = pd.Series({m: DESIGN_WEIGHTS.get(m, 0.0) for m in members}, dtype="float64")
    return _normalised(weights)


def combine(frame: pd.DataFrame, weights: EnsembleWeights) -> np.ndarray:
    """The weighted point forecast of every row; a missing member forecast renormalises."""
    members = [m for m in weights.members if m in frame.columns]
    if not members:
        raise ValueError(f"frame has none of the ensemble members {weights.members}")
    index = [weights.members.index(m) for m in members]
    w = weights.matrix(frame[UNIQUE_ID].to_numpy())[:, index]
    forecasts = frame[members].to_numpy(dtype="float64")
    known = np.isfinite(forecasts)
    w = np.where(known, w, 0.0)
    w = np.where(w.sum(axis=1, keepdims=True) > 0, w, known.astype("float64"))
    total = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (w * np.nan_to_num(forecasts)).sum(axis=1) / total, np.nan)


# -- learning -----------------------------------------------------------------------------
def rmsse_scale(history: pd.DataFrame) -> pd.Series:
    """Per series root mean squared one-step change from the first sale (RMSSE's scale)."""
    frame = history[[UNIQUE_ID, DS, Y]].sort_values([UNIQUE_ID, DS], kind="stable")
    started = frame[Y].ne(0).groupby(frame[UNIQUE_ID], sort=False).cummax()
    frame = frame[started.to_numpy()]
    moves = frame.groupby(UNIQUE_ID, sort=True)[Y].diff() ** 2
    scale = np.sqrt(moves.groupby(frame[UNIQUE_ID], sort=True).mean())
    return scale.where(scale > 0).fillna(1.0).clip(lower=1e-3)


def scaled_errors(cv: pd.DataFrame, history: pd.DataFrame, members: list[str]) -> pd.DataFrame:
    """``unique_id`` and one column per member: (y - forecast) / the series' RMSSE scale."""
    rows = cv.dropna(subset=[Y, *members])
    scale = rows[UNIQUE_ID].map(rmsse_scale(history)).fillna(1.0).to_numpy()
    errors = rows[Y].to_numpy()[:, None] - rows[members].to_numpy(dtype="float64")
    out = pd.DataFrame(errors / scale[:, None], columns=members)
    out.insert(0, UNIQUE_ID, rows[UNIQUE_ID].to_numpy())
    return out


def intermittency_class(history: pd.DataFrame, days: int = 364) -> pd.Series:
    """Syntetos-Boylan class of each series over its last ``days``: smooth, erratic,
    intermittent or lumpy (average demand interval 1.32, squared CV of sizes 0.49)."""
    recent = history.sort_values([UNIQUE_ID, DS]).groupby(UNIQUE_ID, sort=True).tail(days)
    grouped = recent.groupby(UNIQUE_ID, sort=True)[Y]
    nonzero = recent[recent[Y] > 0].groupby(UNIQUE_ID, sort=True)[Y]
    adi = grouped.size() / nonzero.size().reindex(grouped.size().index).clip(lower=1)
    cv2 = (nonzero.std() / nonzero.mean()).pow(2).reindex(adi.index).fillna(0.0)
    frequent, steady = adi < 1.32, cv2 < 0.49
    labels = np.select(
        [frequent & steady, frequent, steady], ["smooth", "erratic", "intermittent"], "lumpy"
    )
    return pd.Series(labels, index=adi.index, name=SEGMENT)


def segments(history: pd.DataFrame, by: str = "intermittency") -> pd.Series:
    """The segment of every series: its intermittency class, or its department."""
    if by == "intermittency":
        return intermittency_class(history)
    if by == DEPT_ID and DEPT_ID in history.columns:
        return history.groupby(UNIQUE_ID, sort=True)[DEPT_ID].first().rename(SEGMENT)
    raise ValueError(f"cannot segment by {by!r} (history columns: {list(history.columns)})")


def inverse_error_solution(errors: np.ndarray) -> np.ndarray:
    """Weights proportional to 1 / mean squared error of each column."""
    mse = np.nanmean(errors**2, axis=0)
    inverse = 1.0 / np.maximum(mse, 1e-12)
    return inverse / inverse.sum()


def nnls_solution(errors: np.ndarray) -> np.ndarray:
    """argmin ||errors @ w|| with w >= 0 and sum(w) = 1.

    The combined forecast's error is ``errors @ w`` because the weights sum to one. The sum
    is an extra row ``penalty * (1 - sum(w))``; the problem is homogeneous, so the non-negative
    least-squares answer is the constrained one times a positive factor, whatever the
    penalty (it is only sized to the errors for conditioning), and dividing by its sum
    recovers it. That factor is never zero: ``w = 0`` costs ``penalty**2``, more than a
    small step towards the constrained answer.
    """
    n, m = errors.shape
    penalty = 1e3 * max(float(np.sqrt((errors**2).mean() * n)), 1e-6)
    design = np.vstack([errors, np.full((1, m), penalty)])
    target = np.concatenate([np.zeros(n), [penalty]])
    weights, _ = nnls(design, target, maxiter=50 * m)
    return weights / weights.sum()


SOLVERS = {"inverse_error": inverse_error_solution, "nnls": nnls_solution}


def _shrunk(local: np.ndarray, parent: np.ndarray, n: int, k: float) -> np.ndarray:
    blend = n / (n + k)
    weights = blend * local + (1.0 - blend) * parent
    return weights / weights.sum()


def _grouped_weights(errors, keys, solver, parent: pd.DataFrame, k: float) -> pd.DataFrame:
    """Weights per group of ``keys``, each shrunk towards its row of ``parent``."""
    members = list(parent.columns)
    rows = {}
    for key, group in errors.groupby(keys, sort=True):
        values = group[members].to_numpy()
        rows[key] = _shrunk(solver(values), parent.loc[key].to_numpy(), len(values), k)
    return pd.DataFrame.from_dict(rows, orient="index", columns=members)


def learn_weights(
    cv: pd.DataFrame,
    history: pd.DataFrame,
    members: Sequence[str],
    scheme: str = "nnls",
    segment_by: str = "intermittency",
    shrink_segment: float = SHRINK_SEGMENT,
    shrink_series: float = SHRINK_SERIES,
) -> EnsembleWeights:
    """Weights of ``members`` by ``scheme`` from backtest errors (see the module docstring).

    ``history`` is what was known when the weights are learned (scales and segments come from
    it). The design documents' fixed weights are returned when nothing can be learned.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"unknown ensemble scheme {scheme!r}; known: {list(SCHEMES)}")
    members = available_members(cv, members)
    if not members:
        raise ValueError("no ensemble member has backtest forecasts")
    if scheme == "equal":
        return EnsembleWeights(scheme, _normalised(pd.Series(1.0, index=members)))
    errors = scaled_errors(cv, history, members) if scheme != "fixed" else pd.DataFrame()
    if errors.empty:
        if scheme != "fixed":
            logger.warning("ensemble: no backtest errors to learn from; fixed weights")
        return EnsembleWeights("fixed", fixed_weights(members))
    method = scheme.removesuffix("_segment").removesuffix("_series")
    solver = SOLVERS[method]
    pooled = pd.Series(solver(errors[members].to_numpy()), index=members)
    if scheme == method:
        return EnsembleWeights(scheme, pooled)
    return _hierarchical(
        scheme, errors, history, pooled, solver, segment_by, shrink_segment, shrink_series
    )


def _hierarchical(scheme, errors, history, pooled, solver, segment_by, k_segment, k_series):
    """Segment weights shrunk to pooled; for ``_series`` schemes series shrunk to segment."""
    members = list(pooled.index)
    segment_of = segments(history, segment_by)
    errors = errors.assign(**{SEGMENT: errors[UNIQUE_ID].map(segment_of).fillna("unknown")})
    parent = pd.DataFrame(
        [pooled] * errors[SEGMENT].nunique(), index=sorted(errors[SEGMENT].unique())
    )
    by_segment = _grouped_weights(errors, SEGMENT, solver, parent, k_segment)
    ids = errors[UNIQUE_ID].drop_duplicates()
    per_series = by_segment.reindex(ids.map(segment_of).fillna("unknown")).set_axis(ids)
    if scheme.endswith("_series"):
        per_series = _grouped_weights(errors, UNIQUE_ID, solver, per_series, k_series)
    per_series.index.name = UNIQUE_ID
    return EnsembleWeights(scheme, pooled, per_series[members])


# -- honest comparison ----------------------------------------------------------------------
@dataclass
class SchemeComparison:
    """Each scheme's accuracy on windows it did not learn from; ``best`` has the lowest RMSSE."""

    table: pd.DataFrame  # scheme, rmsse, mase, wape, bias (means over the scored windows)
    best: str
    n_learn_windows: int


def compare_schemes(
    cv: pd.DataFrame,
    history: pd.DataFrame,
    members: Sequence[str],
    schemes: Sequence[str] = SCHEMES,
    segment_by: str = "intermittency",
    fallback: str = "fixed",
) -> SchemeComparison:
    """Score every scheme on each window from the second on, learning only from earlier
    windows' actuals dated up to that window's cutoff; single members ride along."""
    members = available_members(cv, members)
    cutoffs = sorted(cv[CUTOFF].unique())
    if len(cutoffs) < 2:
        logger.warning("ensemble: one backtest window only; using the %s scheme", fallback)
        return SchemeComparison(pd.DataFrame(columns=["scheme", "rmsse"]), fallback, 0)
    scored = []
    for cutoff in cutoffs[1:]:
        learn = cv[(cv[CUTOFF] < cutoff) & (cv[DS] <= cutoff)]
        known = history[history[DS] <= cutoff]
        window = cv[cv[CUTOFF] == cutoff].copy()
        for scheme in schemes:
            weights = learn_weights(learn, known, members, scheme, segment_by)
            window[scheme] = combine(window, weights)
        scored.append(window)
    table = _scheme_table(pd.concat(scored, ignore_index=True), history, [*schemes, *members])
    best = table.loc[table["scheme"].isin(schemes), "scheme"].iloc[0]
    return SchemeComparison(table, best, len(cutoffs) - 1)


def _scheme_table(frame: pd.DataFrame, history: pd.DataFrame, columns: list[str]):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        summary = evaluate_forecasts(frame, history, columns).summary()
    table = summary[["rmsse", "mase", "wape", "bias"]].sort_values("rmsse")
    return table.rename_axis("scheme").reset_index()


# -- the ensemble -----------------------------------------------------------------------------
@dataclass
class Ensemble:
    """Learned weights plus the interval calibration of the combined forecast."""

    weights: EnsembleWeights
    calibration: ResidualCalibration | None = None
    alias: str = ENSEMBLE

    def apply(self, frame: pd.DataFrame, levels: Sequence[int] = ()) -> pd.DataFrame:
        """``frame`` (member columns per row) plus the ensemble point and its intervals."""
        out = frame.assign(**{self.alias: combine(frame, self.weights)})
        if self.calibration is None or not levels:
            return out
        return add_intervals(out, self.alias, self.calibration, levels)


def build_ensemble(
    cv: pd.DataFrame,
    history: pd.DataFrame,
    members: Sequence[str],
    scheme: str = "nnls",
    segment_by: str = "intermittency",
) -> Ensemble:
    """Weights learned on every backtest window, intervals calibrated on the residuals."""
    return calibrated(cv, learn_weights(cv, history, members, scheme, segment_by))


def calibrated(cv: pd.DataFrame, weights: EnsembleWeights) -> Ensemble:
    """``weights`` with intervals calibrated on the residuals of their combination in ``cv``."""
    backtest = cv.assign(**{ENSEMBLE: combine(cv, weights)})
    return Ensemble(weights, ResidualCalibration.from_backtest(backtest, ENSEMBLE))


def one_member(member: str, members: Sequence[str]) -> EnsembleWeights:
    """All the weight on ``member`` (the others keep a zero column: rows where ``member`` has
    no forecast fall back to them equally, as :func:`combine` does for any weights)."""
    return EnsembleWeights(BEST_MEMBER, pd.Series({m: float(m == member) for m in members}))
