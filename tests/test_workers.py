"""Jobs on Celery workers (CHAPTAN_BROKER_URL): a real redis-server on a loopback port, real
`python -m chaptan worker` processes sharing the app's data folder, the app driven over HTTP.

Needs Debian's redis-server (installed by .ci/run); skipped without it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from chaptan.jobs.remote import WAITING_STAGE, make_celery
from chaptan.videos import Requester
from tests.app_harness import ALICE, chapter_through_api, free_port, running_app
from tests.media_factory import TOPICS, spoken_video

REDIS = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(REDIS is None, reason="needs redis-server (apt install redis-server)")
READY_TIMEOUT = 180.0  # a worker imports faster-whisper and loads its model on a busy CPU
JOB_TIMEOUT = 600.0


class Redis:
    def __init__(self, folder: Path):
        self.port = free_port()
        self.folder = folder
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def redis(tmp_path):
    server = Redis(tmp_path)
    server.start()
    yield server
    server.stop()


class Workers:
    """`python -m chaptan worker` processes, each in its own process group so one can be killed
    whole, as when its machine dies."""

    def __init__(self, redis: Redis, data_dir: Path):
        self.redis = redis
        self.data_dir = data_dir
        self.processes: list[subprocess.Popen] = []

    def start(self, count: int = 1) -> None:
        env = {**os.environ, "CHAPTAN_BROKER_URL": self.redis.url, "CHAPTAN_DATA_DIR": str(self.data_dir),
               "CHAPTAN_MODELS_DIR": str(self.data_dir / "models"), "HF_HUB_OFFLINE": "1"}
        for _ in range(count):
            self.processes.append(subprocess.Popen(
                [sys.executable, "-m", "chaptan", "worker", "--concurrency", "1"], env=env,
                start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        self.wait_ready(len(self.processes))

    def hosts(self) -> list[str]:
        replies = make_celery(self.redis.url).control.ping(timeout=1.0) or []
        return sorted(host for reply in replies for host in reply)

    def wait_ready(self, count: int) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while len(self.hosts()) < count:
            assert time.monotonic() < deadline, f"{count} workers never answered"
            assert all(p.poll() is None for p in self.processes), "a worker exited"

    def kill(self, host: str) -> None:
        """kill -9 the whole worker whose name is `host` (its main process and its pool)."""
        pid = int(host.rsplit("-", 1)[1])
        victim = next(p for p in self.processes if p.pid == pid)
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(10)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


@contextmanager
def workers(redis: Redis, data_dir: Path, count: int):
    pool = Workers(redis, data_dir)
    try:
        pool.start(count)
        yield pool
    finally:
        pool.stop()


def until(condition, timeout: float, what: str, step: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(step)


@pytest.fixture(scope="module")
def talk(tmp_path_factory):
    """About 75 s of speech: long enough to be killed mid-transcription."""
    return spoken_video(tmp_path_factory.mktemp("talk") / "talk.mp4", TOPICS[:2])


def test_a_job_runs_on_a_worker_with_progress_and_its_host(tmp_path, redis, talk):
    data = tmp_path / "data"
    with running_app(data, broker_url=redis.url) as app, workers(redis, data, 1) as pool:
        stages: set[str] = set()
        result: dict = {}

        def submit():
            try:
                result["value"] = chapter_through_api(app, ALICE, talk.path)
            except Exception as exc:  # shown by the assertion below
                result["error"] = exc

        thread = threading.Thread(target=submit)
        thread.start()
        while thread.is_alive():
            stages.update(j.stage for j in app.services.store.list_jobs())
            time.sleep(0.2)
        assert "value" in result, result.get("error")
        job_id, chapters, youtube = result["value"]
        job = app.services.store.get_job(job_id)
        assert job.status == "done", job.error
        assert job.worker == pool.hosts()[0]
        assert "transcribing" in stages
        assert len(chapters["chapters"]) >= 3 and youtube.startswith("0")
        assert (data / "users" / ALICE[0] / "jobs" / job_id / "transcript.json").is_file()
        assert len(app.services.store.list_chapter_versions(job_id)) == 1
        assert app.services.library.details(Requester(ALICE[0]), job_id)["worker"] == job.worker


def _submit(app, media: Path) -> str:
    """Submit as the upload tab does; submitting takes the upload away, so a copy goes."""
    upload = app.services.settings.data_dir.parent / f"upload-{time.monotonic_ns()}{media.suffix}"
    shutil.copyfile(media, upload)
    return app.services.library.submit(Requester(ALICE[0]), upload, title="talk", generator="local").id


def test_a_worker_killed_mid_transcription_hands_the_job_to_the_other_once(tmp_path, redis, talk):
    data = tmp_path / "data"
    with running_app(data, broker_url=redis.url) as app, workers(redis, data, 2) as pool:
        job_id = _submit(app, talk.path)
        def transcribing_on() -> str:
            job = app.services.store.get_job(job_id)
            return job.worker if job.stage == "transcribing" else ""

        first = until(transcribing_on, JOB_TIMEOUT, "the job to be transcribing on a worker")
        pool.kill(first)
        job = app.services.runner.wait(job_id, timeout=JOB_TIMEOUT)
        assert job.status == "done", job.error
        assert job.worker and job.worker != first
        assert len(app.services.store.list_chapter_versions(job_id)) == 1
        transcripts = list((data / "users" / ALICE[0] / "jobs" / job_id).glob("*transcript*"))
        assert [t.name for t in transcripts] == ["transcript.json"]


def test_an_app_restarted_while_a_worker_runs_the_job_records_its_result(tmp_path, redis, talk):
    data = tmp_path / "data"
    with workers(redis, data, 1):
        with running_app(data, broker_url=redis.url) as app:
            job_id = _submit(app, talk.path)
            until(lambda: app.services.store.get_job(job_id).stage == "transcribing", JOB_TIMEOUT,
                  "the job to start on the worker")
        with running_app(data, broker_url=redis.url) as app:
            job = app.services.runner.wait(job_id, timeout=JOB_TIMEOUT)
            assert job.status == "done", job.error
            assert len(app.services.store.list_chapter_versions(job_id)) == 1


def test_with_the_broker_down_new_jobs_wait_for_a_worker_and_run_when_it_returns(tmp_path, redis, talk):
    data = tmp_path / "data"
    with running_app(data, broker_url=redis.url) as app, workers(redis, data, 1):
        redis.stop()
        job_id = _submit(app, talk.path)
        until(lambda: app.services.store.get_job(job_id).stage == WAITING_STAGE, 60,
              "the job to say it waits for a worker")
        time.sleep(3)
        assert app.services.store.get_job(job_id).stage == WAITING_STAGE  # still waiting, not failed
        redis.start()  # the same port: the app and the worker reconnect by themselves
        job = app.services.runner.wait(job_id, timeout=JOB_TIMEOUT)
        assert job.status == "done", job.error
