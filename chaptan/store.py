"""The app's database: users, jobs, chapter versions and small documents in one TinyDB JSON file.

Every operation holds one process-wide lock (and, on POSIX, an advisory file lock so the `users` CLI
can run next to the app without losing writes). Each write replaces the file atomically and keeps
the previous good version as `<db>.bak`, so a crash never leaves a half-written database.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Document, Table

from .errors import ChaptanError
from .messages import Message

try:
    import fcntl
except ImportError:  # Windows: only the in-process lock applies
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

DB_FILE = "chaptan.json"  # the database's name inside the data dir
MEMORY_TABLE = "memory"  # the voice assistant's conversation per user (documents keyed by user name)
JOB_STATUSES = ("queued", "running", "done", "failed")
_USERS, _JOBS, _VERSIONS = "users", "jobs", "chapter_versions"
_DOC_PREFIX = "doc:"  # keeps generic tables apart from the app's own


class NotFoundError(ChaptanError):
    """A user, job or document that the caller named does not exist."""


class StaleVersionError(ChaptanError):
    """Someone saved chapters after the editor loaded them; saving would overwrite their work."""


@dataclass(frozen=True)
class User:
    name: str
    password_hash: str
    is_admin: bool = False
    email: str = ""
    disabled: bool = False
    created: float = field(default_factory=time.time)
    # Never reused, unlike a name: sessions and served files are bound to it, so a new account that
    # takes a removed user's name gets nothing of theirs.
    id: str = ""
    # Raised to end every session of the user (new password, disabled); sessions remember the value.
    session_epoch: int = 0


@dataclass(frozen=True)
class Job:
    id: str
    owner: str
    title: str = ""
    source_name: str = ""
    status: str = "queued"  # one of JOB_STATUSES
    stage: str = ""
    progress: float = 0.0  # 0..1
    eta_seconds: float | None = None
    error: str = ""
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    language: str = ""
    generator: str = ""
    max_chapters: int = 0  # 0: no limit
    duration: float | None = None
    warnings: tuple[str, ...] = ()
    attempts: int = 0  # how many times a worker has started it
    task_id: str = ""  # the Celery task running it, when jobs run on workers (CHAPTAN_BROKER_URL)
    worker: str = ""  # the Celery worker that ran it
    playback: str = ""  # the playable copy: "" (the upload plays as it is), making, ready or failed

    def __post_init__(self) -> None:
        if self.status not in JOB_STATUSES:
            raise ValueError(f"job status must be one of {JOB_STATUSES}, not {self.status!r}")
        # JSON gives lists back; a tuple keeps the frozen dataclass hashable and truly immutable.
        # Messages are stored as data (see _to_doc), so the browser can show them in its language.
        object.__setattr__(self, "error", Message.from_data(self.error))
        object.__setattr__(self, "warnings", tuple(Message.from_data(w) for w in self.warnings))

    @property
    def ended(self) -> bool:
        return self.status in ("done", "failed")


@dataclass(frozen=True)
class ChapterVersion:
    number: int
    created: float
    author: str
    chapters: list[dict[str, Any]]


def _from_doc(cls: type, doc: Mapping[str, Any]) -> Any:
    # Unknown keys are dropped and missing ones take defaults, so older or newer files still load.
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in doc.items() if k in names})


def _to_doc(obj: Any) -> dict[str, Any]:
    return {f.name: _doc_value(getattr(obj, f.name)) for f in dataclasses.fields(obj)}


def _doc_value(value: Any) -> Any:
    if isinstance(value, Message):
        return value.to_data()
    if isinstance(value, (list, tuple)):
        return [_doc_value(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _doc_value(item) for key, item in value.items()}
    return value


def _replace_with(new: Mapping[str, Any]) -> Callable[[dict[str, Any]], None]:
    def transform(doc: dict[str, Any]) -> None:
        doc.clear()
        doc.update(new)
    return transform


def _stale_message(latest: ChapterVersion | None, base_version: int) -> Message:
    if latest is None:  # the versions were removed after the editor loaded them
        return Message("this video's chapters changed after you opened version {version}; reload to see them",
                       version=base_version)
    saved_at = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(latest.created))
    return Message("this video's chapters were saved by {author} at {time} (version {version}) after you "
                   "opened them; reload to see them", author=latest.author, time=saved_at,
                   version=latest.number)


class _StrKeyTable(Table):
    document_id_class = str  # users by name, jobs by id


class _Database(TinyDB):
    table_class = _StrKeyTable


def _fsync_dir(directory: Path) -> None:
    # The rename itself lives in the directory entry; without this a power loss can undo it.
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _update_backup(path: Path, backup: Path) -> None:
    """Point `backup` at the current file (a hard link: no copy) before it gets replaced."""
    if not path.exists():
        return
    tmp = backup.with_name(backup.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    try:
        os.link(path, tmp)
    except OSError:  # file systems without hard links
        tmp.write_bytes(path.read_bytes())
    os.replace(tmp, backup)


def _load_json(path: Path) -> dict[str, Any] | None:
    """The file's tables, None for a missing or empty file; ValueError when it is not a JSON object."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    if not text.strip():
        return None
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("the top level is not a JSON object")
    return data


class AtomicJSONStorage(Storage):
    """TinyDB storage that never leaves a partly written file behind and keeps one backup."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.backup = self.path.with_name(self.path.name + ".bak")
        self._remove_crash_leftovers()
        self._recover_if_corrupt()

    def _remove_crash_leftovers(self) -> None:
        # Temp files of writes a crash interrupted; recent ones may belong to a live process (the CLI).
        cutoff = time.time() - 60
        for tmp in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            with contextlib.suppress(OSError):
                if tmp.stat().st_mtime < cutoff:
                    tmp.unlink()

    def _recover_if_corrupt(self) -> None:
        try:
            _load_json(self.path)
            return
        except (ValueError, UnicodeDecodeError) as exc:
            problem = exc
        aside = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
        os.replace(self.path, aside)
        try:
            restored = _load_json(self.backup)
        except (ValueError, UnicodeDecodeError):
            restored = None
        if restored is not None:
            _atomic_write(self.path, json.dumps(restored))
            log.error("database %s was corrupt (%s); moved it to %s and restored the backup %s",
                      self.path, problem, aside, self.backup)
        else:
            log.error("database %s was corrupt (%s) and there is no usable backup; moved it to %s and "
                      "started an empty database", self.path, problem, aside)

    def read(self) -> dict[str, dict[str, Any]] | None:
        return _load_json(self.path)

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        text = json.dumps(data)
        _update_backup(self.path, self.backup)
        _atomic_write(self.path, text)


class Store:
    """Typed access to the database. Safe to share between threads; returns immutable records."""

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._depth = 0  # RLock nesting, so the file lock is taken once per outermost operation
        self._lock_path = path.with_name(path.name + ".lock")
        self._callbacks: list[Callable[[], None]] = []
        with self._locked():  # opening may repair the file: not while another process writes it
            self._storage = AtomicJSONStorage(path)
        self._db = _Database(storage=lambda: self._storage)

    @property
    def path(self) -> Path:
        return self._storage.path

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call `callback()` after every write (outside the lock, in the writing thread)."""
        with self._lock:
            self._callbacks.append(callback)

    # -- users ---------------------------------------------------------------------------------

    def add_user(self, user: User) -> None:
        with self._changing():
            table = self._db.table(_USERS)
            if table.contains(doc_id=user.name):
                raise ChaptanError("user {name!r} already exists", name=user.name)
            table.insert(Document(_to_doc(user), doc_id=user.name))

    def get_user(self, name: str) -> User | None:
        with self._locked():
            doc = self._db.table(_USERS).get(doc_id=name)
        return _from_doc(User, doc) if doc is not None else None

    def update_user(self, name: str, **fields: Any) -> User:
        with self._changing():
            user = self.get_user(name)
            if user is None:
                raise NotFoundError("no user named {name!r}", name=name)
            user = dataclasses.replace(user, **fields)
            if user.name != name:
                raise ValueError("a user's name cannot change")
            self._db.table(_USERS).upsert(Document(_to_doc(user), doc_id=name))
        return user

    def remove_user(self, name: str) -> None:
        with self._changing():
            if not self._db.table(_USERS).remove(doc_ids=[name]):
                raise NotFoundError("no user named {name!r}", name=name)

    def list_users(self) -> list[User]:
        with self._locked():
            docs = self._db.table(_USERS).all()
        return sorted((_from_doc(User, d) for d in docs), key=lambda u: u.name)

    # -- jobs ----------------------------------------------------------------------------------

    def add_job(self, job: Job) -> None:
        with self._changing():
            table = self._db.table(_JOBS)
            if table.contains(doc_id=job.id):
                raise ChaptanError("job {job_id!r} already exists", job_id=job.id)
            table.insert(Document(_to_doc(job), doc_id=job.id))

    def get_job(self, job_id: str) -> Job | None:
        with self._locked():
            doc = self._db.table(_JOBS).get(doc_id=job_id)
        return _from_doc(Job, doc) if doc is not None else None

    def update_job(self, job_id: str, **fields: Any) -> Job:
        """Change some fields; `updated` is set to now unless given."""
        fields.setdefault("updated", time.time())
        with self._changing():
            job = self.get_job(job_id)
            if job is None:
                raise NotFoundError("no job {job_id!r}", job_id=job_id)
            job = dataclasses.replace(job, **fields)
            if job.id != job_id:
                raise ValueError("a job's id cannot change")
            self._db.table(_JOBS).upsert(Document(_to_doc(job), doc_id=job_id))
        return job

    def delete_job(self, job_id: str) -> None:
        """Remove the job and its chapter versions."""
        with self._changing():
            if not self._db.table(_JOBS).remove(doc_ids=[job_id]):
                raise NotFoundError("no job {job_id!r}", job_id=job_id)
            self._db.table(_VERSIONS).remove(doc_ids=[job_id])

    def list_jobs(self, owner: str | None = None) -> list[Job]:
        """All jobs (or one owner's), newest first."""
        with self._locked():
            docs = self._db.table(_JOBS).all()
        jobs = [_from_doc(Job, d) for d in docs]
        if owner is not None:
            jobs = [j for j in jobs if j.owner == owner]
        return sorted(jobs, key=lambda j: (j.created, j.id), reverse=True)

    # -- chapter versions ----------------------------------------------------------------------

    def add_chapter_version(self, job_id: str, chapters: list[dict[str, Any]], author: str,
                            base_version: int | None) -> int:
        """Save a new version and return its number.

        `base_version` is the version the editor started from (0 when there was none); if someone
        saved since, StaleVersionError. None skips the check (the pipeline's own first version).
        """
        with self._changing():
            if self.get_job(job_id) is None:
                raise NotFoundError("no job {job_id!r}", job_id=job_id)
            versions = self.list_chapter_versions(job_id)
            latest = versions[-1] if versions else None
            current = latest.number if latest else 0
            if base_version is not None and base_version != current:
                raise StaleVersionError(_stale_message(latest, base_version))
            new = ChapterVersion(number=current + 1, created=time.time(), author=author,
                                 chapters=[dict(c) for c in chapters])
            docs = [_to_doc(v) for v in versions] + [_to_doc(new)]
            self._db.table(_VERSIONS).upsert(Document({"versions": docs}, doc_id=job_id))
        return new.number

    def list_chapter_versions(self, job_id: str) -> list[ChapterVersion]:
        """Oldest first."""
        with self._locked():
            doc = self._db.table(_VERSIONS).get(doc_id=job_id)
        return [_from_doc(ChapterVersion, v) for v in doc["versions"]] if doc is not None else []

    def latest_chapter_version(self, job_id: str) -> ChapterVersion | None:
        versions = self.list_chapter_versions(job_id)
        return versions[-1] if versions else None

    # -- small documents -----------------------------------------------------------------------

    def get_doc(self, table: str, key: str) -> dict[str, Any] | None:
        with self._locked():
            doc = self._db.table(_DOC_PREFIX + table).get(doc_id=key)
        return dict(doc) if doc is not None else None

    def all_docs(self, table: str) -> dict[str, dict[str, Any]]:
        """Every document of the table by key, from one read of the file (get_doc reads it per key)."""
        with self._locked():
            docs = self._db.table(_DOC_PREFIX + table).all()
        return {str(doc.doc_id): dict(doc) for doc in docs}

    def put_doc(self, table: str, key: str, doc: Mapping[str, Any]) -> None:
        """Insert or replace the whole document."""
        with self._changing():
            tbl = self._db.table(_DOC_PREFIX + table)
            # One write either way: a remove + insert would leave the backup without the document.
            if not tbl.update(_replace_with(doc), doc_ids=[key]):
                tbl.insert(Document(dict(doc), doc_id=key))

    def delete_doc(self, table: str, key: str) -> None:
        """Remove the document if it exists."""
        with self._changing():
            self._db.table(_DOC_PREFIX + table).remove(doc_ids=[key])

    # -- locking -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock:
            outermost = self._depth == 0
            self._depth += 1
            try:
                if outermost and fcntl is not None:
                    with open(self._lock_path, "a") as handle:
                        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the handle closes
                        yield
                else:
                    yield
            finally:
                self._depth -= 1

    @contextlib.contextmanager
    def _changing(self) -> Iterator[None]:
        """Like _locked, then tells the listeners once the outermost write is done."""
        with self._locked():
            outermost = self._depth == 1
            yield
        if outermost:
            self._notify()

    def _notify(self) -> None:
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            try:
                callback()
            except Exception:
                log.exception("database change listener %r failed", callback)
