"""The promotion gate: its rules, their boundaries, and the reasons it records on a version.

The reasons are what a person reads in MLflow (``promotion.reasons``) and in the Dagster check,
so their text is pinned down here along with the decision.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ml.registry.gate import DECISION_PREFIX, Decision, decide_promotion

CHAMPION_METRICS = {"rmsse": 0.80, "bias": 0.10, "coverage_80": 0.79, "coverage_95": 0.94}
NAIVE = {"rmsse": 1.00}
# binary fractions, so the boundaries below are exact
EXACT_CHAMPION = {"rmsse": 1.0, "bias": 0.25, "coverage_50": 0.5}


def test_a_worse_challenger_is_not_promoted():
    decision = decide_promotion({**CHAMPION_METRICS, "rmsse": 0.83}, CHAMPION_METRICS, NAIVE)
    assert not decision.promote
    assert decision.numbers["champion_rmsse"] == 0.80
    assert any("RMSSE 0.8300 > champion" in reason for reason in decision.reasons)


def test_a_better_challenger_is_promoted():
    decision = decide_promotion(
        {**CHAMPION_METRICS, "rmsse": 0.75}, CHAMPION_METRICS, NAIVE, margin=0.02
    )
    assert decision.promote, decision.reasons
    assert decision.numbers["rmsse_threshold"] == pytest.approx(0.784)


def test_the_margin_blocks_a_marginal_gain():
    challenger = {**CHAMPION_METRICS, "rmsse": 0.795}
    assert decide_promotion(challenger, CHAMPION_METRICS, NAIVE, margin=0.0).promote
    assert not decide_promotion(challenger, CHAMPION_METRICS, NAIVE, margin=0.05).promote


def test_worse_bias_or_coverage_blocks_promotion():
    biased = {**CHAMPION_METRICS, "rmsse": 0.70, "bias": -0.30}
    assert not decide_promotion(biased, CHAMPION_METRICS, NAIVE, max_bias_worsening=0.1).promote
    assert decide_promotion(biased, CHAMPION_METRICS, NAIVE, max_bias_worsening=0.25).promote
    narrow = {**CHAMPION_METRICS, "rmsse": 0.70, "coverage_80": 0.70}
    decision = decide_promotion(narrow, CHAMPION_METRICS, NAIVE, max_coverage_worsening=0.02)
    assert not decision.promote
    assert decision.numbers["challenger_coverage_80_error"] == pytest.approx(0.10)
    assert decision.numbers["champion_coverage_80_error"] == pytest.approx(0.01)
    assert decision.numbers["champion_coverage_95_error"] == pytest.approx(0.01)


def test_first_version_is_promoted_only_if_it_beats_seasonal_naive():
    assert decide_promotion({"rmsse": 0.9}, None, NAIVE).promote
    assert not decide_promotion({"rmsse": 1.1}, None, NAIVE).promote
    assert not decide_promotion({"rmsse": 1.0}, None, NAIVE).promote  # a tie does not beat it
    assert not decide_promotion({"rmsse": 0.5}, None, None).promote


def test_the_first_version_says_what_it_was_compared_with():
    beats = decide_promotion({"rmsse": 0.9}, None, NAIVE)
    assert beats.reasons == ["first version: RMSSE 0.9000 beats seasonal naive 1.0000"]
    assert beats.numbers == {"challenger_rmsse": 0.9, "baseline_rmsse": 1.0}
    loses = decide_promotion({"rmsse": 1.25}, None, NAIVE)
    assert loses.promote is False
    assert loses.reasons == ["first version: RMSSE 1.2500 does not beat seasonal naive 1.0000"]
    alone = decide_promotion({"rmsse": 0.5}, None, None)
    assert alone.promote is False
    assert alone.reasons == ["no champion and no baseline metrics to compare with"]
    assert alone.numbers == {"challenger_rmsse": 0.5}


def test_a_challenger_without_rmsse_is_never_promoted():
    assert not decide_promotion({}, None, NAIVE).promote
    assert not decide_promotion({}, CHAMPION_METRICS, None).promote


def decide_with_exact_limits(challenger: dict, baseline_rmsse: float = 0.75) -> Decision:
    """The gate against EXACT_CHAMPION with limits 0.5 / 0.25 / 0.25 at the 50 % level."""
    return decide_promotion(
        challenger,
        EXACT_CHAMPION,
        {"rmsse": baseline_rmsse},
        margin=0.5,
        max_bias_worsening=0.25,
        max_coverage_worsening=0.25,
        levels=(50,),
    )


def test_each_rule_passes_exactly_at_its_limit_and_says_so():
    at_limits = {"rmsse": 0.5, "bias": 0.5, "coverage_50": 0.25}
    decision = decide_with_exact_limits(at_limits)
    assert decision.promote is True
    assert decision.reasons == [
        "RMSSE 0.5000 <= champion 1.0000 x (1 - 0.5)",
        "|bias| worsens by 0.2500 (within 0.25)",
        "coverage_50 error 0.250 vs champion 0.000 (within +0.25)",
        "RMSSE 0.5000 < seasonal naive 0.7500",
    ]
    assert decision.numbers == {
        "challenger_rmsse": 0.5,
        "baseline_rmsse": 0.75,
        "champion_rmsse": 1.0,
        "rmsse_threshold": 0.5,
        "challenger_abs_bias": 0.5,
        "champion_abs_bias": 0.25,
        "challenger_coverage_50_error": 0.25,
        "champion_coverage_50_error": 0.0,
    }


def test_each_rule_fails_just_past_its_limit_and_says_so():
    past_limits = {"rmsse": 0.75, "bias": -0.625, "coverage_50": 0.125}
    decision = decide_with_exact_limits(past_limits)
    assert decision.promote is False
    assert decision.reasons == [
        "RMSSE 0.7500 > champion 1.0000 x (1 - 0.5)",
        "|bias| worsens by 0.3750 (beyond 0.25)",
        "coverage_50 error 0.375 vs champion 0.000 (beyond +0.25)",
        "RMSSE 0.7500 >= seasonal naive 0.7500",
    ]


@pytest.mark.parametrize("rule", ["rmsse", "bias", "coverage", "baseline"])
def test_any_one_failing_rule_blocks_promotion(rule):
    challenger = {"rmsse": 0.5, "bias": 0.25, "coverage_50": 0.5}
    failing = {
        "rmsse": {"rmsse": 0.625},
        "bias": {"bias": 0.625},
        "coverage": {"coverage_50": 0.125},
    }
    baseline_rmsse = 0.5 if rule == "baseline" else 0.75
    decision = decide_with_exact_limits({**challenger, **failing.get(rule, {})}, baseline_rmsse)
    assert decision.promote is False
    assert sum("beyond" in r or " > " in r or ">=" in r for r in decision.reasons) == 1


def test_a_missing_bias_or_coverage_is_compared_only_when_the_champion_has_it():
    without = decide_promotion({"rmsse": 0.5}, {"rmsse": 1.0}, None)
    assert without.promote is True
    assert without.reasons == [
        "RMSSE 0.5000 <= champion 1.0000 x (1 - 0.01)",
        "bias: champion has none, not compared",
        "coverage_80: champion has none, not compared",
        "coverage_95: champion has none, not compared",
    ]
    nan_champion = {"rmsse": 1.0, "bias": float("nan"), "coverage_80": float("nan")}
    assert decide_promotion({"rmsse": 0.5}, nan_champion, None, levels=(80,)).promote is True
    # the champion has them, the challenger does not: it cannot show it is no worse
    lacking = decide_promotion({"rmsse": 0.5}, EXACT_CHAMPION, None, levels=(50,))
    assert lacking.promote is False
    assert lacking.reasons[1:] == [
        "|bias| worsens by nan (beyond 0.05)",
        "coverage_50 error nan vs champion 0.000 (beyond +0.02)",
    ]


def test_the_gate_checks_coverage_at_each_level_it_is_given():
    champion = {"rmsse": 1.0, "bias": 0.0, "coverage_80": 0.80, "coverage_95": 0.95}
    challenger = {"rmsse": 0.8, "bias": 0.0, "coverage_80": 0.80, "coverage_95": 0.70}
    at_80 = decide_promotion(challenger, champion, None, levels=(80,))
    both = decide_promotion(challenger, champion, None, levels=(80, 95))
    default = decide_promotion(challenger, champion, None)
    assert at_80.promote and not both.promote and not default.promote
    assert any("coverage_95" in reason for reason in both.reasons)
    assert not any("coverage_95" in reason for reason in at_80.reasons)


def test_the_defaults_are_a_one_percent_margin_and_small_worsenings():
    champion = {"rmsse": 1.0, "bias": 0.0, "coverage_80": 0.8, "coverage_95": 0.95}
    just_in = {"rmsse": 0.99, "bias": 0.04, "coverage_80": 0.785, "coverage_95": 0.95}
    assert decide_promotion(just_in, champion, None).promote
    for worse in ({"rmsse": 0.995}, {"bias": 0.06}, {"coverage_80": 0.77}):
        assert not decide_promotion({**just_in, **worse}, champion, None).promote, worse


def test_decision_tags_carry_the_numbers():
    tags = decide_promotion({**CHAMPION_METRICS, "rmsse": 0.7}, CHAMPION_METRICS, NAIVE).tags()
    assert tags["promotion.decision"] == "promote"
    assert float(tags["promotion.challenger_rmsse"]) == pytest.approx(0.7)
    assert "RMSSE" in tags["promotion.reasons"]


def test_the_tags_are_the_decision_the_reasons_the_time_and_each_number():
    before = datetime.now(UTC).replace(microsecond=0)
    tags = Decision(False, ["one", "two"], {"x": 0.123456789, "y": 2.0}).tags()
    decided = datetime.fromisoformat(tags.pop("promotion.decided_at"))
    assert before <= decided <= datetime.now(UTC)
    assert tags == {
        "promotion.decision": "reject",
        "promotion.reasons": "one; two",
        "promotion.x": "0.123457",
        "promotion.y": "2",
    }
    assert DECISION_PREFIX == "promotion."
    long = Decision(True, ["r" * 3000, "s" * 3000]).tags()
    assert long["promotion.decision"] == "promote"
    assert long["promotion.reasons"] == ("r" * 3000 + "; " + "s" * 3000)[:4900]
    assert Decision(True).reasons == [] and Decision(True).numbers == {}


def test_a_challenger_worse_than_its_best_member_is_not_promoted():
    best = {"rmsse": 0.5}
    worse = decide_promotion({"rmsse": 0.625}, None, NAIVE, best_member_metrics=best)
    assert worse.promote is False
    assert worse.reasons == [
        "first version: RMSSE 0.6250 beats seasonal naive 1.0000",
        "RMSSE 0.6250 > its best member 0.5000",
    ]
    assert worse.numbers["best_member_rmsse"] == 0.5
    tie = decide_promotion({"rmsse": 0.5}, None, NAIVE, best_member_metrics=best)
    assert tie.promote is True  # the ensemble fell back to that member: equal is fine
    assert tie.reasons[-1] == "RMSSE 0.5000 <= its best member 0.5000"
    against_champion = decide_with_exact_limits({"rmsse": 0.5, "bias": 0.25, "coverage_50": 0.5})
    assert against_champion.promote is True
    with_member = decide_promotion(
        {"rmsse": 0.5, "bias": 0.25, "coverage_50": 0.5},
        EXACT_CHAMPION,
        None,
        margin=0.5,
        levels=(50,),
        best_member_metrics={"rmsse": 0.25},
    )
    assert with_member.promote is False
    assert with_member.reasons[-1] == "RMSSE 0.5000 > its best member 0.2500"


def test_a_first_version_that_loses_to_seasonal_naive_stays_rejected_with_a_good_member():
    decision = decide_promotion({"rmsse": 1.5}, None, NAIVE, best_member_metrics={"rmsse": 2.0})
    assert decision.promote is False and len(decision.reasons) == 2
