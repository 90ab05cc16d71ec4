"""Landing zones: where retailers drop files. A local folder or an S3 bucket prefix.

Every dropped file gets exactly one outcome, whatever its name. ``list_files`` returns every file
(hidden ones and any suffix included; the quarantine location and S3 folder markers excluded);
``skip_reason`` names the only files not ingested at all: operating-system metadata and uploads
still in progress. Everything else is ingested or quarantined; a suffix the parser does not know
is quarantined as ``unsupported_format``.

Quarantine never loses data. ``<qname>.reason.json`` (and ``<qname>.rejected.csv`` with the
rejected rows, when given) is written first, then the file is moved to ``<qname>``, where
``qname = quarantine_name(key, checksum)``: the checksum prefix keeps different files apart, the
same file always gets the same name (a rerun overwrites rather than duplicates), and the name
plus any sidecar suffix fits the 255-byte filename limit. Local writes into the quarantine folder
are atomic (temporary name, then ``os.replace``), also when the move crosses filesystems.

Keys are relative paths (local) or object keys (S3), never URL-decoded. On Linux a file name
with invalid UTF-8 bytes arrives as ``str`` with surrogate escapes; ``display_name`` turns a key
into text that can be printed and stored (e.g. in SQLite).
"""

from __future__ import annotations

import errno
import filecmp
import hashlib
import json
import os
import secrets
import shutil
import unicodedata
from pathlib import Path, PurePosixPath

# Operating-system metadata files, matched case-insensitively against a key's last segment.
SKIPPED_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
# Operating-system metadata folders: nothing under them is ingested.
SKIPPED_FOLDERS = frozenset({".Trashes", ".Spotlight-V100", ".fseventsd", "__MACOSX"})
# Name prefixes of metadata files: macOS AppleDouble files and Office lock files.
SKIPPED_PREFIXES = {"._": "macOS AppleDouble metadata", "~$": "Office lock file"}
# Suffixes of uploads still in progress (matched case-insensitively); ingested once renamed.
IN_PROGRESS_SUFFIXES = (
    ".tmp",
    ".part",
    ".partial",
    ".crdownload",
    ".download",
    ".filepart",
    ".swp",
    ".~tmp",
)

NAME_MAX = 255  # bytes in one file name (ext4, xfs, apfs, ntfs in practice)
REASON_SUFFIX = ".reason.json"
REJECTED_SUFFIX = ".rejected.csv"  # the longest sidecar suffix
_MAX_EXTENSION_BYTES = 16  # a longer "extension" is just part of the name
_ESCAPED_CATEGORIES = {"Cc", "Cs", "Zl", "Zp"}  # controls, surrogates, line/paragraph separators


def skip_reason(key: str) -> str | None:
    """Why a file is not ingested at all (OS metadata or an upload in progress), or None."""
    *folders, name = key.split("/")
    skipped_folders = {f.casefold() for f in SKIPPED_FOLDERS}
    for folder in folders:
        if folder.casefold() in skipped_folders:
            return f"operating-system metadata folder {display_name(folder)}/; not ingested"
    if name.casefold() in {n.casefold() for n in SKIPPED_NAMES}:
        return f"operating-system metadata file {display_name(name)}; not ingested"
    for prefix, what in SKIPPED_PREFIXES.items():
        if name.startswith(prefix):
            return f"{what} ({prefix}*); not ingested"
    suffix = next((s for s in IN_PROGRESS_SUFFIXES if name.casefold().endswith(s)), None)
    if suffix is not None:
        return f"upload still in progress ({suffix}); ingested once renamed"
    return None


def display_name(key: str) -> str:
    """The key as printable, storable text: invalid bytes shown as \\xNN, controls escaped."""
    if key.isprintable():
        return key
    return "".join(
        _escape(ch) if unicodedata.category(ch) in _ESCAPED_CATEGORIES else ch for ch in key
    )


def _escape(ch: str) -> str:
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # a surrogate escape: the undecodable byte itself
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def quarantine_name(key: str, checksum: str) -> str:
    """``<checksum[:12]>__<basename>``, truncated so that it plus any sidecar fits 255 bytes."""
    prefix = f"{checksum[:12]}__"
    basename = "".join(_storable(ch) for ch in key.rsplit("/", 1)[-1])
    budget = NAME_MAX - len(REJECTED_SUFFIX) - _nbytes(prefix)
    return prefix + _truncate(basename, budget)


def _storable(ch: str) -> str:
    """The character, or its escape when no file name can hold it (NUL, stray surrogates)."""
    code = ord(ch)
    if code == 0 or (0xD800 <= code <= 0xDFFF and not 0xDC80 <= code <= 0xDCFF):
        return _escape(ch)
    return ch


def _nbytes(text: str) -> int:
    return len(os.fsencode(text))


def _truncate(name: str, budget: int) -> str:
    """Cut the stem a whole character at a time, keeping a short extension."""
    if _nbytes(name) <= budget:
        return name
    stem, extension = _split_extension(name)
    room, used, kept = budget - _nbytes(extension), 0, []
    for ch in stem:
        used += _nbytes(ch)
        if used > room:
            break
        kept.append(ch)
    return "".join(kept) + extension


def _split_extension(name: str) -> tuple[str, str]:
    dot = name.rfind(".")
    extension = name[dot:] if dot > 0 else ""
    if 0 < _nbytes(extension) <= _MAX_EXTENSION_BYTES:
        return name[:dot], extension
    return name, ""


def _reason_json(reason: dict) -> bytes:
    # Surrogate escapes become \udcNN JSON escapes: valid JSON, and lossless for Python readers.
    text = json.dumps(reason, indent=2, default=str, ensure_ascii=False)
    return text.encode("utf-8", errors="backslashreplace")


def _checksum(reason: dict, payload: bytes | None) -> str:
    given = reason.get("checksum")
    return str(given) if given else hashlib.sha256(payload or b"").hexdigest()


def _temp_path(folder: Path) -> Path:
    return folder / f".tmp-{secrets.token_hex(8)}"


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file or the whole new one."""
    temp = _temp_path(path.parent)
    try:
        with open(temp, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def _move(source: Path, target: Path) -> None:
    """Move a file atomically into place, across filesystems too; the source goes last."""
    if target.exists() and not filecmp.cmp(source, target, shallow=False):
        raise FileExistsError(f"{display_name(str(target))} exists with different content")
    try:
        os.replace(source, target)
    except OSError as error:
        if error.errno != errno.EXDEV:
            raise
        temp = _temp_path(target.parent)
        try:
            shutil.copy2(source, temp)
            os.replace(temp, target)
        finally:
            temp.unlink(missing_ok=True)
        source.unlink()


class LocalFolderSource:
    """Files under a local folder (recursively), quarantine in another folder."""

    def __init__(self, folder: str | Path, quarantine_folder: str | Path) -> None:
        self.folder = Path(folder)
        self.quarantine_folder = Path(quarantine_folder)
        if os.path.realpath(self.folder) == os.path.realpath(self.quarantine_folder):
            raise ValueError("the quarantine folder must differ from the landing folder")

    def list_files(self) -> list[str]:
        """Every regular file, hidden ones included, as sorted keys relative to the folder."""
        quarantine = os.path.realpath(self.quarantine_folder)
        keys = []
        for root, dirs, files in os.walk(self.folder):  # does not follow directory symlinks
            dirs[:] = [d for d in dirs if os.path.realpath(os.path.join(root, d)) != quarantine]
            relative = os.path.relpath(root, self.folder)
            for name in files:
                if os.path.isfile(os.path.join(root, name)):
                    keys.append(name if relative == "." else f"{relative}/{name}")
        return sorted(keys)

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def quarantine(self, key: str, reason: dict, rejected_rows: bytes | None = None) -> str:
        """Write the reason (and rejected rows), then move the file; return where it went."""
        target = self._write_sidecars(key, reason, rejected_rows)
        _move(self._path(key), target)
        return str(target)

    def record_rejections(self, key: str, reason: dict, rejected_rows: bytes) -> str:
        """Keep the file (its good rows landed); write the reason and the rejected rows."""
        target = self._write_sidecars(key, reason, rejected_rows)
        return str(target.with_name(target.name + REJECTED_SUFFIX))

    def describe(self) -> str:
        return str(self.folder)

    def _path(self, key: str) -> Path:
        relative = PurePosixPath(key)
        if not key or relative.is_absolute() or ".." in relative.parts:
            raise ValueError(f"not a key inside the landing folder: {display_name(key)}")
        return self.folder / key

    def _write_sidecars(self, key: str, reason: dict, rejected_rows: bytes | None) -> Path:
        self.quarantine_folder.mkdir(parents=True, exist_ok=True)
        payload = None if reason.get("checksum") else self.read(key)
        target = self.quarantine_folder / quarantine_name(key, _checksum(reason, payload))
        if rejected_rows is not None:
            _atomic_write(target.with_name(target.name + REJECTED_SUFFIX), rejected_rows)
        _atomic_write(target.with_name(target.name + REASON_SUFFIX), _reason_json(reason))
        return target


class S3PrefixSource:
    """Objects under ``s3://bucket/prefix``; quarantine under ``s3://bucket/quarantine_prefix``."""

    def __init__(self, client, bucket: str, prefix: str, quarantine_prefix: str) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.quarantine_prefix = quarantine_prefix.strip("/")
        if self.prefix == self.quarantine_prefix:
            raise ValueError("the quarantine prefix must differ from the landing prefix")

    def list_files(self) -> list[str]:
        """Every object under the prefix, except the quarantine and folder markers, sorted."""
        root = f"{self.prefix}/" if self.prefix else ""
        quarantine = f"{self.quarantine_prefix}/" if self.quarantine_prefix else None
        nested = quarantine is not None and quarantine.startswith(root)
        keys = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=root
        ):
            keys += [o["Key"] for o in page.get("Contents", [])]
        return sorted(
            k for k in keys if not k.endswith("/") and not (nested and k.startswith(quarantine))
        )

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def quarantine(self, key: str, reason: dict, rejected_rows: bytes | None = None) -> str:
        """Write the reason (and rejected rows), then copy, then delete; return the new URL."""
        target = self._write_sidecars(key, reason, rejected_rows)
        self.client.copy_object(
            Bucket=self.bucket, Key=target, CopySource={"Bucket": self.bucket, "Key": key}
        )
        self.client.delete_object(Bucket=self.bucket, Key=key)
        return f"s3://{self.bucket}/{target}"

    def record_rejections(self, key: str, reason: dict, rejected_rows: bytes) -> str:
        """Keep the object (its good rows landed); write the reason and the rejected rows."""
        target = self._write_sidecars(key, reason, rejected_rows)
        return f"s3://{self.bucket}/{target}{REJECTED_SUFFIX}"

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def _write_sidecars(self, key: str, reason: dict, rejected_rows: bytes | None) -> str:
        payload = None if reason.get("checksum") else self.read(key)
        name = quarantine_name(key, _checksum(reason, payload))
        target = f"{self.quarantine_prefix}/{name}" if self.quarantine_prefix else name
        if rejected_rows is not None:
            self._put(f"{target}{REJECTED_SUFFIX}", rejected_rows)
        self._put(f"{target}{REASON_SUFFIX}", _reason_json(reason))
        return target

    def _put(self, key: str, body: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body)
