from pathlib import Path

import pandas as pd
import pytest

from ml.data.lake import Lake, LedgerEntry


def _sales(units, days=("2024-01-01", "2024-01-02")):
    return pd.DataFrame(
        {"date": pd.to_datetime(list(days)), "store_id": "CA_1", "item_id": "X", "units": units}
    )


def test_commit_then_read_and_ledger(tmp_path):
    lake = Lake(tmp_path)
    lake.commit(LedgerEntry("abc", "sales.csv", "sales", "sales", 2), _sales([1.0, 2.0]))
    assert lake.has("abc")
    assert lake.read_table("sales")["units"].tolist() == [1.0, 2.0]
    ledger = lake.ledger()
    assert ledger[["checksum", "rows", "first_date", "last_date"]].values.tolist() == [
        ["abc", 2, "2024-01-01", "2024-01-02"]
    ]


def test_newer_file_wins_on_overlapping_days(tmp_path):
    lake = Lake(tmp_path)
    lake.commit(LedgerEntry("old", "a.csv", "sales", "sales", 2), _sales([1.0, 2.0]))
    lake.commit(
        LedgerEntry("new", "b.csv", "sales", "sales", 2),
        _sales([7.0, 8.0], days=("2024-01-02", "2024-01-03")),
    )
    table = lake.read_table("sales").sort_values("date")
    assert table["units"].tolist() == [1.0, 7.0, 8.0]


def test_crash_before_ledger_leaves_nothing_visible_and_rerun_finishes(tmp_path, monkeypatch):
    lake = Lake(tmp_path)
    real_connect = lake._connect
    calls = {"n": 0}

    def dying_connect():
        calls["n"] += 1
        raise OSError("power cut")

    monkeypatch.setattr(lake, "_connect", dying_connect)
    with pytest.raises(OSError):
        lake.commit(LedgerEntry("abc", "s.csv", "sales", "sales", 2), _sales([1.0, 2.0]))
    monkeypatch.setattr(lake, "_connect", real_connect)
    assert (tmp_path / "sales" / "part-abc.parquet").exists()  # written, but not committed
    assert lake.read_table("sales") is None
    assert not lake.has("abc")
    lake.commit(LedgerEntry("abc", "s.csv", "sales", "sales", 2), _sales([1.0, 2.0]))
    assert lake.read_table("sales")["units"].tolist() == [1.0, 2.0]
    assert not list((tmp_path / "sales").glob("*.tmp"))


def test_a_crash_while_writing_the_part_leaves_only_a_temp_file(tmp_path, monkeypatch):
    lake = Lake(tmp_path)

    def dying_to_parquet(self, path, **kwargs):
        Path(path).write_bytes(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", dying_to_parquet)
    with pytest.raises(OSError):
        lake.commit(LedgerEntry("abc", "s.csv", "sales", "sales", 2), _sales([1.0, 2.0]))
    assert not (tmp_path / "sales" / "part-abc.parquet").exists()
    assert lake.read_table("sales") is None
