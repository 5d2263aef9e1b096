"""Upload & chapter: send a video, watch its progress, get chapters, transcript and downloads."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from ..config import format_size
from ..messages import Message
from ..services import Services
from ..videos import LANGUAGES
from .common import requester, user_errors, video_link
from .i18n import UPLOAD_EMPTY, UPLOAD_INTRO, language_of, localized, t
from .results import build_results, empty_results, progress_html, results_values, wire_downloads

MEDIA_TYPES = [".mp4", ".mov", ".mkv", ".webm", ".m4a", ".mp3", ".wav", ".flac"]
GENERATOR_CHOICES = [(t("Automatic (LLM when configured)"), "auto"), (t("Local, offline"), "local"),
                     ("LLM", "llm")]
POLL_SECONDS = 1.0


def language_choices(services: Services) -> list[str]:
    """auto, then the listed languages the model in use can transcribe (only en for an English-only
    model), so the form never offers a choice that fails the job."""
    known = getattr(services.transcriber, "languages", None)
    hearable = set(known()) if known else set(LANGUAGES)
    return ["auto"] + [code for code in LANGUAGES[1:] if code in hearable]


def build_upload_tab(demo: gr.Blocks, services: Services, heavy: dict) -> None:
    gr.Markdown(t(UPLOAD_INTRO))
    with gr.Row():
        with gr.Column(scale=3):
            upload = gr.File(label=t("Video or audio"), file_types=MEDIA_TYPES, type="filepath")
            size_limit = gr.Markdown()
        with gr.Column(scale=2):
            language = gr.Dropdown(choices=language_choices(services), value="auto",
                                   label=t("Spoken language"), allow_custom_value=True)
            generator = gr.Radio(choices=GENERATOR_CHOICES, value="auto", label=t("Chapter writer"))
            max_chapters = gr.Number(value=0, precision=0, minimum=0,
                                     label=t("Maximum chapters (0: no limit)"))
            start = gr.Button(t("Start"), variant="primary")
    job_id = gr.State("")
    shown = gr.State("")  # the job whose results are on screen (a playable copy may still follow)
    status = gr.HTML()
    timer = gr.Timer(POLL_SECONDS, active=False)
    panel = build_results("chaptan-upload-video", UPLOAD_EMPTY)

    @user_errors
    def on_start(path: str | None, lang: str, gen: str, most: float, request: gr.Request):
        req = requester(services, request)
        if not path:
            raise gr.Error("Choose a video or audio file first.")
        job = services.library.submit(req, Path(path), language=lang or "auto", generator=gen,
                                      max_chapters=int(most or 0))
        return (job.id, progress_html(job, language_of(request)), gr.Timer(active=True), None,
                *empty_results())

    start.click(on_start, [upload, language, generator, max_chapters],
                [job_id, status, timer, upload, *panel.outputs], api_visibility="private",
                concurrency_limit=heavy["limit"], concurrency_id=heavy["id"])

    @user_errors
    def on_tick(current: str, on_screen: str, request: gr.Request):
        req = requester(services, request)
        unchanged = [gr.skip()] * len(panel.outputs)
        if not current:
            return ("", gr.Timer(active=False), *unchanged, on_screen)
        job = services.library.job(req, current)
        language = language_of(request)
        copying = services.library.playback_progress(job)
        status_now = progress_html(job, language, copying)
        if job.status == "done":
            if on_screen != current:
                values = results_values(services, req, job, language, panel.player_id)
            else:  # the results are up; the player changes once the playable copy is made
                player = gr.skip() if copying is not None else video_link(services, req, job)
                values = (player, *unchanged[1:])
            return (status_now, gr.Timer(active=copying is not None), *values, current)
        active = job.status in ("queued", "running")
        return (status_now, gr.Timer(active=active), *unchanged, on_screen)

    timer.tick(on_tick, [job_id, shown], [status, timer, *panel.outputs, shown], api_visibility="private",
               show_progress="hidden")

    @user_errors
    def on_load(request: gr.Request):
        """Reopening the page shows the caller's job that is still in progress."""
        req = requester(services, request)
        pending = [j for j in services.library.jobs(req) if j.active]
        if not pending:
            return "", "", gr.Timer(active=False)
        return pending[0].id, progress_html(pending[0], language_of(request)), gr.Timer(active=True)

    demo.load(on_load, None, [job_id, status, timer], api_visibility="private")

    @user_errors
    def upload_limit(request: gr.Request) -> str:
        """The largest upload in the units it was set in (CHAPTAN_MAX_UPLOAD counts in 1024s)."""
        limit = format_size(services.settings.max_upload)
        return localized(Message("Files up to {size} each.", size=limit), request)

    demo.load(upload_limit, None, [size_limit], api_visibility="private")
    wire_downloads(services, panel, job_id, heavy)
