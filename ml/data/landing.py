"""Landing zones: where retailers drop files. A local folder or an S3 bucket prefix.

Both move a bad file to a quarantine location with ``<name>.reason.json`` beside it, so nothing is
lost and the reason is machine-readable.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path, PurePosixPath

ACCEPTED_SUFFIXES = (".csv", ".parquet", ".txt")


def _reason_json(reason: dict) -> bytes:
    return json.dumps(reason, indent=2, default=str).encode("utf-8")


def _quarantine_name(key: str, reason: dict) -> str:
    # The checksum prefix keeps two different bad files with the same name apart.
    return f"{str(reason.get('checksum', ''))[:12]}__{PurePosixPath(key).name}"


class LocalFolderSource:
    """Files under a local folder (recursively), quarantine in another folder."""

    def __init__(self, folder: str | Path, quarantine_folder: str | Path) -> None:
        self.folder = Path(folder)
        self.quarantine_folder = Path(quarantine_folder)

    def list_files(self) -> list[str]:
        if not self.folder.exists():
            return []
        return sorted(
            str(p.relative_to(self.folder))
            for p in self.folder.rglob("*")
            if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in ACCEPTED_SUFFIXES
        )

    def read(self, key: str) -> bytes:
        return (self.folder / key).read_bytes()

    def quarantine(self, key: str, reason: dict) -> str:
        self.quarantine_folder.mkdir(parents=True, exist_ok=True)
        target = self.quarantine_folder / _quarantine_name(key, reason)
        # The reason first: if we die between the two steps the file is still in the landing zone.
        (target.parent / f"{target.name}.reason.json").write_bytes(_reason_json(reason))
        shutil.move(self.folder / key, target)
        return str(target)


class S3PrefixSource:
    """Objects under ``s3://bucket/prefix``; quarantine under ``s3://bucket/quarantine_prefix``."""

    def __init__(self, client, bucket: str, prefix: str, quarantine_prefix: str) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.quarantine_prefix = quarantine_prefix.strip("/")

    def list_files(self) -> list[str]:
        keys = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{self.prefix}/"):
            keys += [o["Key"] for o in page.get("Contents", [])]
        return sorted(k for k in keys if k.lower().endswith(ACCEPTED_SUFFIXES))

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def quarantine(self, key: str, reason: dict) -> str:
        target = f"{self.quarantine_prefix}/{_quarantine_name(key, reason)}"
        self.client.put_object(
            Bucket=self.bucket, Key=f"{target}.reason.json", Body=_reason_json(reason)
        )
        self.client.copy_object(
            Bucket=self.bucket, Key=target, CopySource={"Bucket": self.bucket, "Key": key}
        )
        self.client.delete_object(Bucket=self.bucket, Key=key)
        return f"s3://{self.bucket}/{target}"
