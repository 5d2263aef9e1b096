"""The results panel (player, chapters, transcript, a download in the format asked for), shown by
Upload and My videos."""

from __future__ import annotations

import html
from dataclasses import dataclass

import gradio as gr

from ..chapters import formats as chapter_formats
from ..chapters.rules import validate
from ..exports import EXPORTS
from ..messages import Message
from ..services import Services
from ..storage.store import Job, JobStatus
from ..videos import Requester
from .common import Player, fmt_duration, outbox_dir, requester, user_errors, video_link
from .i18n import t, translate
from .timeline import timeline_html


@dataclass
class ResultsPanel:
    video: gr.Video
    timeline: gr.HTML
    youtube: gr.Textbox
    notes: gr.Markdown
    transcript: gr.Textbox
    export_format: gr.Dropdown
    download: gr.Button
    exported: gr.File
    body: gr.Column
    empty: gr.Markdown
    player_id: str

    @property
    def outputs(self) -> list:
        """What opening a video sets, the player first."""
        return [self.video, self.timeline, self.youtube, self.notes, self.transcript, self.exported,
                self.body, self.empty]


def build_results(player_id: str, empty_note: str) -> ResultsPanel:
    """The panel, its player named `player_id` (unique in the page: the timeline seeks it by id);
    until a video is shown, only `empty_note` is."""
    empty = gr.Markdown(t(empty_note), elem_classes=["chaptan-empty"])
    with gr.Column(visible=False) as body:
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                video = Player(label=t("Video"), interactive=False, buttons=["download"], elem_id=player_id)
                timeline = gr.HTML()
            with gr.Column(scale=2):
                youtube = gr.Textbox(label=t("Chapters: paste into your YouTube description"), lines=10,
                                     interactive=False, buttons=["copy"])
                notes = gr.Markdown()
        transcript = gr.Textbox(label=t("Transcript"), lines=8, max_lines=20, interactive=False,
                                buttons=["copy"])
        with gr.Row(equal_height=False):
            with gr.Column():
                export_format = gr.Dropdown(choices=[(t(e.label), e.key) for e in EXPORTS], value="youtube",
                                            label=t("Download as"))
                download = gr.Button(t("Download"))
            exported = gr.File(label=t("Downloaded file"), interactive=False)
    return ResultsPanel(video, timeline, youtube, notes, transcript, export_format, download, exported,
                        body, empty, player_id)


def empty_results() -> tuple:
    return (None, "", "", "", "", None, gr.Column(visible=False), gr.Markdown(visible=True))


def results_values(services: Services, req: Requester, job: Job, language: str, player_id: str) -> tuple:
    """Values for `ResultsPanel.outputs` for a finished job; notes in `language`. No file is made
    here but the player's link: downloads are made when asked for (`wire_downloads`)."""
    library = services.library
    chapters = library.chapters(job).chapters
    # A draft (say, a clip too short for three chapters) is shown, but not exported as YouTube-ready.
    problems = [p.message for p in validate(chapters, job.duration or 0.0)]
    notes = "\n".join(f"- ⚠️ {html.escape(translate(w, language))}" for w in (*job.warnings, *problems))
    transcript = services.exports.text(job, "txt")
    timeline = timeline_html(chapters, job.duration or 0.0, player_id)
    return (video_link(services, req, job), timeline, chapter_formats.to_youtube(chapters), notes, transcript,
            None, gr.Column(visible=True), gr.Markdown(visible=False))


def progress_html(job: Job | None, language: str, copying: float | None = None) -> str:
    """A progress bar with the stage and an ETA, in `language`; empty when there is no job.
    `copying`: how far the playable copy of the upload is, while it is being made."""
    if job is None:
        return ""
    copy_note = ""
    if copying is not None:
        making = Message("Making a copy your browser can play: {percent}%.", percent=int(copying * 100))
        note = translate(making, language)
        copy_note = f" <span class='chaptan-copy'>{html.escape(note)}</span>"
    title = html.escape(job.title)
    if job.status == JobStatus.FAILED:
        error = html.escape(translate(job.error, language))
        failed = translate(Message("<b>{title}</b>: failed. {error}", title=title, error=error), language)
        return f"<div class='chaptan-status failed'>{failed}</div>"
    if job.status == JobStatus.DONE:
        done = translate(Message("<b>{title}</b> ({length}): done.", title=title,
                                 length=fmt_duration(job.duration)),
                         language)
        return f"<div class='chaptan-status done'>{done}{copy_note}</div>"
    percent = int(job.progress * 100)
    stage = translate({"queued": "waiting for a free worker"}.get(job.stage, job.stage), language)
    left = Message("about {time} left", time=fmt_duration(job.eta_seconds))
    eta = f" · {translate(left, language)}" if job.eta_seconds else ""
    return (f"<div class='chaptan-status running'><b>{title}</b>: {html.escape(stage)} · {percent}%{eta}"
            f"{copy_note}<div class='chaptan-bar'><div style='width:{percent}%'></div></div></div>")


CSS = """
.chaptan-status {padding: 0.6em 0.8em; border-radius: 8px; background: var(--block-background-fill);}
.chaptan-status.failed {border-left: 4px solid #d33;}
.chaptan-status.done {border-left: 4px solid #2a2;}
.chaptan-bar {height: 8px; margin-top: 6px; background: var(--border-color-primary); border-radius: 4px;}
.chaptan-bar > div {height: 8px; background: var(--color-accent); border-radius: 4px; transition: width .8s;}
"""


def wire_downloads(services: Services, panel: ResultsPanel, job_id: gr.State, heavy: dict) -> None:
    """One file, in the format picked, made when Download is clicked. The video export remuxes the
    whole video, so downloads share the heavy-work limit."""
    @user_errors
    def on_download(current: str, key: str, request: gr.Request):
        req = requester(services, request)
        if not current:
            raise gr.Error("Open a finished video first.")
        return str(services.exports.write(req, current, key, outbox_dir(req)))

    panel.download.click(on_download, [job_id, panel.export_format], [panel.exported],
                         api_visibility="private",
                         concurrency_limit=heavy["limit"], concurrency_id=heavy["id"])
