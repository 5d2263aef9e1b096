"""Background jobs: a small pool of worker threads that runs queued jobs from the Store.

The Store is the source of truth; the in-memory queue only holds ids. So a restart loses nothing:
`start()` finds the jobs a previous process left queued or running and runs them again, giving up on
a job that was running during MAX_ATTEMPTS crashes (it is probably what crashes the process).
Deleting a job while it runs cancels it at its next progress report.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

from .errors import ChaptanError
from .messages import Message
from .store import Job, NotFoundError, Store

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
_ETA_MIN_ELAPSED = 1.0  # seconds of a stage before its rate says anything
_WAIT_POLL = 1.0  # wait() re-reads the job this often, for jobs deleted or ended elsewhere


class JobCancelled(Exception):
    """Raised out of a progress report when the job was deleted meanwhile; the runner drops the job."""


class JobInterrupted(Exception):
    """Raised by work that stops because the app shuts down while the job goes on elsewhere (on a
    Celery worker): the job is left as it is, for the next start to pick up."""


class ProgressReporter:
    """Callable `report(fraction, stage)` handed to the work function.

    Writes to the job at most every `min_interval` seconds (and at once on a new stage), and
    estimates the remaining time from how fast the fraction has moved since the stage began.
    """

    def __init__(self, store: Store, job_id: str, *, clock: Callable[[], float] = time.monotonic,
                 min_interval: float = 0.5) -> None:
        self._store = store
        self._job_id = job_id
        self._clock = clock
        self._min_interval = min_interval
        self._stage = ""
        self._stage_start = clock()
        self._stage_fraction = 0.0
        self._last_write: float | None = None

    def __call__(self, fraction: float, stage: str = "") -> None:
        now = self._clock()
        fraction = min(1.0, max(0.0, float(fraction)))
        stage = stage or self._stage
        new_stage = stage != self._stage
        # A fraction that went back (a stage restarted) makes the old rate meaningless too.
        if new_stage or fraction < self._stage_fraction:
            self._stage, self._stage_start, self._stage_fraction = stage, now, fraction
        due = self._last_write is None or now - self._last_write >= self._min_interval
        if new_stage or due:
            self._last_write = now
            self._write(fraction, stage, self.eta(fraction, now))

    def eta(self, fraction: float, now: float) -> float | None:
        """Seconds left at the current stage's pace; None until the stage has shown a pace."""
        elapsed = now - self._stage_start
        done = fraction - self._stage_fraction
        if elapsed < _ETA_MIN_ELAPSED or done <= 0:
            return None
        return (1.0 - fraction) * elapsed / done

    def _write(self, fraction: float, stage: str, eta: float | None) -> None:
        try:
            self._store.update_job(self._job_id, progress=fraction, stage=stage, eta_seconds=eta)
        except NotFoundError:
            raise JobCancelled(self._job_id) from None


class JobRunner:
    """Runs `work(job, report)` for queued jobs on `workers` threads."""

    def __init__(self, store: Store, work: Callable[[Job, ProgressReporter], None], workers: int = 1,
                 on_finish: Callable[[Job], None] | None = None) -> None:
        self._store = store
        self._work = work
        self._workers = max(1, workers)
        self._on_finish = on_finish
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._pending: set[str] = set()  # ids in the queue, so a job is never queued twice
        self._lock = threading.Lock()
        self._ended = threading.Condition()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Re-queue what a previous process left behind, then start the workers (once)."""
        if self._threads:
            return
        self._recover()
        for number in range(1, self._workers + 1):
            thread = threading.Thread(target=self._worker, name=f"chaptan-job-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def submit(self, job: Job) -> None:
        """Queue a job that is already stored with status 'queued'."""
        self._enqueue(job.id)

    def retry(self, job_id: str) -> Job:
        """Queue a failed job again, with a fresh allowance of attempts."""
        job = self._store.get_job(job_id)
        if job is None:
            raise NotFoundError("no job {job_id!r}", job_id=job_id)
        if job.status != "failed":
            raise ChaptanError("only a failed job can be retried; this one is {status}",
                               status=Message(job.status))
        job = self._store.update_job(job_id, status="queued", stage="queued", progress=0.0, eta_seconds=None,
                                     error="", started=None, finished=None, attempts=0, warnings=())
        self._enqueue(job_id)
        return job

    def wait(self, job_id: str, timeout: float | None = None) -> Job:
        """Block until the job is done or failed; TimeoutError after `timeout` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._ended:
            while True:
                job = self._store.get_job(job_id)
                if job is None:
                    raise NotFoundError("no job {job_id!r}", job_id=job_id)
                if job.ended:
                    return job
                remaining = _WAIT_POLL if deadline is None else deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"job {job_id} is still {job.status} after {timeout:g} s")
                self._ended.wait(min(remaining, _WAIT_POLL))

    def stop(self, timeout: float | None = None) -> None:
        """Stop taking jobs and wait up to `timeout` s for the running ones; queued jobs stay queued.

        A job still running when the process exits is resumed (as a new attempt) by the next start().
        """
        self._stopping.set()
        for _ in self._threads:
            self._queue.put(None)  # wakes idle workers
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))

    def _enqueue(self, job_id: str) -> None:
        with self._lock:
            if job_id in self._pending:
                return
            self._pending.add(job_id)
        self._queue.put(job_id)

    def _recover(self) -> None:
        for job in reversed(self._store.list_jobs()):  # oldest first, as they were submitted
            if job.status == "running" and job.attempts >= MAX_ATTEMPTS:
                log.error("job %s was running during %d crashes; giving up on it", job.id, job.attempts)
                failed = self._store.update_job(job.id, status="failed", eta_seconds=None,
                                                finished=time.time(),
                                                error=Message("stopped by a crash {count} times",
                                                              count=job.attempts))
                self._finish(failed)
            elif job.status == "running":
                log.warning("job %s was interrupted (attempt %d); queuing it again", job.id, job.attempts)
                self._store.update_job(job.id, status="queued", stage="queued", progress=0.0,
                                       eta_seconds=None)
                self._enqueue(job.id)
            elif job.status == "queued":
                self._enqueue(job.id)

    def _worker(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None or self._stopping.is_set():
                return
            with self._lock:
                self._pending.discard(job_id)
            self._run(job_id)

    def _run(self, job_id: str) -> None:
        job = self._store.get_job(job_id)
        if job is None or job.status != "queued":  # deleted, or already taken care of
            return
        try:
            job = self._store.update_job(job_id, status="running", stage="starting", progress=0.0,
                                         eta_seconds=None, error="", started=time.time(),
                                         finished=None, attempts=job.attempts + 1)
            log.info("job %s started (attempt %d)", job_id, job.attempts)
            outcome = self._outcome(job)
            if outcome is None:
                return
            job = self._store.update_job(job_id, eta_seconds=None, finished=time.time(), **outcome)
        except NotFoundError:
            log.info("job %s was deleted while it ran", job_id)
            return
        finally:
            with self._ended:
                self._ended.notify_all()
        log.info("job %s %s after %.1f s", job_id, job.status, (job.finished or 0) - (job.started or 0))
        self._finish(job)

    def _outcome(self, job: Job) -> dict[str, object] | None:
        """The fields that end the job, from running its work; None when the job was deleted."""
        try:
            self._work(job, ProgressReporter(self._store, job.id))
        except JobCancelled:
            log.info("job %s was deleted while it ran; dropped it", job.id)
            return None
        except JobInterrupted:
            log.info("job %s goes on without this process; the next start follows it again", job.id)
            return None
        except ChaptanError as exc:
            return {"status": "failed", "error": exc.message or type(exc).__name__}
        except Exception as exc:
            log.exception("job %s failed with an unexpected error", job.id)
            error = Message("internal error: {kind}: {detail}", kind=type(exc).__name__, detail=exc)
            return {"status": "failed", "error": error}
        return {"status": "done", "stage": "done", "progress": 1.0, "error": ""}

    def _finish(self, job: Job) -> None:
        if self._on_finish is None:
            return
        try:
            self._on_finish(job)
        except Exception:
            log.exception("on_finish for job %s failed", job.id)
