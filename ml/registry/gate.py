"""The promotion gate: does a challenger beat the champion on the same backtest window?

Plain rules over metrics dictionaries (``rmsse``, ``bias``, ``coverage_<level>``), so the gate is
tested without a registry; ``ml.registry.versions`` records the decision on the version and
moves the ``champion`` alias.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd

DECISION_PREFIX = "promotion."


@dataclass
class Decision:
    """Whether to promote, why, and the numbers the rules compared."""

    promote: bool
    reasons: list[str] = field(default_factory=list)
    numbers: dict[str, float] = field(default_factory=dict)

    def tags(self) -> dict[str, str]:
        """The decision as version tags (``promotion.*``)."""
        tags = {
            f"{DECISION_PREFIX}decision": "promote" if self.promote else "reject",
            f"{DECISION_PREFIX}reasons": "; ".join(self.reasons)[:4900],
            f"{DECISION_PREFIX}decided_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        tags.update({f"{DECISION_PREFIX}{k}": f"{v:.6g}" for k, v in self.numbers.items()})
        return tags


def decide_promotion(
    challenger_metrics: Mapping[str, float],
    champion_metrics: Mapping[str, float] | None,
    baseline_metrics: Mapping[str, float] | None,
    margin: float = 0.01,
    max_bias_worsening: float = 0.05,
    max_coverage_worsening: float = 0.02,
    levels: Sequence[int] = (80, 95),
    best_member_metrics: Mapping[str, float] | None = None,
) -> Decision:
    """The promotion gate; all metrics from the SAME latest backtest window.

    With a champion: the challenger's mean RMSSE must be at most ``(1 - margin)`` times the
    champion's, its |bias| may grow by at most ``max_bias_worsening`` (units) and its coverage
    error ``|coverage_<level> - level/100|`` by at most ``max_coverage_worsening`` per level.
    Without one (the first version ever): it must beat the baseline (seasonal naive) on RMSSE.
    Either way, given its best member's metrics, its RMSSE may not be above that member's (an
    ensemble worse than one of its parts is not worth serving).
    """
    numbers = {"challenger_rmsse": float(challenger_metrics.get("rmsse", float("nan")))}
    if baseline_metrics is not None:
        numbers["baseline_rmsse"] = float(baseline_metrics["rmsse"])
    if champion_metrics is None:
        return _with_best_member(_first_version(numbers), best_member_metrics)
    checks = [
        _rmsse_check(numbers, champion_metrics, margin),
        _bias_check(numbers, challenger_metrics, champion_metrics, max_bias_worsening),
    ]
    checks += [
        _coverage_check(numbers, challenger_metrics, champion_metrics, lv, max_coverage_worsening)
        for lv in levels
    ]
    if "baseline_rmsse" in numbers:
        ok = numbers["challenger_rmsse"] < numbers["baseline_rmsse"]
        checks.append(
            (
                ok,
                f"RMSSE {numbers['challenger_rmsse']:.4f} "
                f"{'<' if ok else '>='} seasonal naive {numbers['baseline_rmsse']:.4f}",
            )
        )
    decision = Decision(all(ok for ok, _ in checks), [why for _, why in checks], numbers)
    return _with_best_member(decision, best_member_metrics)


def _with_best_member(decision: Decision, best_member: Mapping[str, float] | None) -> Decision:
    if best_member is None:
        return decision
    numbers = decision.numbers
    numbers["best_member_rmsse"] = float(best_member["rmsse"])
    ok = numbers["challenger_rmsse"] <= numbers["best_member_rmsse"]
    why = (
        f"RMSSE {numbers['challenger_rmsse']:.4f} {'<=' if ok else '>'} "
        f"its best member {numbers['best_member_rmsse']:.4f}"
    )
    return Decision(decision.promote and ok, [*decision.reasons, why], numbers)


def _first_version(numbers: dict[str, float]) -> Decision:
    if "baseline_rmsse" not in numbers:
        return Decision(False, ["no champion and no baseline metrics to compare with"], numbers)
    ok = numbers["challenger_rmsse"] < numbers["baseline_rmsse"]
    verb = "beats" if ok else "does not beat"
    return Decision(
        ok,
        [
            f"first version: RMSSE {numbers['challenger_rmsse']:.4f} {verb} "
            f"seasonal naive {numbers['baseline_rmsse']:.4f}"
        ],
        numbers,
    )


def _rmsse_check(numbers, champion, margin) -> tuple[bool, str]:
    numbers["champion_rmsse"] = float(champion["rmsse"])
    numbers["rmsse_threshold"] = numbers["champion_rmsse"] * (1.0 - margin)
    ok = numbers["challenger_rmsse"] <= numbers["rmsse_threshold"]
    return ok, (
        f"RMSSE {numbers['challenger_rmsse']:.4f} {'<=' if ok else '>'} champion "
        f"{numbers['champion_rmsse']:.4f} x (1 - {margin:g})"
    )


def _bias_check(numbers, challenger, champion, limit) -> tuple[bool, str]:
    if "bias" not in champion or pd.isna(champion["bias"]):
        return True, "bias: champion has none, not compared"
    numbers["challenger_abs_bias"] = abs(float(challenger.get("bias", float("nan"))))
    numbers["champion_abs_bias"] = abs(float(champion["bias"]))
    worsening = numbers["challenger_abs_bias"] - numbers["champion_abs_bias"]
    ok = bool(worsening <= limit)  # a challenger without bias (NaN) fails
    return ok, f"|bias| worsens by {worsening:.4f} ({'within' if ok else 'beyond'} {limit:g})"


def _coverage_check(numbers, challenger, champion, level, limit) -> tuple[bool, str]:
    key = f"coverage_{level}"
    if key not in champion or pd.isna(champion[key]):
        return True, f"{key}: champion has none, not compared"
    error = abs(float(challenger.get(key, float("nan"))) - level / 100)
    reference = abs(float(champion[key]) - level / 100)
    numbers[f"challenger_{key}_error"], numbers[f"champion_{key}_error"] = error, reference
    ok = bool(error - reference <= limit)  # a challenger without coverage (NaN) fails
    return ok, (
        f"{key} error {error:.3f} vs champion {reference:.3f} "
        f"({'within' if ok else 'beyond'} +{limit:g})"
    )
