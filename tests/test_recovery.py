"""A server killed mid-job loses nothing: on restart the job is re-queued and finishes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from gradio_client import Client, handle_file

from chaptan.store import Store
from tests.app_harness import ADMIN, free_port
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


def test_killed_server_requeues_the_job_on_restart(tmp_path):
    media = spoken_video(tmp_path / "talk.mp4", TOPICS)
    data_dir, log = tmp_path / "data", tmp_path / "server.log"
    port = free_port()
    server = start_server(data_dir, port, log)
    try:
        client = Client(f"http://127.0.0.1:{port}", auth=ADMIN, verbose=False)
        client.submit(handle_file(str(media.path)), "en", "local", 0, api_name="/chapter_video")

        def running_job():
            jobs = json.loads(client.predict(api_name="/list_videos"))
            return jobs[0] if jobs and jobs[0]["status"] == "running" else None

        job = wait_for(running_job, 120)
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
    # The database survived the kill and still holds the unfinished job.
    store = Store(data_dir / "chaptan.json")
    assert store.get_job(job["job_id"]).status == "running"
    port = free_port()
    server = start_server(data_dir, port, log)
    try:
        client = Client(f"http://127.0.0.1:{port}", auth=ADMIN, verbose=False)

        def finished():
            jobs = json.loads(client.predict(api_name="/list_videos"))
            return jobs[0] if jobs and jobs[0]["status"] in ("done", "failed") else None

        job = wait_for(finished, 240, step=1.0)
        assert job["status"] == "done", job
        details = json.loads(client.predict(job["job_id"], api_name="/get_video"))
        assert "spaghetti" in json.dumps(details["transcript"]).lower()
        assert Store(data_dir / "chaptan.json").get_job(job["job_id"]).attempts == 2
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
