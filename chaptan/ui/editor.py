"""Chapter editor: a player beside an editable chapter table, transcript search, versions."""

from __future__ import annotations

import gradio as gr

from ..chapters import editing
from ..chapters.rules import validate
from ..chapters.titles import title_for_span
from ..errors import ChaptanError
from ..messages import Message
from ..services import Services
from ..store import JobStatus
from ..videos import EXPORTS
from .common import Player, fmt_time, outbox_dir, requester, user_errors, video_copy
from .i18n import DRAFT_NOTE, NO_VIDEO, UNREADABLE_NOTE, language_of, localized, localized_table, t, translate
from .timeline import timeline_html, transcript_html

PLAYER_ID = "chaptan-editor-video"
# Gradio cannot read a <video>'s playhead on the server, so these buttons ask the browser for it:
# the JS runs first and its return value becomes the handler's inputs (the last one is the time).
READ_PLAYHEAD = f"""(...args) => {{
  const video = document.querySelector('#{PLAYER_ID} video');
  args[args.length - 1] = video ? video.currentTime : 0;
  return args;
}}"""
CHAPTER_HEADERS = ["Start", "Title"]
HISTORY_HEADERS = ["Version", "Saved", "By"]
WRITTEN_BY = {"llm": "New titles: LLM titles.", "local": "New titles: local titles."}


def _row(evt: gr.SelectData) -> int:
    """The row of a Dataframe selection (Gradio gives [row, column])."""
    return evt.index[0] if isinstance(evt.index, (list, tuple)) else int(evt.index)


def build_editor_tab(demo: gr.Blocks, services: Services, heavy: dict, videos_changed: gr.State) -> None:
    library = services.library
    with gr.Row():
        pick = gr.Dropdown(label=t("Video"), choices=[], scale=4)
        refresh = gr.Button(t("Refresh list"), size="sm", scale=0, min_width=120)
    state = gr.State({})  # job_id, base_version, duration of the open video
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            player = Player(label=t("Player"), interactive=False, elem_id=PLAYER_ID)
            timeline = gr.HTML()
            with gr.Accordion(t("Transcript"), open=True):
                query = gr.Textbox(label=t("Find words"), placeholder=t("e.g. planets"))
                lines = gr.HTML()
        with gr.Column(scale=2):
            table = gr.Dataframe(headers=CHAPTER_HEADERS, datatype=["str", "str"], type="array",
                                 interactive=True, column_count=(2, "fixed"), label=t("Chapters"))
            with gr.Row():
                # Inside a chapter this splits it, so one button does both.
                add = gr.Button(t("Add at player time"), size="sm")
            with gr.Row():
                delete = gr.Button(t("Delete row"), size="sm")
                merge = gr.Button(t("Merge with next"), size="sm")
            with gr.Row():
                retitle_one = gr.Button(t("New title for row"), size="sm")
                retitle_all = gr.Button(t("New titles for all"), size="sm")
            problems = gr.Markdown(t(NO_VIDEO))
            save = gr.Button(t("Save as a new version"), variant="primary")
            with gr.Row(equal_height=True):
                export_format = gr.Dropdown(choices=[(t(e.label), e.key) for e in EXPORTS], value="youtube",
                                            label=t("Export"), scale=3)
                export = gr.Button(t("Download the saved version"), scale=2)
            exported = gr.File(label=t("Exported file"), interactive=False)
    with gr.Accordion(t("Version history"), open=False):
        history = gr.Dataframe(headers=HISTORY_HEADERS, interactive=False)
        with gr.Row():
            # No minimum: Gradio would refuse a value under it with its raw English error before
            # the handler could say anything useful.
            restore_number = gr.Number(label=t("Version to restore"), precision=0, value=None)
            restore = gr.Button(t("Restore it as the newest version"))
    selected = gr.Number(value=-1, visible=False)
    playhead = gr.Number(value=0, visible=False)

    @user_errors
    def finished_videos(request: gr.Request):
        req = requester(services, request)
        done = [(j.title, j.id) for j in library.jobs(req) if j.status == JobStatus.DONE]
        return gr.Dropdown(choices=done)

    demo.load(finished_videos, None, [pick], api_visibility="private")
    videos_changed.change(finished_videos, None, [pick], api_visibility="private", show_progress="hidden")

    def chapter_rows(rows: list, request: gr.Request) -> dict:
        return localized_table(CHAPTER_HEADERS, rows, language_of(request))

    @user_errors
    def blank_tables(request: gr.Request):
        language = language_of(request)
        return tuple(localized_table(headers, [], language) for headers in (CHAPTER_HEADERS, HISTORY_HEADERS))

    demo.load(blank_tables, None, [table, history], api_visibility="private")
    refresh.click(finished_videos, None, [pick], api_visibility="private")

    def report(rows: list, current: dict, request: gr.Request) -> str:
        """The live validation message, in the caller's language: which row breaks which rule, or that
        the list is ready."""
        language = language_of(request)
        if not current:
            return translate(NO_VIDEO, language)
        try:
            chapters = editing.table_chapters(rows, current["duration"])
        except ChaptanError as exc:
            return f"⛔ {translate(exc.message, language)}\n\n{translate(UNREADABLE_NOTE, language)}"
        found = validate(chapters, current["duration"])
        if not found:
            return translate("✅ YouTube-ready: paste it into your description or save it.", language)
        lines = "\n".join(f"- {translate(p.message, language)}" for p in found)
        return f"{translate(DRAFT_NOTE, language)}\n{lines}"

    def history_rows(job_id: str, request: gr.Request) -> dict:
        versions = services.store.list_chapter_versions(job_id)
        rows = [[v.number, fmt_time(v.created), v.author] for v in reversed(versions)]
        return localized_table(HISTORY_HEADERS, rows, language_of(request))

    @user_errors
    def open_video(job_id: str, request: gr.Request):
        req = requester(services, request)
        if not job_id:
            chapters, versions = blank_tables(request)
            return {}, None, chapters, localized(NO_VIDEO, request), versions, "", ""
        job = library.job(req, job_id)
        result = library.chapters(job)
        latest = services.store.latest_chapter_version(job.id)
        current = {"job_id": job.id, "base_version": latest.number if latest else None,
                   "duration": job.duration or 0.0}
        rows = editing.rows_from_chapters(result.chapters)
        segments = library.transcript(job).segments
        return (current, video_copy(services, req, job), chapter_rows(rows, request),
                report(rows, current, request), history_rows(job.id, request), "",
                transcript_html(segments, PLAYER_ID))

    pick.change(open_video, [pick], [state, player, table, problems, history, query, lines],
                api_visibility="private")
    table.change(user_errors(report), [table, state], [problems], api_visibility="private",
                 show_progress="hidden")

    def opened(current: dict, request: gr.Request):
        """The caller, when a video is open in the editor; else the note that asks to choose one."""
        req = requester(services, request)
        if not current:
            raise gr.Error(NO_VIDEO)
        return req

    @user_errors
    def strip(rows: list, current: dict):
        """The timeline of the table as it stands; while a row does not parse, the last one stays."""
        if not current:
            return ""
        try:
            chapters = editing.to_chapters(rows, current["duration"])
        except ChaptanError:
            return gr.skip()
        return timeline_html(chapters, current["duration"], PLAYER_ID)

    table.change(strip, [table, state], [timeline], api_visibility="private", show_progress="hidden")

    @user_errors
    def on_row(evt: gr.SelectData, rows: list):
        """Remember the row and seek the player to its start."""
        index = _row(evt)
        start = editing.parse_clock(rows[index][0]) if 0 <= index < len(rows) else None
        seek = Player(playback_position=start) if start is not None else gr.skip()
        return index, seek

    table.select(on_row, [table], [selected, player], api_visibility="private")

    def edit(op):
        @user_errors
        def run(rows: list, current: dict, index: float, at: float, request: gr.Request):
            req = opened(current, request)
            job = library.job(req, current["job_id"])
            transcript = library.transcript(job)
            duration = current["duration"]
            if op == "add":
                new = editing.add_at(rows, float(at), duration, transcript, title_for_span)
            elif op == "delete":
                new = editing.delete_row(rows, int(index), duration)
            else:
                new = editing.merge_with_next(rows, int(index), duration)
            return chapter_rows(new, request), report(new, current, request), -1
        return run

    edit_inputs = [table, state, selected, playhead]
    edit_outputs = [table, problems, selected]
    add.click(edit("add"), edit_inputs, edit_outputs, js=READ_PLAYHEAD, api_visibility="private")
    delete.click(edit("delete"), edit_inputs, edit_outputs, api_visibility="private")
    merge.click(edit("merge"), edit_inputs, edit_outputs, api_visibility="private")

    def regenerate(all_rows: bool):
        @user_errors
        def run(rows: list, current: dict, index: float, request: gr.Request):
            req = opened(current, request)
            # The selected row counts in the table's order, as the person sees it.
            chapters = editing.table_chapters(rows, current["duration"])
            indices = None if all_rows else [int(index)]
            result = library.retitle(req, current["job_id"], chapters, indices)
            new = editing.rows_from_chapters(result.chapters)
            # The one warning retitle gives is the LLM's failure, local titles written instead.
            failed = next(iter(result.warnings), None)
            note = (Message("New titles: the LLM failed ({reason}); used local titles.",
                            reason=failed.params["reason"])
                    if failed else Message(WRITTEN_BY[result.generator]))
            gr.Info(localized(note, request))
            return chapter_rows(new, request), report(new, current, request)
        return run

    retitle_one.click(regenerate(False), [table, state, selected], [table, problems],
                      api_visibility="private")
    retitle_all.click(regenerate(True), [table, state, selected], [table, problems],
                      api_visibility="private")

    @user_errors
    def on_save(rows: list, current: dict, request: gr.Request):
        req = opened(current, request)
        chapters = editing.to_chapters(rows, current["duration"])
        number = library.save_chapters(req, current["job_id"], chapters, current["base_version"])
        gr.Info(localized(Message("Saved as version {number}.", number=number), request))
        return {**current, "base_version": number}, history_rows(current["job_id"], request)

    save.click(on_save, [table, state], [state, history], api_visibility="private")

    @user_errors
    def on_restore(number: float, current: dict, request: gr.Request):
        req = opened(current, request)
        if not number:  # the box shows 0 while empty
            raise gr.Error("Type the number of the version to restore, or click it in the history.")
        saved = library.restore_version(req, current["job_id"], int(number), current["base_version"])
        job = library.job(req, current["job_id"])
        rows = editing.rows_from_chapters(library.chapters(job).chapters)
        gr.Info(localized(Message("Version {number} restored as version {saved}.", number=int(number),
                                  saved=saved),
                          request))
        current = {**current, "base_version": saved}
        return (current, chapter_rows(rows, request), report(rows, current, request),
                history_rows(job.id, request))

    restore.click(on_restore, [restore_number, state], [state, table, problems, history],
                  api_visibility="private")

    @user_errors
    def on_history_row(evt: gr.SelectData):
        """Clicking a version in the history picks it for Restore."""
        return evt.row_value[0] if evt.row_value else gr.skip()

    history.select(on_history_row, None, [restore_number], api_visibility="private")

    @user_errors
    def on_search(words: str, current: dict, request: gr.Request):
        """The lines that say `words`, as they are typed."""
        req = requester(services, request)
        if not current:
            return ""
        transcript = library.transcript(library.job(req, current["job_id"]))
        nothing = localized(Message("No matches for “{words}”.", words=words.strip()), request)
        return transcript_html(transcript.segments, PLAYER_ID, words, nothing)

    query.input(on_search, [query, state], [lines], api_visibility="private", show_progress="hidden",
                trigger_mode="always_last")

    @user_errors
    def export_saved(key: str, current: dict, request: gr.Request):
        """The export of the newest saved version (what everyone else gets), named after the title."""
        req = opened(current, request)
        return str(library.export(req, current["job_id"], key, outbox_dir(req)))

    # The video export copies the whole file, so it shares the heavy-work limit.
    export.click(export_saved, [export_format, state], [exported], api_visibility="private",
                 concurrency_limit=heavy["limit"], concurrency_id=heavy["id"])
