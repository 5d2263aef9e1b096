"""Chapter editor: a player beside an editable chapter table, transcript search, versions."""

from __future__ import annotations

import gradio as gr

from ..chapters import editing as table_edits
from ..chapters.rules import validate
from ..editing import SaveConflict
from ..errors import ChaptanError
from ..exports import EXPORTS
from ..messages import Message
from ..services import Services
from ..videos import Requester
from .common import Player, finished_choices, fmt_time, outbox_dir, requester, user_errors, video_link
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
HANDLER_NAMES = {"add": "add_chapter", "delete": "delete_row", "merge": "merge_row"}
WRITTEN_BY = {"llm": "New titles: LLM titles.", "local": "New titles: local titles."}


def _row(evt: gr.SelectData) -> int:
    """The row of a Dataframe selection (Gradio gives [row, column])."""
    return evt.index[0] if isinstance(evt.index, (list, tuple)) else int(evt.index)


def build_editor_tab(demo: gr.Blocks, services: Services, heavy: dict, videos_changed: gr.State) -> None:
    library, editing = services.library, services.editing
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
                # A chapter is only its start: one added inside a chapter splits it, so one button
                # does both (README, "Chapter editor").
                add = gr.Button(t("Add at player time"), size="sm")
            with gr.Row():
                delete = gr.Button(t("Delete row"), size="sm")
                merge = gr.Button(t("Merge with next"), size="sm")
            with gr.Row():
                retitle_one = gr.Button(t("New title for row"), size="sm")
                retitle_all = gr.Button(t("New titles for all"), size="sm")
            with gr.Row(equal_height=True):
                changed = gr.Markdown()  # what the last button did to the table
                undo = gr.Button(t("Undo"), size="sm", visible=False, scale=0, min_width=90)
            problems = gr.Markdown(t(NO_VIDEO))
            save = gr.Button(t("Save as a new version"), variant="primary")
            with gr.Group(visible=False) as conflict:
                conflict_note = gr.Markdown()
                with gr.Row():
                    keep_mine = gr.Button(t("Save mine as the newest version"), size="sm", variant="primary")
                    take_theirs = gr.Button(t("Load theirs (Undo brings mine back)"), size="sm")
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
    before = gr.State(None)  # the table's rows before the last button's change, for Undo
    selected = gr.Number(value=-1, visible=False)
    playhead = gr.Number(value=0, visible=False)

    @user_errors
    def finished_videos(request: gr.Request):
        req = requester(services, request)
        return gr.Dropdown(choices=finished_choices(library.jobs(req)))

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
            chapters = table_edits.table_chapters(rows, current["duration"])
        except ChaptanError as exc:
            return f"⛔ {translate(exc.message, language)}\n\n{translate(UNREADABLE_NOTE, language)}"
        found = validate(chapters, current["duration"])
        if not found:
            return translate("✅ YouTube-ready: paste it into your description or save it.", language)
        lines = "\n".join(f"- {translate(p.message, language)}" for p in found)
        return f"{translate(DRAFT_NOTE, language)}\n{lines}"

    def history_rows(req: Requester, job_id: str, request: gr.Request) -> dict:
        rows = [[v.number, fmt_time(v.created), v.author] for v in editing.history(req, job_id)]
        return localized_table(HISTORY_HEADERS, rows, language_of(request))

    def undoable(rows: list, note: Message, request: gr.Request) -> tuple:
        """The values of (before, changed, undo) after a button changed the table from `rows`."""
        return rows, localized(note, request), gr.Button(visible=True)

    def nothing_to_undo() -> tuple:
        return None, "", gr.Button(visible=False)

    @user_errors
    def open_video(job_id: str, request: gr.Request):
        req = requester(services, request)
        if not job_id:
            chapters, versions = blank_tables(request)
            return ({}, None, chapters, localized(NO_VIDEO, request), versions, "", "", *nothing_to_undo(),
                    gr.Group(visible=False))
        video = editing.open(req, job_id)
        current = {"job_id": video.job.id, "base_version": video.base_version,
                   "duration": video.job.duration or 0.0}
        return (current, video_link(services, req, video.job), chapter_rows(video.rows, request),
                report(video.rows, current, request), history_rows(req, video.job.id, request), "",
                transcript_html(video.transcript.segments, PLAYER_ID), *nothing_to_undo(),
                gr.Group(visible=False))

    pick.change(open_video, [pick], [state, player, table, problems, history, query, lines, before, changed,
                                     undo, conflict], api_visibility="private")
    table.change(user_errors(report), [table, state], [problems], api_visibility="private",
                 show_progress="hidden")

    @user_errors
    def withdraw_undo():
        """Typing in the table after a button's change: Undo would now lose what was typed."""
        return nothing_to_undo()

    table.input(withdraw_undo, None, [before, changed, undo], api_visibility="private",
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
            chapters = table_edits.to_chapters(rows, current["duration"])
        except ChaptanError:
            return gr.skip()
        return timeline_html(chapters, current["duration"], PLAYER_ID)

    table.change(strip, [table, state], [timeline], api_visibility="private", show_progress="hidden")

    @user_errors
    def on_row(evt: gr.SelectData, rows: list):
        """Remember the row and seek the player to its start."""
        index = _row(evt)
        start = table_edits.parse_clock(rows[index][0]) if 0 <= index < len(rows) else None
        seek = Player(playback_position=start) if start is not None else gr.skip()
        return index, seek

    table.select(on_row, [table], [selected, player], api_visibility="private")

    def edit(op):
        def run(rows: list, current: dict, index: float, at: float, request: gr.Request):
            req = opened(current, request)
            duration = current["duration"]
            if op == "add":
                new = editing.add_at(req, current["job_id"], rows, float(at))
                split = table_edits.chapter_at(rows, float(at), duration)
                time = table_edits.row_time(float(at))
                note = (Message("Chapter added at {time}; it splits “{title}”.", time=time, title=split.title)
                        if split else Message("Chapter added at {time}.", time=time))
            elif op == "delete":
                new = table_edits.delete_row(rows, int(index), duration)
                note = Message("Row {row} deleted.", row=int(index) + 1)
            else:
                new = table_edits.merge_with_next(rows, int(index), duration)
                note = Message("Row {row} merged with the chapter after it.", row=int(index) + 1)
            return (chapter_rows(new, request), report(new, current, request), -1,
                    *undoable(rows, note, request))
        # Each button's handler under its own name, for the server log (and the tests that call it).
        run.__name__ = run.__qualname__ = HANDLER_NAMES[op]
        return user_errors(run)

    edit_inputs = [table, state, selected, playhead]
    edit_outputs = [table, problems, selected, before, changed, undo]
    add.click(edit("add"), edit_inputs, edit_outputs, js=READ_PLAYHEAD, api_visibility="private")
    delete.click(edit("delete"), edit_inputs, edit_outputs, api_visibility="private")
    merge.click(edit("merge"), edit_inputs, edit_outputs, api_visibility="private")

    def regenerate(all_rows: bool):
        def run(rows: list, current: dict, index: float, request: gr.Request):
            req = opened(current, request)
            # The selected row counts in the table's order, as the person sees it.
            chapters = table_edits.table_chapters(rows, current["duration"])
            indices = None if all_rows else [int(index)]
            result = editing.retitle(req, current["job_id"], chapters, indices)
            new = table_edits.rows_from_chapters(result.chapters)
            # The one warning retitle gives is the LLM's failure, local titles written instead.
            failed = next(iter(result.warnings), None)
            written = (Message("New titles: the LLM failed ({reason}); used local titles.",
                               reason=failed.params["reason"])
                       if failed else Message(WRITTEN_BY[result.generator]))
            gr.Info(localized(written, request))
            count = sum(old.title != fresh.title for old, fresh in zip(chapters, result.chapters))
            note = Message("{count} of {total} titles changed.", count=count,
                           total=len(chapters) if indices is None else len(indices))
            return chapter_rows(new, request), report(new, current, request), *undoable(rows, note, request)
        run.__name__ = run.__qualname__ = "retitle_all" if all_rows else "retitle_row"
        return user_errors(run)

    regenerate_outputs = [table, problems, before, changed, undo]
    retitle_one.click(regenerate(False), [table, state, selected], regenerate_outputs,
                      api_visibility="private")
    retitle_all.click(regenerate(True), [table, state, selected], regenerate_outputs,
                      api_visibility="private")

    @user_errors
    def on_undo(previous: list | None, current: dict, request: gr.Request):
        """The table as it was before the last button's change."""
        if previous is None:
            return gr.skip()
        return chapter_rows(previous, request), report(previous, current, request), *nothing_to_undo()

    undo.click(on_undo, [before, state], [table, problems, before, changed, undo], api_visibility="private")

    def saved(req: Requester, current: dict, number: int, request: gr.Request) -> tuple:
        gr.Info(localized(Message("Saved as version {number}.", number=number), request))
        return ({**current, "base_version": number}, history_rows(req, current["job_id"], request),
                gr.Group(visible=False), "")

    @user_errors
    def on_save(rows: list, current: dict, request: gr.Request):
        """Save the table on top of the version it was opened from; when someone saved since, the
        table stays as it is and the choices show under the button."""
        req = opened(current, request)
        chapters = table_edits.to_chapters(rows, current["duration"])
        try:
            number = editing.save(req, current["job_id"], chapters, current["base_version"])
        except SaveConflict as exc:
            return gr.skip(), gr.skip(), gr.Group(visible=True), conflict_text(exc, request)
        return saved(req, current, number, request)

    def conflict_text(exc: SaveConflict, request: gr.Request) -> str:
        latest = exc.conflict.latest
        told = exc.message if latest is None else Message(
            "{author} saved version {version} at {time}, after you opened these chapters.",
            author=latest.author, version=latest.number, time=fmt_time(latest.created))
        choices = Message("Your edits are still in the table. Save them as the newest version (theirs "
                          "stays in the history), or load theirs.")
        return f"⚠️ {localized(told, request)} {localized(choices, request)}"

    save_outputs = [state, history, conflict, conflict_note]
    save.click(on_save, [table, state], save_outputs, api_visibility="private")

    @user_errors
    def on_keep_mine(rows: list, current: dict, request: gr.Request):
        """After a conflict: the table saved on top of the newer version."""
        req = opened(current, request)
        chapters = table_edits.to_chapters(rows, current["duration"])
        return saved(req, current, editing.save_over(req, current["job_id"], chapters), request)

    keep_mine.click(on_keep_mine, [table, state], save_outputs, api_visibility="private")

    @user_errors
    def on_take_theirs(rows: list, current: dict, request: gr.Request):
        """After a conflict: the newer version loaded into the table, the person's edits one Undo away."""
        req = opened(current, request)
        video = editing.open(req, current["job_id"])
        current = {**current, "base_version": video.base_version}
        note = Message("Loaded version {version}. Undo brings your edits back.", version=video.base_version)
        return (current, chapter_rows(video.rows, request), report(video.rows, current, request),
                history_rows(req, video.job.id, request), gr.Group(visible=False),
                *undoable(rows, note, request))

    take_theirs.click(on_take_theirs, [table, state],
                      [state, table, problems, history, conflict, before, changed, undo],
                      api_visibility="private")

    @user_errors
    def on_restore(number: float, rows: list, current: dict, request: gr.Request):
        req = opened(current, request)
        if not number:  # the box shows 0 while empty
            raise gr.Error("Type the number of the version to restore, or click it in the history.")
        saved_as = editing.restore(req, current["job_id"], int(number), current["base_version"])
        video = editing.open(req, current["job_id"])
        note = Message("Version {number} restored as version {saved}.", number=int(number), saved=saved_as)
        gr.Info(localized(note, request))
        current = {**current, "base_version": saved_as}
        return (current, chapter_rows(video.rows, request), report(video.rows, current, request),
                history_rows(req, video.job.id, request), *undoable(rows, note, request))

    restore.click(on_restore, [restore_number, table, state],
                  [state, table, problems, history, before, changed, undo], api_visibility="private")

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
        transcript = editing.transcript(req, current["job_id"])
        nothing = localized(Message("No matches for “{words}”.", words=words.strip()), request)
        return transcript_html(transcript.segments, PLAYER_ID, words, nothing)

    query.input(on_search, [query, state], [lines], api_visibility="private", show_progress="hidden",
                trigger_mode="always_last")

    @user_errors
    def export_saved(key: str, current: dict, request: gr.Request):
        """The export of the newest saved version (what everyone else gets), named after the title."""
        req = opened(current, request)
        return str(services.exports.write(req, current["job_id"], key, outbox_dir(req)))

    # The video export copies the whole file, so it shares the heavy-work limit.
    export.click(export_saved, [export_format, state], [exported], api_visibility="private",
                 concurrency_limit=heavy["limit"], concurrency_id=heavy["id"])
