import fcntl
import json
import multiprocessing
import os
import sqlite3
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ml.data.filelock as filelock_module
import ml.data.lake as lake_module
from ml.data.lake import Lake, LedgerEntry

SALES_KEYS = ["store_id", "item_id", "date"]
_DAYS_STR = ("2024-01-01", "2024-01-02", "2024-01-03")


def _sales(units, days=("2024-01-01", "2024-01-02"), **extra):
    return pd.DataFrame(
        {
            "date": pd.to_datetime(list(days)),
            "store_id": "CA_1",
            "item_id": "X",
            "units": units,
            **extra,
        }
    )


def _entry(checksum, table="sales", rows=2, **extra):
    return LedgerEntry(checksum, f"{checksum}.csv", table, table, rows, **extra)


def _globbed(root: Path, table: str) -> pd.DataFrame:
    """What a plain Parquet reader sees, without the lake's help."""
    return pd.concat([pd.read_parquet(p) for p in sorted((root / table).glob("*.parquet"))])


def _canonical(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    frame = frame[sorted(frame.columns)].sort_values(keys).reset_index(drop=True)
    return frame.astype(object).where(frame.notna(), None)


def test_commit_then_read_and_ledger(tmp_path):
    lake = Lake(tmp_path)
    lake.commit(LedgerEntry("abc", "sales.csv", "sales", "sales", 2), _sales([1.0, 2.0]))
    assert lake.has("abc")
    assert lake.ingested_checksums() == {"abc"}
    assert lake.read_table("sales")["units"].tolist() == [1.0, 2.0]
    assert lake.read_table("prices") is None
    ledger = lake.ledger()
    assert ledger[["checksum", "rows", "first_date", "last_date"]].values.tolist() == [
        ["abc", 2, "2024-01-01", "2024-01-02"]
    ]
    assert [p.name.startswith("part-abc-") for p in lake.part_paths("sales")] == [True]


def test_ledger_keeps_the_rejection_counts(tmp_path):
    lake = Lake(tmp_path)
    counts = {"negative_units": 3}
    entry = _entry("abc", rows=2, rows_in=5, rows_rejected=3, rejected_by_code=counts)
    lake.commit(LedgerEntry(**{**vars(entry), "rejected_path": "rej/a.csv"}), _sales([1.0, 2.0]))
    row = lake.ledger().iloc[0]
    assert (row["rows_in"], row["rows_rejected"], row["rejected_path"]) == (5, 3, "rej/a.csv")
    assert json.loads(row["rejected_by_code"]) == {"negative_units": 3}
    lake.record_quarantine("q", "bad.csv", "too_many_bad_rows", "m", {"a": 1}, 7, {"x": 7})
    quarantined = lake.quarantine_log().iloc[0]
    assert (quarantined["code"], quarantined["rows_in"]) == ("too_many_bad_rows", 7)
    assert json.loads(quarantined["rejected_by_code"]) == {"x": 7}


def test_an_empty_frame_is_recorded_but_writes_no_part(tmp_path):
    lake = Lake(tmp_path)
    lake.commit(_entry("empty", rows=0), _sales([1.0, 2.0]).iloc[:0])
    assert lake.has("empty") and lake.ledger()["part"].tolist() == [""]
    assert lake.part_paths("sales") == [] and lake.read_table("sales") is None


def test_the_same_checksum_commits_once(tmp_path):
    lake = Lake(tmp_path)
    lake.commit(_entry("abc"), _sales([1.0, 2.0]))
    lake.commit(_entry("abc"), _sales([5.0, 6.0]))
    assert lake.read_table("sales")["units"].tolist() == [1.0, 2.0]
    assert len(lake.ledger()) == 1


def test_newer_file_wins_on_overlapping_days(tmp_path):
    lake = Lake(tmp_path)
    lake.commit(LedgerEntry("old", "a.csv", "sales", "sales", 2), _sales([1.0, 2.0]))
    lake.commit(
        LedgerEntry("new", "b.csv", "sales", "sales", 2),
        _sales([7.0, 8.0], days=("2024-01-02", "2024-01-03")),
    )
    table = lake.read_table("sales").sort_values("date")
    assert table["units"].tolist() == [1.0, 7.0, 8.0]
    assert lake.table_rows("sales") == 3  # the table as read, not the 4 rows committed
    assert lake.table_rows("prices") == 0


def test_a_file_updates_only_the_columns_it_carries(tmp_path):
    lake = Lake(tmp_path)
    days = pd.to_datetime(["2016-01-01", "2016-01-02", "2016-01-03"])
    m5 = pd.DataFrame(
        {
            "date": days,
            "d": ["d_1", "d_2", "d_3"],
            "wm_yr_wk": [11101, 11101, 11101],
            "event_name_1": [None, "NewYear", None],
            "snap_CA": [1, 0, 1],
        }
    )
    lake.commit(_entry("m5", "calendar", 3), m5)
    events = pd.DataFrame(
        {"date": days[1:], "event_name_1": ["Holiday", "Fest"], "event_type_1": ["A", "B"]}
    )
    lake.commit(_entry("events", "calendar", 2), events)
    table = lake.read_table("calendar").sort_values("date").reset_index(drop=True)
    assert table["d"].tolist() == ["d_1", "d_2", "d_3"]
    assert table["wm_yr_wk"].tolist() == [11101, 11101, 11101]
    assert table["snap_CA"].tolist() == [1, 0, 1]
    assert table["event_name_1"].tolist() == [None, "Holiday", "Fest"]
    assert table["event_type_1"].isna().tolist() == [True, False, False]
    snap_cleared = pd.DataFrame({"date": days[2:], "snap_CA": [None]})
    lake.commit(_entry("nulls", "calendar", 1), snap_cleared)
    table = lake.read_table("calendar").sort_values("date").reset_index(drop=True)
    assert table["snap_CA"].isna().tolist() == [False, False, True]
    assert table[["d", "event_name_1"]].iloc[2].tolist() == ["d_3", "Fest"]


def test_products_merge_by_column_without_a_date_key(tmp_path):
    lake = Lake(tmp_path)
    lake.commit(
        _entry("a", "products"),
        pd.DataFrame({"item_id": ["X", "Y"], "dept_id": ["D1", "D2"], "cat_id": ["C", "C"]}),
    )
    lake.commit(_entry("b", "products", 1), pd.DataFrame({"item_id": ["Y"], "cat_id": ["K"]}))
    table = lake.read_table("products").sort_values("item_id")
    assert table.values.tolist() == [["X", "D1", "C"], ["Y", "D2", "K"]]


def test_plain_parquet_reader_sees_what_read_table_returns(tmp_path):
    lake = Lake(tmp_path)
    lake.commit(
        _entry("a", rows=3),
        _sales(
            [1.0, 2.0, 3.0], days=("2024-01-01", "2024-01-02", "2024-01-03"), price=[9.0, 9.0, 9.0]
        ),
    )
    lake.commit(_entry("b"), _sales([5.0, 6.0], days=("2024-01-02", "2024-01-04")))
    lake.commit(
        _entry("c"), _sales([7.0, 8.0], days=("2024-01-03", "2024-01-04"), price=[1.0, 2.0])
    )
    table = lake.read_table("sales")
    plain = pd.read_parquet(tmp_path / "sales")
    assert not plain.duplicated(SALES_KEYS).any()
    pd.testing.assert_frame_equal(_canonical(plain, SALES_KEYS), _canonical(table, SALES_KEYS))
    assert _canonical(table, SALES_KEYS)[["units", "price"]].values.tolist() == [
        [1.0, 9.0],
        [5.0, 9.0],
        [7.0, 1.0],
        [8.0, 2.0],
    ]
    assert sorted((tmp_path / "sales").iterdir()) == sorted(lake.part_paths("sales"))


def test_a_rewritten_part_keeps_its_place_in_commit_order(tmp_path):
    lake = Lake(tmp_path)
    lake.commit(_entry("first"), _sales([1.0, 2.0]))
    lake.commit(_entry("second"), _sales([3.0, 4.0], days=("2024-01-05", "2024-01-06")))
    lake.commit(_entry("third", rows=1), _sales([9.0], days=("2024-01-02",)))
    parts = [pd.read_parquet(p)["units"].tolist() for p in lake.part_paths("sales")]
    assert parts == [[1.0], [3.0, 4.0], [9.0]]  # first', second, third
    assert lake.read_table("sales")["units"].tolist() == [1.0, 3.0, 4.0, 9.0]


def test_overlap_is_exact_even_when_every_hash_collides(tmp_path, monkeypatch):
    monkeypatch.setattr(lake_module, "key_hashes", lambda frame, keys: np.zeros(len(frame)))
    lake = Lake(tmp_path)
    lake.commit(_entry("a", rows=3), _sales([1.0, 2.0, 3.0], days=_DAYS_STR, price=[5.0] * 3))
    newer = _sales([7.0, 8.0, 9.0], days=("2024-01-02", "2024-01-01", "2024-01-03"))
    newer["item_id"] = ["X", "Y", "Y"]
    lake.commit(_entry("b", rows=3), newer)
    table = lake.read_table("sales")
    assert table[["item_id", "units", "price"]].fillna(-1).values.tolist() == [
        ["X", 1.0, 5.0],
        ["X", 3.0, 5.0],
        ["X", 7.0, 5.0],
        ["Y", 8.0, -1],
        ["Y", 9.0, -1],
    ]


@pytest.mark.parametrize("unit", ["datetime64[us]", "datetime64[s]", "date objects"])
def test_overlap_is_found_whatever_the_date_type(tmp_path, unit):
    lake = Lake(tmp_path)
    lake.commit(_entry("a"), _sales([1.0, 2.0]))
    newer = _sales([7.0], days=("2024-01-02",))
    newer["date"] = newer["date"].dt.date if unit == "date objects" else newer["date"].astype(unit)
    lake.commit(_entry("b", rows=1), newer)
    table = lake.read_table("sales")
    assert table["units"].tolist() == [1.0, 7.0]
    assert table["date"].dtype == "datetime64[ns]"


def test_a_reader_that_loses_a_part_to_a_commit_rereads(tmp_path, monkeypatch):
    lake = Lake(tmp_path)
    lake.commit(_entry("a"), _sales([1.0, 2.0]))
    real_read, calls = lake_module._read_part, []

    def vanishing_once(path, columns=None):
        calls.append(path)
        if len(calls) == 1:
            raise FileNotFoundError(path)
        return real_read(path, columns)

    monkeypatch.setattr(lake_module, "_read_part", vanishing_once)
    assert lake.read_table("sales")["units"].tolist() == [1.0, 2.0]


def test_a_commit_that_overlaps_nothing_rewrites_no_part(tmp_path, monkeypatch):
    lake = Lake(tmp_path)
    lake.commit(_entry("day1"), _sales([1.0, 2.0]))
    lake.commit(_entry("day3", rows=1), _sales([3.0], days=("2024-01-03",)))
    before = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in lake.part_paths("sales")}
    real_read, opened = lake_module._read_part, []

    def spying_read(path, columns=None):
        opened.append(path)
        return real_read(path, columns)

    monkeypatch.setattr(lake_module, "_read_part", spying_read)
    lake.commit(_entry("day4", rows=1), _sales([4.0], days=("2024-01-04",)))
    assert opened == []  # pruned by the parts' date spans: no part was even opened
    lake.commit(_entry("store2"), _sales([5.0, 6.0]).assign(store_id="CA_2"))  # same days
    after = lake.part_paths("sales")
    assert after[:2] == list(before)
    assert {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in after[:2]} == before
    assert lake.read_table("sales")["units"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]


def test_read_table_projects_columns(tmp_path):
    lake = Lake(tmp_path)
    lake.commit(_entry("a"), _sales([1.0, 2.0]))
    lake.commit(_entry("b", rows=1), _sales([3.0], days=("2024-01-05",), price=[2.5]))
    table = lake.read_table("sales", columns=["price", "units", "nowhere"])
    assert list(table.columns) == ["price", "units"]
    assert table["units"].tolist() == [1.0, 2.0, 3.0]
    assert table["price"].isna().tolist() == [True, True, False]


def test_commit_rejects_repeated_keys(tmp_path):
    lake = Lake(tmp_path)
    with pytest.raises(ValueError, match="repeated key"):
        lake.commit(_entry("dup"), _sales([1.0, 2.0], days=("2024-01-01", "2024-01-01")))
    assert not lake.has("dup")
    assert lake.read_table("sales") is None


def test_crash_before_the_ledger_transaction_keeps_the_old_state(tmp_path, monkeypatch):
    lake = Lake(tmp_path)
    lake.commit(_entry("old"), _sales([1.0, 2.0]))
    old_parts = lake.part_paths("sales")

    def power_cut(*args, **kwargs):
        raise OSError("power cut")

    monkeypatch.setattr(Lake, "_swap", power_cut)
    with pytest.raises(OSError):
        lake.commit(_entry("new"), _sales([7.0, 8.0], days=("2024-01-02", "2024-01-03")))
    monkeypatch.undo()
    assert len(list((tmp_path / "sales").glob("*.parquet"))) > 1  # orphans on disk
    assert not lake.has("new")
    assert lake.part_paths("sales") == old_parts
    assert lake.read_table("sales")["units"].tolist() == [1.0, 2.0]
    lake.commit(_entry("new"), _sales([7.0, 8.0], days=("2024-01-02", "2024-01-03")))
    assert lake.read_table("sales").sort_values("date")["units"].tolist() == [1.0, 7.0, 8.0]
    assert sorted((tmp_path / "sales").iterdir()) == sorted(lake.part_paths("sales"))


def test_crash_after_the_transaction_leaves_only_stale_files(tmp_path, monkeypatch):
    lake = Lake(tmp_path)
    lake.commit(_entry("old"), _sales([1.0, 2.0]))
    real_delete = Lake._delete

    def die_on_dead_parts(self, paths):
        if paths:
            raise OSError("power cut")
        real_delete(self, paths)

    monkeypatch.setattr(Lake, "_delete", die_on_dead_parts)
    with pytest.raises(OSError):
        lake.commit(_entry("new"), _sales([7.0, 8.0], days=("2024-01-02", "2024-01-03")))
    monkeypatch.undo()
    assert lake.has("new")
    assert lake.read_table("sales").sort_values("date")["units"].tolist() == [1.0, 7.0, 8.0]
    stale = set((tmp_path / "sales").iterdir()) - set(lake.part_paths("sales"))
    assert stale
    with lake.writing():
        pass
    assert not any(p.exists() for p in stale)
    assert sorted((tmp_path / "sales").iterdir()) == sorted(lake.part_paths("sales"))


def test_a_crash_while_writing_the_part_leaves_only_a_temp_file(tmp_path, monkeypatch):
    lake = Lake(tmp_path)

    def dying_write(table, where, **kwargs):
        Path(where).write_bytes(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(lake_module.pq, "write_table", dying_write)
    with pytest.raises(OSError):
        lake.commit(_entry("abc"), _sales([1.0, 2.0]))
    monkeypatch.undo()
    assert not list((tmp_path / "sales").glob("*.parquet"))
    assert lake.read_table("sales") is None
    with lake.writing():
        pass
    assert not list((tmp_path / "sales").iterdir())


def test_the_writer_lock_times_out_naming_the_lock_file(tmp_path, monkeypatch):
    lake = Lake(tmp_path)
    monkeypatch.setattr(filelock_module, "LOCK_TIMEOUT_S", 0.2)
    with open(tmp_path / "_lake.lock", "a") as other_writer:
        fcntl.flock(other_writer, fcntl.LOCK_EX)
        with pytest.raises(TimeoutError, match="_lake.lock"):
            lake.commit(_entry("abc"), _sales([1.0, 2.0]))
    lake.commit(_entry("abc"), _sales([1.0, 2.0]))  # released: the lock is free again
    assert lake.has("abc")


def test_writing_is_reentrant_for_commits(tmp_path, monkeypatch):
    monkeypatch.setattr(filelock_module, "LOCK_TIMEOUT_S", 2.0)  # a self-deadlock fails, not hangs
    lake = Lake(tmp_path)
    with lake.writing(), lake.writing():
        lake.commit(_entry("a"), _sales([1.0, 2.0]))
        lake.commit(_entry("b"), _sales([3.0, 4.0]))
    assert lake.read_table("sales")["units"].tolist() == [3.0, 4.0]


# -- migration from the one-part-per-file layout ------------------------------------------------

_OLD_SCHEMA = """
CREATE TABLE IF NOT EXISTS ingested_files (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    checksum TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    table_name TEXT NOT NULL,
    part TEXT NOT NULL,
    rows INTEGER NOT NULL,
    first_date TEXT,
    last_date TEXT,
    ingested_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS quarantined_files (
    checksum TEXT NOT NULL,
    source TEXT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    details TEXT NOT NULL,
    quarantined_at TEXT NOT NULL
);
"""


def _old_lake(root: Path, parts: dict[str, pd.DataFrame]) -> None:
    """A lake as the code before the parts table wrote it: one part per file, by checksum."""
    (root / "sales").mkdir(parents=True)
    db = sqlite3.connect(root / "_ledger.sqlite", isolation_level=None)
    db.executescript(_OLD_SCHEMA)
    for checksum, frame in parts.items():
        frame.to_parquet(root / "sales" / f"part-{checksum}.parquet", index=False)
        db.execute(
            "INSERT INTO ingested_files (checksum, source, kind, table_name, part, rows, "
            "first_date, last_date, ingested_at) VALUES (?, ?, 'sales', 'sales', ?, ?, ?, ?, ?)",
            (checksum, f"{checksum}.csv", f"sales/part-{checksum}.parquet", len(frame))
            + ("2024-01-01", "2024-01-03", "2024-01-05T00:00:00+00:00"),
        )
    db.execute("INSERT INTO quarantined_files VALUES ('q', 'q.csv', 'c', 'm', '{}', 'now')")
    db.close()


def test_an_old_lake_migrates_to_compacted_parts_with_the_old_answer(tmp_path):
    older = _sales(
        [1.0, 2.0, 3.0], days=("2024-01-01", "2024-01-02", "2024-01-03"), price=[9.0] * 3
    )
    newer = _sales([7.0], days=("2024-01-02",))
    _old_lake(tmp_path, {"aaa": older, "bbb": newer})
    (tmp_path / "sales" / "part-orphan.parquet").write_bytes(b"never committed")
    lake = Lake(tmp_path)
    table = lake.read_table("sales")
    # The old answer: whole-row last-wins, so the newer file's row has no price.
    assert table[["units", "price"]].fillna(-1).values.tolist() == [
        [1.0, 9.0],
        [3.0, 9.0],
        [7.0, -1.0],
    ]
    assert not (tmp_path / "sales" / "part-aaa.parquet").exists()  # rewritten without 01-02
    assert lake.part_paths("sales")[1] == tmp_path / "sales" / "part-bbb.parquet"  # untouched
    assert not _globbed(tmp_path, "sales").duplicated(SALES_KEYS).any()
    ledger = lake.ledger()
    assert ledger["checksum"].tolist() == ["aaa", "bbb"]
    assert ledger[["rows_in", "rows_rejected", "rejected_by_code"]].values.tolist() == [
        [0, 0, "{}"],
        [0, 0, "{}"],
    ]
    assert lake.quarantine_log()["rejected_by_code"].tolist() == ["{}"]
    lake.commit(_entry("ccc", rows=1), _sales([5.0], days=("2024-01-03",)))  # merge by column
    assert Lake(tmp_path).read_table("sales").sort_values("date")["price"].fillna(-1).tolist() == [
        9.0,
        -1.0,
        9.0,
    ]
    assert sorted((tmp_path / "sales").iterdir()) == sorted(lake.part_paths("sales"))


def test_a_migration_that_crashes_is_redone_on_the_next_open(tmp_path, monkeypatch):
    _old_lake(tmp_path, {"aaa": _sales([1.0, 2.0]), "bbb": _sales([7.0], days=("2024-01-02",))})

    def power_cut(*args, **kwargs):
        raise OSError("power cut")

    monkeypatch.setattr(lake_module, "_insert_parts", power_cut)
    with pytest.raises(OSError):
        Lake(tmp_path)
    monkeypatch.undo()
    assert (tmp_path / "sales" / "part-aaa.parquet").exists()
    lake = Lake(tmp_path)
    assert lake.read_table("sales")["units"].tolist() == [1.0, 7.0]
    assert sorted((tmp_path / "sales").iterdir()) == sorted(lake.part_paths("sales"))


# -- concurrent writers --------------------------------------------------------------------------


def _worker_frame(worker: int, i: int) -> pd.DataFrame:
    days = pd.date_range("2024-01-01", periods=6)[i % 3 : i % 3 + 4]
    return pd.DataFrame(
        {
            "date": days,
            "store_id": "S",
            "item_id": ["A", "B"] * 2,
            "units": float(100 * worker + i),
            f"w{worker}": float(i),
        }
    )


def _commit_many(root: str, worker: int, start) -> None:
    lake = Lake(root)
    start.wait(30)
    for i in range(8):
        lake.commit(_entry(f"w{worker}-{i}", rows=4), _worker_frame(worker, i))


def test_two_processes_committing_at_once_both_land(tmp_path):
    Lake(tmp_path)
    context = multiprocessing.get_context("fork")
    start = context.Barrier(2)
    workers = [context.Process(target=_commit_many, args=(str(tmp_path), w, start)) for w in (1, 2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [w.exitcode for w in workers] == [0, 0]
    lake = Lake(tmp_path)
    ledger = lake.ledger()
    assert len(ledger) == 16
    model: dict = {}
    for checksum in ledger["checksum"]:
        worker, i = (int(x) for x in checksum[1:].split("-"))
        _apply(model, _worker_frame(worker, i), SALES_KEYS)
    _assert_matches(lake, model, SALES_KEYS)


# -- property: the lake behaves as a per-key, per-column dictionary ----------------------------

_STORES, _ITEMS = ["S1", "S2"], ["A", "B"]
_DAYS = list(pd.date_range("2024-01-01", periods=3))
_ALL_KEYS = [(s, i, d) for s in _STORES for i in _ITEMS for d in _DAYS]
_OPTIONAL = ["units", "price", "dept_id"]


def _apply(model: dict, frame: pd.DataFrame, keys: list[str]) -> None:
    """The reference: per key, per column, the value from the last commit that carried it."""
    for row in frame.to_dict("records"):
        key = tuple(row[k] for k in keys)
        model.setdefault(key, {}).update({c: v for c, v in row.items() if c not in keys})


def _assert_matches(lake: Lake, model: dict, keys: list[str]) -> None:
    table = lake.read_table("sales")
    columns = sorted({c for values in model.values() for c in values})
    expected = pd.DataFrame(
        [dict(zip(keys, key, strict=True), **values) for key, values in model.items()]
    )
    assert sorted(table.columns) == sorted(keys + columns)
    pd.testing.assert_frame_equal(_canonical(table, keys), _canonical(expected, keys))
    plain = _globbed(lake.root, "sales")
    assert not plain.duplicated(keys).any()
    pd.testing.assert_frame_equal(_canonical(plain, keys), _canonical(table, keys))


_frames = st.lists(
    st.tuples(
        st.sets(st.sampled_from(range(len(_ALL_KEYS))), min_size=1),
        st.sets(st.sampled_from(_OPTIONAL)),
        st.integers(0, 2**16),
    ),
    min_size=1,
    max_size=6,
)


def _random_frame(key_ids: set[int], columns: set[str], seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [_ALL_KEYS[k] for k in sorted(key_ids)]
    frame = pd.DataFrame(rows, columns=SALES_KEYS).sample(frac=1, random_state=seed)
    for column in sorted(columns):
        values = rng.integers(0, 5, len(frame)).astype(float)
        values[rng.random(len(frame)) < 0.2] = np.nan
        frame[column] = (
            values
            if column != "dept_id"
            else [None if np.isnan(v) else f"D{v:.0f}" for v in values]
        )
    return frame


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_frames)
def test_the_lake_equals_a_per_key_per_column_model(commits):
    with tempfile.TemporaryDirectory() as root:
        lake, model = Lake(root), {}
        for n, (key_ids, columns, seed) in enumerate(commits):
            frame = _random_frame(key_ids, columns, seed)
            lake.commit(_entry(f"c{n}", rows=len(frame)), frame)
            _apply(model, frame, SALES_KEYS)
        _assert_matches(lake, model, SALES_KEYS)
        assert sorted(os.listdir(Path(root) / "sales")) == sorted(
            p.name for p in lake.part_paths("sales")
        )
