"""Property-based: any sequence of valid files of every layout lands, and every value
round-trips into the lake tables and ``sales_history``, exactly as a simple reference model of
the documented rules says (newest file wins per key and column; calendars and catalogues merge
by column; week-keyed prices wait for a calendar; SNAP by state, else store-wide)."""

from __future__ import annotations

import io
import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from ml.data.history import build_sales_history
from ml.data.ingest import ingest_pending
from ml.data.lake import Lake
from ml.data.landing import LocalFolderSource

STORES = ["CA_1", "TX_2", "WI_3"]
ITEMS = ["FOODS_1_001", "HOBBIES_2_010", "HOUSEHOLD_1_100"]
DEPT = {
    "FOODS_1_001": ("FOODS_1", "FOODS"),
    "HOBBIES_2_010": ("HOBBIES_2", "HOBBIES"),
    "HOUSEHOLD_1_100": ("HOUSEHOLD_1", "HOUSEHOLD"),
}
DAYS = list(pd.date_range("2024-01-01", periods=14))
WEEK = {d: 12401 + i // 7 for i, d in enumerate(DAYS)}  # two retail weeks
EVENTS = [None, "Easter", "SuperBowl"]
STATES = ["CA", "TX", "WI"]
SERIES_DAY = ["store_id", "item_id", "date"]
KEYS = {"sales": SERIES_DAY, "prices": SERIES_DAY, "calendar": ["date"], "products": ["item_id"]}

keys = st.tuples(st.sampled_from(STORES), st.sampled_from(ITEMS), st.sampled_from(DAYS))
flag = st.none() | st.sampled_from([0, 1])


@st.composite
def sales_file(draw):
    rows = draw(st.lists(keys, min_size=1, max_size=25, unique=True))
    cols = {"units": [draw(st.integers(-3, 60)) for _ in rows]}
    if draw(st.booleans()):
        cols["price"] = [draw(st.none() | st.sampled_from([0.5, 1.25, 3.0, 9.99])) for _ in rows]
    if draw(st.booleans()):
        cols["dept_id"] = [DEPT[r[1]][0] for r in rows]
        cols["cat_id"] = [DEPT[r[1]][1] for r in rows]
    return "sales", _keyed(rows, cols)


def _keyed(rows, cols) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["store_id", "item_id", "date"])
    return frame.assign(**cols)


@st.composite
def prices_file(draw):
    rows = draw(st.lists(keys, min_size=1, max_size=15, unique=True))
    price = [draw(st.sampled_from([0.99, 1.5, 2.0, 4.75])) for _ in rows]
    kind = draw(st.sampled_from(["prices", "prices_weekly", "prices_by_week"]))
    frame = _keyed(rows, {"price": price})
    if kind == "prices_weekly":
        frame = frame.rename(columns={"date": "week_start"})
    elif kind == "prices_by_week":
        frame = (
            frame.assign(wm_yr_wk=frame.pop("date").map(WEEK))
            .rename(columns={"price": "sell_price"})
            .drop_duplicates(["store_id", "item_id", "wm_yr_wk"])
        )
    return kind, frame


@st.composite
def m5_calendar(draw):
    days = DAYS  # an M5 calendar covers every day, so every retail week resolves
    frame = pd.DataFrame({"date": days, "d": [f"d_{DAYS.index(d) + 1}" for d in days]})
    frame["wm_yr_wk"] = [WEEK[d] for d in days]
    frame["event_name_1"] = [draw(st.sampled_from(EVENTS)) for _ in days]
    for state in draw(st.lists(st.sampled_from(STATES), min_size=1, unique=True)):
        frame[f"snap_{state}"] = [draw(st.sampled_from([0, 1])) for _ in days]
    return "calendar", frame


@st.composite
def flat_calendar(draw):
    days = sorted(draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=14, unique=True)))
    frame = pd.DataFrame({"date": days})
    if draw(st.booleans()):
        frame["event_name"] = [draw(st.sampled_from(EVENTS)) for _ in days]
    frame["snap"] = [draw(st.sampled_from([0, 1])) for _ in days]
    return "calendar", frame


@st.composite
def products_file(draw):
    items = draw(st.lists(st.sampled_from(ITEMS), min_size=1, unique=True))
    frame = pd.DataFrame(
        {
            "item_id": items,
            "dept_id": [DEPT[i][0] for i in items],
            "cat_id": [DEPT[i][1] for i in items],
        }
    )
    if draw(st.booleans()):
        frame["unit_cost"] = [draw(st.sampled_from([0.3, 1.1])) for _ in items]
    return "products", frame


any_file = st.one_of(sales_file(), prices_file(), m5_calendar(), flat_calendar(), products_file())


@st.composite
def file_sequences(draw):
    files = draw(st.lists(any_file, min_size=0, max_size=5))
    files.insert(draw(st.integers(0, len(files))), draw(sales_file()))
    formats = [draw(st.sampled_from(["csv", "csv;", "CSV", "parquet"])) for _ in files]
    return list(zip(files, formats, strict=True))


def _bytes(frame: pd.DataFrame, fmt: str) -> tuple[str, bytes]:
    if fmt == "parquet":
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        return "parquet", buffer.getvalue()
    out = frame.copy()
    if fmt == "CSV":  # upper-case headers; state codes upper-case already
        out.columns = [c.upper() for c in out.columns]
    text = out.to_csv(index=False, sep=";" if fmt == "csv;" else ",", date_format="%Y-%m-%d")
    return "csv", text.encode()


class Reference:
    """The documented rules, written as plainly as possible."""

    def __init__(self) -> None:
        self.tables: dict[str, dict] = {"sales": {}, "prices": {}, "calendar": {}, "products": {}}
        self.pending: list[tuple[str, pd.DataFrame, bytes]] = []
        self.landed: set[bytes] = set()  # exactly once: the same bytes again add nothing

    def land(self, kind: str, frame: pd.DataFrame, payload: bytes) -> None:
        if kind == "prices_by_week" and not self._has_weeks():
            self.pending.append((kind, frame, payload))
            return
        self._once(kind, frame, payload)
        if kind == "calendar" and self._has_weeks():
            pending, self.pending = self.pending, []
            for item in pending:
                self._once(*item)

    def _once(self, kind: str, frame: pd.DataFrame, payload: bytes) -> None:
        if payload not in self.landed:
            self.landed.add(payload)
            self._merge(kind, frame)

    def _has_weeks(self) -> bool:
        return any(not _na(row.get("wm_yr_wk")) for row in self.tables["calendar"].values())

    def _merge(self, kind: str, frame: pd.DataFrame) -> None:
        frame = frame.copy()
        if kind == "prices_weekly":
            frame = frame.rename(columns={"week_start": "date"})
        if kind == "prices_by_week":
            frame = self._resolve_weeks(frame)
        table = {"prices_weekly": "prices", "prices_by_week": "prices"}.get(kind, kind)
        frame = frame.rename(columns={"event_name": "event_name_1", "sell_price": "price"})
        cols = list(frame.columns)
        key_names = KEYS[table]
        for record in frame.to_dict("records"):
            key = tuple(pd.Timestamp(record[k]) if k == "date" else record[k] for k in key_names)
            row = self.tables[table].setdefault(key, {})
            row.update({c: record[c] for c in cols if c not in key_names})

    def _resolve_weeks(self, frame: pd.DataFrame) -> pd.DataFrame:
        starts: dict[int, pd.Timestamp] = {}
        for (day,), row in self.tables["calendar"].items():
            week = row.get("wm_yr_wk")
            if not _na(week):
                starts[int(week)] = min(starts.get(int(week), day), day)
        known = frame[frame["wm_yr_wk"].isin(starts)]
        assert len(known) == len(frame), "generated weeks are always in a full calendar"
        return known.assign(date=known.pop("wm_yr_wk").map(starts))

    def history(self) -> dict[tuple, dict]:
        sales = self.tables["sales"]
        last = {}
        for store, _, day in sales:
            last[store] = max(last.get(store, day), day)
        first = {}
        for store, item, day in sales:
            first[(store, item)] = min(first.get((store, item), day), day)
        out = {}
        for (store, item), start in first.items():
            for day in pd.date_range(start, last[store]):
                out[(store, item, day)] = self._day(store, item, day)
        return out

    def _day(self, store: str, item: str, day: pd.Timestamp) -> dict:
        row = self.tables["sales"].get((store, item, day))
        units = max(float(row["units"]), 0.0) if row else 0.0
        price = row.get("price") if row else None
        if _na(price):
            dates = [
                d for (s, i, d) in self.tables["prices"] if s == store and i == item and d <= day
            ]
            price = self.tables["prices"][(store, item, max(dates))]["price"] if dates else np.nan
        cal = self.tables["calendar"].get((day,), {})
        snap = cal.get(f"snap_{store.split('_')[0]}")
        snap = cal.get("snap") if _na(snap) else snap
        event = cal.get("event_name_1")
        return {
            "y": units,
            "sell_price": float(price),
            "snap": 0 if _na(snap) else int(snap),
            "event_name_1": None if _na(event) else event,
            "is_filled": row is None,
        }


def _na(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _observed(history: pd.DataFrame) -> dict[tuple, dict]:
    cols = ["y", "sell_price", "snap", "event_name_1", "is_filled"]
    return {
        (r.store_id, r.item_id, r.ds): {c: getattr(r, c) for c in cols}
        for r in history.itertuples(index=False)
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(file_sequences())
def test_any_sequence_of_valid_files_lands_and_every_value_round_trips(sequence):
    with tempfile.TemporaryDirectory() as tmp:
        landing = Path(tmp) / "landing"
        landing.mkdir()
        source, lake = LocalFolderSource(landing, Path(tmp) / "q"), Lake(Path(tmp) / "lake")
        model = Reference()
        for n, ((kind, frame), fmt) in enumerate(sequence):
            note(f"file {n}: {kind} as {fmt}: {frame.to_dict('list')}")
            suffix, payload = _bytes(frame, fmt)
            (landing / f"{n:02d}_{kind}.{suffix}").write_bytes(payload)
            report = ingest_pending(source, lake)
            assert report.quarantined == [], [o.message for o in report.quarantined]
            assert all(o.rows_rejected == 0 for o in report.ingested)
            model.land(kind, frame, payload)
        tables = {t: lake.read_table(t) for t in ("sales", "prices", "calendar", "products")}
        history = build_sales_history(*tables.values())
    expected = model.history()
    observed = _observed(history)
    assert observed.keys() == expected.keys()
    for key, want in expected.items():
        got = observed[key]
        assert got["y"] == want["y"], key
        assert got["is_filled"] == want["is_filled"], key
        assert got["snap"] == want["snap"], key
        assert got["event_name_1"] == want["event_name_1"], key
        assert (math.isnan(want["sell_price"]) and math.isnan(got["sell_price"])) or math.isclose(
            got["sell_price"], want["sell_price"]
        ), key
    for item, dept in history.groupby("item_id")["dept_id"].unique().items():
        assert list(dept) == [DEPT[item][0]]
