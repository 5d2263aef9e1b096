"""Background jobs: a small pool of worker threads that runs queued jobs from the Store.

The Store is the source of truth; the in-memory queue only holds ids. So a restart loses nothing:
`start()` finds the jobs a previous process left queued or running and runs them again, giving up on
a job that was running during MAX_ATTEMPTS crashes (it is probably what crashes the process). An
orderly shutdown (`stop()`) puts its running jobs back in the queue without counting an attempt.
Deleting a job while it runs cancels it at its next progress report.

A worker outlives every error: a job's final state that cannot be written (a read-only or full
disk) is retried until the disk takes it, so processing resumes by itself when the disk comes back.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

from ..errors import ChaptanError
from ..messages import Message
from ..storage.store import Job, JobStatus, NotFoundError, Store

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
_ETA_MIN_ELAPSED = 1.0  # seconds of a stage before its rate says anything
_WAIT_POLL = 1.0  # wait() re-reads the job this often, for jobs deleted or ended elsewhere
_SAVE_RETRY_FIRST, _SAVE_RETRY_MAX = 0.5, 5.0  # seconds between tries of a write the disk refused


class JobCancelled(Exception):
    """Raised out of a progress report when the job was deleted meanwhile; the runner drops the job."""


class JobInterrupted(Exception):
    """Raised by work (or its progress report) when the runner stops because the app shuts down: the
    job goes back in the queue without counting an attempt. A job on a Celery worker goes on there,
    and the next start follows it again (its task id is kept)."""


class ProgressReporter:
    """Callable `report(fraction, stage)` handed to the work function.

    Records the job's progress (in the Store's memory) at most every `min_interval` seconds (and at
    once on a new stage), and estimates the remaining time from how fast the fraction has moved since
    the stage began. `stopping`, once set, makes the next report raise JobInterrupted.
    """

    def __init__(self, store: Store, job_id: str, *, clock: Callable[[], float] = time.monotonic,
                 min_interval: float = 0.5, stopping: threading.Event | None = None) -> None:
        self._store = store
        self._job_id = job_id
        self._stopping = stopping
        self._clock = clock
        self._min_interval = min_interval
        self._stage = ""
        self._stage_start = clock()
        self._stage_fraction = 0.0
        self._last_write: float | None = None

    def __call__(self, fraction: float, stage: str = "") -> None:
        if self._stopping is not None and self._stopping.is_set():
            raise JobInterrupted(self._job_id)
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
            self._store.set_progress(self._job_id, fraction, stage, eta)
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
        self._running: set[str] = set()  # ids of the jobs the workers are on

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
        """Queue a job that is already stored as queued."""
        self._enqueue(job.id)

    def retry(self, job_id: str) -> Job:
        """Queue a failed job again, with a fresh allowance of attempts."""
        job = self._store.get_job(job_id)
        if job is None:
            raise NotFoundError("no job {job_id!r}", job_id=job_id)
        if job.status != JobStatus.FAILED:
            raise ChaptanError("only a failed job can be retried; this one is {status}",
                               status=Message(job.status.value))
        job = self._store.update_job(job_id, status=JobStatus.QUEUED, stage="queued", progress=0.0,
                                     eta_seconds=None, error="", started=None, finished=None, attempts=0,
                                     warnings=())
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
        """Stop taking jobs; running ones stop at their next progress report and go back in the queue
        (as do those that have not reported within `timeout` s), without counting an attempt, so the
        next start() runs them from the beginning. Queued jobs stay queued."""
        self._stopping.set()
        for _ in self._threads:
            self._queue.put(None)  # wakes idle workers
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        with self._lock:
            still_running = list(self._running)
        for job_id in still_running:
            self._requeue_interrupted(job_id)

    def _enqueue(self, job_id: str) -> None:
        with self._lock:
            if job_id in self._pending:
                return
            self._pending.add(job_id)
        self._queue.put(job_id)

    def _recover(self) -> None:
        for job in reversed(self._store.list_jobs()):  # oldest first, as they were submitted
            if job.status == JobStatus.RUNNING and job.attempts >= MAX_ATTEMPTS:
                log.error("job %s was running during %d crashes; giving up on it", job.id, job.attempts)
                failed = self._store.update_job(job.id, status=JobStatus.FAILED, eta_seconds=None,
                                                finished=time.time(),
                                                error=Message("stopped by a crash {count} times",
                                                              count=job.attempts))
                self._finish(failed)
            elif job.status == JobStatus.RUNNING:
                log.warning("job %s was interrupted (attempt %d); queuing it again", job.id, job.attempts)
                self._store.update_job(job.id, status=JobStatus.QUEUED, stage="queued", progress=0.0,
                                       eta_seconds=None)
                self._enqueue(job.id)
            elif job.status == JobStatus.QUEUED:
                self._enqueue(job.id)

    def _worker(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None or self._stopping.is_set():
                return
            with self._lock:
                self._pending.discard(job_id)
            try:
                self._run(job_id)
            except Exception:  # the worker must outlive any single job, or every later job waits forever
                log.exception("job %s: the worker hit an error; it goes on with the next job", job_id)
            finally:
                with self._ended:
                    self._ended.notify_all()

    def _run(self, job_id: str) -> None:
        job = self._store.get_job(job_id)
        if job is None or job.status != JobStatus.QUEUED:  # deleted, or already taken care of
            return
        with self._lock:
            self._running.add(job_id)
        try:
            job = self._save(job_id, status=JobStatus.RUNNING, stage="starting", progress=0.0,
                             eta_seconds=None, error="", started=time.time(), finished=None,
                             attempts=job.attempts + 1)
            log.info("job %s started (attempt %d)", job_id, job.attempts)
            outcome = self._outcome(job)
            if outcome is None:
                return
            job = self._save(job_id, eta_seconds=None, finished=time.time(), **outcome)
        except NotFoundError:
            log.info("job %s was deleted while it ran", job_id)
            return
        except JobInterrupted:
            self._requeue_interrupted(job_id)
            return
        finally:
            with self._lock:
                self._running.discard(job_id)
        log.info("job %s %s after %.1f s", job_id, job.status, (job.finished or 0) - (job.started or 0))
        self._finish(job)

    def _outcome(self, job: Job) -> dict[str, object] | None:
        """The fields that end the job, from running its work; None when the job was deleted.
        JobInterrupted passes through."""
        try:
            self._work(job, ProgressReporter(self._store, job.id, stopping=self._stopping))
        except (JobCancelled, NotFoundError):
            log.info("job %s was deleted while it ran; dropped it", job.id)
            return None
        except JobInterrupted:
            log.info("job %s was interrupted by the shutdown", job.id)
            raise
        except ChaptanError as exc:
            return {"status": JobStatus.FAILED, "error": exc.message or type(exc).__name__}
        except OSError as exc:  # the data folder refused a write, or lost a file
            log.exception("job %s failed on a file operation", job.id)
            reason = exc.strerror or type(exc).__name__  # not str(exc): that names a server path
            return {"status": JobStatus.FAILED,
                    "error": Message("the server could not read or write this video's files ({reason}); "
                                     "retry it once the disk is fine again", reason=reason)}
        except Exception as exc:
            log.exception("job %s failed with an unexpected error", job.id)
            error = Message("internal error: {kind}: {detail}", kind=type(exc).__name__, detail=exc)
            return {"status": JobStatus.FAILED, "error": error}
        return {"status": JobStatus.DONE, "stage": "done", "progress": 1.0, "error": ""}

    def _save(self, job_id: str, **fields: object) -> Job:
        """update_job, tried again while the disk refuses the write (read-only, full, a network volume
        away): a job's state must not be lost, and the worker goes on once it is written. Gives up
        (OSError) only when the runner stops; the next start() then finds the job as it was."""
        delay = _SAVE_RETRY_FIRST
        while True:
            try:
                return self._store.update_job(job_id, **fields)
            except OSError as exc:
                log.warning("could not save job %s (%s); trying again in %.1f s", job_id, exc, delay)
                if self._stopping.wait(delay):
                    raise
                delay = min(2 * delay, _SAVE_RETRY_MAX)

    def _requeue_interrupted(self, job_id: str) -> None:
        """Put a job the shutdown interrupted back in the queue; the attempt does not count, as only
        crashes should make a job fail for good."""
        with self._lock:  # stop() and the worker itself may both get here
            job = self._store.get_job(job_id)
            if job is None or job.status != JobStatus.RUNNING:
                return
            self._store.update_job(job_id, status=JobStatus.QUEUED, stage="queued", progress=0.0,
                                   eta_seconds=None, started=None, attempts=max(0, job.attempts - 1))
        log.info("job %s was interrupted by the shutdown; it runs again on the next start", job_id)

    def _finish(self, job: Job) -> None:
        if self._on_finish is None:
            return
        try:
            self._on_finish(job)
        except Exception:
            log.exception("on_finish for job %s failed", job.id)
