"""What every tab's handlers share: who is calling, user-facing errors, private file copies."""

from __future__ import annotations

import functools
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import gradio as gr
import gradio.component_meta
from gradio.data_classes import FileData

from ..errors import ChaptanError
from ..services import Services
from ..store import Job
from ..videos import Requester

# Files handed to the browser are copied here first, under a random folder per request, so a path
# seen by one user names nothing of anyone else's and the originals never enter a served folder.
OUTBOX = Path(tempfile.gettempdir()) / "chaptan-outbox"
OUTBOX_MAX_AGE = 3600.0


def requester(services: Services, request: gr.Request | None) -> Requester:
    """The logged-in caller; refuses requests without a valid, enabled user."""
    name = getattr(request, "username", None) if request is not None else None
    user = services.store.get_user(name) if name else None
    if user is None or user.disabled:
        raise gr.Error("Please log in again.")
    return Requester(user.name, user.is_admin)


def user_errors(fn: Callable) -> Callable:
    """Show a ChaptanError's message in the page (and to API clients) instead of a stack trace."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ChaptanError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
    return wrapper


def outbox_dir() -> Path:
    """A fresh folder for one request's files; old ones are swept on the way."""
    OUTBOX.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - OUTBOX_MAX_AGE
    for old in OUTBOX.iterdir():
        try:
            if old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)
        except FileNotFoundError:
            continue
    folder = OUTBOX / secrets.token_hex(16)
    folder.mkdir()
    return folder


def private_copy(path: Path, name: str | None = None) -> str:
    dest = outbox_dir() / (name or path.name)
    shutil.copyfile(path, dest)
    return str(dest)


def video_copy(services: Services, job: Job) -> str:
    """A per-request copy of the job's video for a player."""
    source = services.library.source(job)
    return private_copy(source, f"{job.id}{source.suffix}")


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    whole = int(round(seconds))
    h, rem = divmod(whole, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def fmt_time(epoch: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(epoch)) if epoch else "–"


# Gradio writes a .pyi stub beside the source of every component subclass when the class is made;
# a package must not rewrite its own files at import, so that hook is off while Player is defined.
_write_stub = gradio.component_meta.create_or_modify_pyi
gradio.component_meta.create_or_modify_pyi = lambda *args, **kwargs: None
try:
    class Player(gr.Video):
        """A video player for files Chaptan already holds: shown as they are.

        gr.Video probes every file with ffprobe and re-encodes what a browser may not play. We ship
        ffmpeg but no ffprobe, and re-encoding a two-hour upload on every view would stall the page,
        so the original is handed over (its download still works when the browser cannot play it)."""

        is_template = True  # the browser side is gr.Video's

        def postprocess(self, value: str | Path | None) -> FileData | None:
            if value is None:
                return None
            return FileData(path=str(value), orig_name=Path(value).name)
finally:
    gradio.component_meta.create_or_modify_pyi = _write_stub
