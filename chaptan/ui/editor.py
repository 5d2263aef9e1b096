"""Chapter editor: a player beside an editable chapter table, transcript search, versions."""

from __future__ import annotations

import gradio as gr

from ..chapters import editing
from ..chapters.formats import youtube_timestamp
from ..chapters.rules import validate
from ..chapters.titles import title_for_span
from ..errors import ChaptanError
from ..services import Services
from .common import Player, fmt_time, requester, user_errors, video_copy
from .i18n import NO_VIDEO, language_of, localized, localized_table, t, translate

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
MATCH_HEADERS = ["Time", "Said"]


def _row(evt: gr.SelectData) -> int:
    """The row of a Dataframe selection (Gradio gives [row, column])."""
    return evt.index[0] if isinstance(evt.index, (list, tuple)) else int(evt.index)


def build_editor_tab(demo: gr.Blocks, services: Services) -> None:
    library = services.library
    with gr.Row():
        pick = gr.Dropdown(label=t("Video"), choices=[], scale=4)
        refresh = gr.Button(t("Refresh list"), size="sm", scale=0, min_width=120)
    state = gr.State({})  # job_id, base_version, duration of the open video
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            player = Player(label=t("Player"), interactive=False, elem_id=PLAYER_ID)
            with gr.Accordion(t("Search the transcript"), open=False):
                query = gr.Textbox(label=t("Find words"), placeholder=t("e.g. planets"))
                matches = gr.Dataframe(headers=MATCH_HEADERS, type="array", interactive=False, wrap=True)
                chapter_here = gr.Button(t("Start a chapter at the selected match"), size="sm")
        with gr.Column(scale=2):
            table = gr.Dataframe(headers=CHAPTER_HEADERS, datatype=["str", "str"], type="array",
                                 interactive=True, column_count=(2, "fixed"), label=t("Chapters"))
            with gr.Row():
                add = gr.Button(t("Add at player time"), size="sm")
                split = gr.Button(t("Split at player time"), size="sm")
            with gr.Row():
                delete = gr.Button(t("Delete row"), size="sm")
                merge = gr.Button(t("Merge with next"), size="sm")
            with gr.Row():
                retitle_one = gr.Button(t("New title for row"), size="sm")
                retitle_all = gr.Button(t("New titles for all"), size="sm")
            problems = gr.Markdown(t(NO_VIDEO))
            save = gr.Button(t("Save as a new version"), variant="primary")
    with gr.Accordion(t("Version history"), open=False):
        history = gr.Dataframe(headers=HISTORY_HEADERS, interactive=False)
        with gr.Row():
            restore_number = gr.Number(label=t("Version to restore"), precision=0, minimum=1)
            restore = gr.Button(t("Restore it as the newest version"))
    selected = gr.Number(value=-1, visible=False)
    playhead = gr.Number(value=0, visible=False)
    match_time = gr.Number(value=-1, visible=False)

    def finished_videos(request: gr.Request):
        req = requester(services, request)
        done = [(j.title, j.id) for j in library.jobs(req) if j.status == "done"]
        return gr.Dropdown(choices=done)

    demo.load(finished_videos, None, [pick], api_visibility="private")

    def chapter_rows(rows: list, request: gr.Request) -> dict:
        return localized_table(CHAPTER_HEADERS, rows, language_of(request))

    def blank_tables(request: gr.Request):
        language = language_of(request)
        return tuple(localized_table(headers, [], language)
                     for headers in (CHAPTER_HEADERS, MATCH_HEADERS, HISTORY_HEADERS))

    demo.load(blank_tables, None, [table, matches, history], api_visibility="private")
    refresh.click(finished_videos, None, [pick], api_visibility="private")

    def report(rows: list, current: dict, request: gr.Request) -> str:
        """The live validation message, in the caller's language: which row breaks which rule, or that
        the list is ready."""
        language = language_of(request)
        if not current:
            return translate(NO_VIDEO, language)
        try:
            chapters = editing.to_chapters(rows, current["duration"])
        except ChaptanError as exc:
            return f"⚠️ {translate(str(exc), language)}"
        found = validate(chapters, current["duration"])
        if not found:
            return translate("✅ YouTube-ready: paste it into your description or save it.", language)
        lines = "\n".join(f"- {translate(p.message, language)}" for p in found)
        draft = "⚠️ **Draft**: YouTube would refuse these chapters yet. You can still save a draft."
        return f"{translate(draft, language)}\n{lines}"

    def history_rows(job_id: str, request: gr.Request) -> dict:
        versions = services.store.list_chapter_versions(job_id)
        rows = [[v.number, fmt_time(v.created), v.author] for v in reversed(versions)]
        return localized_table(HISTORY_HEADERS, rows, language_of(request))

    @user_errors
    def open_video(job_id: str, request: gr.Request):
        req = requester(services, request)
        if not job_id:
            chapters, _, versions = blank_tables(request)
            return {}, None, chapters, localized(NO_VIDEO, request), versions
        job = library.job(req, job_id)
        result = library.chapters(job)
        latest = services.store.latest_chapter_version(job.id)
        current = {"job_id": job.id, "base_version": latest.number if latest else None,
                   "duration": job.duration or 0.0}
        rows = editing.rows_from_chapters(result.chapters)
        return (current, video_copy(services, req, job), chapter_rows(rows, request),
                report(rows, current, request), history_rows(job.id, request))

    pick.change(open_video, [pick], [state, player, table, problems, history], api_visibility="private")
    table.change(report, [table, state], [problems], api_visibility="private", show_progress="hidden")

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
            req = requester(services, request)
            if not current:
                raise gr.Error(NO_VIDEO)
            job = library.job(req, current["job_id"])
            transcript = library.transcript(job)
            duration = current["duration"]
            if op == "add":
                new = editing.add_at(rows, float(at), duration, transcript, title_for_span)
            elif op == "split":
                new = editing.split_at(rows, float(at), duration, transcript, title_for_span)
            elif op == "delete":
                new = editing.delete_row(rows, int(index), duration)
            else:
                new = editing.merge_with_next(rows, int(index), duration)
            return chapter_rows(new, request), report(new, current, request), -1
        return run

    edit_inputs = [table, state, selected, playhead]
    edit_outputs = [table, problems, selected]
    add.click(edit("add"), edit_inputs, edit_outputs, js=READ_PLAYHEAD, api_visibility="private")
    split.click(edit("split"), edit_inputs, edit_outputs, js=READ_PLAYHEAD, api_visibility="private")
    delete.click(edit("delete"), edit_inputs, edit_outputs, api_visibility="private")
    merge.click(edit("merge"), edit_inputs, edit_outputs, api_visibility="private")

    def regenerate(all_rows: bool):
        @user_errors
        def run(rows: list, current: dict, index: float, request: gr.Request):
            req = requester(services, request)
            if not current:
                raise gr.Error(NO_VIDEO)
            chapters = editing.to_chapters(rows, current["duration"])
            indices = None if all_rows else [int(index)]
            titles, note = library.retitle(req, current["job_id"], chapters, indices)
            new = [[row[0], title] for row, title in zip(editing.rows_from_chapters(chapters), titles)]
            gr.Info(localized(f"New titles: {note}.", request))
            return chapter_rows(new, request), report(new, current, request)
        return run

    retitle_one.click(regenerate(False), [table, state, selected], [table, problems],
                      api_visibility="private")
    retitle_all.click(regenerate(True), [table, state, selected], [table, problems],
                      api_visibility="private")

    @user_errors
    def on_save(rows: list, current: dict, request: gr.Request):
        req = requester(services, request)
        if not current:
            raise gr.Error(NO_VIDEO)
        chapters = editing.to_chapters(rows, current["duration"])
        number = library.save_chapters(req, current["job_id"], chapters, current["base_version"])
        gr.Info(localized(f"Saved as version {number}.", request))
        return {**current, "base_version": number}, history_rows(current["job_id"], request)

    save.click(on_save, [table, state], [state, history], api_visibility="private")

    @user_errors
    def on_restore(number: float, current: dict, request: gr.Request):
        req = requester(services, request)
        if not current:
            raise gr.Error(NO_VIDEO)
        saved = library.restore_version(req, current["job_id"], int(number or 0), current["base_version"])
        job = library.job(req, current["job_id"])
        rows = editing.rows_from_chapters(library.chapters(job).chapters)
        gr.Info(localized(f"Version {int(number)} restored as version {saved}.", request))
        current = {**current, "base_version": saved}
        return (current, chapter_rows(rows, request), report(rows, current, request),
                history_rows(job.id, request))

    restore.click(on_restore, [restore_number, state], [state, table, problems, history],
                  api_visibility="private")

    @user_errors
    def on_search(words: str, current: dict, request: gr.Request):
        req = requester(services, request)
        language = language_of(request)
        if not current or not words.strip():
            return localized_table(MATCH_HEADERS, [], language)
        transcript = library.transcript(library.job(req, current["job_id"]))
        needle = words.strip().casefold()
        found = [[youtube_timestamp(s.start), s.text.strip()]
                 for s in transcript.segments if needle in s.text.casefold()]
        return localized_table(MATCH_HEADERS, found, language)

    query.submit(on_search, [query, state], [matches], api_visibility="private")

    def on_match(evt: gr.SelectData, found: list):
        index = _row(evt)
        at = editing.parse_clock(found[index][0]) if 0 <= index < len(found) else None
        if at is None:
            return -1, gr.skip()
        return at, Player(playback_position=at)

    matches.select(on_match, [matches], [match_time, player], api_visibility="private")
    chapter_here.click(edit("add"), [table, state, selected, match_time], edit_outputs,
                       api_visibility="private")
