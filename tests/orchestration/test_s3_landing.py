"""The landing zone on S3, against a real S3 endpoint (moto in server mode) over HTTP."""

import json
import socket

import boto3
import dagster as dg
import pandas as pd
import pytest
from moto.server import ThreadedMotoServer

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
