"""The Python-client API: chapter_video, list_videos, get_video, export, rename_video, delete_video,
and the chapter editing endpoints.

Each endpoint is a hidden event with its own api_name, so `gradio_client` calls it exactly as a
user's script would; every one acts only on the caller's own videos.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import gradio as gr

from ..chapters import formats as chapter_formats
from ..chapters.editing import table_chapters
from ..chapters.model import Chapter
from ..errors import ChapterError
from ..services import Services
from ..storage.store import JobStatus
from .common import api_errors, outbox_dir, requester

WAIT_POLL_SECONDS = 0.5


def build_api(services: Services, heavy: dict, submit: dict) -> None:
    library, editing = services.library, services.editing
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
        title = gr.Textbox(label="title")
        base_version = gr.Number(label="base_version", precision=0)
        version = gr.Number(label="version", precision=0)
        indices = gr.Textbox(label="rows_json")
        problems = gr.Textbox(label="problems_json")
        trigger = gr.Button()

    @api_errors
    def chapter_video(path: str | None, lang: str, gen: str, most: float, request: gr.Request,
                      progress=gr.Progress()):
        """Upload a video, wait for its chapters; returns (job_id, chapters_json, youtube_text)."""
        req = requester(services, request)
        if not path:
            raise gr.Error("video is required")
        job = library.submit(req, Path(path), language=(lang or "auto").strip(),
                             generator=(gen or "auto").strip(), max_chapters=int(most or 0))
        while job.active:
            progress(job.progress, desc=job.stage)
            time.sleep(WAIT_POLL_SECONDS)
            job = library.job(req, job.id)
        if job.status == JobStatus.FAILED:
            raise gr.Error(f"chaptering failed: {job.error}", print_exception=False)
        result = library.chapters(job)
        return job.id, chapter_formats.to_json(result), chapter_formats.to_youtube(result.chapters)

    trigger.click(chapter_video, [video, language, generator, max_chapters],
                  [job_id, chapters_json, youtube_text], api_name="chapter_video",
                  concurrency_limit=submit["limit"], concurrency_id=submit["id"])

    @api_errors
    def list_videos(request: gr.Request) -> str:
        req = requester(services, request)
        return json.dumps([library.summary(j) for j in library.jobs(req)], ensure_ascii=False)

    trigger.click(list_videos, None, [listing], api_name="list_videos")

    @api_errors
    def get_video(current: str, request: gr.Request) -> str:
        req = requester(services, request)
        return json.dumps(library.details(req, current), ensure_ascii=False)

    trigger.click(get_video, [job_id], [details], api_name="get_video")

    @api_errors
    def export(current: str, key: str, request: gr.Request) -> str:
        req = requester(services, request)
        return str(services.exports.write(req, current, (key or "").strip(), outbox_dir(req)))

    trigger.click(export, [job_id, fmt], [exported], api_name="export",
                  concurrency_limit=heavy["limit"], concurrency_id=heavy["id"])

    @api_errors
    def delete_video(current: str, request: gr.Request) -> str:
        req = requester(services, request)
        library.delete(req, current)
        return current

    trigger.click(delete_video, [job_id], [deleted], api_name="delete_video")

    @api_errors
    def rename_video(current: str, new_title: str, request: gr.Request) -> str:
        """Give one of your videos a new title; returns the title as saved (spaces tidied)."""
        req = requester(services, request)
        return library.rename(req, current, new_title).title

    trigger.click(rename_video, [job_id, title], [title], api_name="rename_video")

    def chapters_in(job_id: str, text: str, req) -> list[Chapter]:
        """Chapters from `{"chapters": [{"start": seconds or "m:ss", "title"}]}` or a bare list, in
        the order given (row 1 is the first), each ending where the next one in time starts."""
        data = json_in("chapters_json", text)
        items = data.get("chapters") if isinstance(data, dict) else data
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise ChapterError('chapters_json must be {"chapters": [{"start": ..., "title": ...}]}')
        rows = [[item.get("start", ""), item.get("title", "")] for item in items]
        return table_chapters(rows, library.job(req, job_id).duration or 0.0)

    @api_errors
    def save_chapters(current: str, text: str, base: float | None, request: gr.Request) -> int:
        """Save chapters as a new version on top of `base_version`; returns the new version number.
        A draft that breaks YouTube's rules is saved as it is; only a start that is not a time is
        refused."""
        req = requester(services, request)
        chapters = chapters_in(current, text, req)
        return editing.save(req, current, chapters, None if base is None else int(base))

    trigger.click(save_chapters, [job_id, chapters_json, base_version], [version], api_name="save_chapters")

    @api_errors
    def validate_chapters(current: str, text: str, request: gr.Request) -> str:
        """YouTube rule violations of a chapter list as a JSON list of {"row", "message"}. Rows are
        the chapters in the order chapters_json gives them, counting from 1 as the messages do (an
        out-of-order start is one of the violations); "row" is null for the list as a whole."""
        req = requester(services, request)
        found = editing.check(req, current, chapters_in(current, text, req))
        return json.dumps([{"row": p.row, "message": p.message} for p in found], ensure_ascii=False)

    trigger.click(validate_chapters, [job_id, chapters_json], [problems], api_name="validate_chapters")

    @api_errors
    def restore_chapters(current: str, number: float, base: float | None, request: gr.Request) -> int:
        """Save an earlier version again as the newest one; returns the new version number."""
        req = requester(services, request)
        return editing.restore(req, current, int(number or 0), None if base is None else int(base))

    trigger.click(restore_chapters, [job_id, version, base_version], [version], api_name="restore_chapters")

    @api_errors
    def retitle_chapters(current: str, text: str, rows: str, request: gr.Request) -> str:
        """New titles (LLM when configured, else local) for the rows in rows_json: a JSON list of row
        numbers counting from 1 in the order chapters_json gives the chapters; [] or empty: every row.
        Returns chapters_json as /chapter_video does: the chapters in the order given, "generator"
        (what wrote the new titles) and "warnings"."""
        req = requester(services, request)
        chapters = chapters_in(current, text, req)
        result = editing.retitle(req, current, chapters, row_indices(rows, len(chapters)))
        return chapter_formats.to_json(result)

    trigger.click(retitle_chapters, [job_id, chapters_json, indices], [chapters_json],
                  api_name="retitle_chapters")


def json_in(name: str, text: str) -> object:
    """The JSON value of the API argument `name`, or a ChapterError that says what is wrong with it."""
    try:
        return json.loads(text or "")
    except json.JSONDecodeError as exc:
        raise ChapterError("{name} is not valid JSON: {reason}", name=name, reason=exc.msg) from None
    except RecursionError:
        raise ChapterError("{name} is nested too deeply to be read", name=name) from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise ChapterError("{name} is not valid JSON: {reason}", name=name, reason=exc) from None


def row_indices(text: str, count: int) -> list[int] | None:
    """0-based indices for rows_json's row numbers (which count from 1); None for every row."""
    if not (text or "").strip():
        return None
    numbers = json_in("rows_json", text)
    if not isinstance(numbers, list) or not all(isinstance(n, int) and not isinstance(n, bool)
                                                for n in numbers):
        raise ChapterError("rows_json must be a JSON list of row numbers counting from 1, e.g. [1, 3]")
    outside = [n for n in numbers if not 1 <= n <= count]
    if outside:
        raise ChapterError("rows_json asks for row {row}, but the rows are 1 to {count}", row=outside[0],
                           count=count)
    return [n - 1 for n in numbers] or None
