"""The one list of families, and what is generated from it."""

from pathlib import Path

import pytest

from ml.models.families import DESIGN_WEIGHTS, ENSEMBLE_ALIASES, FAMILIES, family

README = Path(__file__).resolve().parents[3] / "README.md"


def family_table() -> str:
    """The README's family table, generated from FAMILIES."""
    rows = [
        "| family | asset | forecast columns | kind | design weight | in the ensemble |",
        "| --- | --- | --- | --- | ---: | --- |",
    ]
    for spec in FAMILIES:
        kind = "per series" if spec.per_series else "global"
        member = "yes" if spec.in_ensemble else "no (baselines)"
        rows.append(
            f"| {spec.key} | `{spec.asset}` | {', '.join(spec.aliases)} | {kind} | "
            f"{spec.design_weight:.2f} | {member} |"
        )
    return "\n".join(rows)


def test_the_readme_lists_exactly_the_registered_families():
    assert family_table() in README.read_text()


def test_design_weights_cover_the_ensemble_members_and_sum_to_one():
    assert set(DESIGN_WEIGHTS) == set(ENSEMBLE_ALIASES) == {"ARIMA", "Prophet", "XGBoost", "LSTM"}
    assert sum(DESIGN_WEIGHTS.values()) == pytest.approx(1.0)


def test_every_family_builds_models_with_the_aliases_it_declares():
    for spec in FAMILIES:
        models = spec.models(n_workers=1)
        assert [m.alias for m in models] == list(spec.aliases), spec.key


def test_only_per_series_families_receive_the_parallel_backend():
    seen = {}

    def record(**kwargs):
        seen.update(kwargs)
        return []

    from dataclasses import replace

    for per_series in (True, False):
        seen.clear()
        replace(FAMILIES[1], factory=record, per_series=per_series).models(
            {"order": 1}, n_workers=3, scheduler_address="tcp://x"
        )
        backend = {"n_workers": 3, "scheduler_address": "tcp://x"}
        assert seen == ({"order": 1} | backend if per_series else {"order": 1})


def test_an_unknown_family_names_the_known_ones():
    with pytest.raises(ValueError, match="known: \\['arima', 'baseline'"):
        family("tbats")
