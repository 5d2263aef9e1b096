"""Jobs on other machines: Celery workers behind the same app (`CHAPTAN_BROKER_URL`).

The app stays the only writer of its database. It hands a job to the broker as its id and options;
a worker (`python -m chaptan worker`) reads the upload from the artifact store the app already has
(the data folder shared as a volume, or the S3 bucket), transcribes and chapters it, writes the
transcript back there, and returns the chapters, which are small. Progress travels as task state.

Nothing is lost:
- tasks are acknowledged late and rejected when their worker process dies, so the broker hands them
  to another worker;
- a whole worker machine that stops answering is noticed by the app (it pings the worker that holds
  the job), which sends the job again under a new task id and ignores the old one;
- the task id is kept on the job, so an app restart re-attaches to work already running;
- a broker that is down leaves new jobs "waiting for a worker" until it is back.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import ChaptanError
from ..messages import Message
from ..storage.artifacts import ArtifactStore
from ..storage.store import Job, Store

log = logging.getLogger(__name__)

TASK_NAME = "chaptan.chapter_video"
WAITING_STAGE = "waiting for a worker"
POLL_SECONDS = 0.5  # how often the app reads a running task's state
PING_EVERY = 10.0  # how often the app checks that the worker holding a job still answers
LOST_AFTER_PINGS = 2  # unanswered pings in a row before the job is sent again
BROKER_RETRY_SECONDS = 2.0
SOURCE_WAIT_SECONDS = 120.0  # a worker waits this long for an upload still on its way to the bucket
# Redis hands an unacknowledged task out again after this long; it must exceed the longest job, or a
# long video would run twice. A worker that dies sooner is caught by the app's pings instead.
VISIBILITY_TIMEOUT = 12 * 3600


def make_celery(broker_url: str) -> Any:
    from celery import Celery

    app = Celery("chaptan", broker=broker_url, backend=broker_url)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # a busy worker leaves the next job to an idle one
        task_track_started=True,
        task_serializer="json", result_serializer="json", accept_content=["json"],
        result_expires=7 * 24 * 3600,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
        result_backend_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
        worker_hijack_root_logger=False,
    )
    app.task(name=TASK_NAME, bind=True)(_chapter_video_task)
    return app


# -- the worker's side ------------------------------------------------------------------------------

class BucketFiles:
    """The S3 bucket as a worker uses it: fetch an upload, put a result. Workers keep no mirror
    state (that is the app's database); a failure is the job's failure, with the reason."""

    def __init__(self, settings: Settings):
        from ..storage.s3 import make_client

        self._client = make_client()
        self._bucket = settings.s3_bucket
        self._prefix = settings.s3_prefix

    def upload(self, key: str, path: Path) -> None:
        self._client.upload_file(str(path), self._bucket, self._prefix + key)

    def download(self, key: str, path: Path) -> bool:
        from ..storage.s3 import download_to

        return download_to(self._client, self._bucket, self._prefix + key, path)

    def delete_prefix(self, prefix: str) -> None:
        raise ChaptanError("workers never delete from the bucket")


@dataclasses.dataclass
class WorkerContext:
    settings: Settings
    artifacts: ArtifactStore
    transcriber: Any


@cache
def worker_context() -> WorkerContext:
    """What a worker process needs, built once per process from the same settings as the app."""
    from ..speech.transcribe import WhisperTranscriber

    settings = Settings.from_env()
    mirror = BucketFiles(settings) if settings.s3_bucket else None
    return WorkerContext(settings, ArtifactStore(settings.data_dir, mirror),
                         WhisperTranscriber(settings=settings))


def _source_of(context: WorkerContext, job: Job) -> Path:
    deadline = time.monotonic() + SOURCE_WAIT_SECONDS
    while True:
        try:
            return context.artifacts.path(job.owner, job.id, job.source_name)
        except ChaptanError:
            if time.monotonic() > deadline:
                where = (Message("the bucket") if context.settings.s3_bucket
                         else Message("the data folder {folder}", folder=context.settings.data_dir))
                raise ChaptanError("the worker on {host} cannot read this video's upload from {where}; "
                                   "workers need the app's data folder or bucket", host=socket.gethostname(),
                                   where=where) from None
        except Exception as exc:
            raise ChaptanError("the worker on {host} cannot reach the store: {kind}: {detail}",
                               host=socket.gethostname(), kind=type(exc).__name__, detail=exc) from None
        time.sleep(2.0)


def _chapter_video_task(task: Any, job_fields: dict[str, Any]) -> dict[str, Any]:
    from ..videos import transcribe_and_chapter

    context = worker_context()
    job = Job(**job_fields)
    host = task.request.hostname or socket.gethostname()
    progress = {"last": 0.0}

    def report(fraction: float, stage: str) -> None:
        now = time.monotonic()
        if now - progress["last"] >= POLL_SECONDS or stage in ("starting", "done"):
            progress["last"] = now
            task.update_state(state="PROGRESS", meta={"fraction": float(fraction), "stage": stage,
                                                      "host": host, "pid": os.getpid()})

    report(0.0, "starting")
    source = _source_of(context, job)
    result = transcribe_and_chapter(context.settings, context.artifacts, context.transcriber, job, source,
                                    report)
    return {**result, "host": host}


def run_worker(concurrency: int, loglevel: str = "INFO") -> int:
    """Serve jobs until stopped; each worker process loads the Whisper model once, at its start."""
    from celery.signals import worker_process_init

    settings = Settings.from_env()
    if not settings.broker_url:
        raise ChaptanError("set CHAPTAN_BROKER_URL (e.g. redis://localhost:6379/0) to start a worker")
    app = make_celery(settings.broker_url)

    @worker_process_init.connect(weak=False)
    def load_model(**_: Any) -> None:
        worker_context().transcriber.warm_up()

    name = f"chaptan@{socket.gethostname()}-{os.getpid()}"  # unique, so two workers on one host differ
    app.worker_main(["worker", f"--concurrency={max(1, concurrency)}", "--pool=prefork",
                     f"--loglevel={loglevel}", "--without-gossip", "-n", name])
    return 0


# -- the app's side ---------------------------------------------------------------------------------

class RemoteWork:
    """The job runner's `work(job, report)` when jobs run on Celery workers: send (or re-attach to)
    the job's task, relay its progress, and record its result, which only the app may write."""

    def __init__(self, celery: Any, store: Store,
                 record: Callable[[Job, dict[str, Any]], None], clock: Callable[[], float] = time.monotonic):
        self._celery = celery
        self._store = store
        self._record = record
        self._clock = clock

    def __call__(self, job: Job, report: Callable[[float, str], None]) -> None:
        task_id = job.task_id or self._send(job, report)
        while True:
            outcome = self._follow(job, task_id, report)
            if outcome is not None:
                # No report after this: a shutdown raising out of one would requeue a recorded job.
                self._record(self._store.get_job(job.id) or job, outcome)
                return
            log.warning("the worker running job %s stopped answering; sending it again", job.id)
            self._revoke(task_id)
            task_id = self._send(job, report)

    def _send(self, job: Job, report: Callable[[float, str], None]) -> str:
        task_id = uuid.uuid4().hex
        # The id is kept before sending, so a restart between the two re-attaches instead of sending twice.
        self._store.update_job(job.id, task_id=task_id, worker="")
        fields = {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(job).items()}
        fields["task_id"] = task_id
        while True:
            try:
                self._celery.send_task(TASK_NAME, args=[fields], task_id=task_id, retry=False)
                return task_id
            except Exception as exc:  # kombu's OperationalError, a refused connection, DNS ...
                log.warning("broker unreachable (%s); job %s waits", exc, job.id)
                report(0.0, WAITING_STAGE)
                time.sleep(BROKER_RETRY_SECONDS)

    def _follow(self, job: Job, task_id: str, report: Callable[[float, str], None]) -> dict[str, Any] | None:
        """The task's result; None when the worker holding it is gone. A failed task raises.

        Every turn of the loop reports, so the app's shutdown, which makes a report raise
        JobInterrupted, stops the following within a poll; the task goes on on its worker."""
        result = self._celery.AsyncResult(task_id)
        host, unanswered, next_ping = "", 0, self._clock() + PING_EVERY
        shown = (0.0, WAITING_STAGE)
        while True:
            try:
                state, info = result.state, result.info
            except Exception as exc:  # the result backend (the broker) is down: wait for it
                log.warning("cannot read job %s's state (%s)", job.id, exc)
                report(0.0, WAITING_STAGE)
                time.sleep(BROKER_RETRY_SECONDS)
                continue
            if state == "SUCCESS":
                return info
            if state in ("FAILURE", "REVOKED"):
                if info:  # the worker's own English text: its message id stayed in that process
                    raise ChaptanError(Message(str(info)))
                raise ChaptanError("the worker's task ended as {state}", state=state.lower())
            if state in ("STARTED", "PROGRESS") and isinstance(info, dict):
                holder = str(info.get("host") or info.get("hostname") or "")
                if holder and holder != host:
                    host, unanswered = holder, 0
                    self._store.update_job(job.id, worker=host)
                if state == "PROGRESS":
                    shown = (float(info.get("fraction", 0.0)), str(info.get("stage") or "transcribing"))
            elif state == "PENDING":
                shown = (0.0, WAITING_STAGE)
            report(*shown)
            if host and self._clock() >= next_ping:
                next_ping = self._clock() + PING_EVERY
                unanswered = 0 if self._answers(host) else unanswered + 1
                if unanswered >= LOST_AFTER_PINGS:
                    return None
            time.sleep(POLL_SECONDS)

    def _answers(self, host: str) -> bool:
        try:
            return bool(self._celery.control.ping(destination=[host], timeout=2.0))
        except Exception:  # the broker itself is down: that is not the worker's loss
            return True

    def _revoke(self, task_id: str) -> None:
        try:
            self._celery.control.revoke(task_id)
        except Exception:
            log.warning("could not revoke task %s", task_id, exc_info=True)
