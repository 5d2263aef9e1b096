"""What every tab's handlers share: who is calling, user-facing errors, private file copies served
to their owner only."""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import os
import secrets
import shutil
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import gradio as gr
import gradio.component_meta
from gradio.data_classes import FileData
from starlette.requests import HTTPConnection
from starlette.responses import PlainTextResponse

from ..accounts.auth import Sessions
from ..errors import ChaptanError
from ..exports import EXPORT_MODE, file_stem
from ..services import Services
from ..storage.artifacts import outbox_root
from ..storage.store import Job, JobStatus
from ..timecode import timestamp
from ..videos import Requester
from .i18n import localized

log = logging.getLogger(__name__)

OUTBOX_MAX_AGE = 3600.0
FOLDER_MODE = 0o700  # served copies are their owner's alone (files: exports.EXPORT_MODE)


def requester(services: Services, request: gr.Request | None) -> Requester:
    """The logged-in caller; refuses requests without a valid, enabled user."""
    name = getattr(request, "username", None) if request is not None else None
    user = services.store.get_user(name) if name else None
    if user is None or user.disabled:
        raise gr.Error("Please log in again.")
    return Requester(user.name, user.is_admin, user.id)


# What a browser user sees when a handler fails for a reason that is not theirs (a bug); the
# traceback goes to the server log.
UNEXPECTED = "Something went wrong on the server; the page is as it was. The server log has the details."


def _shown(exc: Exception, request: gr.Request | None) -> gr.Error:
    """The gr.Error that shows `exc` (a ChaptanError or gr.Error) in the caller's language; no request
    (API handlers) keeps the English message scripts parse."""
    if isinstance(exc, gr.Error):
        return gr.Error(localized(exc.message, request), duration=exc.duration, visible=exc.visible,
                        title=exc.title, print_exception=exc.print_exception)
    return gr.Error(localized(exc.message, request), print_exception=False)


def _request_of(args: tuple, kwargs: dict) -> gr.Request | None:
    return next((a for a in (*args, *kwargs.values()) if isinstance(a, gr.Request)), None)


def _warned(exc: Exception, fn: Callable, request: gr.Request | None) -> dict:
    """Shows `exc` as a toast in the caller's language and returns gr.skip(), which leaves every
    output of the event as it was (one skip stands for all of them)."""
    if isinstance(exc, (ChaptanError, gr.Error)):
        gr.Warning(localized(exc.message, request))
    else:
        log.exception("browser handler %s failed", fn.__name__)
        gr.Warning(localized(UNEXPECTED, request))
    return gr.skip()


def user_errors(fn: Callable) -> Callable:
    """For browser handlers. A raised error would put Gradio's "Error" overlay over every output of
    the event until a reload (losing unsaved edits), so none escapes: the user's mistakes
    (ChaptanError, gr.Error) become a translated warning, anything else is logged and reported as
    such, and the outputs keep their values."""
    # A streaming handler raises while it is iterated, not when called, so it needs a generator wrapper.
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def streaming(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - see the docstring
                yield _warned(exc, fn, _request_of(args, kwargs))
        streaming.shows_errors_as_warnings = True
        return streaming

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - see the docstring
            return _warned(exc, fn, _request_of(args, kwargs))
    wrapper.shows_errors_as_warnings = True
    return wrapper


def api_errors(fn: Callable) -> Callable:
    """For gradio_client endpoints: ChaptanError messages in English, which scripts may parse."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ChaptanError, gr.Error) as exc:
            raise _shown(exc, None) from None
    return wrapper


def outbox_dir(req: Requester) -> Path:
    """A fresh folder OUTBOX/USER_ID/RANDOM for one request's files to `req`: a path seen by one user
    names nothing of anyone else's, only its owner may fetch it (`OwnFilesMiddleware`), and the
    originals never enter a served folder. Folders an hour old are swept on the way."""
    root = outbox_root()
    root.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    cutoff = time.time() - OUTBOX_MAX_AGE
    for old in root.glob("*/*"):
        try:
            if old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)
        except FileNotFoundError:
            continue
    mine = root / (req.id or req.name)
    mine.mkdir(mode=FOLDER_MODE, exist_ok=True)
    folder = mine / secrets.token_hex(16)
    folder.mkdir(mode=FOLDER_MODE)
    return folder


def video_link(services: Services, req: Requester, job: Job) -> str:
    """The job's video for a player (its playable copy when it has one) in a per-request outbox
    folder, named after its title (the player's download button saves it under that name).

    A hard link, not a copy: a view costs no disk and no time, whatever the video's size, and the
    link is served to its owner alone like every outbox file. Only a data folder on another file
    system than Gradio's temporary folder (where a link cannot reach) makes it a copy."""
    shown = services.library.player_file(job)
    dest = outbox_dir(req) / f"{file_stem(job.title)}{shown.suffix}"
    try:
        os.link(shown, dest)
    except OSError:
        shutil.copyfile(shown, dest)
    dest.chmod(EXPORT_MODE)
    return str(dest)


class OwnFilesMiddleware:
    """Gradio's file route asks only that someone is signed in; this serves a file under the outbox
    only to the account whose folder it is in, and answers anyone else as if it did not exist."""

    def __init__(self, app, sessions: Sessions, outbox: Path):
        self.app = app
        self.sessions = sessions
        self.outbox = outbox.resolve()

    async def __call__(self, scope, receive, send):
        if scope.get("type") == "http" and not self._allowed(scope):
            await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _allowed(self, scope: dict) -> bool:
        _, found, target = scope.get("path", "").partition("/file=")
        if not found:
            return True
        try:
            parts = Path(os.path.abspath(target)).resolve().relative_to(self.outbox).parts
        except (ValueError, OSError):
            return True  # not ours: Gradio's own rules decide
        return bool(parts) and parts[0] in self._callers(scope)

    def _callers(self, scope: dict) -> set[str]:
        """The account ids of the live sessions whose cookies came with the request."""
        ids = set()
        for name, token in HTTPConnection(scope).cookies.items():
            if name.startswith("access-token-"):
                with contextlib.suppress(KeyError):
                    ids.add(self.sessions.session(token).user_id)
        return ids


def finished_choices(jobs: list[Job]) -> list[tuple[str, str]]:
    """(label, job id) of the finished videos among `jobs`, for a picker: failed, waiting and running
    ones cannot be opened there, so they are left out, and videos that share a title (the same file
    uploaded twice) are told apart by when each was made and the start of its id."""
    done = [j for j in jobs if j.status == JobStatus.DONE]
    shared = {title for title, count in Counter(j.title for j in done).items() if count > 1}
    return [(f"{j.title} ({fmt_time(j.created)} · {j.id[:6]})" if j.title in shared else j.title, j.id)
            for j in done]


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return timestamp(round(seconds), pad_minutes=False)


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
