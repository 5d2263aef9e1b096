"""Messages made at run time in the browser's language; the core and the API stay English."""

from __future__ import annotations

import gradio as gr
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from chaptan.accounts.auth import Accounts
from chaptan.chapters.model import Chapter
from chaptan.chapters.rules import validate
from chaptan.errors import ChaptanError
from chaptan.messages import Message, catalog
from chaptan.storage.artifacts import ArtifactStore
from chaptan.storage.store import DB_FILE, Store
from chaptan.ui.i18n import language_of, localized, translate
from tests.app_harness import ADMIN, ALICE, running_app
from tests.media_factory import text_as_video


def browser(accept_language: str) -> gr.Request:
    return gr.Request(username=ALICE[0], headers={"accept-language": accept_language})


@pytest.mark.parametrize(("header", "language"), [
    ("ja", "ja"), ("ja-JP,ja;q=0.9,en;q=0.8", "ja"), ("zh-TW,zh;q=0.9", "zh-TW"), ("zh-Hant", "zh-TW"),
    ("zh-HK", "zh-TW"), ("zh-Hant-TW", "zh-TW"), ("en-US,en;q=0.9", "en"),
    ("en;q=0.5,ja;q=0.9", "ja"),  # preference is by q, not by position
    ("en-US,ja;q=0.8", "en"), ("zh-CN", "en"), ("zh-CN,zh-TW;q=0.5", "zh-TW"), ("fr-FR,de", "en"),
    ("", "en"), ("ja;q=0", "en"), ("ja;q=oops", "en"),
])
def test_language_is_picked_from_accept_language(header, language):
    assert language_of(browser(header)) == language


def test_no_request_or_no_header_is_english():
    assert language_of(None) == "en"
    assert language_of(gr.Request(username="alice", headers={})) == "en"


def test_fixed_messages_and_stages_are_translated():
    for stage in ("probing", "transcribing", "chaptering", "done"):
        assert translate(stage, "ja") == catalog("ja")[stage] != stage
        assert translate(stage, "zh-TW") == catalog("zh-TW")[stage] != stage
    assert translate("failed", "ja") == "失敗"
    assert translate("Please log in again.", "zh-TW") == "請重新登入。"


def test_template_messages_keep_their_values():
    assert translate(Message("row {row} lasts {length:.0f} s; chapters need at least {least:g} s",
                             row=3, length=4, least=10), "ja") == \
        "3 行目は 4 秒です。チャプターは 10 秒以上必要です"
    assert translate(Message("row {row} has the same title as row {other}", row=2, other=1), "zh-TW") == \
        "第 2 列的標題與第 1 列相同"
    assert translate(Message("Version {number} restored as version {saved}.", number=2, saved=5), "ja") == \
        "版 2 を版 5 として復元しました。"
    assert translate(Message("about {time} left", time="1:05"), "zh-TW") == "約剩 1:05"
    assert translate(Message("{file} has no audio stream, so there is nothing to transcribe",
                             file="my talk (final).mp4"), "ja") == \
        "my talk (final).mp4 には音声がないため、文字起こしできません"


def test_the_retitle_notices_say_what_made_the_titles():
    assert translate(Message("New titles: the LLM failed ({reason}); used local titles.", reason="timed out"),
                     "ja") == "LLM が失敗したため（timed out）、ローカルで新しいタイトルを作りました。"
    assert translate(Message("New titles: local titles."), "ja") == "新しいタイトルを作りました（ローカル）。"


def test_both_languages_translate_the_same_messages():
    assert set(catalog("ja")) == set(catalog("zh-TW"))


def test_interface_words_made_at_run_time_are_translated_too():
    assert translate("No video", "ja") == catalog("ja")["No video"]
    assert translate(Message("Created the user **{user}**.", user="bob"), "zh-TW") == "已建立使用者 **bob**。"
    no_title = Message("row {row} has no title", row=2)
    draft = Message("the saved chapters are a draft that YouTube would refuse ({problems}): "
                    "fix them in the Chapter editor first", problems=[no_title])
    assert translate(draft, "ja").startswith("保存されたチャプターは YouTube に受け付けられない下書き")
    memory = Message("Memory: {count} message, {used} of {limit} tokens (Chaptan's persona included).",
                     count=1, used=90, limit=2000)
    assert translate(memory, "ja") == \
        "記憶：メッセージ 1 件、2000 トークン中 90（Chaptan の人物設定を含む）。"


def test_account_and_file_errors_reach_the_page_translated(tmp_path):
    accounts = Accounts(Store(tmp_path / DB_FILE))
    accounts.create("boss", "boss-password-1", is_admin=True)
    attempts = [lambda: accounts.create("bad name!", "long-enough-1"),
                lambda: accounts.create("amy", "short"),
                lambda: accounts.create("boss", "boss-password-2"),
                lambda: accounts.set_disabled("boss", True),
                lambda: ArtifactStore(tmp_path / "data").path("amy", "job1", "source.mp4")]
    for attempt in attempts:
        with pytest.raises(ChaptanError) as raised:
            attempt()
        message = str(raised.value)
        assert translate(message, "ja") != message, message
        assert translate(message, "zh-TW") != message, message
    assert translate(Message("the password is too short: use at least {count} characters",
                             count=8), "ja") == \
        "パスワードが短すぎます。8 文字以上にしてください"


def test_unknown_text_and_unknown_languages_stay_english():
    assert translate("a message nobody translated", "ja") == "a message nobody translated"
    assert translate("row 3 has no title", "fr") == "row 3 has no title"
    # A template matches whole messages only.
    assert translate("row 3 has no title, and more", "ja") == "row 3 has no title, and more"
    assert localized("Saved as version 4.", browser("de")) == "Saved as version 4."


def test_every_chapter_rule_message_has_a_translation():
    broken = [Chapter(5.0, 9.0, ""), Chapter(3.0, 20.0, "x" * 120), Chapter(20.0, 30.0, "Same"),
              Chapter(30.0, 140.0, "same")]
    messages = [v.message for v in validate(broken, 100.0)] + [v.message for v in validate([], 100.0)]
    messages += [v.message for v in validate([Chapter(0.0, 100.0, "Only")], 100.0)]
    assert len(set(messages)) >= 8
    for message in messages:
        assert translate(message, "ja") != message, message
        assert translate(message, "zh-TW") != message, message


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("i18n-data")) as running:
        yield running


def test_a_bad_upload_in_the_page_is_explained_in_japanese(app, tmp_path):
    on_start = app.handler("on_start")
    bad = text_as_video(tmp_path / "notes.mp4")
    # Outside a running event gr.Warning is a Python warning; in the page it is a toast.
    with pytest.warns(UserWarning, match="^notes.mp4 は動画・音声ファイルとして読めません（"):
        assert on_start(str(bad), "auto", "local", 0, browser("ja,en;q=0.8")) == gr.skip()
    with pytest.warns(UserWarning, match="^請先選擇影片或音訊檔。$"):
        assert on_start(None, "auto", "local", 0, browser("zh-TW")) == gr.skip()


def test_the_editor_explains_rule_breaks_in_japanese(app):
    report = app.handler("report")
    shown = report([["0:00", "Intro"], ["0:05", "Intro"]], {"job_id": "x", "duration": 100.0}, browser("ja"))
    assert shown.startswith("⚠️ **下書き**")
    assert "- 1 行目は 5 秒です。チャプターは 10 秒以上必要です" in shown
    assert "- 2 行目のタイトルが 1 行目と同じです" in shown


def test_the_api_stays_english_whatever_the_language(app, tmp_path):
    client = Client(app.url, auth=ALICE, headers={"Accept-Language": "ja"}, verbose=False)
    bad = text_as_video(tmp_path / "notes.mp4")
    with pytest.raises(AppError, match=r"^notes\.mp4 is not a readable audio or video file"):
        client.predict(handle_file(str(bad)), "auto", "local", 0, api_name="/chapter_video")


def test_progress_shows_stage_eta_and_failure_in_the_callers_language():
    from chaptan.storage.store import Job
    from chaptan.ui.results import progress_html

    running = Job(id="j1", owner="alice", title="talk <1>", source_name="source.mp4", status="running",
                  stage="transcribing", progress=0.42, language="en", generator="local", eta_seconds=65.0)
    shown = progress_html(running, "ja")
    assert "<b>talk &lt;1&gt;</b>: 文字起こし中 · 42% · 残り約 1:05" in shown
    assert "transcribing · 42% · about 1:05 left" in progress_html(running, "en")
    failed = Job(id="j2", owner="alice", title="quiet", source_name="source.mp4", status="failed",
                 stage="transcribing", progress=0.5, language="en", generator="local",
                 error="no speech was found in this video's audio, so there is nothing to chapter")
    assert "<b>quiet</b>：處理失敗。這部影片的聲音中找不到說話內容，無法製作章節" in \
        progress_html(failed, "zh-TW")


def test_the_login_page_speaks_the_browsers_language(app):
    session = app.http(None)
    for header, expected in (("ja,en;q=0.5", "ログインして"), ("zh-TW", "登入後"), ("en-US", "sign in to")):
        session.headers["Accept-Language"] = header
        reply = session.get("/config")
        assert reply.status_code == 401
        assert expected in reply.json()["detail"]["auth_message"], (header, reply.text[:300])


def test_the_page_header_and_memory_note_follow_the_browser(app):
    assert app.handler("greet")(browser("ja")) == f"**{ALICE[0]}** でログイン中"
    assert app.handler("greet")(browser("en")) == f"Signed in as **{ALICE[0]}**"
    _, note = app.handler("on_clear")(browser("zh-TW"))
    assert note.startswith("記憶：0 則訊息"), note


def test_tables_carry_column_names_in_the_callers_language(app):
    listing, _, _ = app.handler("rows")(False, browser("ja"))
    assert listing == {"headers": ["タイトル", "長さ", "状態", "作成日時", "所有者", "ID"], "data": []}
    listing, _, _ = app.handler("rows")(False, browser("en-US"))
    assert listing["headers"][:2] == ["Title", "Duration"]
    chapters, versions = app.handler("blank_tables")(browser("zh-TW"))
    assert (chapters["headers"], versions["headers"]) == (["開始", "標題"], ["版本", "儲存時間", "儲存者"])
    users = app.handler("table")(gr.Request(username=ADMIN[0], headers={"accept-language": "ja"}))
    assert users["headers"][:3] == ["ユーザー", "管理者", "無効"]
    assert [ADMIN[0], "はい", ""] in [row[:3] for row in users["data"]]

