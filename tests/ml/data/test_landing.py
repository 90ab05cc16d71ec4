"""Landing zones give every dropped file one outcome, whatever its name, and never lose data."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ml.data import landing
from ml.data.landing import (
    IN_PROGRESS_SUFFIXES,
    REASON_SUFFIX,
    REJECTED_SUFFIX,
    LocalFolderSource,
    display_name,
    quarantine_name,
    skip_reason,
)

CHECKSUM = "0123456789abcdef" * 4
ROWS = b"date,units\n2024-01-01,-3\n"

# (test id, key). Keys are what list_files returns: str, surrogate escapes for invalid bytes.
AWKWARD_KEYS = [
    ("leading-dot", ".sales.csv"),
    ("spaces", "weekly sales  2024 .csv"),
    ("percent-2F", "north%2Fsouth.csv"),
    ("percent-00", "sales%00.csv"),
    ("dot-dot-name", "..sales..csv"),
    ("dot-dot-folder", "2024/..q1/sales.csv"),
    ("hidden-folder", ".archive/sales.csv"),
    ("nfc", unicodedata.normalize("NFC", "café.csv")),
    ("nfd", unicodedata.normalize("NFD", "café.csv")),
    ("emoji", "📦 sales 🛒.csv"),
    ("250-chars", "s" * 246 + ".csv"),
    ("254-bytes-of-2-byte-chars", "é" * 125 + ".csv"),
    ("invalid-utf8", os.fsdecode(b"caf\xe9.csv")),
    ("invalid-utf8-long", os.fsdecode(b"\xe9" * 200 + b".csv")),
    ("unknown-suffix", "sales.xlsx"),
    ("no-suffix", "README"),
]
KEYS = [key for _, key in AWKWARD_KEYS]
IDS = [name for name, _ in AWKWARD_KEYS]


def _drop(folder: Path, key: str, payload: bytes) -> None:
    """Create a landed file through a bytes path, as a retailer's upload tool would."""
    path = os.path.join(os.fsencode(folder), os.fsencode(key))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(payload)


def _payload(key: str) -> bytes:
    return b"date,units\n" + os.fsencode(key) + b"\x00\xff\r\n"


def _reason(key: str, checksum: str = CHECKSUM) -> dict:
    return {"file": key, "checksum": checksum, "code": "not_csv", "message": f"{key} is bad"}


@pytest.fixture
def zone(tmp_path) -> LocalFolderSource:
    return LocalFolderSource(tmp_path / "landing", tmp_path / "quarantine")


def _quarantined(source: LocalFolderSource) -> list[str]:
    return sorted(os.listdir(source.quarantine_folder))


def test_every_awkward_name_is_listed_exactly_once(zone):
    for key in KEYS:
        _drop(zone.folder, key, _payload(key))

    listed = zone.list_files()

    assert listed == sorted(KEYS)
    assert len(set(listed)) == len(KEYS)


@pytest.mark.parametrize("key", KEYS, ids=IDS)
def test_an_awkward_name_reads_back_and_is_quarantined_with_names_that_fit(zone, key):
    _drop(zone.folder, key, _payload(key))
    assert zone.list_files() == [key]
    assert zone.read(key) == _payload(key)

    moved_to = zone.quarantine(key, _reason(key), rejected_rows=ROWS)

    assert zone.list_files() == []
    moved = Path(moved_to)
    assert moved.parent == zone.quarantine_folder
    assert moved.read_bytes() == _payload(key)
    reason_file = moved.with_name(moved.name + REASON_SUFFIX)
    assert json.loads(reason_file.read_bytes())["file"] == key
    assert moved.with_name(moved.name + REJECTED_SUFFIX).read_bytes() == ROWS
    assert _quarantined(zone) == sorted(
        [moved.name, moved.name + REASON_SUFFIX, moved.name + REJECTED_SUFFIX]
    )
    assert all(len(os.fsencode(name)) <= 255 for name in _quarantined(zone))


@pytest.mark.parametrize("key", KEYS, ids=IDS)
def test_display_name_is_printable_utf8(key):
    shown = display_name(key)

    assert shown.isprintable()
    assert shown.encode("utf-8").decode("utf-8") == shown


@pytest.mark.parametrize(
    "key, shown",
    [
        (os.fsdecode(b"caf\xe9.csv"), "caf\\xe9.csv"),
        ("line\nbreak\t.csv", "line\\x0abreak\\x09.csv"),
        ("del\x7f\x85.csv", "del\\x7f\\x85.csv"),
        ("para\u2028graph.csv", "para\\u2028graph.csv"),
        ("sales 100%2F%00.csv", "sales 100%2F%00.csv"),
        ("a/../b c.csv", "a/../b c.csv"),
        (unicodedata.normalize("NFD", "café.csv"), unicodedata.normalize("NFD", "café.csv")),
        ("👩\u200d👩\u200d👧.csv", "👩\u200d👩\u200d👧.csv"),
    ],
)
def test_display_name_escapes_only_bad_bytes_and_controls(key, shown):
    assert display_name(key) == shown


@given(st.text(st.characters() | st.characters(categories=["Cs"])))
def test_display_name_of_any_text_is_storable(key):
    shown = display_name(key)

    assert shown.encode("utf-8").decode("utf-8") == shown
    assert not any(unicodedata.category(ch) in {"Cc", "Cs", "Zl", "Zp"} for ch in shown)
    if key.isprintable():
        assert shown == key


@pytest.mark.parametrize(
    "key",
    [
        ".DS_Store",
        "2024/.DS_Store",
        "Thumbs.db",
        "THUMBS.DB",
        "desktop.ini",
        "._sales.csv",
        "2024/._sales.csv",
        "~$forecast.xlsx",
        ".Trashes/501/sales.csv",
        ".Spotlight-V100/Store-V2/store.db",
        ".fseventsd/0000000000a1b2c3",
        "__MACOSX/2024/sales.csv",
    ],
)
def test_operating_system_metadata_is_skipped(key):
    reason = skip_reason(key)

    assert reason is not None
    assert "metadata" in reason or "lock file" in reason
    assert 0 < len(reason) < 80


@pytest.mark.parametrize("suffix", IN_PROGRESS_SUFFIXES)
def test_uploads_in_progress_are_skipped(suffix):
    assert set(IN_PROGRESS_SUFFIXES) == {
        ".tmp", ".part", ".partial", ".crdownload", ".download", ".filepart", ".swp", ".~tmp"
    }  # fmt: skip
    for key in (f"sales.csv{suffix}", f"2024/SALES.CSV{suffix.upper()}"):
        reason = skip_reason(key)
        assert reason is not None
        assert "in progress" in reason
        assert suffix in reason


@pytest.mark.parametrize(
    "key",
    [
        "sales.csv",
        ".sales.csv",
        "sales.xlsx",
        "README",
        ".archive/sales.csv",
        "Trashes/sales.csv",
        "MACOSX/sales.csv",
        "sales.tmp.csv",
        "parts.csv",
        "desktop.ini.csv",
        "sales~$.csv",
        "_sales.csv",
        os.fsdecode(b"caf\xe9.csv"),
    ],
)
def test_real_files_are_not_skipped(key):
    assert skip_reason(key) is None


def test_skip_reasons_are_printable_for_undecodable_names():
    for key in (os.fsdecode(b"\xe9/.DS_Store"), os.fsdecode(b"__MACOSX/\xe9"), "\udce9.part"):
        reason = skip_reason(key)
        assert reason is not None
        assert reason.isprintable() and reason.encode("utf-8")


def test_a_quarantine_folder_inside_the_landing_folder_is_not_listed(tmp_path):
    source = LocalFolderSource(tmp_path / "landing", tmp_path / "landing" / ".quarantine")
    _drop(source.folder, "bad.csv", b"x")
    _drop(source.folder, "good.csv", b"y")
    source.quarantine("bad.csv", _reason("bad.csv"))

    assert source.list_files() == ["good.csv"]
    assert len(_quarantined(source)) == 2


def test_symlinks_to_directories_are_not_followed(zone, tmp_path):
    _drop(tmp_path / "elsewhere", "secret.csv", b"x")
    _drop(zone.folder, "sales.csv", b"y")
    os.symlink(tmp_path / "elsewhere", zone.folder / "link")
    os.symlink(zone.folder, zone.folder / "loop")

    assert zone.list_files() == ["sales.csv"]


def test_only_regular_files_are_listed(zone):
    _drop(zone.folder, "sales.csv", b"y")
    os.mkfifo(zone.folder / "pipe.csv")
    os.symlink(zone.folder / "missing.csv", zone.folder / "dangling.csv")

    assert zone.list_files() == ["sales.csv"]


def test_a_missing_landing_folder_lists_nothing(zone):
    assert zone.list_files() == []


def test_record_rejections_leaves_the_file_in_place(zone):
    _drop(zone.folder, "sales.csv", b"good and bad rows")

    written = zone.record_rejections("sales.csv", _reason("sales.csv"), ROWS)

    assert zone.list_files() == ["sales.csv"]
    assert zone.read("sales.csv") == b"good and bad rows"
    assert Path(written).read_bytes() == ROWS
    name = quarantine_name("sales.csv", CHECKSUM)
    assert Path(written) == zone.quarantine_folder / f"{name}{REJECTED_SUFFIX}"
    assert _quarantined(zone) == [name + REASON_SUFFIX, name + REJECTED_SUFFIX]


def test_quarantining_the_same_file_twice_leaves_one_set_of_files(zone):
    for _ in range(2):
        _drop(zone.folder, "sub/sales.csv", b"bad")
        zone.quarantine("sub/sales.csv", _reason("sub/sales.csv"), rejected_rows=ROWS)

    name = quarantine_name("sales.csv", CHECKSUM)
    assert _quarantined(zone) == [name, name + REASON_SUFFIX, name + REJECTED_SUFFIX]


def test_different_files_with_the_same_name_are_kept_apart(zone):
    for checksum, payload in (("a" * 64, b"one"), ("b" * 64, b"two")):
        _drop(zone.folder, "sales.csv", payload)
        zone.quarantine("sales.csv", _reason("sales.csv", checksum))

    files = [n for n in _quarantined(zone) if not n.endswith(REASON_SUFFIX)]
    assert [(zone.quarantine_folder / n).read_bytes() for n in files] == [b"one", b"two"]


def test_the_checksum_is_computed_when_the_reason_has_none(zone):
    _drop(zone.folder, "sales.csv", b"bad")

    moved_to = zone.quarantine("sales.csv", {"code": "not_csv"})

    assert Path(moved_to).name == hashlib.sha256(b"bad").hexdigest()[:12] + "__sales.csv"


def test_a_different_file_under_the_same_quarantine_name_is_not_overwritten(zone):
    _drop(zone.folder, "sales.csv", b"new")
    zone.quarantine_folder.mkdir()
    (zone.quarantine_folder / quarantine_name("sales.csv", CHECKSUM)).write_bytes(b"old")

    with pytest.raises(FileExistsError):
        zone.quarantine("sales.csv", _reason("sales.csv"))

    assert zone.read("sales.csv") == b"new"
    assert (zone.quarantine_folder / quarantine_name("sales.csv", CHECKSUM)).read_bytes() == b"old"


def test_the_reason_is_written_before_the_file_moves(zone, monkeypatch):
    _drop(zone.folder, "sales.csv", b"bad")

    def crash(source, target):
        raise OSError("disk gone")

    monkeypatch.setattr(landing, "_move", crash)
    with pytest.raises(OSError):
        zone.quarantine("sales.csv", _reason("sales.csv"), rejected_rows=ROWS)

    assert zone.read("sales.csv") == b"bad"
    name = quarantine_name("sales.csv", CHECKSUM)
    assert _quarantined(zone) == [name + REASON_SUFFIX, name + REJECTED_SUFFIX]


def test_a_failed_write_leaves_no_half_file_and_keeps_the_data(zone, monkeypatch):
    _drop(zone.folder, "sales.csv", b"bad")

    def fail(fd):
        raise OSError("no space left")

    monkeypatch.setattr(landing.os, "fsync", fail)
    with pytest.raises(OSError):
        zone.quarantine("sales.csv", _reason("sales.csv"))

    assert zone.list_files() == ["sales.csv"]
    assert _quarantined(zone) == []


def test_quarantine_moves_across_filesystems(tmp_path, monkeypatch):
    copies, copy2 = [], shutil.copy2
    monkeypatch.setattr(landing.shutil, "copy2", lambda *a: copies.append(copy2(*a)))
    other = Path("/dev/shm")
    if not other.is_dir() or other.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("no second filesystem to move across")
    folder = other / f"retailiq-landing-{os.getpid()}"
    source = LocalFolderSource(folder, tmp_path / "quarantine")
    try:
        _drop(folder, "sales.csv", b"bad")
        moved_to = source.quarantine("sales.csv", _reason("sales.csv"))
        assert source.list_files() == []
        assert Path(moved_to).read_bytes() == b"bad"
        assert len(_quarantined(source)) == 2
        assert len(copies) == 1  # the EXDEV path, not a plain rename
    finally:
        for name in os.listdir(folder):
            os.unlink(folder / name)
        folder.rmdir()


@pytest.mark.parametrize("key", ["../outside.csv", "a/../../outside.csv", "/etc/passwd", ""])
def test_keys_cannot_escape_the_landing_folder(zone, key):
    with pytest.raises(ValueError):
        zone.read(key)


def test_the_quarantine_folder_cannot_be_the_landing_folder(tmp_path):
    with pytest.raises(ValueError):
        LocalFolderSource(tmp_path, tmp_path / ".")


def test_describe_names_the_folder(zone):
    assert zone.describe() == str(zone.folder)


def test_a_long_name_keeps_its_extension_and_whole_characters():
    name = quarantine_name("é" * 125 + ".csv", CHECKSUM)

    assert name.startswith(CHECKSUM[:12] + "__é")
    assert name.endswith("é.csv")
    assert len(os.fsencode(name + REJECTED_SUFFIX)) <= 255
    assert os.fsencode(name).decode("utf-8") == name


def test_stray_surrogates_and_nul_are_escaped_in_quarantine_names():
    name = quarantine_name("a\ud800b\x00c.csv", CHECKSUM)

    assert name == CHECKSUM[:12] + "__a\\ud800b\\x00c.csv"


def test_a_name_that_fits_is_kept_as_is():
    assert quarantine_name("2024/north/.sales 1.csv", CHECKSUM) == "0123456789ab__.sales 1.csv"


KEY_CHARACTERS = (
    st.characters(exclude_categories=["Cs"])
    | st.characters(categories=["Cs"], min_codepoint=0xDC80, max_codepoint=0xDCFF)  # bad bytes
    | st.characters(categories=["Cs"])  # any surrogate, e.g. from a buggy client
    | st.sampled_from("/.\x00")
)
KEY_TEXT = st.text(KEY_CHARACTERS) | st.text(KEY_CHARACTERS, min_size=60, max_size=300)
HEX_CHECKSUM = st.text("0123456789abcdef", min_size=64, max_size=64)


@given(KEY_TEXT, HEX_CHECKSUM)
def test_quarantine_names_always_fit_and_are_deterministic(key, checksum):
    name = quarantine_name(key, checksum)

    assert len(os.fsencode(name)) <= 255 - len(REJECTED_SUFFIX)
    assert name.startswith(f"{checksum[:12]}__")
    assert "/" not in name and "\x00" not in name
    assert quarantine_name(key, checksum) == name
    kept = name.removeprefix(f"{checksum[:12]}__")
    assert os.fsdecode(os.fsencode(kept)) == kept  # no surrogate escape was split
    basename = key.rsplit("/", 1)[-1]
    if _is_file_name(basename):
        if len(os.fsencode(basename)) <= 255 - len(REJECTED_SUFFIX) - 14:
            assert kept == basename
        else:
            assert _is_truncation_of(kept, basename)


def _is_file_name(text: str) -> bool:
    """Whether ``text`` could come from a Linux directory listing (then it is kept verbatim)."""
    try:
        return "\x00" not in text and bool(os.fsencode(text))
    except UnicodeEncodeError:
        return False


def _is_truncation_of(kept: str, basename: str) -> bool:
    """``kept`` is a prefix of ``basename``, or a prefix of its stem plus its extension."""
    if basename.startswith(kept):
        return True
    stem, dot, extension = kept.rpartition(".")
    return bool(dot) and basename.endswith(dot + extension) and basename.startswith(stem)
