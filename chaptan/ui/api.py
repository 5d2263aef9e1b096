"""The Python-client API: chapter_video, list_videos, get_video, export, delete_video.

Each endpoint is a hidden event with its own api_name, so `gradio_client` calls it exactly as a
user's script would; every one acts only on the caller's own videos.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import gradio as gr

from ..chapters import formats as chapter_formats
from ..services import Services
from .common import outbox_dir, requester, user_errors

WAIT_POLL_SECONDS = 0.5


def build_api(services: Services, heavy: dict, submit: dict) -> None:
    library = services.library
    with gr.Column(visible=False):
        video = gr.File(label="video", type="filepath")
        language = gr.Textbox(label="language", value="auto")
        generator = gr.Textbox(label="generator", value="auto")
        max_chapters = gr.Number(label="max_chapters", value=0, precision=0)
        job_id = gr.Textbox(label="job_id")
        fmt = gr.Textbox(label="format")
        chapters_json = gr.Textbox(label="chapters_json")
        youtube_text = gr.Textbox(label="youtube_text")
        listing = gr.Textbox(label="videos_json")
        details = gr.Textbox(label="video_json")
        exported = gr.File(label="file")
        deleted = gr.Textbox(label="deleted")
        trigger = gr.Button()

    @user_errors
    def chapter_video(path: str | None, lang: str, gen: str, most: float, request: gr.Request,
                      progress=gr.Progress()):
        """Upload a video, wait for its chapters; returns (job_id, chapters_json, youtube_text)."""
        req = requester(services, request)
        if not path:
            raise gr.Error("video is required")
        job = library.submit(req, Path(path), language=(lang or "auto").strip(),
                             generator=(gen or "auto").strip(), max_chapters=int(most or 0))
        while job.status in ("queued", "running"):
            progress(job.progress, desc=job.stage)
            time.sleep(WAIT_POLL_SECONDS)
            job = library.job(req, job.id)
        if job.status == "failed":
            raise gr.Error(f"chaptering failed: {job.error}", print_exception=False)
        result = library.chapters(job)
        return job.id, chapter_formats.to_json(result), chapter_formats.to_youtube(result.chapters)

    trigger.click(chapter_video, [video, language, generator, max_chapters],
                  [job_id, chapters_json, youtube_text], api_name="chapter_video",
                  concurrency_limit=submit["limit"], concurrency_id=submit["id"])

    @user_errors
    def list_videos(request: gr.Request) -> str:
        req = requester(services, request)
        return json.dumps([library.summary(j) for j in library.jobs(req)], ensure_ascii=False)

    trigger.click(list_videos, None, [listing], api_name="list_videos")

    @user_errors
    def get_video(current: str, request: gr.Request) -> str:
        req = requester(services, request)
        return json.dumps(library.details(req, current), ensure_ascii=False)

    trigger.click(get_video, [job_id], [details], api_name="get_video")

    @user_errors
    def export(current: str, key: str, request: gr.Request) -> str:
        req = requester(services, request)
        return str(library.export(req, current, (key or "").strip(), outbox_dir()))

    trigger.click(export, [job_id, fmt], [exported], api_name="export",
                  concurrency_limit=heavy["limit"], concurrency_id=heavy["id"])

    @user_errors
    def delete_video(current: str, request: gr.Request) -> str:
        req = requester(services, request)
        library.delete(req, current)
        return current

    trigger.click(delete_video, [job_id], [deleted], api_name="delete_video")
