"""The app's database: users, jobs, chapter versions and small documents, in TinyDB JSON files.

Each table lives in its own files (`chaptan.json` holds the users; the jobs, chapter versions, chat
memory and S3 mirror state are each spread over SHARDS files by key: `chaptan.jobs.00.json` ...
`chaptan.jobs.15.json`), because TinyDB rewrites a whole file on every write: one busy table must not
rewrite the others, nor a job's state change every other job. A database of the older single-file
layout is split into these files when it is opened. A running job's progress (fraction, stage, ETA)
lives in memory only and reaches the file with the job's next state change; a restart runs the job
again anyway.

Every write holds one process-wide lock (and, on POSIX, an advisory file lock so the `users` CLI can
run next to the app without losing writes). Each write replaces its file atomically and keeps the
previous good version as `<file>.bak`, so a crash never leaves a half-written table. Reads take no
lock: a file is only ever replaced whole, so they work on a read-only data folder too.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import logging
import os
import re
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from glob import escape as glob_escape
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Document, Table

from ..errors import ChaptanError
from ..messages import Message

try:
    import fcntl
except ImportError:  # Windows: only the in-process lock applies
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

DB_FILE = "chaptan.json"  # the database's name inside the data dir: the users' file; other tables beside it
MEMORY_TABLE = "memory"  # the voice assistant's conversation per user (documents keyed by user name)
_USERS, _JOBS, _VERSIONS = "users", "jobs", "chapter_versions"
_DOC_PREFIX = "doc:"  # keeps generic tables apart from the app's own
_DOC_TABLE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")  # also part of a file name
_PROGRESS_FIELDS = ("progress", "stage", "eta_seconds", "updated")  # what set_progress keeps in memory
# Every table but the users is spread over this many files by a hash of the key, so a job's state
# change rewrites a sixteenth of the jobs, not all of them (see benchmarks/store_speed.py).
SHARDS = 16
MAX_CHAPTERS_PER_VERSION = 500
MAX_VERSIONS_PER_VIDEO = 100  # older ones are pruned, except the first and the pipeline's own


class JobStatus(str, Enum):
    """A job's state; a `str`, so stored files and the API keep the plain words."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value


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
    # Signed up by themselves and not yet approved by an administrator: cannot sign in. Accounts
    # stored before sign-up existed lack the field and read as approved.
    pending: bool = False


@dataclass(frozen=True)
class Job:
    id: str
    owner: str
    title: str = ""
    source_name: str = ""
    status: JobStatus = JobStatus.QUEUED
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
        object.__setattr__(self, "status", JobStatus(self.status))  # ValueError for an unknown one
        # JSON gives lists back; a tuple keeps the frozen dataclass hashable and truly immutable.
        # Messages are stored as data (see _to_doc), so the browser can show them in its language.
        object.__setattr__(self, "error", Message.from_data(self.error))
        object.__setattr__(self, "warnings", tuple(Message.from_data(w) for w in self.warnings))

    @property
    def ended(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)

    @property
    def active(self) -> bool:
        """Waiting for a worker or being processed."""
        return self.status in (JobStatus.QUEUED, JobStatus.RUNNING)


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
    if isinstance(value, Enum):
        return value.value
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
        self._parsed: tuple[tuple[int, ...], dict[str, Any]] | None = None  # (file version, its tables)
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
        # Parsed once per version of the file: every write replaces it, so another inode or mtime
        # means another process wrote it. Each caller gets its own copy of the tables and documents,
        # since TinyDB changes what it reads before writing it back.
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            return None
        version = (stat.st_ino, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size)
        cached = self._parsed
        if cached is None or cached[0] != version:
            data = _load_json(self.path)
            if data is None:
                return None
            cached = self._parsed = (version, data)
        return {name: {key: dict(doc) for key, doc in rows.items()} for name, rows in cached[1].items()}

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        self._parsed = None
        text = json.dumps(data)
        _update_backup(self.path, self.backup)
        _atomic_write(self.path, text)
        stat = os.stat(self.path)
        self._parsed = ((stat.st_ino, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size), data)


def _doc_table_name(name: str) -> str:
    if not _DOC_TABLE_NAME.match(name):
        raise ValueError(f"a document table's name is lowercase letters, digits and _, not {name!r}")
    return _DOC_PREFIX + name


def _shard(key: str) -> int:
    return zlib.crc32(key.encode("utf-8")) % SHARDS


def _table_file(main: Path, table: str, shard: int = 0) -> Path:
    """The file that holds `shard` of `table`: the users stay in the main file, every other table's
    shards sit beside it (`chaptan.jobs.07.json`)."""
    if table == _USERS:
        return main
    stem = main.name[:-len(".json")] if main.name.endswith(".json") else main.name
    return main.with_name(f"{stem}.{table.replace(':', '-')}.{shard:02d}.json")


def _prune(versions: list[ChapterVersion]) -> list[ChapterVersion]:
    """At most MAX_VERSIONS_PER_VIDEO versions: the newest, and always the first and every one the
    pipeline wrote (the editor's starting points, and what names the generator of the chapters)."""
    if len(versions) <= MAX_VERSIONS_PER_VIDEO:
        return versions
    kept = {v.number for v in versions if v is versions[0] or _is_pipeline_author(v.author)}
    for version in reversed(versions):
        if len(kept) >= MAX_VERSIONS_PER_VIDEO:
            break
        kept.add(version.number)
    return [v for v in versions if v.number in kept]


def _is_pipeline_author(author: str) -> bool:
    # videos._pipeline_author writes "chaptan (local)" / "chaptan (llm)"; people's names have no spaces.
    return author.startswith("chaptan (")


class Store:
    """Typed access to the database. Safe to share between threads; returns immutable records."""

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._main = path
        self._lock = threading.RLock()
        self._depth = 0  # RLock nesting, so the file lock is taken once per outermost operation
        self._lock_path = path.with_name(path.name + ".lock")
        self._callbacks: list[Callable[[], None]] = []
        self._tables: dict[tuple[str, int], Table] = {}  # by (table, shard)
        # Running jobs' progress, by job id: kept here, not written (see the module docstring).
        self._progress: dict[str, dict[str, Any]] = {}
        self._progress_lock = threading.Lock()
        # Opening may repair or split the file: not while another process writes it.
        with self._locked(read_only_ok=True):
            self._split_single_file()
            self._table(_USERS)

    @property
    def path(self) -> Path:
        """The main database file (the users); the other tables' files sit beside it."""
        return self._main

    def files(self) -> list[Path]:
        """Every table's file that exists, the main one first."""
        stem = self._main.name[:-len(".json")] if self._main.name.endswith(".json") else self._main.name
        others = sorted(self._main.parent.glob(f"{glob_escape(stem)}.*.json"))
        return [p for p in [self._main, *others] if p.is_file()]

    def snapshot(self) -> bytes | None:
        """Every table as one JSON document, in the single-file layout (a Store opened on it splits it
        again); None when nothing was ever written. The S3 mirror uploads this."""
        tables: dict[str, Any] = {}
        with self._lock:  # no write of this process lands between two files' reads
            for file in self.files():
                for name, rows in (_load_json(file) or {}).items():
                    tables.setdefault(name, {}).update(rows)
        return json.dumps(tables).encode("utf-8") if tables else None

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call `callback()` after every write (outside the lock, in the writing thread)."""
        with self._lock:
            self._callbacks.append(callback)

    # -- users ---------------------------------------------------------------------------------

    def add_user(self, user: User) -> None:
        with self._changing():
            table = self._table(_USERS)
            if table.contains(doc_id=user.name):
                raise ChaptanError("user {name!r} already exists", name=user.name)
            table.insert(Document(_to_doc(user), doc_id=user.name))

    def get_user(self, name: str) -> User | None:
        doc = self._table(_USERS).get(doc_id=name)
        return _from_doc(User, doc) if doc is not None else None

    def update_user(self, name: str, **fields: Any) -> User:
        with self._changing():
            user = self.get_user(name)
            if user is None:
                raise NotFoundError("no user named {name!r}", name=name)
            user = dataclasses.replace(user, **fields)
            if user.name != name:
                raise ValueError("a user's name cannot change")
            self._table(_USERS).upsert(Document(_to_doc(user), doc_id=name))
        return user

    def remove_user(self, name: str) -> None:
        with self._changing():
            if not self._table(_USERS).remove(doc_ids=[name]):
                raise NotFoundError("no user named {name!r}", name=name)

    def list_users(self) -> list[User]:
        docs = self._table(_USERS).all()
        return sorted((_from_doc(User, d) for d in docs), key=lambda u: u.name)

    # -- jobs ----------------------------------------------------------------------------------

    def add_job(self, job: Job) -> None:
        with self._changing():
            table = self._table(_JOBS, job.id)
            if table.contains(doc_id=job.id):
                raise ChaptanError("job {job_id!r} already exists", job_id=job.id)
            table.insert(Document(_to_doc(job), doc_id=job.id))

    def get_job(self, job_id: str) -> Job | None:
        doc = self._table(_JOBS, job_id).get(doc_id=job_id)
        return self._with_progress(_from_doc(Job, doc)) if doc is not None else None

    def update_job(self, job_id: str, **fields: Any) -> Job:
        """Change some fields and write the job; `updated` is set to now unless given.

        The progress kept in memory is written along; it is dropped once the job no longer runs."""
        fields.setdefault("updated", time.time())
        with self._changing():
            job = self.get_job(job_id)
            if job is None:
                raise NotFoundError("no job {job_id!r}", job_id=job_id)
            job = dataclasses.replace(job, **fields)
            if job.id != job_id:
                raise ValueError("a job's id cannot change")
            self._table(_JOBS, job_id).upsert(Document(_to_doc(job), doc_id=job_id))
            with self._progress_lock:
                if job.status == JobStatus.RUNNING:
                    self._progress[job_id] = {name: getattr(job, name) for name in _PROGRESS_FIELDS}
                else:
                    self._progress.pop(job_id, None)
        return job

    def set_progress(self, job_id: str, progress: float, stage: str, eta_seconds: float | None) -> None:
        """Record a running job's progress in memory only: it is read back by get_job and list_jobs,
        and written with the job's next update_job. NotFoundError when the job was deleted."""
        values = {"progress": progress, "stage": stage, "eta_seconds": eta_seconds, "updated": time.time()}
        with self._progress_lock:
            known = self._progress.get(job_id)
            if known is not None:
                known.update(values)
                return
        with self._lock:  # the first report of a job read from the file; delete_job holds this lock
            if self._table(_JOBS, job_id).get(doc_id=job_id) is None:
                raise NotFoundError("no job {job_id!r}", job_id=job_id)
            with self._progress_lock:
                self._progress[job_id] = values

    def delete_job(self, job_id: str) -> None:
        """Remove the job and its chapter versions."""
        with self._changing():
            if not self._table(_JOBS, job_id).remove(doc_ids=[job_id]):
                raise NotFoundError("no job {job_id!r}", job_id=job_id)
            with self._progress_lock:
                self._progress.pop(job_id, None)
            self._table(_VERSIONS, job_id).remove(doc_ids=[job_id])

    def list_jobs(self, owner: str | None = None) -> list[Job]:
        """All jobs (or one owner's), newest first."""
        docs = self._all(_JOBS)
        jobs = [self._with_progress(_from_doc(Job, d)) for d in docs
                if owner is None or d.get("owner") == owner]
        return sorted(jobs, key=lambda j: (j.created, j.id), reverse=True)

    def _with_progress(self, job: Job) -> Job:
        if job.status != JobStatus.RUNNING:
            return job
        with self._progress_lock:
            live = self._progress.get(job.id)
            return dataclasses.replace(job, **live) if live else job

    # -- chapter versions ----------------------------------------------------------------------

    def add_chapter_version(self, job_id: str, chapters: list[dict[str, Any]], author: str,
                            base_version: int | None) -> int:
        """Save a new version and return its number.

        `base_version` is the version the editor started from (0 when there was none); if someone
        saved since, StaleVersionError. None skips the check (the pipeline's own first version).
        A version holds at most MAX_CHAPTERS_PER_VERSION chapters; past MAX_VERSIONS_PER_VIDEO
        versions the oldest are pruned (see _prune).
        """
        if len(chapters) > MAX_CHAPTERS_PER_VERSION:
            raise ChaptanError("a video can have at most {limit} chapters; this list has {count}",
                               limit=MAX_CHAPTERS_PER_VERSION, count=len(chapters))
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
            docs = [_to_doc(v) for v in _prune([*versions, new])]
            self._table(_VERSIONS, job_id).upsert(Document({"versions": docs}, doc_id=job_id))
        return new.number

    def list_chapter_versions(self, job_id: str) -> list[ChapterVersion]:
        """Oldest first."""
        doc = self._table(_VERSIONS, job_id).get(doc_id=job_id)
        if doc is None:
            return []
        # Deep copies: the parsed file is shared with later reads (see AtomicJSONStorage.read).
        return [_from_doc(ChapterVersion, copy.deepcopy(v)) for v in doc["versions"]]

    def latest_chapter_version(self, job_id: str) -> ChapterVersion | None:
        versions = self.list_chapter_versions(job_id)
        return versions[-1] if versions else None

    # -- small documents -----------------------------------------------------------------------

    def get_doc(self, table: str, key: str) -> dict[str, Any] | None:
        doc = self._doc_table(table, key).get(doc_id=key)
        return copy.deepcopy(dict(doc)) if doc is not None else None

    def all_docs(self, table: str) -> dict[str, dict[str, Any]]:
        """Every document of the table by key, from one read of the file (get_doc reads it per key)."""
        docs = self._all(_doc_table_name(table))
        return {str(doc.doc_id): copy.deepcopy(dict(doc)) for doc in docs}

    def put_doc(self, table: str, key: str, doc: Mapping[str, Any]) -> None:
        """Insert or replace the whole document."""
        with self._changing():
            tbl = self._doc_table(table, key)
            # One write either way: a remove + insert would leave the backup without the document.
            if not tbl.update(_replace_with(doc), doc_ids=[key]):
                tbl.insert(Document(dict(doc), doc_id=key))

    def delete_doc(self, table: str, key: str) -> None:
        """Remove the document if it exists."""
        with self._changing():
            self._doc_table(table, key).remove(doc_ids=[key])

    # -- files ---------------------------------------------------------------------------------

    def _doc_table(self, name: str, key: str) -> Table:
        return self._table(_doc_table_name(name), key)

    def _all(self, name: str) -> list[Document]:
        """Every document of a sharded table: one read of each of its files."""
        return [doc for shard in range(SHARDS) for doc in self._shard_table(name, shard).all()]

    def _table(self, name: str, key: str = "") -> Table:
        """The table (the shard of it that holds `key`: every table but the users is sharded)."""
        return self._shard_table(name, 0 if name == _USERS else _shard(key))

    def _shard_table(self, name: str, shard: int) -> Table:
        table = self._tables.get((name, shard))
        if table is None:
            with self._lock:
                table = self._tables.get((name, shard))
                if table is None:
                    storage = AtomicJSONStorage(_table_file(self._main, name, shard))
                    table = _Database(storage=lambda: storage).table(name)
                    self._tables[name, shard] = table
        return table

    def _split_single_file(self) -> None:
        """Move every table but the users out of a main file of the single-file layout, each into its
        own files. The tables are written before the main file loses them, so a crash in between only
        means doing it again on the next open. A shard's file that exists already is newer (or the
        same) and is kept: the main file can be of the old layout again only by being restored from its
        backup, which is older."""
        AtomicJSONStorage(self._main)  # repairs a corrupt main file from its backup first
        data = _load_json(self._main)
        if not data or set(data) <= {_USERS}:
            return
        for name, rows in data.items():
            if name == _USERS:
                continue
            shards: list[dict[str, Any]] = [{} for _ in range(SHARDS)]
            for key, row in rows.items():
                shards[_shard(key)][key] = row
            for shard, shard_rows in enumerate(shards):  # empty ones too: they mark the table as moved
                file = _table_file(self._main, name, shard)
                if not file.exists():
                    AtomicJSONStorage(file).write({name: shard_rows})
        AtomicJSONStorage(self._main).write({_USERS: data.get(_USERS, {})})
        log.info("split the database %s into one file per table: %s", self._main,
                 ", ".join(sorted(n for n in data if n != _USERS)))

    # -- locking -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self, read_only_ok: bool = False) -> Iterator[None]:
        """The process lock, and the file lock at the outermost level so that other processes on the
        same folder wait too. With `read_only_ok` (opening the store), a lock file that cannot be
        opened for writing means a read-only data folder: no one can write it, and reading needs no
        lock."""
        with self._lock:
            outermost = self._depth == 0
            self._depth += 1
            try:
                handle = None
                if outermost and fcntl is not None:
                    try:
                        handle = open(self._lock_path, "a")
                    except OSError as exc:
                        if not read_only_ok:
                            raise
                        log.warning("the database folder is not writable (%s); opening it for reading", exc)
                if handle is not None:
                    with handle:
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
