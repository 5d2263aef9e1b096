"""Start the real app on a free port with a temporary data dir, as users' scripts would meet it."""

from __future__ import annotations

import json
import socket
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import httpx
from gradio_client import Client

from chaptan.config import Settings
from chaptan.services import Services, build_services
from chaptan.ui import build_app, launch_options

ADMIN = ("admin", "admin-password-1")
ALICE = ("alice", "alice-password-1")
BOB = ("bob", "bob-password-12")


def chapter_through_api(app: RunningApp, user: tuple[str, str], media: Path) -> tuple[str, dict, str]:
    """(job_id, chapters result, YouTube text) of `media` chaptered through the public API as
    `user` would: language auto, the local generator, no chapter limit."""
    from gradio_client import handle_file

    job_id, chapters_json, youtube = app.client(user).predict(handle_file(str(media)), "auto", "local", 0,
                                                              api_name="/chapter_video")
    return job_id, json.loads(chapters_json), youtube


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningApp:
    url: str
    services: Services
    demo: gr.Blocks  # its handlers, for browser-only events gradio_client cannot call

    def client(self, user: tuple[str, str]) -> Client:
        return Client(self.url, auth=user, verbose=False)

    def http(self, user: tuple[str, str] | None) -> httpx.Client:
        """An HTTP session logged in as `user` through the login form (None: anonymous)."""
        session = httpx.Client(base_url=self.url, timeout=30)
        if user is not None:
            reply = session.post("/login", data={"username": user[0], "password": user[1]})
            assert reply.status_code == 200, reply.text
        return session

    def handler(self, name: str):
        """A browser-only event's function (api_visibility="private": gradio_client cannot call it)."""
        return next(f.fn for f in self.demo.fns.values() if f.fn.__name__ == name)


@contextmanager
def running_app(data_dir: Path, **settings):
    config = Settings(data_dir=data_dir, models_dir=data_dir / "models", admin_user=ADMIN[0],
                      admin_password=ADMIN[1], **settings)
    services = build_services(config)
    services.start()
    for name, password in (ALICE, BOB):
        if services.store.get_user(name) is None:  # a restart on the same data dir keeps them
            services.accounts.create(name, password)
    demo = build_app(services)
    port = free_port()
    try:
        demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True,
                    **launch_options(services))
        yield RunningApp(f"http://127.0.0.1:{port}", services, demo)
    finally:
        demo.close()
        services.stop()


def add_finished_job(services: Services, owner: str, media: Path, transcript: dict,
                     chapters: list[dict], generator: str = "local") -> str:
    """A job as the worker leaves it (source, transcript, chapter version 1 written by `generator`),
    without re-running whisper: the editor and chat tests start from a processed video."""
    import json
    import uuid

    from chaptan.storage.store import Job

    job = Job(id=uuid.uuid4().hex[:12], owner=owner, title=media.stem, source_name="source" + media.suffix,
              status="done", stage="done", progress=1.0, language="en", generator="local",
              duration=transcript["duration"])
    services.artifacts.put_file(owner, job.id, job.source_name, media)
    services.artifacts.write_text(owner, job.id, "transcript.json", json.dumps(transcript))
    services.store.add_job(job)
    services.store.add_chapter_version(job.id, chapters, author=f"chaptan ({generator})",
                                        base_version=None)
    return job.id
