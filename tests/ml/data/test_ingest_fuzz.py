"""Fuzz: valid files corrupted at random -- cells, fields, bytes, encodings, delimiters,
headers, names -- then dropped together, then all dropped again.

What must hold whatever the corruption: no exception escapes ingestion; each file has exactly one
outcome; a file that lands accounts for every row (landed + rejected = rows in); no good row of a
landed file is lost and no rejected row lands; a file whose share of bad rows is above the limit
lands nothing; a second drop of everything changes nothing.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from ml.data.ingest import ingest_pending
from ml.data.lake import Lake
from ml.data.landing import LocalFolderSource, display_name

HEADER = ["date", "store_id", "item_id", "units", "price"]
DAYS = pd.date_range("2024-01-01", periods=60)
BAD_CELLS = {
    "date": ["2024/01/05", "", "20240105", "1899-01-01", "2024-13-01", "2090-01-01", "soon"],
    "store_id": ["", "  ", "CA__1", "NA"],
    "item_id": ["", "null"],
    "units": ["abc", "2.5", "1e20", "", "nan", "-inf", "0x10"],
    "price": ["0", "-1", "x", "1e9"],
}
LIMIT = 0.2


@dataclass
class FuzzFile:
    """A valid POS file being corrupted, with what is known about each row."""

    name: str
    item: str
    rows: list[list[str]]
    header: list[str] = field(default_factory=lambda: list(HEADER))
    status: list[str] = field(default_factory=list)  # good | bad | unknown, per row
    delimiter: str = ","
    whole_file_bad: bool = False
    raw: bytes | None = None  # set once the file has been corrupted at the byte level

    def payload(self) -> bytes:
        if self.raw is not None:
            return self.raw
        lines = [self.delimiter.join(self.header), *(self.delimiter.join(r) for r in self.rows)]
        return ("\n".join(lines) + "\n").encode()


@st.composite
def valid_file(draw, index: int) -> FuzzFile:
    n = draw(st.integers(5, 30))
    days = draw(st.lists(st.sampled_from(list(DAYS)), min_size=n, max_size=n, unique=True))
    item = f"FOODS_1_{index:03d}"  # one item per file: files never overlap, so rows map to keys
    rows = [[f"{d:%Y-%m-%d}", "CA_1", item, str(draw(st.integers(0, 40))), "1.99"] for d in days]
    return FuzzFile(f"pos_{index}.csv", item, rows, status=["good"] * n)


def _good_row(draw, f: FuzzFile) -> int | None:
    """A row that is still good (so that corrupting it never un-does another corruption, e.g.
    the duplicate of a duplicated key)."""
    good = [i for i, s in enumerate(f.status) if s == "good"]
    return draw(st.sampled_from(good)) if good else None


def corrupt_cell(draw, f: FuzzFile) -> None:
    if (row := _good_row(draw, f)) is not None:
        column = draw(st.sampled_from(list(BAD_CELLS)))
        f.rows[row][HEADER.index(column)] = draw(st.sampled_from(BAD_CELLS[column]))
        f.status[row] = "bad"


def wrong_field_count(draw, f: FuzzFile) -> None:
    if (row := _good_row(draw, f)) is not None:
        f.rows[row] = f.rows[row][:-1] if draw(st.booleans()) else [*f.rows[row], "extra"]
        f.status[row] = "bad"


def duplicate_row(draw, f: FuzzFile) -> None:
    if (row := _good_row(draw, f)) is not None:
        f.rows.append(list(f.rows[row]))
        f.status[row] = "bad"
        f.status.append("bad")


def other_delimiter(draw, f: FuzzFile) -> None:
    f.delimiter = draw(st.sampled_from([";", "\t", "|"]))


def header_case(draw, f: FuzzFile) -> None:
    f.header = [draw(st.sampled_from([c.upper(), c.title(), f" {c} "])) for c in f.header]


def header_breaks(draw, f: FuzzFile) -> None:
    i = draw(st.integers(0, len(f.header) - 2))  # not price: the optional column
    if draw(st.booleans()):
        f.header[i] = draw(st.sampled_from(["qty", "when", "shop", "sku"]))
    else:
        f.header = [*f.header[:i], *f.header[i + 1 :]]  # every row now has one field too many
    f.whole_file_bad = True


NOISE = st.binary(min_size=1, max_size=3).filter(
    lambda b: not set(b) & set(b'0123456789"\n\r,;\t|')
)


def byte_noise(draw, f: FuzzFile) -> None:
    """Random bytes in one row's units (keys untouched, so the row maps to its key): the row may
    still parse (" 5", "5e1") or not; either way it is unknown here."""
    if (row := _good_row(draw, f)) is not None:
        units = f.rows[row][3]
        at = draw(st.integers(0, len(units)))
        noise = draw(NOISE).decode("latin-1")
        f.rows[row][3] = units[:at] + noise + units[at:]
        f.status[row] = "unknown"


def latin1(draw, f: FuzzFile) -> None:
    if (row := _good_row(draw, f)) is not None:
        f.rows[row][1] = "CAFÉ_1"
        f.raw = f.payload().decode().encode("latin-1")
        f.whole_file_bad = True


NAME_CHARS = st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",))


def odd_name(draw, f: FuzzFile) -> None:
    stem = draw(st.text(NAME_CHARS, min_size=1, max_size=40))
    f.name = f"n{stem}_{f.item}.csv"  # "n": not an OS metadata name such as ._x or ~$x


MUTATIONS = [
    corrupt_cell,
    wrong_field_count,
    duplicate_row,
    other_delimiter,
    header_case,
    header_breaks,
    byte_noise,
    latin1,
    odd_name,
]


@st.composite
def corrupted_files(draw) -> list[FuzzFile]:
    files = [draw(valid_file(i)) for i in range(draw(st.integers(1, 4)))]
    for f in files:
        for mutation in draw(st.lists(st.sampled_from(MUTATIONS), max_size=4)):
            if f.raw is None:  # once re-encoded, structure edits no longer apply
                mutation(draw, f)
    return files


def _landed(lake: Lake) -> pd.DataFrame:
    table = lake.read_table("sales")
    if table is None:
        return pd.DataFrame(columns=["date", "store_id", "item_id", "units", "price"])
    return table.sort_values(["item_id", "date"]).reset_index(drop=True)


def _expected_status(f: FuzzFile) -> str | None:
    """What the file's outcome must be, when every row's fate is known."""
    if f.whole_file_bad:
        return "quarantined"
    if "unknown" in f.status:
        return None
    bad = f.status.count("bad")
    if bad == 0:
        return "ingested"
    return (
        "quarantined" if bad == len(f.rows) or bad > LIMIT * len(f.rows) else "partially_ingested"
    )


def _check_file(f: FuzzFile, outcome, landed: pd.DataFrame) -> None:
    mine = landed[landed["item_id"] == f.item]
    assert outcome.rows_landed == len(mine)
    expected = _expected_status(f)
    if expected is not None:
        assert outcome.status == expected, outcome
    if outcome.status == "quarantined":
        assert len(mine) == 0
        return
    assert outcome.rows_in == len(f.rows)
    assert outcome.rows_landed + outcome.rows_rejected == outcome.rows_in
    assert outcome.rows_rejected >= f.status.count("bad")
    landed_days = {f"{d:%Y-%m-%d}": r for d, r in zip(mine["date"], mine.itertuples(), strict=True)}
    for row, status in zip(f.rows, f.status, strict=True):
        if status == "good":  # no good row of a landed file is lost, nor changed
            got = landed_days.get(row[0])
            assert got is not None, f"good row lost: {row}"
            assert got.units == float(row[3]) and got.price == 1.99
        elif status == "bad" and len(row) == len(HEADER) and row[0] in landed_days:
            assert landed_days[row[0]].units != row[3], f"rejected row landed: {row}"
    assert set(landed_days) <= {r[0] for r in f.rows}  # nothing that was not in the file


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(corrupted_files())
def test_corrupted_files_never_poison_the_lake(files):
    for f in files:
        note(f"{f.name!r}: {f.status} whole_file_bad={f.whole_file_bad} {f.payload()[:400]!r}")
    with tempfile.TemporaryDirectory() as tmp:
        landing = Path(tmp) / "landing"
        landing.mkdir()
        source, lake = LocalFolderSource(landing, Path(tmp) / "q"), Lake(Path(tmp) / "lake")
        for f in files:
            (landing / f.name).write_bytes(f.payload())
        report = ingest_pending(source, lake)  # no exception may escape
        outcomes = {o.key: o for o in report.outcomes}
        files_by_key = {display_name(f.name): f for f in files}
        assert len(report.outcomes) == len(files) == len(outcomes)
        landed = _landed(lake)
        for key, f in files_by_key.items():
            _check_file(f, outcomes[key], landed)
        ledger = lake.ledger()
        for n, f in enumerate(files):  # everything again, under new names
            (landing / f"again_{n}.csv").write_bytes(f.payload())
        again = ingest_pending(source, lake)
        assert _landed(lake).equals(landed)
        assert lake.ledger()[["checksum", "rows"]].equals(ledger[["checksum", "rows"]])
        for n, f in enumerate(files):
            first = outcomes[display_name(f.name)].status
            repeat = next(o for o in again.outcomes if o.key == f"again_{n}.csv")
            assert repeat.status == (
                "quarantined" if first == "quarantined" else "already_ingested"
            )
