"""The Gradio app driven over HTTP with gradio_client, exactly as users' scripts drive it."""

from __future__ import annotations

import json
from pathlib import Path

import gradio as gr
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError

from tests.app_harness import ADMIN, ALICE, BOB, chapter_through_api, running_app
from tests.media_factory import TOPICS, spoken_video, text_as_video


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    folder = tmp_path_factory.mktemp("app-media")
    return spoken_video(folder / "three topics.mp4", TOPICS)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("app-data")) as running:
        yield running


@pytest.fixture(scope="module")
def alice_job(app, media):
    """Alice chapters the three-topic video through the public API (the full flow)."""
    return chapter_through_api(app, ALICE, media.path)


def test_full_flow_returns_chapters_near_topic_changes(alice_job, media):
    job_id, result, youtube = alice_job
    starts = [c["start"] for c in result["chapters"]]
    assert result["generator"] == "local"
    assert starts[0] == 0
    for true_start in media.topic_starts[1:]:
        assert min(abs(s - true_start) for s in starts) <= 5.0, (starts, media.topic_starts)
    assert youtube.splitlines()[0].startswith("00:00 ")
    assert len(youtube.splitlines()) == len(result["chapters"])


def test_get_video_and_exports(app, alice_job, tmp_path):
    job_id, result, _ = alice_job
    client = app.client(ALICE)
    details = json.loads(client.predict(job_id, api_name="/get_video"))
    assert details["status"] == "done"
    assert "spaghetti" in json.dumps(details["transcript"]).lower()
    assert details["chapters"] == result["chapters"]
    assert details["chapter_versions"][0]["version"] == 1
    assert "srt" in details["exports"] and "video" in details["exports"]
    listing = json.loads(client.predict(api_name="/list_videos"))
    assert [v["job_id"] for v in listing] == [job_id]
    srt = Path(client.predict(job_id, "srt", api_name="/export"))
    assert "-->" in srt.read_text(encoding="utf-8")
    youtube = Path(client.predict(job_id, "youtube", api_name="/export")).read_text(encoding="utf-8")
    assert youtube.startswith("00:00 ")
    video = Path(client.predict(job_id, "video", api_name="/export"))
    assert video.suffix == ".mp4" and video.stat().st_size > 1000


def test_another_user_is_refused_by_every_endpoint(app, alice_job):
    job_id, _, _ = alice_job
    bob = app.client(BOB)
    assert json.loads(bob.predict(api_name="/list_videos")) == []
    for call in (lambda: bob.predict(job_id, api_name="/get_video"),
                 lambda: bob.predict(job_id, "srt", api_name="/export"),
                 lambda: bob.predict(job_id, "video", api_name="/export"),
                 lambda: bob.predict(job_id, api_name="/delete_video")):
        with pytest.raises(Exception, match="no video"):
            call()
    # Still there for its owner.
    assert json.loads(app.client(ALICE).predict(job_id, api_name="/get_video"))["status"] == "done"


def test_guessed_file_paths_are_refused(app, alice_job):
    job_id, _, _ = alice_job
    job = app.services.store.get_job(job_id)
    owned = [app.services.artifacts.local_path(job.owner, job.id, job.source_name),
             app.services.artifacts.local_path(job.owner, job.id, "transcript.json"),
             app.services.store.path]
    bob = app.http(BOB)
    for path in owned:
        assert path.exists()
        for route in (f"/gradio_api/file={path}", f"/file={path}"):
            reply = bob.get(route)
            assert reply.status_code in (403, 404), (route, reply.status_code)


def test_admin_sees_everyones_videos(app, alice_job):
    job_id, _, _ = alice_job
    admin = app.client(ADMIN)
    assert json.loads(admin.predict(job_id, api_name="/get_video"))["owner"] == "alice"


def test_bad_upload_gets_a_clear_error_and_the_app_keeps_serving(app, tmp_path):
    client = app.client(ALICE)
    bad = text_as_video(tmp_path / "notes.mp4")
    with pytest.raises(AppError, match=r"^notes\.mp4 is not a readable audio or video file"):
        client.predict(handle_file(str(bad)), "auto", "local", 0, api_name="/chapter_video")
    assert isinstance(json.loads(client.predict(api_name="/list_videos")), list)


def test_wrong_password_and_anonymous_access_are_refused(app):
    with pytest.raises(ValueError, match="Could not login"):
        app.client((ALICE[0], "not-the-password"))
    anonymous = app.http(None)
    assert anonymous.get("/config").status_code == 401
    reply = anonymous.post("/gradio_api/call/list_videos", json={"data": []})
    assert reply.status_code in (401, 403), reply.status_code


def test_direct_rest_calls_outside_the_queue_are_refused(app):
    session = app.http(ALICE)
    for route in ("/gradio_api/api/list_videos", "/gradio_api/run/list_videos", "/api/list_videos"):
        reply = session.post(route, json={"data": []})
        assert reply.status_code >= 400, (route, reply.status_code, reply.text[:200])


def test_delete_removes_files(app, media):
    client = app.client(BOB)
    job_id, _, _ = client.predict(handle_file(str(media.path)), "en", "local", 4, api_name="/chapter_video")
    job = app.services.store.get_job(job_id)
    folder = app.services.artifacts.job_dir(job.owner, job.id)
    assert folder.exists()
    client.predict(job_id, api_name="/delete_video")
    assert not folder.exists()
    assert json.loads(client.predict(api_name="/list_videos")) == []


def test_login_is_throttled_after_repeated_failures(tmp_path):
    with running_app(tmp_path) as app:
        session = app.http(None)
        for _ in range(5):
            reply = session.post("/login", data={"username": "alice", "password": "wrong-password"})
            assert reply.status_code == 400
        # The right password is refused too while the name is locked out...
        reply = session.post("/login", data={"username": "alice", "password": ALICE[1]})
        assert reply.status_code == 400
        # ...and the login page says how long to wait.
        assert "try again in" in session.get("/config").text
        session.headers["Accept-Language"] = "ja"
        assert "秒後にもう一度お試しください" in session.get("/config").json()["detail"]["auth_message"]
        assert app.services.accounts.lockout_remaining("alice") > 0


def test_behind_a_trusted_proxy_each_forwarded_address_is_throttled_alone(tmp_path, monkeypatch):
    # uvicorn itself believes X-Forwarded-For from a loopback peer such as this test; trusting only
    # another address makes the server behave as behind a proxy on another machine (a Space, a
    # container network), where only CHAPTAN_TRUSTED_PROXIES decides.
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "192.0.2.1")
    guesser, visitor = "203.0.113.7", "198.51.100.20"
    with running_app(tmp_path, trusted_proxies=1) as app:
        attacker = app.http(None)
        for attempt in range(5):  # a new name each time, and a new forged entry left of the proxy's
            attacker.headers["X-Forwarded-For"] = f"10.9.9.{attempt}, {guesser}"
            reply = attacker.post("/login", data={"username": f"guess{attempt}", "password": "wrong"})
            assert reply.status_code == 400
        reply = attacker.post("/login", data={"username": "alice", "password": ALICE[1]})
        assert reply.status_code == 400
        assert "try again in" in attacker.get("/config").text
        assert app.services.accounts.lockout_remaining("", guesser) > 0

        other = app.http(None)
        other.headers["X-Forwarded-For"] = visitor
        assert "try again in" not in other.get("/config").text
        reply = other.post("/login", data={"username": "alice", "password": ALICE[1]})
        assert reply.status_code == 200, reply.text
        assert app.services.accounts.lockout_remaining("", "127.0.0.1") == 0  # the proxy itself


def test_a_silent_video_fails_clearly_and_keeps_the_upload(app, tmp_path):
    import numpy as np

    from tests.media_factory import SAMPLE_RATE, write_video

    quiet = write_video(tmp_path / "quiet.mp4", np.zeros(SAMPLE_RATE * 20, dtype=np.int16))
    client = app.client(BOB)
    with pytest.raises(AppError, match="no speech was found"):
        client.predict(handle_file(str(quiet)), "auto", "local", 0, api_name="/chapter_video")
    failed = [v for v in json.loads(client.predict(api_name="/list_videos")) if v["title"] == "quiet"]
    assert failed and failed[0]["status"] == "failed"
    job = app.services.store.get_job(failed[0]["job_id"])
    assert app.services.artifacts.local_path(job.owner, job.id, job.source_name).exists()
    # My videos says why, without opening it.
    listing, _, _ = app.handler("rows")(False, gr.Request(username=BOB[0], headers={}))
    status = next(row[2] for row in listing["data"] if row[-1] == job.id)
    assert status == "failed: no speech was found in this video's audio, so there is nothing to chapter"
    client.predict(failed[0]["job_id"], api_name="/delete_video")


def test_the_transcript_list_finds_words_as_typed_and_says_when_nothing_matches():
    from chaptan.transcript import Segment
    from chaptan.ui.timeline import transcript_html

    segments = [Segment(5.0, 9.0, " Hello <there>"), Segment(65.0, 70.0, "The planets, and PLANETS again")]
    shown = transcript_html(segments, "player", "planets", "none")
    assert "Hello" not in shown
    assert "data-seek='65' data-end='70'><time>1:05</time>" in shown
    assert "The <mark>planets</mark>, and <mark>PLANETS</mark> again" in shown
    assert "&lt;there&gt;" in transcript_html(segments, "player")
    assert "<p class='chaptan-no-matches'>none</p>" == transcript_html(segments, "player", "comets", "none")


def test_the_timeline_and_transcript_read_a_start_as_the_editor_does():
    # A start at 4:05.9 is heard from 4:05: the editor's rows say so, and so must the strip beside them.
    from chaptan.chapters.model import Chapter
    from chaptan.transcript import Segment
    from chaptan.ui.timeline import timeline_html, transcript_html

    strip = timeline_html([Chapter(0.0, 245.9, "Intro"), Chapter(245.9, 600.0, "Pasta")], 600.0, "player")
    assert "title='4:05 Pasta'" in strip
    assert "<time>4:05</time>" in transcript_html([Segment(245.9, 250.0, "Pasta")], "player")


def test_every_browser_handler_leaves_the_page_as_it_was_on_error(app):
    """An error escaping a browser handler puts Gradio's overlay over its outputs until a reload
    (one without outputs, such as the page's unload, has nothing to cover)."""
    unguarded = [f.fn.__name__ for f in app.demo.fns.values()
                 if f.fn is not None and f.outputs and f.api_visibility == "private"
                 and not getattr(f.fn, "shows_errors_as_warnings", False)]
    assert unguarded == []
    with pytest.warns(UserWarning, match="^Choose a video or audio file first.$"):
        assert app.handler("on_start")(None, "auto", "local", 0, gr.Request(username=ALICE[0])) == gr.skip()


def test_the_upload_limit_reads_as_it_was_set(app):
    # CHAPTAN_MAX_UPLOAD's default "2gb" counts in 1024s, as Gradio does: the browser's own
    # too-large message then says 2.0 Gb, not 1.9, and the upload tab says 2 GB.
    assert app.http(ALICE).get("/config").json()["max_file_size"] == 2 * 1024**3
    limit = app.handler("upload_limit")
    assert limit(gr.Request(username=ALICE[0], headers={})) == "Files up to 2 GB each."
    japanese = gr.Request(username=ALICE[0], headers={"accept-language": "ja"})
    assert limit(japanese) == "1 ファイルにつき 2 GB まで。"
