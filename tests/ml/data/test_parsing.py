import gzip
import io

import pandas as pd
import pytest

from ml.data.parsing import BadFileError, read_raw

SALES_CSV = b"date,store_id,item_id,units,price\n2024-01-01,CA_1,FOODS_1_001,3,2.5\n"


def test_reads_cells_as_text_with_the_line_of_each_row():
    raw = read_raw("sales.csv", SALES_CSV + b"2024-01-02,CA_1,FOODS_1_001,4,2.5\n")
    assert list(raw.frame.columns) == ["date", "store_id", "item_id", "units", "price"]
    assert raw.frame["units"].tolist() == ["3", "4"]
    assert raw.line.tolist() == [2, 3]
    assert raw.malformed == [] and raw.rows_in == 2


def test_header_is_case_and_space_insensitive_and_bom_is_accepted():
    payload = "\ufeffDate, Store_ID ,item_id,UNITS\n2024-01-01,CA_1,X_1_1,1\n".encode()
    assert list(read_raw("s.csv", payload).frame.columns) == [
        "date",
        "store_id",
        "item_id",
        "units",
    ]


def test_blank_lines_are_skipped_but_keep_the_numbering():
    raw = read_raw("s.csv", b"date,units\n\n2024-01-01,1\n,\n\n2024-01-02,2\n")
    assert raw.line.tolist() == [3, 6]
    assert raw.rows_in == 2


@pytest.mark.parametrize("delimiter", [b";", b"\t", b"|"])
def test_other_delimiters_are_found_from_the_header(delimiter):
    payload = delimiter.join([b"date", b"units"]) + b"\n" + delimiter.join([b"2024-01-01", b"1"])
    raw = read_raw("s.csv", payload + b"\r\n")
    assert raw.frame.to_dict("records") == [{"date": "2024-01-01", "units": "1"}]


def test_rows_with_the_wrong_field_count_are_malformed_rows_not_a_bad_file():
    payload = (
        b'date,store,units\n2024-01-01,"A,1",3\n2024-01-02,A\n2024-01-03,A,1,9\n2024-01-04,A,4\n'
    )
    raw = read_raw("s.csv", payload)
    assert raw.frame["units"].tolist() == ["3", "4"]
    assert raw.line.tolist() == [2, 5]
    assert raw.malformed == [(3, "2024-01-02,A\n"), (4, "2024-01-03,A,1,9\n")]


def test_an_unclosed_quote_keeps_the_swallowed_lines_verbatim():
    payload = b'date,store,units\n2024-01-01,A,1\n2024-01-02,"A,2\n2024-01-03,A,3\n'
    raw = read_raw("s.csv", payload)
    assert raw.frame["units"].tolist() == ["1"]
    assert raw.malformed == [(3, '2024-01-02,"A,2\n2024-01-03,A,3\n')]


def test_quoted_newlines_are_one_record_numbered_by_its_first_line():
    payload = b'date,name,units\n2024-01-01,"two\nlines",1\n2024-01-02,x,2\n'
    raw = read_raw("s.csv", payload)
    assert raw.frame["name"].tolist() == ["two\nlines", "x"]
    assert raw.line.tolist() == [2, 4]


def test_a_trailing_delimiter_on_every_line_is_ignored():
    raw = read_raw("s.csv", b"date,units,\n2024-01-01,1,\n")
    assert list(raw.frame.columns) == ["date", "units"]


def test_utf16_with_a_byte_order_mark_is_read():
    raw = read_raw("s.csv", "date,store\n2024-01-01,Café\n".encode("utf-16"))
    assert raw.frame["store"].tolist() == ["Café"]


def test_gzip_csv_is_read():
    raw = read_raw("s.csv.gz", gzip.compress(SALES_CSV))
    assert raw.frame["units"].tolist() == ["3"]


def test_parquet_keeps_types_and_numbers_rows_from_one():
    frame = pd.DataFrame({"Date": pd.to_datetime(["2024-01-01", "2024-01-02"]), "units": [1, 2]})
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    raw = read_raw("s.parquet", buffer.getvalue())
    assert list(raw.frame.columns) == ["date", "units"]
    assert raw.line.tolist() == [1, 2]
    assert pd.api.types.is_datetime64_any_dtype(raw.frame["date"])


@pytest.mark.parametrize(
    ("name", "payload", "code"),
    [
        ("sales.csv", b"", "empty_file"),
        ("sales.csv", b"   \n", "empty_file"),
        ("sales.csv", b"date,store_id,item_id,units\n", "empty_file"),
        ("sales.csv", b"date,store_id,item_id,units\n\n,,,\n", "empty_file"),
        (
            "sales.csv",
            "date,store_id,item_id,units\n2024-01-01,Caf\xe9,X,1\n".encode("latin-1"),
            "wrong_encoding",
        ),
        ("sales.csv", b"PK\x03\x04\x14\x00\x06\x00binary-zip", "not_csv"),
        ("sales.csv", b"PAR1\x00\x00\x00garbage", "not_csv"),
        ("sales.parquet", b"this is not parquet", "not_parquet"),
        ("sales.xlsx", b"whatever", "unsupported_format"),
        ("sales.csv.gz", b"not gzip at all", "corrupt_archive"),
        ("sales.csv", b"date,units,Units\n2024-01-01,1,2\n", "duplicate_columns"),
        ("sales.csv", b"date,,units\n2024-01-01,x,2\n", "malformed_csv"),
    ],
)
def test_unreadable_files_raise_a_coded_error(name, payload, code):
    with pytest.raises(BadFileError) as error:
        read_raw(name, payload)
    assert error.value.code == code
    assert error.value.message
