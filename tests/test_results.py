"""My videos and the results panel: opening a video makes no file but the player's link (a hard link,
served to its owner alone), downloads are made when asked for and named after the video's title, and
a video can be renamed from the browser and the API."""

from __future__ import annotations

import json
import os
from pathlib import Path

import gradio as gr
import pytest
from gradio_client.exceptions import AppError

from chaptan.storage.artifacts import outbox_root
from chaptan.videos import Requester
from tests.app_harness import ALICE, BOB, add_finished_job, running_app
from tests.media_factory import TOPICS, spoken_video
from tests.test_editor import FIRST, TRANSCRIPT


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("results")
    media = spoken_video(folder / "talk.mp4", TOPICS[:1])
    with running_app(folder / "data") as running:
        running.job_id = add_finished_job(running.services, "alice", media.path, TRANSCRIPT, FIRST)
        yield running


def as_browser(user: str) -> gr.Request:
    return gr.Request(username=user, headers={})


def opened(app, user: str = ALICE[0]) -> tuple:
    """What a click on the video's row in My videos sets: (selected id, title box, status, *panel)."""
    row = gr.SelectData(None, {"index": [0, 0], "value": "talk", "row_value": ["talk", "", "", "", "",
                                                                                  app.job_id]})
    return app.handler("open_row")(row, as_browser(user))


def outbox_files(user_name: str, app) -> set[Path]:
    user = app.services.store.get_user(user_name)
    return {p for p in (outbox_root() / user.id).rglob("*") if p.is_file()}


def test_opening_a_video_makes_no_download_and_links_the_video_instead_of_copying_it(app):
    before = outbox_files(ALICE[0], app)
    selected, title, _, video, timeline, youtube, _, transcript, exported, *_ = opened(app)
    assert (selected, title) == (app.job_id, "talk")
    assert youtube.startswith("00:00 Cooking pasta") and "spaghetti" in transcript and "Football" in timeline
    assert exported is None
    assert outbox_files(ALICE[0], app) - before == {Path(video)}  # the player's file, nothing else
    job = app.services.store.get_job(app.job_id)
    source = app.services.artifacts.local_path(job.owner, job.id, job.source_name)
    assert Path(video).name == "talk.mp4"
    assert os.stat(video).st_ino == source.stat().st_ino  # the same file, not a copy of it


def test_the_linked_video_is_served_to_its_owner_only(app):
    video = opened(app)[3]
    for route in (f"/gradio_api/file={video}", f"/file={video}"):
        assert app.http(BOB).get(route).status_code == 404
    reply = app.http(ALICE).get(f"/gradio_api/file={video}")
    assert reply.status_code == 200 and len(reply.content) == Path(video).stat().st_size


def test_a_download_is_made_when_asked_for_in_the_format_picked(app):
    download = app.handler("on_download")
    srt = Path(download(app.job_id, "srt", as_browser(ALICE[0])))
    assert srt.name == "talk.srt" and srt.read_text(encoding="utf-8").startswith("1\n")
    youtube = Path(download(app.job_id, "youtube", as_browser(ALICE[0])))
    assert youtube.read_text(encoding="utf-8").startswith("00:00 Cooking pasta")
    assert download(app.job_id, "srt", as_browser(BOB[0])) == gr.skip()  # not Bob's: a warning, no file


def test_a_video_is_renamed_through_the_api_and_its_downloads_follow(app):
    alice = app.client(ALICE)
    try:
        assert alice.predict(app.job_id, "  Pasta   planets and football ", api_name="/rename_video") == \
            "Pasta planets and football"
        listed = json.loads(alice.predict(api_name="/list_videos"))
        assert [v["title"] for v in listed if v["job_id"] == app.job_id] == ["Pasta planets and football"]
        exported = Path(alice.predict(app.job_id, "srt", api_name="/export"))
        assert exported.name == "Pasta-planets-and-football.srt"
        with pytest.raises(AppError, match="^a video's title cannot be empty$"):
            alice.predict(app.job_id, "   ", api_name="/rename_video")
        with pytest.raises(AppError, match="at most 200 characters"):
            alice.predict(app.job_id, "x" * 201, api_name="/rename_video")
        with pytest.raises(AppError, match="no video"):
            app.client(BOB).predict(app.job_id, "Mine now", api_name="/rename_video")
        assert app.services.store.get_job(app.job_id).title == "Pasta planets and football"
    finally:
        app.services.store.update_job(app.job_id, title="talk")


def test_renaming_in_my_videos_says_so_in_the_browsers_language(app):
    rename = app.handler("on_rename")
    try:
        title, note, listing, _, _ = rename(app.job_id, "Dinner talk", False,
                                            gr.Request(username=ALICE[0], headers={"accept-language": "ja"}))
        assert title == "Dinner talk" and "名前を <b>Dinner talk</b> に変更しました" in note
        assert listing["data"][0][0] == "Dinner talk"
        assert rename("", "Anything", False, as_browser(ALICE[0])) == gr.skip()  # no video opened yet
    finally:
        app.services.store.update_job(app.job_id, title="talk")


def test_the_pickers_offer_finished_videos_only_and_tell_apart_those_that_share_a_title(app):
    job = app.services.store.get_job(app.job_id)
    source = app.services.artifacts.local_path(job.owner, job.id, job.source_name)
    twin = add_finished_job(app.services, "alice", source, TRANSCRIPT, FIRST)  # the same file, uploaded again
    failed = add_finished_job(app.services, "alice", source, TRANSCRIPT, FIRST)
    app.services.store.update_job(twin, title="talk")
    app.services.store.update_job(failed, title="talk", status="failed", error="no speech was found")
    try:
        editor = app.handler("finished_videos")(as_browser(ALICE[0])).choices
        voice = app.handler("videos_to_ask_about")(as_browser(ALICE[0])).choices
        for choices in (editor, [c for c in voice if c[1]]):
            assert sorted(job_id for _, job_id in choices) == sorted([app.job_id, twin])
            labels = [label for label, _ in choices]
            assert len(set(labels)) == 2 and all(label.startswith("talk (") for label in labels), labels
    finally:
        for extra in (twin, failed):
            app.services.library.delete(Requester("alice"), extra)
