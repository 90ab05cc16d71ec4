"""Python in a fresh process, as a user, the daemon or a new server would start it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path


def run_python(
    args: Sequence[str], cwd: Path, env: Mapping[str, str], timeout: float
) -> subprocess.CompletedProcess:
    """``python <args>``; fails with the tail of the process's stderr unless it exits 0.

    A fresh process is the point: nothing imported or configured by the test session leaks in.
    """
    done = subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done
