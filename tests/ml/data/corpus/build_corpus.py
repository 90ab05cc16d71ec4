"""Writes the ingestion defect corpus: one small file per kind of defect, plus valid controls.

    .venv/bin/python tests/ml/data/corpus/build_corpus.py

The expected outcome and row counts of every file are written here by hand, from what the file
holds, never from what the ingestion code does; ``manifest.json`` records them and
``tests/ml/data/test_corpus.py`` checks the code against it (``bench/bench_ingestion.py`` prints
the table into BENCHMARKS.md). Each case is ingested into a fresh landing zone after its
``context`` files (by default an M5-style calendar, so week and day numbers resolve). The data are
synthetic (M5's terms forbid redistribution), shaped like the exports retailers send.
"""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent
FILES = HERE / "files"
CONTEXT = "_calendar.csv"
N = 20  # data rows of a typical case
DAYS = pd.date_range("2024-03-01", periods=N)
ITEMS = ["FOODS_1_001", "FOODS_1_002", "HOBBIES_1_010", "HOUSEHOLD_2_003"]


def pos_rows(n: int = N) -> list[list[str]]:
    return [
        [f"{DAYS[i % N]:%Y-%m-%d}", "CA_1", ITEMS[i // N % len(ITEMS)], str(i % 7), "2.49"]
        for i in range(n)
    ]


POS_HEADER = ["date", "store_id", "item_id", "units", "price"]


def csv_text(header: list[str], rows: list[list[str]], sep: str = ",", eol: str = "\n") -> str:
    return eol.join([sep.join(header), *(sep.join(r) for r in rows)]) + eol


def pos_with(changes: dict[int, tuple[int, str]], n: int = N) -> str:
    """The POS control with cell ``(row, column) -> value`` replaced."""
    rows = pos_rows(n)
    for row, (column, value) in changes.items():
        rows[row][column] = value
    return csv_text(POS_HEADER, rows)


def calendar_text() -> str:
    days = pd.date_range("2024-02-01", periods=120)
    rows = [
        [
            f"{d:%Y-%m-%d}",
            f"d_{i + 1}",
            str(12401 + i // 7),
            "StPatricksDay" if d == pd.Timestamp("2024-03-17") else "",
            "Cultural" if d == pd.Timestamp("2024-03-17") else "",
            str(int(d.day <= 10)),
            str(int(d.day % 3 == 0)),
        ]
        for i, d in enumerate(days)
    ]
    header = ["date", "d", "wm_yr_wk", "event_name_1", "event_type_1", "snap_CA", "snap_TX"]
    return csv_text(header, rows)


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def pos_frame() -> pd.DataFrame:
    return pd.DataFrame(pos_rows(), columns=POS_HEADER).astype({"units": int, "price": float})


def week_prices(weeks: list[str]) -> str:
    rows = [["CA_1", ITEMS[i % 4], w, "3.10"] for i, w in enumerate(weeks)]
    return csv_text(["store_id", "item_id", "wm_yr_wk", "sell_price"], rows)


def case(name, kind, payload, expected, landed, rejected, code=None, context=(CONTEXT,)):
    data = payload.encode() if isinstance(payload, str) else payload
    return {
        "file": name,
        "kind": kind,
        "payload": data,
        "expected": expected,
        "code": code,
        "rows_landed": landed,
        "rows_rejected": rejected,
        "context": list(context),
    }


ING, PART, QUAR, SKIP = "ingested", "partially_ingested", "quarantined", "skipped"


def valid_cases() -> list[dict]:
    products = csv_text(
        ["item_id", "dept_id", "cat_id", "unit_cost"],
        [[i, i.rsplit("_", 1)[0], i.split("_")[0], "1.20"] for i in ITEMS],
    )
    monthly = csv_text(
        ["month_start", "store_id", "item_id", "units", "n_days"],
        [[f"2024-0{m}-01", "CA_1", i, "120", "30"] for m in (1, 2) for i in ITEMS],
    )
    events = csv_text(
        ["date", "event_name", "event_type", "snap"],
        [
            [
                f"{d:%Y-%m-%d}",
                "Easter" if d.day == 31 else "",
                "Religious" if d.day == 31 else "",
                "1",
            ]
            for d in DAYS
        ],
    )
    by_start = csv_text(
        ["week_start", "store_id", "item_id", "price"],
        [[f"{d:%Y-%m-%d}", "CA_1", i, "2.99"] for d in DAYS[::7] for i in ITEMS],
    )
    return [
        case(
            "pos_export.csv",
            "valid POS export (control)",
            csv_text(POS_HEADER, pos_rows()),
            ING,
            N,
            0,
        ),
        case("products.csv", "valid catalogue with unit costs", products, ING, 4, 0),
        case("sales_monthly.csv", "valid monthly totals", monthly, ING, 8, 0),
        case("events.csv", "flat events calendar with a store-wide snap", events, ING, N, 0),
        case(
            "calendar_m5.csv",
            "M5-style calendar (day and week numbers, snap per state)",
            calendar_text(),
            ING,
            120,
            0,
            context=(),
        ),
        case("prices_weekly.csv", "price list keyed by week start", by_start, ING, 12, 0),
        case(
            "sell_prices.csv",
            "price list keyed by retail week number",
            week_prices(["12405", "12405", "12406", "12407"]),
            ING,
            4,
            0,
        ),
        case(
            "pos_semicolon.csv",
            "semicolon-delimited export",
            csv_text(POS_HEADER, pos_rows(), sep=";"),
            ING,
            N,
            0,
        ),
        case(
            "pos_bom_crlf.csv",
            "UTF-8 with BOM and Windows line ends",
            "\ufeff" + csv_text(POS_HEADER, pos_rows(), eol="\r\n"),
            ING,
            N,
            0,
        ),
        case(
            "pos_utf16.csv",
            "UTF-16 text export",
            csv_text(POS_HEADER, pos_rows()).encode("utf-16"),
            ING,
            N,
            0,
        ),
        case(
            "pos_export.csv.gz",
            "gzip-compressed CSV",
            gzip.compress(csv_text(POS_HEADER, pos_rows()).encode(), mtime=0),
            ING,
            N,
            0,
        ),
        case(
            ".pos_hidden.csv",
            "file name with a leading dot",
            csv_text(POS_HEADER, pos_rows()),
            ING,
            N,
            0,
        ),
        case(
            "pos upper CASE.csv",
            "upper-case headers with spaces in the name",
            csv_text(["DATE", "Store ID", "Item-ID", "UNITS", "Price"], pos_rows()),
            ING,
            N,
            0,
        ),
        case(
            "pos_trailing_comma.csv",
            "trailing delimiter on every line",
            csv_text(POS_HEADER + [""], [r + [""] for r in pos_rows()]),
            ING,
            N,
            0,
        ),
        case(
            "pos_blank_lines.csv",
            "blank lines and empty rows between records",
            csv_text(POS_HEADER, pos_rows()[:10] + [[""] * 5] + pos_rows()[10:]).replace(
                "\n2024-03-15", "\n\n2024-03-15"
            ),
            ING,
            N,
            0,
        ),
        case(
            "pos_returns.csv",
            "returns: two negative days (net units)",
            pos_with({3: (3, "-2"), 9: (3, "-1")}),
            ING,
            N,
            0,
        ),
        case("pos.parquet", "Parquet POS export", parquet_bytes(pos_frame()), ING, N, 0),
        case(
            "pos_quoted.csv",
            "quoted fields with commas and quotes",
            csv_text(POS_HEADER, pos_rows()).replace("CA_1", '"CA_1"'),
            ING,
            N,
            0,
        ),
    ]


def partial_cases() -> list[dict]:
    wide = csv_text(
        [
            "id",
            "item_id",
            "dept_id",
            "cat_id",
            "store_id",
            "state_id",
            *(f"d_{k}" for k in range(30, 40)),
        ],
        [
            [
                f"{i}_CA_1",
                i,
                i.rsplit("_", 1)[0],
                i.split("_")[0],
                "CA_1",
                "CA",
                *("3" if k != 33 or i != ITEMS[1] else "x" for k in range(30, 40)),
            ]
            for i in ITEMS
        ],
    )
    catalogue = csv_text(
        ["item_id", "dept_id", "cat_id"],
        [[i, "" if i == ITEMS[2] else i.rsplit("_", 1)[0], i.split("_")[0]] for i in ITEMS]
        + [[f"FOODS_9_{k:03d}", "FOODS_9", "FOODS"] for k in range(6)],
    )
    flags = calendar_text().replace("\n2024-02-05,d_5,12401,,,1,0", "\n2024-02-05,d_5,12401,,,Y,0")
    tail = pos_rows()
    tail[4:] = tail[5:]
    return [
        case(
            "pos_fractional.csv",
            "fractional units (2.5)",
            pos_with({2: (3, "2.5"), 11: (3, "0.25")}),
            PART,
            N - 2,
            2,
        ),
        case(
            "pos_absurd.csv",
            "absurd units (10^12, 10^20)",
            pos_with({5: (3, "1000000000000"), 6: (3, "1e20")}),
            PART,
            N - 2,
            2,
        ),
        case(
            "pos_future.csv",
            "sales dated years ahead",
            pos_with({8: (0, "2031-03-09")}),
            PART,
            N - 1,
            1,
        ),
        case(
            "pos_ancient.csv", "dates before 2000", pos_with({0: (0, "1970-01-01")}), PART, N - 1, 1
        ),
        case(
            "pos_missing_store.csv",
            "missing store ids",
            pos_with({1: (1, ""), 2: (1, "  ")}),
            PART,
            N - 2,
            2,
        ),
        case(
            "pos_bad_id.csv",
            "store id containing the series separator",
            pos_with({4: (1, "CA__1")}),
            PART,
            N - 1,
            1,
        ),
        case(
            "pos_dupes.csv",
            "the same key twice in one file",
            pos_with({7: (0, f"{DAYS[6]:%Y-%m-%d}")}),
            PART,
            N - 2,
            2,
        ),
        case(
            "pos_words.csv",
            "words in a numeric column",
            pos_with({3: (3, "three")}),
            PART,
            N - 1,
            1,
        ),
        case(
            "pos_zero_price.csv", "a zero price on a sale", pos_with({10: (4, "0")}), PART, N - 1, 1
        ),
        case(
            "pos_huge_price.csv",
            "a price of 10^9",
            pos_with({12: (4, "999999999")}),
            PART,
            N - 1,
            1,
        ),
        case(
            "pos_short_row.csv",
            "a row with a missing field",
            csv_text(POS_HEADER, pos_rows()).replace(
                "\n2024-03-04,CA_1,FOODS_1_001,3,2.49\n", "\n2024-03-04,CA_1,FOODS_1_001,3\n"
            ),
            PART,
            N - 1,
            1,
        ),
        case(
            "pos_unclosed_quote.csv",
            "an unclosed quote swallowing the next line",
            csv_text(POS_HEADER, pos_rows()).replace("\n2024-03-19,CA_1", '\n2024-03-19,"CA_1'),
            PART,
            N - 2,
            1,
        ),
        case(
            "pos_missing_units.csv",
            "empty units cells",
            pos_with({0: (3, ""), 19: (3, "NULL")}),
            PART,
            N - 2,
            2,
        ),
        case(
            "pos_bad_day.csv",
            "an impossible calendar date (Feb 30)",
            pos_with({2: (0, "2024-02-30")}),
            PART,
            N - 1,
            1,
        ),
        case("sales_train_wide.csv", "M5 wide sales with one bad cell", wide, PART, 39, 1),
        case(
            "sell_prices_unknown_week.csv",
            "a week number not in the calendar",
            week_prices(["12405", "12406", "12407", "12408", "99999"]),
            PART,
            4,
            1,
        ),
        case(
            "products_missing_dept.csv", "catalogue row without a department", catalogue, PART, 9, 1
        ),
        case(
            "sales_monthly_mid_month.csv",
            "monthly total not on the first of a month",
            csv_text(
                ["month_start", "store_id", "item_id", "units"],
                [["2024-01-01", "CA_1", i, "10"] for i in ITEMS]
                + [["2024-02-15", "CA_1", ITEMS[0], "10"]],
            ),
            PART,
            4,
            1,
        ),
        case(
            "calendar_bad_flag.csv", "a SNAP flag that is not 0/1", flags, PART, 119, 1, context=()
        ),
    ]


def quarantined_cases() -> list[dict]:
    us_dates = csv_text(
        POS_HEADER, [[f"{DAYS[i]:%m/%d/%Y}", *r[1:]] for i, r in enumerate(pos_rows())]
    )
    ymd = pos_frame().assign(
        date=lambda f: pd.to_datetime(f["date"]).dt.strftime("%Y%m%d").astype(int)
    )
    mostly_bad = pos_with({i: (4, "-1.00") for i in range(0, N, 2)})
    return [
        case(
            "pos_us_dates.csv",
            "US-format dates (MM/DD/YYYY)",
            us_dates,
            QUAR,
            0,
            N,
            "unparseable_dates",
        ),
        case(
            "pos_yyyymmdd.parquet",
            "integer yyyymmdd dates in Parquet",
            parquet_bytes(ymd),
            QUAR,
            0,
            N,
            "unparseable_dates",
        ),
        case(
            "pos_mostly_bad.csv",
            "half the prices negative (above the 20 % limit)",
            mostly_bad,
            QUAR,
            0,
            N // 2,
            "non_positive_price",
        ),
        case(
            "pos_latin1.csv",
            "Latin-1 encoded",
            csv_text(POS_HEADER, pos_rows()).replace("CA_1", "CAFÉ_1").encode("latin-1"),
            QUAR,
            0,
            0,
            "wrong_encoding",
        ),
        case(
            "report.csv",
            "a spreadsheet renamed to .csv",
            b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40,
            QUAR,
            0,
            0,
            "not_csv",
        ),
        case("empty.csv", "an empty file", b"", QUAR, 0, 0, "empty_file"),
        case(
            "header_only.csv",
            "a header without rows",
            csv_text(POS_HEADER, []),
            QUAR,
            0,
            0,
            "empty_file",
        ),
        case(
            "pos_qty.csv",
            "qty instead of units",
            csv_text(["date", "store_id", "item_id", "qty", "price"], pos_rows()),
            QUAR,
            0,
            0,
            "unknown_layout",
        ),
        case(
            "pos_no_units.csv",
            "POS export without units but with a department",
            csv_text(
                ["date", "store_id", "item_id", "price", "dept_id"],
                [[r[0], r[1], r[2], r[4], "FOODS_1"] for r in pos_rows()],
            ),
            QUAR,
            0,
            0,
            "unknown_layout",
        ),
        case(
            "dates_only.csv",
            "a file with only a date column",
            csv_text(["date"], [[f"{d:%Y-%m-%d}"] for d in DAYS]),
            QUAR,
            0,
            0,
            "unknown_layout",
        ),
        case(
            "pos_dup_columns.csv",
            "the same column twice (units, Units)",
            csv_text(
                ["date", "store_id", "item_id", "units", "Units"],
                [r[:4] + [r[3]] for r in pos_rows()],
            ),
            QUAR,
            0,
            0,
            "duplicate_columns",
        ),
        case(
            "pos.xlsx",
            "an Excel workbook",
            b"PK\x03\x04" + b"\x00" * 60,
            QUAR,
            0,
            0,
            "unsupported_format",
        ),
        case(
            "pos_corrupt.parquet",
            "a truncated Parquet file",
            parquet_bytes(pos_frame())[:200],
            QUAR,
            0,
            0,
            "not_parquet",
        ),
        case(
            "pos_corrupt.csv.gz",
            "a truncated gzip file",
            gzip.compress(csv_text(POS_HEADER, pos_rows()).encode(), mtime=0)[:30],
            QUAR,
            0,
            0,
            "corrupt_archive",
        ),
    ]


def other_cases() -> list[dict]:
    return [
        case(
            ".DS_Store", "macOS folder metadata", b"\x00\x00\x00\x01Bud1" + b"\x00" * 30, SKIP, 0, 0
        ),
        case(
            "pos_export.csv.part",
            "an upload still in progress",
            csv_text(POS_HEADER, pos_rows())[:100],
            SKIP,
            0,
            0,
        ),
        case(
            "sell_prices_early.csv",
            "week-keyed prices before any calendar",
            week_prices(["12405"]),
            "deferred",
            0,
            0,
            context=(),
        ),
        case(
            "pos_export_copy.csv",
            "the same bytes again under another name",
            csv_text(POS_HEADER, pos_rows()),
            "already_ingested",
            0,
            0,
            context=(CONTEXT, "pos_export.csv"),
        ),
    ]


def main() -> None:
    FILES.mkdir(exist_ok=True)
    for old in FILES.iterdir():
        old.unlink()
    (FILES / CONTEXT).write_text(calendar_text())
    cases = valid_cases() + partial_cases() + quarantined_cases() + other_cases()
    names = [c["file"] for c in cases]
    assert len(set(names)) == len(names), "case file names must be unique"
    for item in cases:
        (FILES / item["file"]).write_bytes(item.pop("payload"))
    (HERE / "manifest.json").write_text(json.dumps(cases, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {FILES}")


if __name__ == "__main__":
    main()
