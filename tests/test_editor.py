"""The chapter editor's endpoints, driven with gradio_client: edit, validate, save, restore."""

from __future__ import annotations

import json
import re
from pathlib import Path

import gradio as gr
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError

from chaptan.chapters import editing
from chaptan.errors import ChapterError
from tests.app_harness import ALICE, BOB, add_finished_job, running_app
from tests.media_factory import TOPICS, spoken_video

SEGMENTS = [(0.5, 12.0, "Let us start in the kitchen with a simple recipe for pasta."),
            (12.5, 30.0, "Drop in the spaghetti and stir it during the first minute."),
            (40.0, 55.0, "Now let us travel into space to explore the solar system."),
            (55.5, 70.0, "Saturn has beautiful icy rings while Neptune is an ice giant."),
            (80.0, 95.0, "Finally let us talk about football, the most popular sport."),
            (95.5, 110.0, "The goalkeeper may touch the ball with the hands.")]
DURATION = 115.0
FIRST = [{"start": 0.0, "end": 40.0, "title": "Cooking pasta"},
         {"start": 40.0, "end": 80.0, "title": "The solar system"},
         {"start": 80.0, "end": DURATION, "title": "Football"}]
TRANSCRIPT = {"language": "en", "duration": DURATION,
              "segments": [{"start": a, "end": b, "text": t} for a, b, t in SEGMENTS]}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("editor")
    media = spoken_video(folder / "talk.mp4", TOPICS[:1])
    with running_app(folder / "data") as running:
        running.media = media.path
        running.job_id = add_finished_job(running.services, "alice", media.path, TRANSCRIPT, FIRST)
        yield running


def chapters(*rows) -> str:
    return json.dumps({"chapters": [{"start": s, "title": t} for s, t in rows]})


def test_validation_reports_each_rule_with_its_row(app):
    client = app.client(ALICE)

    def problems(*rows):
        return json.loads(client.predict(app.job_id, chapters(*rows), api_name="/validate_chapters"))

    assert problems((0, "Intro"), ("0:40", "Planets"), ("1:20", "Football")) == []
    cases = {
        "first chapter must start at 0:00": ((5, "Intro"), (40, "Planets"), (80, "Football")),
        "at least 3 chapters": ((0, "Intro"), (40, "Planets")),
        "lasts 5 s": ((0, "Intro"), (40, "Planets"), (45, "Too short"), (80, "Football")),
        "has no title": ((0, "Intro"), (40, ""), (80, "Football")),
        "the limit is 70": ((0, "Intro"), (40, "x" * 71), (80, "Football")),
        "same title as row 1": ((0, "Intro"), (40, "intro"), (80, "Football")),
    }
    for expected, rows in cases.items():
        found = problems(*rows)
        assert len(found) == 1 and expected in found[0]["message"], (expected, found)
    # Rows count from 1, as the messages do: "Planets" (40 s to 45 s) is the short one.
    assert problems((0, "Intro"), (40, "Planets"), (45, "Too short"), (80, "Football")) == [
        {"row": 2, "message": "row 2 lasts 5 s; chapters need at least 10 s"}]
    assert problems((0, "Intro"), (40, "Planets")) == [
        {"row": None, "message": "YouTube needs at least 3 chapters, this list has 2"}]


def test_validation_names_the_rows_as_given_and_flags_out_of_order_starts(app):
    client = app.client(ALICE)

    def problems(*rows):
        return json.loads(client.predict(app.job_id, chapters(*rows), api_name="/validate_chapters"))

    # The untitled chapter is the third row sent, though it is the second in time.
    assert problems((0, "Intro"), ("1:20", "Football"), ("0:40", "")) == [
        {"row": 3, "message": "row 3 starts before row 2 above it: the chapters are out of order"},
        {"row": 3, "message": "row 3 has no title"}]
    assert problems((0, "Intro"), (40, "Planets"), (40, "Rings"), (80, "Football")) == [
        {"row": 3, "message": "row 3 starts at the same time as row 2"}]
    assert problems((40, "Planets"), (0, "Intro"), (80, "Football")) == [
        {"row": 2, "message": "row 2 starts before row 1 above it: the chapters are out of order"}]


def test_the_editor_names_the_row_the_person_sees(app):
    report = app.handler("report")
    shown = report([["0:00", "Intro"], ["1:20", "Football"], ["0:40", ""]],
                   {"job_id": app.job_id, "duration": DURATION}, gr.Request(username=ALICE[0], headers={}))
    assert "- row 3 has no title" in shown and "out of order" in shown
    assert "A draft is saved as it is" in shown


def test_save_refuses_a_stale_base_and_restore_makes_a_new_version(app):
    client = app.client(ALICE)
    edited = chapters((0, "Pasta night"), ("0:40", "Planets and rings"), ("1:20", "Football rules"))
    assert client.predict(app.job_id, edited, 1, api_name="/save_chapters") == 2
    # A second tab still based on version 1 must not overwrite version 2.
    with pytest.raises(AppError, match="version 2"):
        client.predict(app.job_id, chapters((0, "Old"), (40, "Older"), (80, "Oldest")), 1,
                       api_name="/save_chapters")
    youtube = Path(client.predict(app.job_id, "youtube", api_name="/export")).read_text(encoding="utf-8")
    assert youtube == "00:00 Pasta night\n00:40 Planets and rings\n01:20 Football rules\n"
    assert client.predict(app.job_id, 1, 2, api_name="/restore_chapters") == 3
    details = json.loads(client.predict(app.job_id, api_name="/get_video"))
    assert [v["version"] for v in details["chapter_versions"]] == [1, 2, 3]
    assert details["chapter_versions"][2]["author"] == "alice (restored version 1)"
    assert [c["title"] for c in details["chapters"]] == ["Cooking pasta", "The solar system", "Football"]
    vtt = Path(client.predict(app.job_id, "chapters_vtt", api_name="/export")).read_text(encoding="utf-8")
    assert "Cooking pasta" in vtt and "Pasta night" not in vtt


def test_edits_keep_the_generator_that_wrote_the_chapters(app):
    job_id = add_finished_job(app.services, "alice", app.media, TRANSCRIPT, FIRST, generator="llm")
    client = app.client(ALICE)
    edited = chapters((0, "Pasta night"), ("0:40", "Planets and rings"), ("1:20", "Football rules"))
    assert client.predict(job_id, edited, 1, api_name="/save_chapters") == 2
    assert client.predict(job_id, 1, 2, api_name="/restore_chapters") == 3
    assert client.predict(job_id, edited, 3, api_name="/save_chapters") == 4
    exported = json.loads(Path(client.predict(job_id, "chapters_json", api_name="/export")).read_text())
    assert exported["generator"] == "llm"
    assert exported["chapters"][0]["title"] == "Pasta night"
    # The module's own video, also edited by now, was chaptered locally and still says so.
    assert app.services.library.chapters(app.services.store.get_job(app.job_id)).generator == "local"


def test_a_draft_saves_whatever_youtube_rule_it_breaks_but_not_a_start_that_is_no_time(app):
    client = app.client(ALICE)
    latest = json.loads(client.predict(app.job_id, api_name="/get_video"))["chapter_versions"][-1]["version"]
    # Too short, out of order, untitled, and a start past the end of the video: all kept.
    draft = chapters((0, "Intro"), (5, "Short"), ("1:20", ""), (40, "Planets"), ("9:00", "After the end"))
    assert client.predict(app.job_id, draft, latest, api_name="/save_chapters") == latest + 1
    saved = json.loads(client.predict(app.job_id, api_name="/get_video"))["chapters"]
    assert [(c["start"], c["title"]) for c in saved] == [
        (0, "Intro"), (5, "Short"), (40, "Planets"), (80, ""), (540, "After the end")]
    with pytest.raises(AppError, match=r"row 2: 'soon' is not a time; write m:ss or h:mm:ss"):
        client.predict(app.job_id, chapters((0, "Intro"), ("soon", "Planets")), latest + 1,
                       api_name="/save_chapters")
    client.predict(app.job_id, 1, latest + 1, api_name="/restore_chapters")


def test_a_draft_can_be_saved_but_not_exported_as_youtube_ready(app):
    client = app.client(ALICE)
    latest = json.loads(client.predict(app.job_id, api_name="/get_video"))["chapter_versions"][-1]["version"]
    draft = chapters((0, "Intro"), (40, "Planets"))
    assert client.predict(app.job_id, draft, latest, api_name="/save_chapters") == latest + 1
    with pytest.raises(AppError, match="YouTube would refuse"):
        client.predict(app.job_id, "youtube", api_name="/export")
    assert "Planets" in Path(client.predict(app.job_id, "chapters_json", api_name="/export")).read_text()
    client.predict(app.job_id, 1, latest + 1, api_name="/restore_chapters")


def test_local_retitling_uses_the_chapters_own_words(app):
    client = app.client(ALICE)
    # Rows count from 1: row 2 is the solar system.
    out = json.loads(client.predict(app.job_id, chapters((0, "a"), (40, "b"), (80, "c")), "[2]",
                                    api_name="/retitle_chapters"))
    assert set(out) == {"chapters", "generator", "warnings"}
    assert out["generator"] == "local" and out["warnings"] == []
    titles = [c["title"] for c in out["chapters"]]
    assert titles[0] == "a" and titles[2] == "c"
    assert titles[1] != "b" and any(w in titles[1].lower() for w in ("solar", "space", "saturn", "rings"))
    assert [(c["start"], c["end"]) for c in out["chapters"]] == [(0, 40), (40, 80), (80, DURATION)]


@pytest.mark.parametrize("rows, message", [
    ('{"row": 1}', "rows_json must be a JSON list of row numbers counting from 1, e.g. [1, 3]"),
    ('["2"]', "rows_json must be a JSON list of row numbers counting from 1"),
    ("[1.5]", "rows_json must be a JSON list of row numbers counting from 1"),
    ("[0]", "rows_json asks for row 0, but the rows are 1 to 3"),
    ("[4]", "rows_json asks for row 4, but the rows are 1 to 3"),
    ("[1,", "rows_json is not valid JSON: Expecting value"),
])
def test_malformed_retitle_rows_are_explained(app, rows, message):
    with pytest.raises(AppError, match=re.escape(message)):
        app.client(ALICE).predict(app.job_id, chapters((0, "a"), (40, "b"), (80, "c")), rows,
                                  api_name="/retitle_chapters")


def test_deeply_nested_json_and_long_inputs_get_short_clear_errors(app):
    client = app.client(ALICE)
    nested = "[" * 100_000 + "]" * 100_000
    for endpoint, args in (("/validate_chapters", (nested,)), ("/save_chapters", (nested, 1)),
                           ("/retitle_chapters", (chapters((0, "a"), (40, "b"), (80, "c")), nested))):
        name = "rows_json" if endpoint == "/retitle_chapters" else "chapters_json"
        with pytest.raises(AppError, match=f"^{name} is nested too deeply to be read$"):
            client.predict(app.job_id, *args, api_name=endpoint)
    with pytest.raises(AppError) as raised:
        client.predict(handle_file(str(app.media)), "x" * 1000, "local", 0, api_name="/chapter_video")
    assert str(raised.value).startswith("unknown language 'xxxx") and len(str(raised.value)) < 80
    with pytest.raises(AppError) as raised:
        client.predict(app.job_id, chapters((0, "a"), ("y" * 1000, "b")), api_name="/validate_chapters")
    assert str(raised.value).startswith("row 2: 'yyy") and len(str(raised.value)) < 120


def test_another_user_cannot_edit(app):
    bob = app.client(BOB)
    for call in (lambda: bob.predict(app.job_id, chapters((0, "x"), (40, "y"), (80, "z")), 1,
                                     api_name="/save_chapters"),
                 lambda: bob.predict(app.job_id, chapters((0, "x")), api_name="/validate_chapters"),
                 lambda: bob.predict(app.job_id, 1, 1, api_name="/restore_chapters")):
        with pytest.raises(AppError, match="no video"):
            call()


def test_table_edits():
    rows = editing.rows_from_chapters(editing.to_chapters([[0, "A"], ["1:20", "C"], ["0:40", "B"]], 115))
    assert rows == [["0:00", "A"], ["0:40", "B"], ["1:20", "C"]]
    assert editing.merge_with_next(rows, 0, 115) == [["0:00", "A"], ["1:20", "C"]]
    assert editing.delete_row(rows, 2, 115) == [["0:00", "A"], ["0:40", "B"]]
    added = editing.add_at(rows, 60, 115, None)  # inside a chapter: splits it
    assert [r[0] for r in added] == ["0:00", "0:40", "1:00", "1:20"]
    with pytest.raises(ChapterError, match="already a chapter"):
        editing.add_at(rows, 40.2, 115, None)
    with pytest.raises(ChapterError, match="row 2"):
        editing.to_chapters([[0, "A"], ["soon", "B"]], 115)
    assert editing.parse_clock("1:02:03") == 3723 and editing.parse_clock("2:75") is None


def test_results_of_a_draft_show_the_chapters_and_why_they_are_not_youtube_ready(app):
    from chaptan.errors import ChaptanError
    from chaptan.ui.results import results_values
    from chaptan.videos import Requester

    short = app.services.store.get_job(app.job_id)
    version = app.services.store.latest_chapter_version(short.id).number
    app.services.store.add_chapter_version(short.id, [{"start": 0.0, "title": "Only one"}], author="alice",
                                           base_version=version)
    try:
        video, timeline, youtube, notes, transcript, *_ = results_values(
            app.services, Requester("alice"), short, "en", "player")
        assert Path(video).name == "talk.mp4"  # the player's download is named after the title, not the id
        assert "Only one" in timeline
        assert youtube == "00:00 Only one\n"
        assert "at least 3 chapters" in notes
        assert "spaghetti" in transcript
        with pytest.raises(ChaptanError, match="a draft that YouTube would refuse"):
            app.services.exports.write(Requester("alice"), short.id, "youtube", Path(video).parent)
    finally:
        app.services.store.add_chapter_version(short.id, FIRST, author="alice", base_version=version + 1)


def test_the_results_panel_reads_the_transcript_once(app, monkeypatch):
    from chaptan.transcript import Transcript
    from chaptan.ui.results import results_values
    from chaptan.videos import Requester

    loads = []
    real_load = Transcript.load
    monkeypatch.setattr(Transcript, "load", lambda path: loads.append(path) or real_load(path))
    _, _, _, _, transcript, *_ = results_values(app.services, Requester("alice"),
                                                app.services.store.get_job(app.job_id), "en", "player")
    assert "spaghetti" in transcript
    assert len(loads) == 1


def test_the_editor_exports_the_saved_version_named_after_the_title(app):
    import gradio as gr

    current = {"job_id": app.job_id, "base_version": None, "duration": DURATION}
    exported = Path(app.handler("export_saved")("chapters_vtt", current, gr.Request(username=ALICE[0])))
    assert exported.name == "talk.chapters.vtt"
    assert "WEBVTT" in exported.read_text(encoding="utf-8")
    assert app.handler("export_saved")("srt", current, gr.Request(username=BOB[0])) == gr.skip()  # not Bob's


def alice() -> gr.Request:
    return gr.Request(username=ALICE[0], headers={})


def opened_in_editor(app, job_id: str) -> dict:
    """The editor's state after opening `job_id`, as the page holds it."""
    return app.handler("open_video")(job_id, alice())[0]


def test_editor_rows_read_m_ss_and_h_mm_ss_past_an_hour_and_take_either_form(app):
    long_talk = {**TRANSCRIPT, "duration": 3800.0}
    job_id = add_finished_job(app.services, "alice", app.media, long_talk,
                              [{"start": 0.0, "end": 65.0, "title": "Welcome"},
                               {"start": 65.0, "end": 3725.0, "title": "The long middle"},
                               {"start": 3725.0, "end": 3800.0, "title": "Questions"}])
    table = app.handler("open_video")(job_id, alice())[2]
    assert table["data"] == [["0:00", "Welcome"], ["1:05", "The long middle"], ["1:02:05", "Questions"]]
    # Typed with a leading zero or without, hours or not, a start reads the same.
    current = opened_in_editor(app, job_id)
    typed = [["00:00", "Welcome"], ["01:05", "The long middle"], ["62:05", "Questions"]]
    assert "YouTube-ready" in app.handler("report")(typed, current, alice())
    merged = app.handler("merge_row")(typed, current, 0, 0, alice())[0]
    assert merged["data"] == [["0:00", "Welcome"], ["1:02:05", "Questions"]]


def test_new_titles_for_all_say_what_changed_and_one_click_undoes_them(app):
    job_id = add_finished_job(app.services, "alice", app.media, TRANSCRIPT, FIRST)
    current = opened_in_editor(app, job_id)
    mine = [["0:00", "Cooking pasta"], ["0:40", "My own words"], ["1:20", "Football"]]
    table, _, before, changed, undo = app.handler("retitle_all")(mine, current, -1, alice())
    titles = [row[1] for row in table["data"]]
    count = sum(a[1] != b for a, b in zip(mine, titles))
    assert count >= 1 and changed == f"{count} of 3 titles changed."
    assert before == mine and undo.visible is True
    table, _, before, changed, undo = app.handler("on_undo")(before, current, alice())
    assert table["data"] == mine and before is None and changed == "" and undo.visible is False


def test_adding_at_the_player_time_splits_the_chapter_there_and_says_so(app):
    job_id = add_finished_job(app.services, "alice", app.media, TRANSCRIPT, FIRST)
    current = opened_in_editor(app, job_id)
    rows = [["0:00", "Cooking pasta"], ["0:40", "The solar system"], ["1:20", "Football"]]
    table, _, _, before, changed, _ = app.handler("add_chapter")(rows, current, -1, 55.0, alice())
    assert [row[0] for row in table["data"]] == ["0:00", "0:40", "0:55", "1:20"]
    assert table["data"][1] == ["0:40", "The solar system"]  # the earlier part keeps its title
    assert changed == "Chapter added at 0:55; it splits “The solar system”."
    assert before == rows


def test_a_stale_save_offers_keeping_mine_or_loading_theirs_and_loses_no_edits(app):
    job_id = add_finished_job(app.services, "alice", app.media, TRANSCRIPT, FIRST)
    first_tab, second_tab = opened_in_editor(app, job_id), opened_in_editor(app, job_id)
    theirs = [["0:00", "Pasta night"], ["0:40", "Planets"], ["1:20", "Football"]]
    mine = [["0:00", "Cooking pasta"], ["0:40", "Rings of Saturn"], ["1:20", "Football"]]
    first_tab = app.handler("on_save")(theirs, first_tab, alice())[0]
    assert first_tab["base_version"] == 2

    state, history, conflict, note = app.handler("on_save")(mine, second_tab, alice())
    assert state == gr.skip() and history == gr.skip()  # nothing saved, the tab keeps its base
    assert conflict.visible is True
    assert "alice saved version 2" in note and "Your edits are still in the table" in note
    # Load theirs: their version fills the table, mine one Undo away.
    taken = app.handler("on_take_theirs")(mine, second_tab, alice())
    loaded, table, _, _, conflict, before, changed, undo = taken
    assert table["data"] == theirs and loaded["base_version"] == 2 and conflict.visible is False
    assert before == mine and "Undo brings your edits back" in changed and undo.visible is True
    # Keep mine: saved on top of theirs, which stays in the history.
    state, history, conflict, _ = app.handler("on_keep_mine")(mine, second_tab, alice())
    assert state["base_version"] == 3 and conflict.visible is False
    versions = app.services.store.list_chapter_versions(job_id)
    assert [v.chapters[1]["title"] for v in versions] == ["The solar system", "Planets", "Rings of Saturn"]
    assert [row[0] for row in history["data"]] == [3, 2, 1]
