"""Real disk faults for tests: a small tmpfs the test can fill or turn read-only while the app runs.

Root ignores permission bits, so a chmod would prove nothing; a read-only remount or a full file
system makes the kernel refuse the write for everyone. Mounting needs CAP_SYS_ADMIN: where it is
missing the test is skipped with that reason.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def _mount(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["mount", *args], capture_output=True, text=True)


@contextlib.contextmanager
def tmpfs(path: Path, size: str = "64m") -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    done = _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path))
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def remount(path: Path, mode: str) -> None:
    """`mode` "ro" or "rw". A remount to ro fails (EBUSY) while a file is open for writing: try again."""
    deadline = time.monotonic() + 10
    while True:
        done = _mount("-o", f"remount,{mode}", str(path))
        if done.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"cannot remount {path} {mode}: {done.stderr.strip()}")
        time.sleep(0.05)
