"""The landing zone on S3, against a real S3 endpoint (moto in server mode) over HTTP."""

import json
import socket
import urllib.request

import boto3
import dagster as dg
import pandas as pd
import pytest
from moto.server import ThreadedMotoServer

from ml.data.landing import REASON_SUFFIX, REJECTED_SUFFIX, S3PrefixSource, quarantine_name
from ml.synthetic import write_landing_files
from orchestration.definitions import build_definitions
from orchestration.settings import Settings

BUCKET = "retailer-drop"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def s3_endpoint(monkeypatch):
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    for name, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    yield f"http://127.0.0.1:{port}"
    server.stop()


def test_files_dropped_in_a_bucket_are_ingested_and_bad_ones_quarantined(
    s3_endpoint, tmp_path, small_synthetic
):
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    local = tmp_path / "to_upload"
    for path in write_landing_files(small_synthetic, local):
        client.upload_file(str(path), BUCKET, f"landing/{path.name}")
    client.put_object(Bucket=BUCKET, Key="landing/garbage.csv", Body=b"\x00\x01binary")
    settings = Settings(
        data_dir=tmp_path / "data", landing_s3_bucket=BUCKET, s3_endpoint_url=s3_endpoint
    )

    job = build_definitions(settings).resolve_job_def("ingestion_job")
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral())

    assert result.success
    history = pd.read_parquet(settings.lake_path / "assets" / "sales_history.parquet")
    assert history["unique_id"].nunique() == 16
    keys = {o["Key"] for o in client.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert "landing/garbage.csv" not in keys
    moved = [k for k in keys if k.startswith("quarantine/") and k.endswith("garbage.csv")]
    assert len(moved) == 1
    reason = json.loads(
        client.get_object(Bucket=BUCKET, Key=moved[0] + ".reason.json")["Body"].read()
    )
    assert reason["code"] == "not_csv"
    assert client.get_object(Bucket=BUCKET, Key=moved[0])["Body"].read() == b"\x00\x01binary"


# S3PrefixSource on its own, with keys a retailer's tools might produce.
CHECKSUM = "0123456789abcdef" * 4
ROWS = b"date,units\n2024-01-01,-3\n"
AWKWARD_KEYS = [
    "landing/weekly sales 2024.csv",
    "landing/north%2Fsouth.csv",
    "landing/a+b.csv",
    "landing/café 📦.csv",
    "landing/cafe\u0301.csv",
    "landing/.sales.csv",
    "landing/.archive/sales.csv",
    "landing/2024/..q1/sales.xlsx",
    "landing/" + "s" * 246 + ".csv",
]


@pytest.fixture
def bucket(s3_endpoint):
    """An empty bucket (moto keeps its state across server instances in one process)."""
    urllib.request.urlopen(urllib.request.Request(f"{s3_endpoint}/moto-api/reset", method="POST"))
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    return client


def _put(client, key: str, body: bytes) -> None:
    client.put_object(Bucket=BUCKET, Key=key, Body=body)


def _keys(client) -> set[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    return {o["Key"] for page in pages for o in page.get("Contents", [])}


def _body(client, key: str) -> bytes:
    return client.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def _reason(key: str, checksum: str = CHECKSUM) -> dict:
    return {"file": key, "checksum": checksum, "code": "not_csv"}


def test_every_awkward_key_is_listed_once_and_quarantined_intact(bucket):
    for key in AWKWARD_KEYS:
        _put(bucket, key, key.encode() + b"\x00\xff")
    _put(bucket, "landing/2024/", b"")  # a "folder" made in the console
    _put(bucket, "landing/quarantine/old__x.csv", b"already quarantined")
    _put(bucket, "landing-other/x.csv", b"another prefix")
    source = S3PrefixSource(bucket, BUCKET, "landing/", "landing/quarantine")

    assert source.list_files() == sorted(AWKWARD_KEYS)
    for key in AWKWARD_KEYS:
        assert source.read(key) == key.encode() + b"\x00\xff"
        name = quarantine_name(key, CHECKSUM)
        assert source.quarantine(key, _reason(key), rejected_rows=ROWS) == (
            f"s3://{BUCKET}/landing/quarantine/{name}"
        )
        target = f"landing/quarantine/{name}"
        assert _body(bucket, target) == key.encode() + b"\x00\xff"
        assert json.loads(_body(bucket, target + REASON_SUFFIX))["file"] == key
        assert _body(bucket, target + REJECTED_SUFFIX) == ROWS
        assert key not in _keys(bucket)
    assert source.list_files() == []
    assert source.describe() == f"s3://{BUCKET}/landing"


def test_a_bucket_root_landing_zone_does_not_list_its_quarantine(bucket):
    _put(bucket, "sales.csv", b"good")
    _put(bucket, "bad.csv", b"bad")
    source = S3PrefixSource(bucket, BUCKET, "", "quarantine")

    source.quarantine("bad.csv", _reason("bad.csv"))

    assert source.list_files() == ["sales.csv"]
    assert {k for k in _keys(bucket) if k.startswith("quarantine/")} == {
        f"quarantine/{quarantine_name('bad.csv', CHECKSUM)}",
        f"quarantine/{quarantine_name('bad.csv', CHECKSUM)}{REASON_SUFFIX}",
    }


def test_a_quarantine_prefix_above_the_landing_prefix_hides_nothing(bucket):
    _put(bucket, "drop/landing/sales.csv", b"good")
    source = S3PrefixSource(bucket, BUCKET, "drop/landing", "drop")

    assert source.list_files() == ["drop/landing/sales.csv"]


class _SmallPages:
    """A client whose listings come two keys per page, to exercise pagination."""

    def __init__(self, client) -> None:
        self._client = client

    def __getattr__(self, name):
        return getattr(self._client, name)

    def get_paginator(self, operation: str):
        paginator = self._client.get_paginator(operation)

        class Paged:
            def paginate(self, **kwargs):
                return paginator.paginate(**kwargs, PaginationConfig={"PageSize": 2})

        return Paged()


def test_listing_follows_every_page(bucket):
    keys = [f"landing/{i:02d}.csv" for i in range(7)]
    for key in keys:
        _put(bucket, key, b"x")

    assert S3PrefixSource(_SmallPages(bucket), BUCKET, "landing", "quarantine").list_files() == keys


def test_s3_record_rejections_leaves_the_object_in_place(bucket):
    _put(bucket, "landing/sales.csv", b"good and bad rows")
    source = S3PrefixSource(bucket, BUCKET, "landing", "quarantine")

    written = source.record_rejections("landing/sales.csv", _reason("sales.csv"), ROWS)

    name = quarantine_name("sales.csv", CHECKSUM)
    assert written == f"s3://{BUCKET}/quarantine/{name}{REJECTED_SUFFIX}"
    assert source.list_files() == ["landing/sales.csv"]
    assert _body(bucket, "landing/sales.csv") == b"good and bad rows"
    assert _keys(bucket) == {
        "landing/sales.csv",
        f"quarantine/{name}{REASON_SUFFIX}",
        f"quarantine/{name}{REJECTED_SUFFIX}",
    }


def test_s3_quarantining_the_same_object_twice_leaves_one_set(bucket):
    source = S3PrefixSource(bucket, BUCKET, "landing", "quarantine")
    for _ in range(2):
        _put(bucket, "landing/sub/sales.csv", b"bad")
        source.quarantine("landing/sub/sales.csv", _reason("x"), rejected_rows=ROWS)

    name = quarantine_name("sales.csv", CHECKSUM)
    assert _keys(bucket) == {f"quarantine/{name}{s}" for s in ("", REASON_SUFFIX, REJECTED_SUFFIX)}


def test_s3_reason_is_written_before_the_object_moves(bucket, monkeypatch):
    _put(bucket, "landing/sales.csv", b"bad")
    source = S3PrefixSource(bucket, BUCKET, "landing", "quarantine")

    def fail(**kwargs):
        raise RuntimeError("network gone")

    monkeypatch.setattr(bucket, "copy_object", fail)
    with pytest.raises(RuntimeError):
        source.quarantine("landing/sales.csv", _reason("sales.csv"))

    name = quarantine_name("sales.csv", CHECKSUM)
    assert _keys(bucket) == {"landing/sales.csv", f"quarantine/{name}{REASON_SUFFIX}"}


def test_the_quarantine_prefix_cannot_be_the_landing_prefix(bucket):
    with pytest.raises(ValueError):
        S3PrefixSource(bucket, BUCKET, "landing/", "/landing")
