from datetime import datetime

import pandas as pd
import pytest

from ml.monitoring.triggers import (
    EVIDENCE_DAY_TAG,
    TRIGGER_TAG,
    accuracy_trigger,
    drift_trigger,
    in_cooldown,
    latest_trigger_day,
    read_accuracy,
    score_accuracy,
    served_forecasts,
    write_accuracy,
)


def _batch(first_day: str, predicted: list[float], generated: str, series="CA_1__A") -> list:
    days = pd.date_range(first_day, periods=len(predicted))
    return [
        {
            "unique_id": series,
            "forecast_date": d.date(),
            "horizon": i + 1,
            "predicted_quantity": p,
            "lower_bound": p - 2,
            "upper_bound": p + 2,
            "interval_level": 95,
            "model_version": "1",
            "generated_at": datetime.fromisoformat(generated),
        }
        for i, (d, p) in enumerate(zip(days, predicted, strict=True))
    ]


def _history(values: dict[str, float], series="CA_1__A", dept="FOODS_1") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unique_id": series,
            "ds": pd.to_datetime(list(values)),
            "y": list(values.values()),
            "dept_id": dept,
        }
    )


def test_the_served_forecast_is_the_newest_batch_issued_before_the_day():
    table = pd.DataFrame(
        _batch("2024-01-02", [10, 10, 10], "2024-01-01 06:00")
        + _batch("2024-01-03", [20, 20], "2024-01-02 06:00")
        # re-generated later for an older anchor: not what was served on the 3rd
        + _batch("2024-01-02", [99, 99, 99], "2024-01-05 06:00")
    )
    served = served_forecasts(table).set_index("forecast_date")["predicted_quantity"]
    assert served.to_dict() == {
        pd.Timestamp("2024-01-02"): 99,
        pd.Timestamp("2024-01-03"): 20,
        pd.Timestamp("2024-01-04"): 20,
    }


def test_daily_scores_wape_accuracy_bias_and_coverage():
    served = served_forecasts(
        pd.DataFrame(
            _batch("2024-01-02", [10, 10], "2024-01-01")
            + _batch("2024-01-02", [4, 4], "2024-01-01", series="CA_1__B")
        )
    )
    history = pd.concat(
        [
            _history({"2024-01-02": 8, "2024-01-03": 10}),
            _history({"2024-01-02": 4, "2024-01-03": 10}, "CA_1__B", "HOBBIES_1"),
        ]
    )
    rows = score_accuracy(served, history).set_index(["day", "scope"])
    day1 = rows.loc[(pd.Timestamp("2024-01-02").date(), "overall")]
    assert day1["wape"] == pytest.approx(2 / 12 * 100)
    assert day1["accuracy"] == pytest.approx(100 - 2 / 12 * 100)
    assert day1["bias"] == pytest.approx(2 / 12 * 100)
    assert day1["coverage"] == 100.0
    day2 = rows.loc[(pd.Timestamp("2024-01-03").date(), "dept:HOBBIES_1")]
    assert day2["wape"] == pytest.approx(60.0) and day2["coverage"] == 0.0
    assert day2["n_series"] == 1


def test_rescoring_a_day_replaces_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'acc.db'}"
    served = served_forecasts(pd.DataFrame(_batch("2024-01-02", [10, 10], "2024-01-01")))
    write_accuracy(score_accuracy(served, _history({"2024-01-02": 8})), url)
    write_accuracy(score_accuracy(served, _history({"2024-01-02": 10, "2024-01-03": 10})), url)
    history = read_accuracy(url)
    assert list(history["day"]) == list(pd.to_datetime(["2024-01-02", "2024-01-03"]))
    assert history["accuracy"].tolist() == [100.0, 100.0]
    assert len(read_accuracy(url, scope=None)) == 4  # overall + one department, per day


def _accuracy(values: list[float], start="2024-01-01") -> pd.DataFrame:
    return pd.DataFrame({"day": pd.date_range(start, periods=len(values)), "accuracy": values})


def test_accuracy_trigger_needs_three_consecutive_days_below_the_threshold():
    assert accuracy_trigger(_accuracy([80, 80, 90, 80, 80])) is None
    trigger = accuracy_trigger(_accuracy([90, 80, 84, 70]))
    assert trigger.kind == "accuracy"
    assert trigger.run_key == "accuracy:2024-01-02,2024-01-03,2024-01-04"
    assert trigger.tags()[TRIGGER_TAG] == "accuracy"
    assert trigger.tags()[EVIDENCE_DAY_TAG] == "2024-01-04"


def test_accuracy_trigger_never_reuses_evidence_and_needs_calendar_days():
    history = _accuracy([80, 80, 80, 80])
    first = accuracy_trigger(history)
    assert accuracy_trigger(history, after=first.evidence_day) is None
    gap = history.drop(index=1)  # 1st, 3rd, 4th: not three days in a row
    assert accuracy_trigger(gap) is None


def _drift(kl: float, share: float) -> dict:
    return {
        "kl_significant": kl,
        "kl_significant_column": "sell_price",
        "drifted_share": share,
        "reference_start": "2024-01-01",
        "reference_end": "2024-01-28",
        "current_start": "2024-02-01",
        "current_end": "2024-02-07",
    }


def test_drift_trigger_on_kl_or_on_the_drifted_share():
    assert drift_trigger(_drift(0.05, 0.2)) is None
    by_kl = drift_trigger(_drift(0.3, 0.2))
    assert by_kl.run_key == "drift:2024-01-28:2024-02-07"
    assert "KL 0.300 on sell_price" in by_kl.evidence["reasons"][0]
    assert drift_trigger(_drift(0.05, 0.6), drifted_share_limit=0.5).kind == "drift"
    assert drift_trigger(_drift(0.3, 0.2), kl_threshold=0.5) is None


def test_cooldown_counts_data_days_since_the_last_automatic_trigger():
    assert not in_cooldown("2024-01-10", None, 7)
    assert in_cooldown("2024-01-10", "2024-01-04", 7)
    assert not in_cooldown("2024-01-11", "2024-01-04", 7)
    tags = [
        {TRIGGER_TAG: "drift", EVIDENCE_DAY_TAG: "2024-01-04"},
        {TRIGGER_TAG: "schedule", EVIDENCE_DAY_TAG: "2024-01-09"},
        {},
    ]
    assert latest_trigger_day(tags) == "2024-01-04"  # schedules do not start a cooldown
