"""The background job runner: progress and ETA, failures, restart recovery, the worker limit."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chaptan.errors import MediaError
from chaptan.jobs.runner import JobRunner, ProgressReporter
from chaptan.storage.store import Job, NotFoundError, Store

TIMEOUT = 20.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "chaptan.json")


@pytest.fixture
def runners() -> Iterator[list[JobRunner]]:
    started: list[JobRunner] = []
    yield started
    for runner in started:
        runner.stop(timeout=5)


def _eventually(condition) -> None:
    """on_finish runs just after a job is stored as ended, so it may trail wait() a little."""
    deadline = time.monotonic() + TIMEOUT
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def _start(runners: list[JobRunner], store: Store, work, **kwargs) -> JobRunner:
    runner = JobRunner(store, work, **kwargs)
    runners.append(runner)
    runner.start()
    return runner


def _submit(store: Store, runner: JobRunner, job_id: str) -> None:
    job = Job(job_id, "ann", title=f"video {job_id}")
    store.add_job(job)
    runner.submit(job)


def test_reporter_throttles_writes_and_estimates_eta(store: Store) -> None:
    store.add_job(Job("j1", "ann", status="running"))
    clock = FakeClock()
    report = ProgressReporter(store, "j1", clock=clock, min_interval=0.5)

    report(0.1, "transcribing")
    assert (store.get_job("j1").stage, store.get_job("j1").progress) == ("transcribing", 0.1)
    assert store.get_job("j1").eta_seconds is None  # no pace yet

    clock.now = 0.2
    report(0.15)
    assert store.get_job("j1").progress == 0.1  # within 0.5 s: not written

    clock.now = 2.0
    report(0.3)  # 0.2 of the video in 2 s, 0.7 to go -> 7 s
    job = store.get_job("j1")
    assert job.progress == 0.3 and job.stage == "transcribing"
    assert job.eta_seconds == pytest.approx(7.0)

    clock.now = 2.1
    report(0.9, "writing chapters")  # a new stage is written at once, its pace unknown yet
    job = store.get_job("j1")
    assert (job.stage, job.progress, job.eta_seconds) == ("writing chapters", 0.9, None)

    clock.now = 4.1
    report(0.95)
    assert store.get_job("j1").eta_seconds == pytest.approx(2.0)


def test_job_runs_with_progress_and_ends_done(store: Store, runners: list[JobRunner]) -> None:
    finished: list[Job] = []
    seen: list[Job] = []

    def work(job: Job, report: ProgressReporter) -> None:
        assert job.status == "running" and job.attempts == 1 and job.started
        report(0.5, "transcribing")
        seen.append(store.get_job(job.id))

    runner = _start(runners, store, work, on_finish=finished.append)
    _submit(store, runner, "j1")
    job = runner.wait("j1", timeout=TIMEOUT)

    assert (seen[0].status, seen[0].stage, seen[0].progress) == ("running", "transcribing", 0.5)
    assert (job.status, job.stage, job.progress, job.error) == ("done", "done", 1.0, "")
    assert job.eta_seconds is None
    assert job.finished >= job.started
    _eventually(lambda: finished)
    assert [j.id for j in finished] == ["j1"] and finished[0].status == "done"


def test_failures_are_recorded_with_a_clear_message(store: Store, runners: list[JobRunner],
                                                    caplog: pytest.LogCaptureFixture) -> None:
    def work(job: Job, report: ProgressReporter) -> None:
        report(0.2, "decoding")
        if job.id == "user-mistake":
            raise MediaError("the file has no audio track")
        raise KeyError("segments")

    finished: list[Job] = []
    runner = _start(runners, store, work, on_finish=finished.append)
    _submit(store, runner, "user-mistake")
    _submit(store, runner, "bug")

    mistake = runner.wait("user-mistake", timeout=TIMEOUT)
    assert (mistake.status, mistake.error) == ("failed", "the file has no audio track")
    assert mistake.stage == "decoding"  # where it failed
    bug = runner.wait("bug", timeout=TIMEOUT)
    assert (bug.status, bug.error) == ("failed", "internal error: KeyError: 'segments'")
    assert "Traceback" in caplog.text and "KeyError: 'segments'" in caplog.text
    _eventually(lambda: len(finished) == 2)
    assert sorted(j.id for j in finished) == ["bug", "user-mistake"]


def test_retry_runs_a_failed_job_again(store: Store, runners: list[JobRunner]) -> None:
    calls: list[str] = []

    def work(job: Job, report: ProgressReporter) -> None:
        calls.append(job.id)
        if len(calls) == 1:
            raise MediaError("network share was offline")

    runner = _start(runners, store, work)
    _submit(store, runner, "j1")
    assert runner.wait("j1", timeout=TIMEOUT).status == "failed"
    queued = runner.retry("j1")
    assert (queued.status, queued.error, queued.attempts) == ("queued", "", 0)
    assert runner.wait("j1", timeout=TIMEOUT).status == "done"
    with pytest.raises(Exception, match="only a failed job"):
        runner.retry("j1")
    with pytest.raises(NotFoundError):
        runner.retry("missing")


def test_restart_requeues_interrupted_jobs(store: Store, runners: list[JobRunner]) -> None:
    # What a killed process leaves behind: one job mid-run, one waiting, one crashed 3 times.
    store.add_job(Job("interrupted", "ann", status="running", stage="transcribing", progress=0.4,
                      attempts=1, created=1.0))
    store.add_job(Job("waiting", "ann", created=2.0))
    store.add_job(Job("poison", "ann", status="running", attempts=3, created=3.0))
    ran: list[tuple[str, int]] = []
    finished: list[Job] = []

    runner = _start(runners, store, lambda job, report: ran.append((job.id, job.attempts)),
                    on_finish=finished.append)

    assert runner.wait("interrupted", timeout=TIMEOUT).status == "done"
    assert runner.wait("waiting", timeout=TIMEOUT).status == "done"
    poison = store.get_job("poison")
    assert (poison.status, poison.error) == ("failed", "stopped by a crash 3 times")
    assert ran == [("interrupted", 2), ("waiting", 1)]  # oldest first; attempts counted
    _eventually(lambda: len(finished) == 3)
    assert {j.id for j in finished} == {"interrupted", "waiting", "poison"}


def test_at_most_workers_jobs_run_at_once(store: Store, runners: list[JobRunner]) -> None:
    lock = threading.Lock()
    running, peak = 0, 0
    release = threading.Event()
    two_running = threading.Event()

    def work(job: Job, report: ProgressReporter) -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
            if running == 2:
                two_running.set()
        release.wait(TIMEOUT)
        with lock:
            running -= 1

    runner = _start(runners, store, work, workers=2)
    for n in range(5):
        _submit(store, runner, f"j{n}")
    assert two_running.wait(TIMEOUT)
    assert sum(j.status == "running" for j in store.list_jobs()) == 2
    release.set()
    for n in range(5):
        assert runner.wait(f"j{n}", timeout=TIMEOUT).status == "done"
    assert peak == 2


def test_deleting_a_running_job_cancels_it(store: Store, runners: list[JobRunner]) -> None:
    started, deleted = threading.Event(), threading.Event()
    reached_end: list[str] = []
    finished: list[Job] = []

    def work(job: Job, report: ProgressReporter) -> None:
        started.set()
        deleted.wait(TIMEOUT)
        report(0.5, "next stage")  # raises for j1: it is gone
        reached_end.append(job.id)

    runner = _start(runners, store, work, on_finish=finished.append)
    _submit(store, runner, "j1")
    assert started.wait(TIMEOUT)
    store.delete_job("j1")
    deleted.set()
    _submit(store, runner, "j2")  # the worker is free again afterwards
    assert runner.wait("j2", timeout=TIMEOUT).status == "done"
    _eventually(lambda: finished)
    assert reached_end == ["j2"] and [j.id for j in finished] == ["j2"]
    assert store.get_job("j1") is None


def test_wait_times_out_and_reports_missing_jobs(store: Store) -> None:
    runner = JobRunner(store, lambda job, report: None)  # not started: nothing runs
    store.add_job(Job("j1", "ann"))
    with pytest.raises(TimeoutError, match="still queued"):
        runner.wait("j1", timeout=0.05)
    with pytest.raises(NotFoundError):
        runner.wait("missing", timeout=0.05)


def test_stop_leaves_queued_jobs_for_the_next_start(store: Store, runners: list[JobRunner]) -> None:
    started, release = threading.Event(), threading.Event()

    def work(job: Job, report: ProgressReporter) -> None:
        started.set()
        release.wait(TIMEOUT)

    runner = _start(runners, store, work)
    _submit(store, runner, "j1")
    _submit(store, runner, "j2")
    assert started.wait(TIMEOUT)
    runner.stop(timeout=0)  # j1 keeps running; nothing new starts
    release.set()
    assert runner.wait("j1", timeout=TIMEOUT).status == "done"
    assert store.get_job("j2").status == "queued"
    resumed = _start(runners, store, lambda job, report: None)
    assert resumed.wait("j2", timeout=TIMEOUT).status == "done"
