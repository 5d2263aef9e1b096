"""The whole web flow in a real (headless) Chromium: sign in, upload, watch progress, get chapters,
rename a chapter in the editor's table, save, and find the new title in the export.

Needs Debian's /usr/bin/chromium and the playwright package (not its downloaded browsers); skipped
without them. With CHAPTAN_UPDATE_SCREENSHOTS=1 the screenshots replace those in docs/screenshots/
that README.md shows; otherwise they go to the test's temporary folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from chaptan.media import probe
from chaptan.playback import needs_copy
from tests.app_harness import ADMIN, ALICE, BOB, add_finished_job, running_app
from tests.media_factory import SAMPLE_RATE, TOPICS, silent_video, spoken_video, text_as_video, write_video
from tests.test_editor import DURATION, FIRST, TRANSCRIPT
from tests.test_playback import hevc_mkv

sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.is_file(), reason="needs Debian's chromium at /usr/bin/chromium")

# Flags for a sandbox-less container with no GPU and no reason to call home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
# Two topics, about 35 s of speech: long enough that YouTube's rules ask for three chapters (a video
# under 30 s cannot have valid chapters), short enough for whisper tiny.en to take seconds.
PARAGRAPHS = tuple(". ".join(topic.split(". ")[:4]) + "." for topic in TOPICS[:2])
NEW_TITLE = "Cooking spaghetti at home"
# Loading whisper and the embedding model on a busy shared CPU can take a while.
JOB_TIMEOUT_MS = 240_000
UI_TIMEOUT_MS = 60_000
PAGE_LAG_S = 30  # the page polls once a second; a finished job it has not shown by now never will be


VIEWPORT = {"width": 1280, "height": 860}  # the size of the screenshots in docs/screenshots


def open_page(browser, locale: str = "en-US"):
    """A page in a browser context of its own (its own cookies), with the tests' patience."""
    page = browser.new_page(viewport=VIEWPORT, locale=locale)
    page.set_default_timeout(UI_TIMEOUT_MS)
    return page


@pytest.fixture
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def shoot(page, name: str, tmp_path: Path) -> Path:
    path = tmp_path / name
    page.screenshot(path=str(path))
    if os.environ.get("CHAPTAN_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, SCREENSHOTS / name)
    return path


def test_upload_watch_progress_edit_and_save_in_chromium(browser, tmp_path):
    expect = sync_api.expect
    # Assertions wait 5 s by default, not the page's timeout; a loaded machine can take longer.
    expect.set_options(timeout=UI_TIMEOUT_MS)
    media = spoken_video(tmp_path / "pasta-and-planets.mp4", PARAGRAPHS)
    with running_app(tmp_path / "data") as app:
        page = open_page(browser)

        # Gradio's login form, served at / while signed out.
        page.goto(app.url)
        page.locator("input[type=text]").first.fill(ALICE[0])
        page.locator("input[type=password]").fill(ALICE[1])
        page.get_by_role("button", name="Login").click()
        expect(page.get_by_text(f"Signed in as {ALICE[0]}")).to_be_visible()

        # Upload & chapter: choose the file, start, and watch the status box move through stages.
        page.get_by_role("tab", name="Upload & chapter").click()
        page.locator("input[type=file]").first.set_input_files(str(media.path))
        expect(page.get_by_role("cell", name=media.path.name)).to_be_visible()
        page.get_by_role("button", name="Start", exact=True).click()
        status = page.locator(".chaptan-status").first
        seen = set()
        deadline = time.monotonic() + JOB_TIMEOUT_MS / 1000
        finished_at = None  # when the server had the job done: the page must follow within seconds
        while time.monotonic() < deadline:
            if status.count() and status.is_visible():
                seen.add(status.inner_text().split(":", 1)[-1].strip())
                if re.search(r"\b(done|failed)\b", status.get_attribute("class") or ""):
                    break
            if finished_at is None and all(j.status == "done" for j in app.services.store.list_jobs()):
                finished_at = time.monotonic()
            if finished_at is not None and time.monotonic() - finished_at > PAGE_LAG_S:
                break
            time.sleep(0.3)
        server = [j.status for j in app.services.store.list_jobs()]
        assert "done" in (status.get_attribute("class") or ""), (
            f"the page never showed the finished job (server: {server}, page: {sorted(seen)})")
        assert any(re.search(r"\d+%", s) for s in seen), f"no progress percentage shown: {seen}"

        # Its <label> also holds a Copy button, so the textarea gets no accessible name of its own.
        chapters_box = page.locator("label", has_text="Chapters: paste into your YouTube description").first
        chapters_box = chapters_box.locator("textarea")
        expect(chapters_box).to_have_value(re.compile(r"^0?0:00 \S"), timeout=UI_TIMEOUT_MS)
        first_line = chapters_box.input_value().splitlines()[0]
        shoot(page, "upload.png", tmp_path)

        # Chapter editor: open the video, retitle the first chapter in the table, save.
        page.get_by_role("tab", name="Chapter editor").click()
        page.get_by_role("button", name="Refresh list").click()
        picker = page.get_by_label("Video", exact=True)
        picker.click()
        page.get_by_role("option", name=media.path.stem).click()
        # Gradio's Dataframe renders rows as grid cells; the chapter table is the only one on this tab
        # that is open (transcript matches and version history sit in closed accordions).
        title_cell = page.locator('[data-testid="cell-0-1"]:visible').first
        expect(title_cell).not_to_be_empty()
        old_title = title_cell.inner_text().strip()
        assert old_title and old_title in first_line, (old_title, first_line)
        title_cell.dblclick()
        editor = title_cell.locator("textarea, input").first
        editor.fill(NEW_TITLE)
        editor.press("Enter")
        expect(title_cell).to_contain_text(NEW_TITLE)
        page.get_by_role("button", name="Save as a new version").click()
        expect(page.get_by_text("Saved as version 2")).to_be_visible()
        shoot(page, "editor.png", tmp_path)

        # Clicking a chapter's row seeks the player to its start...
        player = page.locator("#chaptan-editor-video video")
        expect(player).to_have_count(1)
        second_start = page.locator('[data-testid="cell-1-0"]:visible').first.inner_text().strip()
        minutes, seconds = (int(p) for p in second_start.split(":"))
        page.locator('[data-testid="cell-1-1"]:visible').first.click()
        page.wait_for_function("([t]) => Math.abs(document.querySelector('#chaptan-editor-video video')"
                               ".currentTime - t) < 1.5", arg=[minutes * 60 + seconds])
        # ...and "Add at player time" starts a chapter where the player stands.
        player.evaluate("video => { video.pause(); video.currentTime = 5; }")
        page.get_by_role("button", name="Add at player time").click()
        expect(page.locator('[data-testid="cell-1-0"]:visible').first).to_have_text("0:05")

        # What was saved is what everyone gets: the newest version and the YouTube export.
        client = app.client(ALICE)
        job_id = next(v["job_id"] for v in json.loads(client.predict(api_name="/list_videos"))
                      if v["title"] == media.path.stem)
        video = json.loads(client.predict(job_id, api_name="/get_video"))
        assert video["chapter_versions"][-1]["version"] == 2
        assert video["chapters"][0]["title"] == NEW_TITLE
        exported = Path(client.predict(job_id, "youtube", api_name="/export")).read_text(encoding="utf-8")
        assert exported.splitlines()[0].endswith(NEW_TITLE)
    for name in ("upload.png", "editor.png"):
        assert (tmp_path / name).stat().st_size < 300_000, f"{name} is too big to commit"


def test_a_japanese_browser_gets_japanese_tables_choices_and_notes(browser, tmp_path):
    """What gr.I18n cannot reach (table headers, run-time notes, the login message) follows the
    browser's language too."""
    expect = sync_api.expect
    expect.set_options(timeout=UI_TIMEOUT_MS)
    with running_app(tmp_path / "data") as app:
        page = open_page(browser, "ja-JP")
        page.goto(app.url)
        expect(page.get_by_text("ログインして、動画にチャプターを付けましょう", exact=False)).to_be_visible()
        page.locator("input[type=text]").first.fill(ALICE[0])
        page.locator("input[type=password]").fill(ALICE[1])
        page.get_by_role("button", name="ログイン").click()
        expect(page.get_by_text(f"{ALICE[0]} でログイン中")).to_be_visible()
        expect(page.get_by_text("ローカル（オフライン）")).to_be_visible()

        page.get_by_role("tab", name="マイ動画").click()
        expect(page.get_by_text("まだ動画がありません", exact=False)).to_be_visible()
        expect(page.get_by_role("columnheader", name="タイトル")).to_be_visible()

        page.get_by_role("tab", name="チャプター編集").click()
        expect(page.get_by_text("まだ完成した動画がありません", exact=False)).to_be_visible()  # no video yet

        page.get_by_role("tab", name="Chaptan と話す").click()
        expect(page.get_by_text("記憶：メッセージ 0 件", exact=False)).to_be_visible()


def sign_in(page, url: str, user: tuple[str, str]) -> None:
    page.goto(url)
    page.locator("input[type=text]").first.fill(user[0])
    page.locator("input[type=password]").fill(user[1])
    page.get_by_role("button", name="Login").click()
    sync_api.expect(page.get_by_text(f"Signed in as {user[0]}")).to_be_visible()


def test_voice_seats_per_person_a_visible_line_and_a_second_tab_that_can_take_the_seat(browser, tmp_path):
    """CHAPTAN_SEATS=1: alice is seated, bob waits as number 1 and is seated by himself when alice
    leaves the tab; alice's second tab takes no seat, is refused a turn, and can move the seat."""
    expect = sync_api.expect
    expect.set_options(timeout=UI_TIMEOUT_MS)
    with running_app(tmp_path / "data", seats=1) as app:
        alice_browser = browser.new_context(viewport=VIEWPORT, locale="en-US")
        bob_browser = browser.new_context(viewport=VIEWPORT, locale="en-US")
        for context in (alice_browser, bob_browser):
            context.set_default_timeout(UI_TIMEOUT_MS)
        first = alice_browser.new_page()
        sign_in(first, app.url, ALICE)
        first.get_by_role("tab", name="Talk to Chaptan").click()
        expect(first.get_by_text("You have a seat in the voice chat.")).to_be_visible()

        bob = bob_browser.new_page()
        sign_in(bob, app.url, BOB)
        bob.get_by_role("tab", name="Talk to Chaptan").click()
        expect(bob.get_by_text("you are number 1 in line", exact=False)).to_be_visible()
        with pytest.raises(Exception, match="All 1 voice-chat seats are taken"):
            app.client(BOB).predict(None, "hello", "", "", api_name="/voice_turn")

        second = alice_browser.new_page()  # the same person, signed in by the same cookie
        second.goto(app.url)
        second.get_by_role("tab", name="Talk to Chaptan").click()
        expect(second.get_by_text("Your seat is in use in another tab or browser.")).to_be_visible()
        second.get_by_placeholder("Your question").fill("hello")
        second.get_by_role("button", name="Send").click()
        expect(second.get_by_text("move it here first", exact=False)).to_be_visible()
        expect(second.get_by_placeholder("Your question")).to_have_value("hello")  # nothing lost

        second.get_by_role("button", name="Move the seat here").click()
        expect(second.get_by_text("You have a seat in the voice chat.")).to_be_visible()
        expect(first.get_by_text("Your seat is in use in another tab or browser.")).to_be_visible()
        shoot(bob, "voice-seat-waiting.png", tmp_path)

        second.get_by_role("tab", name="My videos").click()  # alice leaves the room
        expect(bob.get_by_text("You have a seat in the voice chat.")).to_be_visible()
        assert app.services.seats.occupancy() == (1, 0)
        bob.close()  # closing the page frees the seat (Gradio's unload event)
        deadline = time.monotonic() + 30
        while app.services.seats.occupancy() != (0, 0) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert app.services.seats.occupancy() == (0, 0)


@contextmanager
def a_finished_video_in_the_browser(browser, tmp_path: Path, user: tuple[str, str], prepare=None,
                                    video: Path | None = None):
    """The app with one finished video of `user`'s ("talk": `video`, else a silent MP4 of DURATION),
    and a page signed in as them; `prepare(app, job_id)` runs before the page signs in. Yields
    (app, page, job_id)."""
    video = video or silent_video(tmp_path / "talk.mp4", seconds=DURATION)
    with running_app(tmp_path / "data") as app:
        job_id = add_finished_job(app.services, user[0], video, TRANSCRIPT, FIRST)
        if prepare is not None:
            prepare(app, job_id)
        page = open_page(browser)
        sign_in(page, app.url, user)
        yield app, page, job_id


def open_in_editor(page, title: str) -> None:
    page.get_by_role("tab", name="Chapter editor").click()
    page.get_by_label("Video", exact=True).click()
    page.get_by_role("option", name=title).click()
    sync_api.expect(page.locator('[data-testid="cell-0-1"]:visible').first).to_have_text(FIRST[0]["title"])


def warned(page, message: str) -> None:
    """`message` is shown as a toast, and no component shows Gradio's error overlay instead of its
    value."""
    expect = sync_api.expect
    expect(page.locator(".toast-body", has_text=message).first).to_be_visible()
    expect(page.locator('[data-testid="status-tracker"] .error:visible')).to_have_count(0)
    page.locator(".toast-body .toast-close").evaluate_all("buttons => buttons.forEach(b => b.click())")


def test_mistakes_are_toasts_and_every_panel_keeps_its_value(browser, tmp_path):
    """Each of these once replaced its outputs with Gradio's "Error" overlay until a reload."""
    expect = sync_api.expect
    expect.set_options(timeout=UI_TIMEOUT_MS)
    with a_finished_video_in_the_browser(browser, tmp_path, ADMIN) as (app, page, job_id):

        open_in_editor(page, "talk")
        page.get_by_role("button", name="Delete row").click()
        warned(page, "select a chapter row first")
        expect(page.locator('[data-testid="cell-2-1"]:visible').first).to_have_text(FIRST[2]["title"])
        shoot(page, "mistake.png", tmp_path)

        page.get_by_role("button", name="Version history").click()
        restore = page.get_by_role("button", name="Restore it as the newest version")
        restore.click()
        warned(page, "Type the number of the version to restore")
        page.get_by_label("Version to restore").fill("7")
        restore.click()
        warned(page, "this video has no chapter version 7")
        expect(page.locator('[data-testid="cell-0-1"]:visible').first).to_have_text(FIRST[0]["title"])

        page.get_by_role("tab", name="Upload & chapter").click()
        notes = text_as_video(tmp_path / "notes.mp4")
        page.locator("input[type=file]").first.set_input_files(str(notes))
        page.get_by_role("button", name="Start", exact=True).click()
        warned(page, "notes.mp4 is not a readable audio or video file")
        # The drop zone still holds the file and still takes another one.
        expect(page.get_by_role("cell", name="notes.mp4")).to_be_visible()

        page.get_by_role("tab", name="Talk to Chaptan").click()
        page.get_by_role("button", name="Send", exact=True).click()
        warned(page, "Type a question or record one first.")
        expect(page.get_by_text("Ask about one of your videos", exact=False)).to_be_visible()

        page.get_by_role("tab", name="Admin").click()
        expect(page.get_by_role("gridcell", name=ALICE[0], exact=True)).to_be_visible()
        page.get_by_label("User name").fill(ALICE[0])
        page.get_by_label("New password (8+ characters)").fill("another-password-1")
        page.get_by_role("button", name="Create user").click()
        warned(page, f"user '{ALICE[0]}' already exists")
        expect(page.get_by_role("gridcell", name=ALICE[0], exact=True)).to_be_visible()
    assert (tmp_path / "mistake.png").stat().st_size < 300_000


def test_a_locked_out_sign_in_says_so_on_the_login_page_at_once(browser, tmp_path):
    """Gradio's form says "Incorrect Credentials" to every refusal; a lockout must say how long to
    wait without a reload, and keep saying it to the right password."""
    expect = sync_api.expect
    expect.set_options(timeout=UI_TIMEOUT_MS)
    with running_app(tmp_path / "data") as app:
        page = open_page(browser)
        page.goto(app.url)
        wait = page.get_by_text(re.compile(r"Too many failed sign-ins from your address: try again in \d+ s"))
        wrong = page.get_by_text("Incorrect Credentials", exact=False)

        def attempt(password: str) -> None:
            page.locator("input[type=text]").first.fill(ALICE[0])
            page.locator("input[type=password]").fill(password)
            with page.expect_response(lambda reply: reply.url.endswith("/login")):
                page.get_by_role("button", name="Login").click()

        for _ in range(4):
            attempt("wrong-password")
            expect(wrong).to_be_visible()
        attempt("wrong-password")  # the fifth miss starts the lockout
        expect(wait).to_be_visible()
        expect(wrong).to_have_count(0)
        attempt(ALICE[1])
        expect(wait).to_be_visible()
        expect(page.get_by_text(f"Signed in as {ALICE[0]}")).to_have_count(0)
        shoot(page, "lockout.png", tmp_path)
        assert app.services.accounts.lockout_remaining(ALICE[0]) > 0


def test_a_video_that_finishes_shows_up_in_every_list_by_itself(browser, tmp_path):
    """No Refresh click: My videos shows the new state, and both pickers offer the finished video."""
    expect = sync_api.expect
    expect.set_options(timeout=UI_TIMEOUT_MS)

    def running(app, job_id):
        app.services.store.update_job(job_id, status="running", stage="chaptering", progress=0.9)

    with a_finished_video_in_the_browser(browser, tmp_path, ALICE, running) as (app, page, job_id):
        page.get_by_role("tab", name="My videos").click()
        expect(page.get_by_role("gridcell", name="running", exact=True)).to_be_visible()
        page.get_by_role("tab", name="Chapter editor").click()
        # Nothing is finished yet, so the editor says how to get a video instead of offering a picker.
        expect(page.get_by_text("No finished video yet.")).to_be_visible()
        expect(page.get_by_label("Video", exact=True)).to_be_hidden()

        app.services.store.update_job(job_id, status="done", stage="done", progress=1.0)  # as the worker does
        page.get_by_role("tab", name="My videos").click()
        expect(page.get_by_role("gridcell", name="done", exact=True)).to_be_visible(timeout=PAGE_LAG_S * 1000)
        shoot(page, "lists.png", tmp_path)
        open_in_editor(page, "talk")
        page.get_by_role("tab", name="Talk to Chaptan").click()
        page.get_by_label("About this video").click()
        expect(page.get_by_role("option", name="talk")).to_be_visible()


def test_the_timeline_draws_the_chapters_follows_the_player_and_seeks(browser, tmp_path):
    expect = sync_api.expect
    expect.set_options(timeout=UI_TIMEOUT_MS)
    with a_finished_video_in_the_browser(browser, tmp_path, ALICE) as (app, page, job_id):
        open_in_editor(page, "talk")
        strip = page.locator(".chaptan-timeline[data-player='chaptan-editor-video']")
        chapters = strip.locator(".chaptan-chapter")
        expect(chapters).to_have_text([c["title"] for c in FIRST])
        # Each chapter is drawn over its share of the video: 0-40 s, 40-80 s, 80-115 s.
        boxes = [chapters.nth(i).bounding_box() for i in range(3)]
        whole = strip.bounding_box()
        for box, chapter in zip(boxes, FIRST):
            share = (chapter["end"] - chapter["start"]) / DURATION
            assert abs(box["width"] - share * whole["width"]) < 4, (box, whole, chapter)
        chapters.nth(2).click()
        page.wait_for_function("Math.abs(document.querySelector('#chaptan-editor-video video').currentTime"
                               " - 80) < 1")
        playhead = strip.locator(".chaptan-playhead")
        page.wait_for_function("() => { const head = document.querySelector("
                               "\"[data-player='chaptan-editor-video'] .chaptan-playhead\");"
                               " return Math.abs(parseFloat(head.style.left) - 80 / 115 * 100) < 1.5; }")
        assert playhead.is_visible()
        shoot(page, "timeline.png", tmp_path)
        # An edit redraws it: deleting the second chapter leaves two.
        page.locator('[data-testid="cell-1-1"]:visible').first.click()
        # The row is selected once the click has sought the player to its start.
        page.wait_for_function("Math.abs(document.querySelector('#chaptan-editor-video video').currentTime"
                               " - 40) < 1")
        page.get_by_role("button", name="Delete row").click()
        expect(chapters).to_have_text([FIRST[0]["title"], FIRST[2]["title"]])

        # The results panel in My videos has one too, a click on the row away.
        page.get_by_role("tab", name="My videos").click()
        page.get_by_role("gridcell", name="talk", exact=True).click()
        expect(page.locator("[data-player='chaptan-library-video'] .chaptan-chapter")).to_have_count(3)


CUES = ("() => Array.from(document.querySelector('#PLAYER video track[kind=\"chapters\"]')?.track.cues"
        " || [], (cue) => [cue.startTime, cue.endTime, cue.text])")


def chapter_cues(page, player: str) -> list:
    """The cues of the chapters track of the player `player`, once it has loaded them."""
    script = CUES.replace("PLAYER", player)
    page.wait_for_function(f"({script})().length > 0")
    return page.evaluate(script)


def test_my_videos_opens_a_row_with_one_click_and_the_players_bar_marks_the_chapters(browser, tmp_path):
    """No id box and no Open button; the player gets a WebVTT chapters track and a mark per chapter
    start on its own progress bar; the title is edited in place, and a refresh of the list keeps the
    open video selected."""
    expect = sync_api.expect
    expect.set_options(timeout=UI_TIMEOUT_MS)
    with a_finished_video_in_the_browser(browser, tmp_path, ALICE) as (app, page, job_id):
        page.get_by_role("tab", name="My videos").click()
        expect(page.get_by_text("Click a video in the list to open it here.")).to_be_visible()
        expect(page.get_by_label("Selected video ID")).to_have_count(0)
        expect(page.get_by_role("button", name="Open", exact=True)).to_have_count(0)
        page.get_by_role("gridcell", name="1:55", exact=True).click()  # any cell of the row
        expect(page.locator("[data-player='chaptan-library-video'] .chaptan-chapter")).to_have_count(3)
        expected = [[c["start"], c["end"], c["title"]] for c in FIRST]
        assert chapter_cues(page, "chaptan-library-video") == expected
        player = page.locator("#chaptan-library-video")
        player.locator("video").hover()  # the player's controls show while the pointer is over it
        marks = player.locator(".chaptan-marks > span")
        expect(marks).to_have_count(2)  # the starts after 0:00
        bar = player.locator("progress").bounding_box()
        for mark, chapter in zip((marks.nth(0), marks.nth(1)), FIRST[1:]):
            box = mark.bounding_box()
            share = (box["x"] + box["width"] / 2 - bar["x"]) / bar["width"]
            assert abs(share - chapter["start"] / DURATION) < 0.02, (share, chapter)
        shoot(page, "library.png", tmp_path)

        page.get_by_label("Title", exact=True).fill("Dinner talk")
        page.get_by_role("button", name="Rename", exact=True).click()
        expect(page.get_by_text("Renamed to Dinner talk.")).to_be_visible()
        expect(page.get_by_role("gridcell", name="Dinner talk", exact=True)).to_be_visible()
        assert app.services.store.get_job(job_id).title == "Dinner talk"
        # The list refreshes by itself when a video changes; the open video stays the one acted on.
        other = add_finished_job(app.services, ALICE[0], Path(app.services.library.source(
            app.services.store.get_job(job_id))), TRANSCRIPT, FIRST)
        expect(page.get_by_role("gridcell", name=other, exact=True)).to_be_visible(timeout=PAGE_LAG_S * 1000)
        page.get_by_role("button", name="Retry", exact=True).click()
        warned(page, "only a failed video can be retried")

        # The editor's player has the track too, made from the table as it stands.
        open_in_editor(page, "Dinner talk")
        assert chapter_cues(page, "chaptan-editor-video") == expected


def test_before_any_video_each_tab_says_how_to_get_one(browser, tmp_path):
    """A new user sees notes, not empty players and boxes, until their first video is done."""
    expect = sync_api.expect
    expect.set_options(timeout=UI_TIMEOUT_MS)
    with running_app(tmp_path / "data") as app:
        page = open_page(browser)
        sign_in(page, app.url, BOB)
        expect(page.get_by_text("Your video's player, chapters, transcript and downloads appear here once "
                                "it is processed.")).to_be_visible()
        expect(page.locator("#chaptan-upload-video")).to_be_hidden()
        page.get_by_role("tab", name="My videos").click()
        expect(page.get_by_text("No videos yet.")).to_be_visible()
        expect(page.locator("#chaptan-library-video")).to_be_hidden()
        page.get_by_role("tab", name="Chapter editor").click()
        expect(page.get_by_text("No finished video yet.")).to_be_visible()
        expect(page.locator("#chaptan-editor-video")).to_be_hidden()
        expect(page.get_by_role("button", name="Delete row")).to_be_hidden()
        page.get_by_role("tab", name="Talk to Chaptan").click()
        expect(page.get_by_text("Choose one of your videos above to watch it here")).to_be_visible()
        expect(page.locator("#chaptan-chat-video")).to_be_hidden()
        shoot(page, "empty.png", tmp_path)

        # The first finished video brings the editor in by itself, and the voice tab's player with it.
        video = silent_video(tmp_path / "talk.mp4", seconds=DURATION)
        add_finished_job(app.services, BOB[0], video, TRANSCRIPT, FIRST)
        page.get_by_role("tab", name="Chapter editor").click()
        expect(page.get_by_text("No finished video yet.")).to_be_hidden(timeout=PAGE_LAG_S * 1000)
        open_in_editor(page, "talk")
        page.get_by_role("tab", name="Talk to Chaptan").click()
        page.get_by_label("About this video").click()
        page.get_by_role("option", name="talk").click()
        expect(page.locator("#chaptan-chat-video video")).to_be_visible()


def test_the_transcript_is_a_timed_list_to_click_and_search_as_you_type(browser, tmp_path):
    expect = sync_api.expect
    expect.set_options(timeout=UI_TIMEOUT_MS)
    with a_finished_video_in_the_browser(browser, tmp_path, ALICE) as (app, page, job_id):
        open_in_editor(page, "talk")
        lines = page.locator("[data-player='chaptan-editor-video'] .chaptan-line")
        expect(lines).to_have_count(len(TRANSCRIPT["segments"]))
        expect(lines.nth(2).locator("time")).to_have_text("0:40")
        # A click seeks the player, and the line being spoken is marked.
        lines.nth(2).click()
        page.wait_for_function("Math.abs(document.querySelector('#chaptan-editor-video video').currentTime"
                               " - 40) < 1")
        expect(lines.nth(2)).to_have_class(re.compile(r"\bcurrent\b"))
        # Search as you type: no Enter, the matching line with the words marked.
        page.get_by_label("Find words").press_sequentially("saturn", delay=50)
        expect(lines).to_have_count(1)
        expect(lines.first.locator("mark")).to_have_text("Saturn")
        shoot(page, "transcript.png", tmp_path)
        page.get_by_label("Find words").fill("")
        page.get_by_label("Find words").press_sequentially("comets", delay=50)
        expect(page.get_by_text("No matches for “comets”.")).to_be_visible()
        expect(lines).to_have_count(0)


def rename_first_chapter(page, title: str) -> None:
    cell = page.locator('[data-testid="cell-0-1"]:visible').first
    cell.dblclick()
    editor = cell.locator("textarea, input").first
    editor.fill(title)
    editor.press("Enter")
    sync_api.expect(cell).to_contain_text(title)


def test_two_tabs_saving_one_video_the_second_chooses_and_loses_nothing(browser, tmp_path):
    expect = sync_api.expect
    expect.set_options(timeout=UI_TIMEOUT_MS)
    with a_finished_video_in_the_browser(browser, tmp_path, ALICE) as (app, first, job_id):
        second = open_page(browser)
        sign_in(second, app.url, ALICE)
        for page in (first, second):
            open_in_editor(page, "talk")
        rename_first_chapter(first, "Theirs")
        first.get_by_role("button", name="Save as a new version").click()
        expect(first.get_by_text("Saved as version 2")).to_be_visible()

        rename_first_chapter(second, "Mine")
        second.get_by_role("button", name="Save as a new version").click()
        expect(second.get_by_text("alice saved version 2", exact=False)).to_be_visible()
        cell = second.locator('[data-testid="cell-0-1"]:visible').first
        expect(cell).to_have_text("Mine")
        second.get_by_role("button", name="Load theirs").click()
        expect(cell).to_have_text("Theirs")
        second.get_by_role("button", name="Undo").click()
        expect(cell).to_have_text("Mine")
        second.get_by_role("button", name="Save as a new version").click()
        expect(second.get_by_text("Saved as version 3")).to_be_visible()
        versions = app.services.store.list_chapter_versions(job_id)
        assert [v.chapters[0]["title"] for v in versions] == [FIRST[0]["title"], "Theirs", "Mine"]


def test_an_upload_chromium_cannot_play_plays_from_its_copy_and_seeks_to_a_chapter(browser, tmp_path):
    """HEVC in Matroska: Chromium plays its Opus audio under a blank picture (no video width). The
    library decides it needs a copy and makes it (as at a restart, the job being added finished:
    tests/test_playback.py uploads one through the API); the editor's player then shows the copy's
    picture and plays it, and a chapter on the timeline seeks it."""
    expect = sync_api.expect
    expect.set_options(timeout=UI_TIMEOUT_MS)
    quiet = np.zeros(int(SAMPLE_RATE * DURATION), dtype=np.int16)  # Opus audio in the MKV, as uploads have
    mkv = hevc_mkv(write_video(tmp_path / "talk.mp4", quiet), tmp_path / "talk.mkv", size="320:240")

    def make_the_copy(app, job_id):
        library = app.services.library
        job = app.services.store.get_job(job_id)
        assert needs_copy(app.services.settings.playback_copy, probe(library.source(job)), ".mkv")
        app.services.store.update_job(job_id, playback="making")
        library.resume_playback_copies()
        deadline = time.monotonic() + JOB_TIMEOUT_MS / 1000
        while app.services.store.get_job(job_id).playback == "making" and time.monotonic() < deadline:
            time.sleep(0.3)
        assert app.services.store.get_job(job_id).playback == "ready"

    with a_finished_video_in_the_browser(browser, tmp_path, ALICE, make_the_copy, mkv) as (app, page, job_id):
        open_in_editor(page, "talk")
        player = "document.querySelector('#chaptan-editor-video video')"
        # It has loaded, with a picture (the original gives none) and the whole duration, and it plays.
        page.wait_for_function(f"{player} && {player}.readyState >= 1 && {player}.videoWidth > 0 && "
                               f"Math.abs({player}.duration - {DURATION}) < 2")
        page.locator("#chaptan-editor-video video").evaluate("video => { video.muted = true; video.play(); }")
        page.wait_for_function(f"{player}.currentTime > 1")
        page.locator("#chaptan-editor-video video").evaluate("video => video.pause()")
        chapters = page.locator(".chaptan-timeline[data-player='chaptan-editor-video'] .chaptan-chapter")
        chapters.nth(2).click()
        page.wait_for_function(f"Math.abs({player}.currentTime - {FIRST[2]['start']}) < 1.5")
        chapters.nth(1).click()
        page.wait_for_function(f"Math.abs({player}.currentTime - {FIRST[1]['start']}) < 1.5")


def test_a_person_signs_up_from_the_login_page_and_learns_the_account_awaits_approval(browser, tmp_path):
    """The link on Gradio's login page, the server-rendered form and its reply in a real browser (its
    own Origin and Sec-Fetch headers), and the login page's note for an account not approved yet."""
    expect = sync_api.expect
    expect.set_options(timeout=UI_TIMEOUT_MS)
    with running_app(tmp_path / "data", signup="approval") as app:
        page = open_page(browser)
        page.goto(app.url)
        page.get_by_role("link", name="Create an account").click()
        page.get_by_label("User name").fill("kai")
        page.get_by_label("Password (8+ characters)").fill("kai-password-1")
        page.get_by_label("E-mail").fill("kai@example.com")
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_role("status")).to_have_text(
            "Your account kai is created. An administrator must approve it before you can sign in.")
        assert app.services.accounts.get("kai").pending
        page.get_by_role("link", name="Back to sign-in").click()
        page.locator("input[type=text]").first.fill("kai")
        page.locator("input[type=password]").fill("kai-password-1")
        page.get_by_role("button", name="Login").click()
        expect(page.get_by_text("The account kai awaits an administrator's approval")).to_be_visible()
        expect(page.get_by_text("Incorrect Credentials", exact=False)).to_have_count(0)
        app.services.administration.approve_user("kai")
        sign_in(page, app.url, ("kai", "kai-password-1"))
