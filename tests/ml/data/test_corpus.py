"""The defect corpus: every realistic bad (and good) file gets its expected outcome and counts."""

import pytest
from testkit import corpus as runner

CASES = runner.load_cases()


def test_the_corpus_covers_at_least_thirty_defect_kinds_and_every_outcome():
    defects = [c for c in CASES if c["expected"] != "ingested"]
    assert len(defects) >= 30
    outcomes = {c["expected"] for c in CASES}
    assert outcomes == {
        "ingested",
        "partially_ingested",
        "quarantined",
        "skipped",
        "deferred",
        "already_ingested",
    }


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_each_corpus_file_gets_its_expected_outcome(case):
    result = runner.run_case(case)
    outcome = result.outcome
    assert outcome.status == case["expected"], outcome.message
    assert (outcome.rows_landed, outcome.rows_rejected) == (
        case["rows_landed"],
        case["rows_rejected"],
    )
    if case["code"]:
        assert outcome.code == case["code"]
    assert result.lake_rows == outcome.rows_landed
    assert result.as_expected
