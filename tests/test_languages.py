"""Japanese and Chinese with the default install, offline: Kokoro speech chaptered and exported
through the app, a spoken Japanese question answered in Japanese, a video that changes language."""

from __future__ import annotations

import json
import re
import wave
from pathlib import Path

import numpy as np
import pytest
from gradio_client import handle_file
from media_factory import JA_TOPICS, japanese_video
from scoring import character_error_rate

from chaptan.config import Settings
from chaptan.services import build_services
from chaptan.speech.transcribe import WhisperTranscriber
from chaptan.speech.tts import KokoroJapaneseVoice
from chaptan.ui.i18n import translate
from chaptan.ui.upload import language_choices
from chaptan.ui.voice import linkify
from tests.app_harness import ALICE, chapter_through_api, running_app

MULTILINGUAL = Path(__file__).parents[2] / "shared" / "media" / "multilingual.mp3"
_KANA = re.compile(r"[\u3040-\u30ff]")


@pytest.fixture(scope="module")
def japanese_job(app, tmp_path_factory):
    """The Japanese three-topic video, chaptered through the public API with language auto."""
    return chapter_through_api(app, ALICE, japanese_video(tmp_path_factory))


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("languages-data")) as running:
        yield running


def test_japanese_speech_is_detected_transcribed_chaptered_and_exported(app, japanese_job):
    job_id, result, youtube = japanese_job
    client = app.client(ALICE)
    video = json.loads(client.predict(job_id, api_name="/get_video"))
    assert video["language"] == "ja"
    text = "".join(segment["text"] for segment in video["transcript"]["segments"])
    cer = character_error_rate("".join(JA_TOPICS), text)
    assert cer <= 0.25, (cer, text)
    assert len(result["chapters"]) >= 3 and result["chapters"][0]["start"] == 0
    assert youtube.splitlines()[0].startswith("00:00 ")
    srt = Path(client.predict(job_id, "srt", api_name="/export")).read_text(encoding="utf-8")
    assert "パスタ" in srt and "-->" in srt


def test_a_spoken_japanese_question_gets_a_spoken_japanese_answer_with_a_time(app, japanese_job,
                                                                                tmp_path):
    job_id = japanese_job[0]
    voice = KokoroJapaneseVoice()
    question = tmp_path / "question.wav"
    with wave.open(str(question), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(voice.sample_rate)
        out.writeframes(voice.synthesize("サッカーの選手は何人ですか？").tobytes())
    heard, reply, audio = app.client(ALICE).predict(handle_file(str(question)), "", job_id, "",
                                                    api_name="/voice_turn")
    assert "サッカー" in heard, heard
    assert _KANA.search(reply) and ("11" in reply or "十一" in reply), reply
    assert "](#t=" in linkify(reply), reply  # the cited time is a link that seeks the player
    with wave.open(audio) as spoken:
        samples = np.frombuffer(spoken.readframes(spoken.getnframes()), dtype=np.int16)
        assert spoken.getframerate() == voice.sample_rate
    assert samples.size > voice.sample_rate and np.abs(samples).max() > 1000


def test_a_chinese_question_is_answered_in_chinese_as_text_with_a_note(app, japanese_job):
    heard, reply, audio = app.client(ALICE).predict(None, "影片裡有什麼？", "", "", api_name="/voice_turn")
    assert heard == "影片裡有什麼？"
    assert "你有 1 部影片" in reply, reply
    assert reply.endswith("（目前沒有安裝中文語音，所以這則回覆只有文字。）"), reply
    assert audio is None


def test_the_upload_form_offers_only_languages_the_model_hears(tmp_path):
    default = build_services(Settings(data_dir=tmp_path / "a", models_dir=tmp_path / "models"))
    assert {"auto", "en", "ja", "zh"} <= set(language_choices(default))
    english = build_services(Settings(data_dir=tmp_path / "b", models_dir=tmp_path / "models",
                                      whisper_model="tiny.en"))
    assert language_choices(english) == ["auto", "en"]


@pytest.mark.skipif(not MULTILINGUAL.is_file(), reason="../shared/media/multilingual.mp3 is not there")
def test_a_video_that_changes_language_is_transcribed_in_each(tmp_path):
    transcript = WhisperTranscriber(settings=Settings(models_dir=tmp_path, device="cpu")).transcribe(
        MULTILINGUAL)
    # English for the first half, German for the second: both halves are heard, in their language.
    assert transcript.segments[-1].end > transcript.duration - 5, transcript.segments[-1]
    first = " ".join(s.text for s in transcript.segments if s.end < 29).lower()
    second = " ".join(s.text for s in transcript.segments if s.start > 31).lower()
    assert "software" in first and "permission" in first
    assert "software" in second and "die" in second.split()
    assert transcript.warnings == ()


@pytest.mark.skipif(not MULTILINGUAL.is_file(), reason="../shared/media/multilingual.mp3 is not there")
def test_speech_an_english_only_model_cannot_hear_is_named_in_a_warning(tmp_path):
    settings = Settings(models_dir=tmp_path, device="cpu")
    english = WhisperTranscriber("tiny.en", settings=settings)
    # tiny.en cannot detect languages, so the multilingual base tells where the German is.
    transcript = english.transcribe(MULTILINGUAL)
    assert transcript.warnings, transcript
    warning = transcript.warnings[0]
    assert "spoken in de" in warning and "left out" in warning
    start, end = (int(m) * 60 + int(s) for m, s in re.findall(r"(\d+):(\d{2})", warning)[:2])
    assert 25 <= start <= 35 and end >= 55, warning  # the German half
    # The job's warnings are shown in the browser's language.
    assert translate(warning, "ja").startswith(warning.split(" is ")[0].replace("-", "〜")), warning
    assert translate(warning, "zh-TW") != warning
