"""A cross-process write lock on one file: an exclusive ``flock(2)``, re-entrant within a
process (threads take turns), waiting a bounded time.

The lake's writers (ingestion runs launched by sensors, ``retailiq run``, tests) take turns with
it; readers never take it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

LOCK_TIMEOUT_S = 600.0
_LOCK_POLL_S = 0.05


class ProcessLock:
    """An exclusive flock on one file, re-entrant within this process (threads take turns)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._threads = threading.RLock()
        self._depth = 0
        self._fd = -1

    @contextlib.contextmanager
    def hold(self) -> Iterator[bool]:
        """Yields True to the outermost holder."""
        with self._threads:
            if self._depth == 0:
                self._fd = _flock(self.path, LOCK_TIMEOUT_S)
            self._depth += 1
            try:
                yield self._depth == 1
            finally:
                self._depth -= 1
                if self._depth == 0:
                    os.close(self._fd)  # releases the flock


_LOCKS: dict[str, ProcessLock] = {}
_LOCKS_GUARD = threading.Lock()


def lock_for(path: Path) -> ProcessLock:
    """The one lock object of this process for ``path`` (so re-entry is recognised)."""
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(os.path.realpath(path), ProcessLock(path))


def _flock(path: Path, timeout: float) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(BlockingIOError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        if time.monotonic() >= deadline:
            os.close(fd)
            raise TimeoutError(f"another writer held the lake lock {path} for over {timeout:.0f} s")
        time.sleep(_LOCK_POLL_S)
