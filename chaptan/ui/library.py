"""My videos: the caller's jobs (everyone's for admins), to open, retry or delete."""

from __future__ import annotations

import html

import gradio as gr

from ..messages import Message
from ..services import Services
from ..store import Job
from .common import fmt_duration, fmt_time, requester, user_errors
from .i18n import EMPTY_LIBRARY, language_of, localized, localized_table, t, translate
from .results import build_results, empty_results, progress_html, results_values, wire_video_export

HEADERS = ["Title", "Duration", "Status", "Created", "Owner", "ID"]


def state(job: Job, language: str) -> str:
    """The Status cell: a failed video says why, so nobody has to open it to find out."""
    status = translate(job.status, language)
    if job.status == "failed" and job.error:
        return f"{status}: {translate(job.error, language)}"
    return status


def build_library_tab(demo: gr.Blocks, services: Services, heavy: dict,
                      videos_changed: gr.State) -> gr.Dataframe:
    with gr.Row():
        everyone = gr.Checkbox(label=t("Show every user's videos (admins)"), value=False, visible=False)
        refresh = gr.Button(t("Refresh"), size="sm")
    empty = gr.Markdown(t(EMPTY_LIBRARY), visible=False)
    table = gr.Dataframe(headers=HEADERS, interactive=False, wrap=True, label=t("Your videos"))
    with gr.Row():
        selected = gr.Textbox(label=t("Selected video ID"), interactive=True, scale=3)
        open_btn = gr.Button(t("Open"), variant="primary")
        retry_btn = gr.Button(t("Retry"))
        delete_btn = gr.Button(t("Delete"), variant="stop")
    status = gr.HTML()
    panel = build_results("chaptan-library-video")

    @user_errors
    def rows(show_all: bool, request: gr.Request):
        req = requester(services, request)
        jobs = services.library.jobs(req, everyone=show_all)
        language = language_of(request)
        data = [[j.title, fmt_duration(j.duration), state(j, language), fmt_time(j.created), j.owner, j.id]
                for j in jobs]
        return (localized_table(HEADERS, data, language), gr.Markdown(visible=not data),
                gr.Checkbox(visible=req.is_admin))

    listing = [table, empty, everyone]
    refresh.click(rows, [everyone], listing, api_visibility="private")
    everyone.change(rows, [everyone], listing, api_visibility="private")
    demo.load(rows, [everyone], listing, api_visibility="private")
    videos_changed.change(rows, [everyone], listing, api_visibility="private", show_progress="hidden")

    @user_errors
    def on_select(evt: gr.SelectData):
        return evt.row_value[-1] if evt.row_value else ""

    table.select(on_select, None, [selected], api_visibility="private")

    @user_errors
    def on_open(job_id: str, request: gr.Request):
        req = requester(services, request)
        job = services.library.job(req, job_id)
        language = language_of(request)
        status = progress_html(job, language, services.library.playback_progress(job))
        if job.status != "done":
            return (status, *empty_results())
        return (status, *results_values(services, req, job, language, panel.player_id))

    open_btn.click(on_open, [selected], [status, *panel.outputs], api_visibility="private")

    @user_errors
    def on_retry(job_id: str, show_all: bool, request: gr.Request):
        req = requester(services, request)
        job = services.library.retry(req, job_id)
        return (progress_html(job, language_of(request)), *rows(show_all, request))

    retry_btn.click(on_retry, [selected, everyone], [status, *listing], api_visibility="private")

    @user_errors
    def on_delete(job_id: str, show_all: bool, request: gr.Request):
        req = requester(services, request)
        job = services.library.job(req, job_id)
        services.library.delete(req, job_id)
        deleted = localized(Message("Deleted <b>{title}</b>.", title=html.escape(job.title)), request)
        note = f"<div class='chaptan-status'>{deleted}</div>"
        return (note, "", *empty_results(), *rows(show_all, request))

    delete_btn.click(on_delete, [selected, everyone], [status, selected, *panel.outputs, *listing],
                     api_visibility="private")
    wire_video_export(services, panel, selected, heavy)
    return table
