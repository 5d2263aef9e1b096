"""My videos: the caller's jobs (everyone's for admins). A click on a row opens the video; it can
then be renamed, retried or deleted."""

from __future__ import annotations

import html

import gradio as gr

from ..messages import Message
from ..services import Services
from ..storage.store import Job
from .common import fmt_duration, fmt_time, requester, user_errors
from .i18n import EMPTY_LIBRARY, LIBRARY_EMPTY, language_of, localized, localized_table, t, translate
from .results import build_results, empty_results, progress_html, results_values, wire_downloads

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
    # The open video is held by id, not by the table's selection, which a refresh of the list clears.
    selected = gr.State("")
    with gr.Row(equal_height=True):
        title = gr.Textbox(label=t("Title"), interactive=True, scale=3)
        rename_btn = gr.Button(t("Rename"), variant="primary")
        retry_btn = gr.Button(t("Retry"))
        delete_btn = gr.Button(t("Delete"), variant="stop")
    status = gr.HTML()
    panel = build_results("chaptan-library-video", LIBRARY_EMPTY)

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
    def open_row(evt: gr.SelectData, request: gr.Request):
        """A click on any cell of a row opens that row's video (its id is the last column)."""
        if not evt.row_value:
            return gr.skip()
        req = requester(services, request)
        job = services.library.job(req, evt.row_value[-1])
        language = language_of(request)
        status = progress_html(job, language, services.library.playback_progress(job))
        shown = results_values(services, req, job, language, panel.player_id) if job.status == "done" \
            else empty_results()
        return (job.id, job.title, status, *shown)

    table.select(open_row, None, [selected, title, status, *panel.outputs], api_visibility="private")

    def chosen(job_id: str) -> str:
        if not job_id:
            raise gr.Error("Click a video in the list first.")
        return job_id

    @user_errors
    def on_rename(job_id: str, new_title: str, show_all: bool, request: gr.Request):
        req = requester(services, request)
        job = services.library.rename(req, chosen(job_id), new_title)
        renamed = localized(Message("Renamed to <b>{title}</b>.", title=html.escape(job.title)), request)
        return (job.title, f"<div class='chaptan-status'>{renamed}</div>", *rows(show_all, request))

    rename_btn.click(on_rename, [selected, title, everyone], [title, status, *listing],
                     api_visibility="private")
    title.submit(on_rename, [selected, title, everyone], [title, status, *listing], api_visibility="private")

    @user_errors
    def on_retry(job_id: str, show_all: bool, request: gr.Request):
        req = requester(services, request)
        job = services.library.retry(req, chosen(job_id))
        return (progress_html(job, language_of(request)), *rows(show_all, request))

    retry_btn.click(on_retry, [selected, everyone], [status, *listing], api_visibility="private")

    @user_errors
    def on_delete(job_id: str, show_all: bool, request: gr.Request):
        req = requester(services, request)
        job = services.library.job(req, chosen(job_id))
        services.library.delete(req, job_id)
        deleted = localized(Message("Deleted <b>{title}</b>.", title=html.escape(job.title)), request)
        note = f"<div class='chaptan-status'>{deleted}</div>"
        return (note, "", "", *empty_results(), *rows(show_all, request))

    delete_btn.click(on_delete, [selected, everyone], [status, selected, title, *panel.outputs, *listing],
                     api_visibility="private")
    wire_downloads(services, panel, selected, heavy)
    return table
