"""Ensemble evaluation: the honest last-window leaderboard and the production ensemble.

:func:`evaluate_ensemble` is what the ``ensemble_evaluation`` asset calls with the merged
backtest of the families (:func:`merge_backtests`):

1. every weighting scheme is compared on windows it did not learn from
   (:func:`ml.ensemble.weights.compare_schemes`) and the best one is kept (or the one asked for);
2. on the LAST backtest window the ensemble's weights and interval calibration come only from
   the earlier windows' actuals dated up to its cutoff, and every family, the ensemble and
   seasonal naive are scored on that window (:func:`leaderboard`; the current champion's
   metrics on the same window can be added) -- these are the numbers the promotion gate uses;
3. the production ensemble then learns from all windows
   (:func:`ml.ensemble.weights.build_ensemble`);
4. unless the ensemble lost to its best member on that window: then the ensemble is that
   member alone (``fallback``), so it is never worse than its best member on the backtest.

Families whose own backtest is worse than seasonal naive are no members (the
``ensemble_evaluation`` asset leaves them out); they are still scored on the leaderboard.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import reduce

import numpy as np
import pandas as pd

from ml.ensemble.weights import (
    BEST_MEMBER,
    ENSEMBLE,
    Ensemble,
    SchemeComparison,
    build_ensemble,
    calibrated,
    compare_schemes,
    learn_weights,
    one_member,
)
from ml.evaluation.metrics import evaluate_forecasts
from ml.schema import CUTOFF, DS, UNIQUE_ID, Y

LEADERBOARD_METRICS = ["rmsse", "mase", "wape", "bias", "coverage_80", "coverage_95"]
MODEL = "model"
BASELINE = "SeasonalNaive"
KEYS = [UNIQUE_ID, DS, CUTOFF, Y]


def merge_backtests(frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """One backtest frame from the families' frames (same windows), outer-joined on the keys."""
    frames = [f for f in frames if f is not None and not f.empty]
    if not frames:
        raise ValueError("no backtest frames to merge")
    return reduce(lambda a, b: a.merge(b.drop(columns=[Y]), on=KEYS[:3], how="outer"), frames)


def leaderboard(
    frame: pd.DataFrame,
    history: pd.DataFrame,
    models: Sequence[str],
    levels: Sequence[int] = (80, 95),
    champion: Mapping[str, float] | None = None,
    champion_name: str = "champion",
) -> pd.DataFrame:
    """Every model scored on the same rows: ``model`` plus :data:`LEADERBOARD_METRICS`.

    ``champion`` (metrics of the current champion on the same windows) adds a row; models
    without intervals show NaN coverage. Sorted by mean RMSSE.
    """
    present = [m for m in models if m in frame.columns and frame[m].notna().any()]
    metrics = [*LEADERBOARD_METRICS[:4], *[f"coverage_{lv}" for lv in levels]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        summary = evaluate_forecasts(frame, history, present, levels).summary()
    board = summary.reindex(columns=metrics).rename_axis(MODEL).reset_index()
    if champion:
        row = {MODEL: champion_name, **{k: champion.get(k, np.nan) for k in metrics}}
        board = pd.concat([board, pd.DataFrame([row])], ignore_index=True)
    return board.sort_values("rmsse", kind="stable").reset_index(drop=True)


def leaderboard_figure(board: pd.DataFrame, baseline: str = BASELINE):
    """Horizontal bars of mean RMSSE and pooled WAPE per model (the baseline dashed)."""
    from ml.evaluation.plots import plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 0.45 * len(board) + 1.5), sharey=True)
    ordered = board.iloc[::-1]
    for ax, metric in zip(axes, ("rmsse", "wape"), strict=True):
        colours = ["tab:orange" if m == ENSEMBLE else "tab:blue" for m in ordered[MODEL]]
        ax.barh(ordered[MODEL], ordered[metric], color=colours)
        if baseline in set(board[MODEL]):
            ax.axvline(board.set_index(MODEL).loc[baseline, metric], color="0.3", ls="--", lw=1)
        ax.set_xlabel("mean RMSSE" if metric == "rmsse" else "pooled WAPE")
    fig.tight_layout()
    return fig


def model_metrics(board: pd.DataFrame, model: str = ENSEMBLE) -> dict[str, float]:
    """One leaderboard row as a metrics dict (NaN dropped): the gate's input."""
    row = board.set_index(MODEL).loc[model]
    return {k: float(v) for k, v in row.items() if pd.notna(v)}


@dataclass
class EnsembleEvaluation:
    """The scheme comparison, the honest last-window leaderboard and the production ensemble."""

    comparison: SchemeComparison
    scheme: str
    last_window: pd.DataFrame  # the last backtest window with every model and the ensemble
    leaderboard: pd.DataFrame
    ensemble: Ensemble  # learned on all windows: the one to register
    member_runs: dict[str, str] = field(default_factory=dict)  # family -> its MLflow run
    members: tuple[str, ...] = ()
    # set when the learned ensemble lost to its best member on the last window: that member
    # (class defaults, so evaluations pickled before these fields existed still load)
    fallback: str | None = None
    fallback_reason: str = ""

    @property
    def metrics(self) -> dict[str, float]:
        """The ensemble's metrics on the last window (compare with the champion there)."""
        return model_metrics(self.leaderboard, self.ensemble.alias)

    @property
    def best_member(self) -> str | None:
        """The member with the lowest RMSSE on the last window."""
        return best_of(self.leaderboard, self.members)


def best_of(board: pd.DataFrame, members: Sequence[str]) -> str | None:
    rows = board[board[MODEL].isin(members)].dropna(subset=["rmsse"])
    return None if rows.empty else str(rows.sort_values("rmsse", kind="stable")[MODEL].iloc[0])


def evaluate_ensemble(
    cv: pd.DataFrame,
    history: pd.DataFrame,
    members: Sequence[str],
    levels: Sequence[int] = (80, 95),
    scheme: str | None = None,
    champion: Mapping[str, float] | None = None,
    segment_by: str = "intermittency",
    also_score: Sequence[str] = (),
) -> EnsembleEvaluation:
    """See the module docstring; ``scheme=None`` picks the best scheme of the comparison.

    ``also_score``: models put on the leaderboard without being members (families left out).
    When the learned ensemble scores a worse RMSSE than its best member on the last window, it
    becomes that member (weights 1 and 0, intervals calibrated the same way) and says so.
    """
    comparison = compare_schemes(cv, history, members, segment_by=segment_by)
    chosen = scheme or comparison.best
    last = cv[CUTOFF].max()
    earlier = cv[(cv[CUTOFF] < last) & (cv[DS] <= last)]
    window = cv[cv[CUTOFF] == last]
    if earlier.empty:  # one window: nothing earlier to learn from, the design weights
        known = history[history[DS] <= last]
        honest = Ensemble(learn_weights(window, known, members, "fixed"))
    else:
        honest = build_ensemble(earlier, history[history[DS] <= last], members, chosen, segment_by)
    extra = [m for m in also_score if m not in members]
    models = [*members, ENSEMBLE, *extra, *([BASELINE] if BASELINE not in members else [])]
    scored, board = _score(honest, window, history, models, levels, champion)
    best = best_of(board, members)
    if best is None or not _worse(board, ENSEMBLE, best):
        final = build_ensemble(cv, history, members, chosen, segment_by)
        return EnsembleEvaluation(comparison, chosen, scored, board, final, members=tuple(members))
    reason = (
        f"the {chosen} ensemble scored RMSSE {_rmsse(board, ENSEMBLE):.4f} on the last window, "
        f"worse than {best} alone ({_rmsse(board, best):.4f}): the ensemble is {best}"
    )
    weights = one_member(best, members)
    fallback = calibrated(earlier, weights) if not earlier.empty else Ensemble(weights)
    scored, board = _score(fallback, window, history, models, levels, champion)
    final = calibrated(cv, weights)
    return EnsembleEvaluation(
        comparison, BEST_MEMBER, scored, board, final, {}, tuple(members), best, reason
    )


def _score(ensemble: Ensemble, window, history, models, levels, champion):
    """The window with the ensemble's forecasts, and the leaderboard on it."""
    scored = ensemble.apply(window, levels)
    return scored, leaderboard(scored, history, models, levels, champion)


def _rmsse(board: pd.DataFrame, model: str) -> float:
    return float(board.set_index(MODEL).loc[model, "rmsse"])


def _worse(board: pd.DataFrame, model: str, than: str) -> bool:
    """``model`` has a higher RMSSE than ``than`` (a missing score counts as worse)."""
    return not _rmsse(board, model) <= _rmsse(board, than)
