"""Faults lose nothing: a server killed or stopped mid-job runs the job again on restart, and a
data folder that turns read-only or full for a while stops no processing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from gradio_client import Client, handle_file

from chaptan.storage.store import Store
from tests.app_harness import ADMIN, ALICE, BOB, chapter_through_api, free_port, running_app
from tests.disk_faults import remount, tmpfs
from tests.media_factory import TOPICS, spoken_video

REPO = Path(__file__).resolve().parents[1]


def start_server(data_dir: Path, port: int, log: Path) -> subprocess.Popen:
    env = dict(os.environ, CHAPTAN_DATA_DIR=str(data_dir), CHAPTAN_ADMIN_USER=ADMIN[0],
               CHAPTAN_ADMIN_PASSWORD=ADMIN[1], PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=REPO, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/config", timeout=2).status_code == 401:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("server did not start:\n" + log.read_text())


def wait_for(predicate, timeout: float, step: float = 0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out")


def newest_job(client: Client, *statuses: str):
    """For wait_for: the newest job /list_videos shows, once its status is one of `statuses`."""
    def check():
        jobs = json.loads(client.predict(api_name="/list_videos"))
        return jobs[0] if jobs and jobs[0]["status"] in statuses else None
    return check


def finish_after_restart(data_dir: Path, log: Path) -> tuple[dict, dict]:
    """Start the server again and wait for the newest job to end: its listing and its details."""
    port = free_port()
    server = start_server(data_dir, port, log)
    try:
        client = Client(f"http://127.0.0.1:{port}", auth=ADMIN, verbose=False)
        job = wait_for(newest_job(client, "done", "failed"), 240, step=1.0)
        return job, json.loads(client.predict(job["job_id"], api_name="/get_video"))
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def test_killed_server_requeues_the_job_on_restart(tmp_path):
    media = spoken_video(tmp_path / "talk.mp4", TOPICS)
    data_dir, log = tmp_path / "data", tmp_path / "server.log"
    port = free_port()
    server = start_server(data_dir, port, log)
    try:
        client = Client(f"http://127.0.0.1:{port}", auth=ADMIN, verbose=False)
        client.submit(handle_file(str(media.path)), "en", "local", 0, api_name="/chapter_video")
        job = wait_for(newest_job(client, "running"), 120)
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
    # The database survived the kill and still holds the unfinished job.
    store = Store(data_dir / "chaptan.json")
    assert store.get_job(job["job_id"]).status == "running"
    job, details = finish_after_restart(data_dir, log)
    assert job["status"] == "done", job
    assert "spaghetti" in json.dumps(details["transcript"]).lower()
    assert Store(data_dir / "chaptan.json").get_job(job["job_id"]).attempts == 2


def _job_in_store(data_dir: Path, job_id: str):
    return Store(data_dir / "chaptan.json").get_job(job_id)


def test_sigterm_requeues_the_running_job_without_counting_a_crash(tmp_path):
    """docker stop sends SIGTERM: three of them mid-job must not fail the job as crashed 3 times."""
    # Twice the usual talk, and after a restart the job's state read straight from the database:
    # on a quiet machine the requeued job starts with the server and would otherwise be done
    # before a client had connected to see it running.
    media = spoken_video(tmp_path / "talk.mp4", TOPICS + TOPICS)
    data_dir, log = tmp_path / "data", tmp_path / "server.log"
    job_id = None
    for restart in range(3):
        port = free_port()
        server = start_server(data_dir, port, log)
        try:
            if job_id is None:
                client = Client(f"http://127.0.0.1:{port}", auth=ADMIN, verbose=False)
                client.submit(handle_file(str(media.path)), "en", "local", 0, api_name="/chapter_video")
                job_id = wait_for(newest_job(client, "running"), 120)["job_id"]
            else:
                wait_for(lambda known=job_id: _job_in_store(data_dir, known).status == "running", 120)
            server.send_signal(signal.SIGTERM)
            assert server.wait(30) == 0, log.read_text()
        finally:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        job = _job_in_store(data_dir, job_id)
        assert (job.status, job.attempts) == ("queued", 0), (restart, job)
    job, _ = finish_after_restart(data_dir, log)
    assert job["status"] == "done", job


def test_a_data_folder_read_only_for_a_while_stops_nothing(tmp_path):
    """The folder turns read-only mid-job: reads and sign-in go on, the job ends with its state
    instead of hanging, and the next upload is processed once the disk takes writes again."""
    media = spoken_video(tmp_path / "talk.mp4", TOPICS)
    with tmpfs(tmp_path / "data", "256m") as data, running_app(data) as app:
        client = app.client(ALICE)
        first = client.submit(handle_file(str(media.path)), "en", "local", 0, api_name="/chapter_video")

        def listed(predicate):
            jobs = json.loads(client.predict(api_name="/list_videos"))
            return jobs[0] if jobs and predicate(jobs[0]) else None

        job = wait_for(lambda: listed(lambda j: j["status"] == "running"), 120)
        remount(data, "ro")
        try:
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:  # listing works all along
                assert listed(lambda j: True)["job_id"] == job["job_id"]
                time.sleep(0.5)
            app.http(BOB).close()  # signing in works: the login form answers 200
        finally:
            remount(data, "rw")
        try:
            first.result(timeout=180)  # the job ends, done or failed, instead of hanging
        except Exception as exc:
            assert "chaptering failed" in str(exc)
        assert app.services.store.get_job(job["job_id"]).ended
        _, chapters, _ = chapter_through_api(app, ALICE, media.path)  # the worker goes on
        assert chapters["chapters"]


def test_a_full_disk_refuses_the_upload_and_leaves_no_partial_file(tmp_path):
    media = spoken_video(tmp_path / "talk.mp4", TOPICS)
    with tmpfs(tmp_path / "data", "32m") as data:
        # What a crash in the middle of taking an upload leaves: a folder no job owns.
        leftover = data / "users" / "alice" / "jobs" / "0123456789ab" / ".source.mp4.partial"
        leftover.parent.mkdir(parents=True)
        leftover.write_bytes(b"\0" * 1000)
        with running_app(data) as app:
            assert not leftover.parent.exists()
            stats = os.statvfs(data)
            filler = data / "filler"
            filler.write_bytes(b"\0" * (stats.f_bavail * stats.f_frsize - media.path.stat().st_size // 2))
            with pytest.raises(Exception, match="could not store this upload"):
                app.client(ALICE).predict(handle_file(str(media.path)), "en", "local", 0,
                                          api_name="/chapter_video")
            assert not list((data / "users").rglob("*.partial"))
            assert not list((data / "users").glob("*/jobs/*"))
            assert app.services.store.list_jobs() == []
