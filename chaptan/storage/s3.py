"""The S3 mirror: a durable copy of the data dir for hosts whose disk does not survive (a Space, a GPU VM).

Artifacts upload in one background thread. A failed request is retried by botocore (its "standard"
retry mode); an upload that still fails stays pending and is tried again by a periodic sweep, so a
slow or absent bucket never blocks or loses the local copy. Each artifact's state lives in the
database's "mirror" table; the database itself goes up as one object, `PREFIX/db/chaptan.json`
(every table, see Store.snapshot), a moment after each change. A fresh host restores that snapshot
before opening the database and fetches media only when a job needs it.

The recorded state only says what was uploaded, not what the bucket still holds: a bucket can be
emptied or replaced. So the worker also checks the state against the bucket's listing at start and
every `verify_interval` seconds: what the bucket lost is uploaded again from the local copy, and
what neither side has any more is recorded as "lost" and logged by name.

boto3 is imported only by this module, which the app loads only when CHAPTAN_S3_BUCKET is set. Bucket
access comes from the standard AWS_* variables (AWS_ENDPOINT_URL for MinIO, R2, B2 ...), read by boto3.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ..config import Settings
from ..errors import ChaptanError
from .store import DB_FILE, Store

log = logging.getLogger(__name__)

MIB = 1024 * 1024
DB_KEY = f"db/{DB_FILE}"
# One document per artifact key: {"state", "size", "mtime", "error", "attempts"}; state is "pending",
# "done" (in the bucket as it is here, or only in the bucket) or "lost" (neither here nor there).
STATE_TABLE = "mirror"
DELETES_TABLE = "mirror_deletes"  # one document listing the prefixes whose deletion still has to happen
_DELETES_DOC = "pending"
# Everything a bucket or the network can throw at us; the local copy stays authoritative either way.
S3_ERRORS = (BotoCoreError, ClientError, Boto3Error, OSError)


def make_client(max_attempts: int | None = None) -> Any:
    """An S3 client configured from the AWS_* variables.

    Requests are retried by botocore's "standard" mode alone: exponential backoff with jitter, and a
    retry quota that stops retrying while the bucket keeps failing (the mirror's sweep tries again
    later). Its attempts per request are `max_attempts`, else AWS_MAX_ATTEMPTS, else botocore's 3.
    Checksums only "when required": MinIO, R2 and B2 reject the CRC headers newer botocore sends
    by default. A private session, because boto3's default one is not thread-safe to set up.
    """
    retries: dict[str, Any] = {"mode": "standard"}
    if max_attempts is not None:
        retries["total_max_attempts"] = max_attempts
    config = Config(request_checksum_calculation="when_required",
                    response_checksum_validation="when_required",
                    retries=retries, connect_timeout=10, read_timeout=60)
    return boto3.session.Session().client("s3", config=config)


@dataclass
class SyncReport:
    uploaded: list[str] = field(default_factory=list)
    unchanged: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)


@dataclass
class Verification:
    """What a check of the recorded state against the bucket's listing found."""
    reupload: list[str] = field(default_factory=list)  # gone from the bucket, still here: pending again
    lost: list[str] = field(default_factory=list)  # neither in the bucket nor here
    snapshot_missing: bool = False  # the bucket has no database snapshot


def _is_missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}


def download_to(client: Any, bucket: str, key: str, dest: Path) -> bool:
    """Fetch an object into `dest` through a temp file, so a broken transfer leaves nothing half-written.
    False when the object does not exist."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".download")
    os.close(fd)
    try:
        client.download_file(bucket, key, tmp)
        os.replace(tmp, dest)
        return True
    except ClientError as exc:
        if _is_missing(exc):
            return False
        raise
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def restore_database(settings: Settings, db_path: Path) -> bool:
    """Download the database snapshot when this host has no database yet. True when one was restored.

    An unreachable bucket is an error, not an empty start: the next snapshot of an empty database
    would overwrite the good one in the bucket.
    """
    if db_path.exists() or not settings.s3_bucket:
        return False
    try:
        restored = download_to(make_client(), settings.s3_bucket, settings.s3_prefix + DB_KEY, db_path)
    except S3_ERRORS as exc:
        raise ChaptanError("cannot restore the database from {url}: {reason}", reason=exc,
                           url=f"s3://{settings.s3_bucket}/{settings.s3_prefix}{DB_KEY}") from exc
    if restored:
        log.info("restored the database from s3://%s/%s%s", settings.s3_bucket, settings.s3_prefix, DB_KEY)
    return restored


def build_mirror(settings: Settings, store: Store, **tuning: Any) -> S3Mirror | None:
    """The mirror for `settings`, or None when no bucket is configured. `tuning`: S3Mirror's options."""
    if not settings.s3_bucket:
        return None
    tuning.setdefault("verify_interval", settings.s3_verify_interval)
    return S3Mirror(make_client(), settings.s3_bucket, settings.s3_prefix, settings.data_dir, store, **tuning)


class S3Mirror:
    """Implements storage.Mirror. `start()` runs the upload worker; without it (the CLI) uploads are
    only recorded as pending and `sync()` does the work in the calling thread."""

    def __init__(self, client: Any, bucket: str, prefix: str, data_dir: Path, store: Store, *,
                 retry_interval: float = 30.0, verify_interval: float = 900.0,
                 snapshot_delay: float = 2.0, multipart_threshold: int = 8 * MIB):
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.root = Path(data_dir).resolve()
        self.store = store
        self.retry_interval = retry_interval
        self.verify_interval = verify_interval
        self.snapshot_delay = snapshot_delay
        # Parts of at least 5 MiB, S3's minimum for all but the last part.
        self.transfer = TransferConfig(multipart_threshold=multipart_threshold, max_concurrency=4,
                                       multipart_chunksize=max(5 * MIB, multipart_threshold))
        self._cond = threading.Condition()
        self._tasks: deque[tuple[str, str]] = deque()  # ("upload", key) | ("delete", prefix)
        self._busy = False
        self._snapshot_due: float | None = None
        self._next_sweep = 0.0
        self._next_verify = 0.0
        self._stopping = threading.Event()
        self._deletes_lock = threading.Lock()  # the pending-deletes document is read, changed, written
        self._thread: threading.Thread | None = None

    # -- the Mirror protocol -------------------------------------------------------------------

    def upload(self, key: str, path: Path) -> None:
        """Record `key` as pending and queue it; returns at once."""
        self._record(key, path, "pending")
        self._enqueue("upload", key)

    def download(self, key: str, path: Path) -> bool:
        try:
            found = download_to(self.client, self.bucket, self.prefix + key, path)
        except S3_ERRORS as exc:
            log.warning("could not fetch %s from the bucket: %s", key, exc)
            return False
        if found:
            # The fetched copy has a new mtime; record it so the sweep does not upload it back.
            self._record(key, path, "done")
        return found

    def delete_prefix(self, prefix: str) -> None:
        """Forget queued uploads under `prefix` and delete its objects in the background."""
        with self._cond:
            self._tasks = deque(t for t in self._tasks if not (t[0] == "upload" and t[1].startswith(prefix)))
        self._remember_delete(prefix, True)
        self._enqueue("delete", prefix)

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker; right away it checks the bucket's listing, sweeps for unmirrored files and
        snapshots the database. On a host just restored from the bucket, that check names every
        artifact the bucket lost."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._next_sweep = self._next_verify = 0.0
        self.schedule_snapshot()
        self._thread = threading.Thread(target=self._run, name="chaptan-s3", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Give queued work `timeout` seconds to finish (the last snapshot matters most), then stop."""
        if self._thread is None:
            return
        with self._cond:
            if self._snapshot_due is not None:
                self._snapshot_due = time.monotonic()
                self._cond.notify_all()
        self.flush(timeout)
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        self._thread.join(timeout=max(1.0, timeout))
        self._thread = None

    def flush(self, timeout: float) -> bool:
        """Wait until nothing is queued, running or waiting to be snapshotted. False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._tasks or self._busy or self._snapshot_due is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    def schedule_snapshot(self) -> None:
        """Store.on_change listener. The first change since the last snapshot sets the time, later ones
        do not postpone it, so a steady stream of writes still gets snapshotted every few seconds."""
        with self._cond:
            if self._snapshot_due is None:
                self._snapshot_due = time.monotonic() + self.snapshot_delay
                self._cond.notify_all()

    # -- sweeping, verifying, sync, status ------------------------------------------------------

    def local_files(self) -> Iterator[tuple[str, Path]]:
        """(key, path) of every artifact under the data dir; dot files are writes still in progress."""
        base = self.root / "users"
        if not base.exists():
            return
        for path in sorted(base.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                yield path.relative_to(self.root).as_posix(), path

    def pending(self) -> list[tuple[str, dict[str, Any]]]:
        """Artifacts whose recorded state says they are not (or no longer) in the bucket as they are here."""
        states = self.store.all_docs(STATE_TABLE)
        out = []
        for key, path in self.local_files():
            state = states.get(key) or {"state": "unknown"}
            if not _matches(state, path):
                out.append((key, state))
        return out

    def lost(self) -> list[str]:
        """Artifacts recorded as lost: neither here nor in the bucket when it was last checked."""
        return sorted(key for key, state in self.store.all_docs(STATE_TABLE).items()
                      if state.get("state") == "lost")

    def sweep(self) -> int:
        """Queue every pending artifact and unfinished deletion; the periodic retry. Returns how many."""
        keys = [key for key, _ in self.pending()]
        prefixes = self._pending_deletes()
        for prefix in prefixes:
            self._enqueue("delete", prefix)
        for key in keys:
            self._enqueue("upload", key)
        return len(keys) + len(prefixes)

    def verify(self) -> Verification:
        """Check the recorded state against the bucket's listing (ListObjectsV2 pages, no per-object
        requests) and record what it shows: artifacts the bucket lost become pending again when this
        host still has them (the caller queues them) and lost when it does not."""
        states = self.store.all_docs(STATE_TABLE)  # before the listing: uploads after it are not lost
        return self._reconcile(states, self._remote())

    def sync(self) -> SyncReport:
        """Upload, in this thread, every local artifact the bucket lacks or holds at another size, plus
        the database. Compares with the bucket listing, so it also repairs a bucket that lost objects,
        and reports the artifacts that neither the bucket nor this host has any more."""
        report = SyncReport()
        remote = self._remote()
        for key, path in self.local_files():
            if remote.get(key) == path.stat().st_size:
                report.unchanged += 1
                if not _matches(self.store.get_doc(STATE_TABLE, key) or {}, path):
                    self._record(key, path, "done")
            elif self._upload(key):
                report.uploaded.append(key)
                remote[key] = (self.store.get_doc(STATE_TABLE, key) or {}).get("size")
            else:
                report.failed[key] = (self.store.get_doc(STATE_TABLE, key) or {}).get("error", "")
        for prefix in self._pending_deletes():
            self._delete(prefix)
        report.lost = self._reconcile(self.store.all_docs(STATE_TABLE), remote).lost
        if not self.store.files():  # never replace the bucket's database with nothing
            return report
        try:
            self._put_snapshot()
            report.uploaded.append(DB_KEY)
        except S3_ERRORS as exc:
            report.failed[DB_KEY] = str(exc)
        return report

    def _remote(self) -> dict[str, int]:
        try:
            return self._listing("")
        except S3_ERRORS as exc:
            raise ChaptanError("cannot list {url}: {reason}", url=f"s3://{self.bucket}/{self.prefix}",
                               reason=exc) from exc

    def _reconcile(self, states: dict[str, dict[str, Any]], remote: dict[str, int]) -> Verification:
        result = Verification(snapshot_missing=DB_KEY not in remote and bool(self.store.files()))
        deleting = tuple(self._pending_deletes())  # their objects are meant to go
        for key, state in states.items():
            if key.startswith(deleting):
                continue
            if (self.root / key).exists():
                if state.get("state") == "done" and remote.get(key) != state.get("size"):
                    problem = "missing from the bucket" if key not in remote else "another size in the bucket"
                    if self._replace_state(key, state, {**state, "state": "pending", "error": problem}):
                        log.warning("s3://%s/%s%s: %s, uploading it again", self.bucket, self.prefix,
                                    key, problem)
                        result.reupload.append(key)
            elif key not in remote:
                if state.get("state") != "lost":
                    if not self._replace_state(key, state, {**state, "state": "lost"}):
                        continue
                    log.warning("%s is lost: neither in s3://%s/%s nor in %s", key, self.bucket,
                                self.prefix, self.root)
                result.lost.append(key)
            elif state.get("state") == "lost":  # the bucket has it again (restored from a backup)
                self._replace_state(key, state, {**state, "state": "done", "size": remote[key],
                                                 "mtime": None})
        result.lost.sort()
        return result

    def _replace_state(self, key: str, seen: dict[str, Any], new: dict[str, Any]) -> bool:
        """Record `new` unless the state changed since it was read as `seen` (an upload finished or
        the artifact was deleted meanwhile). True when recorded."""
        if self.store.get_doc(STATE_TABLE, key) != seen:
            return False
        self.store.put_doc(STATE_TABLE, key, new)
        return True

    # -- the worker ----------------------------------------------------------------------------

    def _enqueue(self, kind: str, target: str) -> None:
        with self._cond:
            if (kind, target) not in self._tasks:
                self._tasks.append((kind, target))
                self._cond.notify_all()

    def _run(self) -> None:
        while not self._stopping.is_set():
            job = self._next_job()
            if job is None:
                continue
            try:
                job()
            except Exception:  # the worker must outlive any single failure
                log.exception("S3 mirror task failed")
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _next_job(self) -> Callable[[], object] | None:
        """Wait for the next thing to do: a queued task, a due snapshot or a due sweep."""
        with self._cond:
            now = time.monotonic()
            due = [t for t in (self._snapshot_due, self._next_sweep) if t is not None]
            if not self._tasks and min(due) > now:
                self._cond.wait(min(due) - now)
                return None
            self._busy = True
            if self._tasks:
                kind, target = self._tasks.popleft()
                if kind == "upload":
                    return lambda: self._upload_queued(target)
                return lambda: self._delete(target)
            if self._snapshot_due is not None and self._snapshot_due <= now:
                self._snapshot_due = None
                return self._snapshot
            if self._next_verify <= now:
                self._next_verify = now + self.verify_interval
                return self._verify_and_repair
            self._next_sweep = now + self.retry_interval
            return self.sweep

    def _verify_and_repair(self) -> None:
        try:
            result = self.verify()
        except ChaptanError as exc:
            log.warning("could not check the bucket (will retry): %s", exc)
            return
        for key in result.reupload:
            self._enqueue("upload", key)
        if result.snapshot_missing:
            self.schedule_snapshot()

    def _upload_queued(self, key: str) -> None:
        # The sweep can queue a key again while its first upload is still running.
        path = self.root / key
        state = self.store.get_doc(STATE_TABLE, key)
        if not (state and path.exists() and _matches(state, path)):
            self._upload(key)

    def _upload(self, key: str) -> bool:
        path = self.root / key
        if not path.exists():  # deleted (or replaced by a delete) since it was queued
            self.store.delete_doc(STATE_TABLE, key)
            return False
        try:
            self._put_file(key, path)
        except S3_ERRORS as exc:
            previous = self.store.get_doc(STATE_TABLE, key) or {}
            self._record(key, path, "pending", error=str(exc), attempts=previous.get("attempts", 0) + 1)
            log.warning("could not mirror %s (will retry): %s", key, exc)
            return False
        return True

    def _put_file(self, key: str, path: Path) -> None:
        stat = path.stat()  # what is uploaded; a rewrite during the upload queues the key again
        self.client.upload_file(str(path), self.bucket, self.prefix + key, Config=self.transfer)
        self._record_stat(key, "done", stat.st_size, stat.st_mtime)

    def _snapshot(self) -> None:
        try:
            self._put_snapshot()
        except S3_ERRORS as exc:
            log.warning("could not upload the database snapshot (will retry): %s", exc)
            with self._cond:
                if self._snapshot_due is None:
                    self._snapshot_due = time.monotonic() + self.retry_interval

    def _put_snapshot(self) -> None:
        # One object in the single-file layout, which a fresh host's Store splits again on opening.
        # Nothing here writes to the database, or every snapshot would cause another.
        body = self.store.snapshot()
        if body is None:  # nothing was ever written
            return
        self.client.put_object(Bucket=self.bucket, Key=self.prefix + DB_KEY, Body=body)

    def _delete(self, prefix: str) -> None:
        try:
            self._delete_objects(prefix)
        except S3_ERRORS as exc:
            log.warning("could not delete %s from the bucket (will retry): %s", prefix, exc)
            return
        self._remember_delete(prefix, False)

    def _delete_objects(self, prefix: str) -> None:
        keys = list(self._listing(prefix))
        for start in range(0, len(keys), 1000):  # the API's batch limit
            batch = [{"Key": self.prefix + k} for k in keys[start:start + 1000]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
        # The state of lost artifacts too, which the listing does not show.
        for key in set(keys) | {k for k in self.store.all_docs(STATE_TABLE) if k.startswith(prefix)}:
            self.store.delete_doc(STATE_TABLE, key)

    def _listing(self, prefix: str) -> dict[str, int]:
        """{key relative to our prefix: size} of the objects under `prefix`."""
        out: dict[str, int] = {}
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                      Prefix=self.prefix + prefix)
        for page in pages:
            for obj in page.get("Contents", []):
                out[obj["Key"][len(self.prefix):]] = obj["Size"]
        return out

    # -- recorded state ------------------------------------------------------------------------

    def _record(self, key: str, path: Path, state: str, *, error: str = "", attempts: int = 0) -> None:
        stat = path.stat()
        self._record_stat(key, state, stat.st_size, stat.st_mtime, error=error, attempts=attempts)

    def _record_stat(self, key: str, state: str, size: int, mtime: float, *, error: str = "",
                     attempts: int = 0) -> None:
        self.store.put_doc(STATE_TABLE, key, {"state": state, "size": size, "mtime": mtime,
                                              "error": error, "attempts": attempts})

    def _pending_deletes(self) -> list[str]:
        return list((self.store.get_doc(DELETES_TABLE, _DELETES_DOC) or {}).get("prefixes", []))

    def _remember_delete(self, prefix: str, pending: bool) -> None:
        # Persisted, so objects of a video deleted while the bucket was down go once it is back.
        with self._deletes_lock:
            before = self._pending_deletes()
            prefixes = [p for p in before if p != prefix] + ([prefix] if pending else [])
            if prefixes != before:
                self.store.put_doc(DELETES_TABLE, _DELETES_DOC, {"prefixes": prefixes})


def _matches(state: dict[str, Any], path: Path) -> bool:
    stat = path.stat()
    return state.get("state") == "done" and state.get("size") == stat.st_size and \
        state.get("mtime") == stat.st_mtime
