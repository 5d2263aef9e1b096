"""Artifact files: one folder per job under the data dir, outside every folder Gradio serves.

Layout: DATA_DIR/users/OWNER/jobs/JOB_ID/NAME. The same relative key names the object in the S3
mirror, so a job's files can be fetched back lazily when the local disk was lost.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Protocol

from ..errors import ChaptanError

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
OUTBOX_NAME = "chaptan-outbox"


def outbox_root() -> Path:
    """Where the app puts the copies it hands to one user's browser: DATA_DIR never is, Gradio's
    upload folder is served already, so copies made inside it are served as they are (no second copy
    by Gradio), each under OUTBOX/USER_ID/ for the owner check. Gradio's own rule for the folder."""
    gradio_dir = os.environ.get("GRADIO_TEMP_DIR") or str(Path(tempfile.gettempdir()) / "gradio")
    return Path(gradio_dir).resolve() / OUTBOX_NAME


class Mirror(Protocol):
    """A durable copy of the data dir (S3). Every call may fail; the local copy stays authoritative."""

    def upload(self, key: str, path: Path) -> None: ...

    def download(self, key: str, path: Path) -> bool: ...

    def delete_prefix(self, prefix: str) -> None: ...


def _is_safe(part: str) -> bool:
    return bool(_SAFE.match(part)) and part not in {".", ".."}


def _safe(part: str) -> str:
    if not _is_safe(part):
        raise ChaptanError("invalid name {name!r}", name=part)
    return part


class ArtifactStore:
    def __init__(self, data_dir: Path, mirror: Mirror | None = None):
        self.root = Path(data_dir).resolve()
        self.mirror = mirror

    @staticmethod
    def key(owner: str, job_id: str, name: str = "") -> str:
        base = f"users/{_safe(owner)}/jobs/{_safe(job_id)}/"
        return base + _safe(name) if name else base

    def job_dir(self, owner: str, job_id: str) -> Path:
        return self.root / self.key(owner, job_id)

    def local_path(self, owner: str, job_id: str, name: str) -> Path:
        return self.root / self.key(owner, job_id, name)

    def put_file(self, owner: str, job_id: str, name: str, src: Path, *, move: bool = False) -> Path:
        """Store `src` as the job's `name`. With `move`, the source is taken away (uploads leave
        Gradio's served cache this way)."""
        dest = self.local_path(owner, job_id, name)
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial = dest.with_name(f".{dest.name}.partial")
        try:
            if move:
                shutil.move(str(src), partial)
            else:
                shutil.copyfile(src, partial)
            os.replace(partial, dest)
        except BaseException:  # a full disk, say: a partial copy is of no use to anyone
            partial.unlink(missing_ok=True)
            raise
        self._mirror(owner, job_id, name, dest)
        return dest

    def mirror_file(self, owner: str, job_id: str, name: str) -> None:
        """Send a file made in place (by ffmpeg) to the mirror, as put_file does for the files it takes."""
        self._mirror(owner, job_id, name, self.local_path(owner, job_id, name))

    def write_text(self, owner: str, job_id: str, name: str, text: str) -> Path:
        dest = self.local_path(owner, job_id, name)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
        self._mirror(owner, job_id, name, dest)
        return dest

    def path(self, owner: str, job_id: str, name: str) -> Path:
        """The local file, fetched from the mirror first when only the mirror still has it."""
        dest = self.local_path(owner, job_id, name)
        if dest.exists():
            return dest
        if self.mirror is not None:
            dest.parent.mkdir(parents=True, exist_ok=True)
            if self.mirror.download(self.key(owner, job_id, name), dest):
                return dest
        raise ChaptanError("the file {name} of this video is missing", name=name)

    def exists(self, owner: str, job_id: str, name: str) -> bool:
        return self.local_path(owner, job_id, name).exists()

    def delete_job(self, owner: str, job_id: str) -> None:
        shutil.rmtree(self.job_dir(owner, job_id), ignore_errors=True)
        if self.mirror is not None:
            self.mirror.delete_prefix(self.key(owner, job_id))

    def delete_user(self, owner: str) -> None:
        """Every file of `owner`, here and in the mirror. A name no folder can have (left by versions
        that accepted any name) has nothing to delete."""
        if not _is_safe(owner):
            return
        shutil.rmtree(self.root / "users" / owner, ignore_errors=True)
        if self.mirror is not None:
            self.mirror.delete_prefix(f"users/{owner}/")

    def job_folders(self) -> list[tuple[str, str]]:
        """(owner, job id) of every job folder on the local disk."""
        base = self.root / "users"
        if not base.is_dir():
            return []
        return [(folder.parent.parent.name, folder.name) for folder in sorted(base.glob("*/jobs/*"))
                if folder.is_dir()]

    def usage(self, owner: str) -> int:
        """Bytes on local disk used by `owner`'s jobs (0 for a name no folder can have)."""
        if not _is_safe(owner):
            return 0
        base = self.root / "users" / owner
        return sum(p.stat().st_size for p in base.rglob("*") if p.is_file()) if base.exists() else 0

    def _mirror(self, owner: str, job_id: str, name: str, path: Path) -> None:
        if self.mirror is not None:
            self.mirror.upload(self.key(owner, job_id, name), path)
