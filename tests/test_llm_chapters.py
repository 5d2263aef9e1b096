"""The LLM chapter generator and retitling, against a scripted OpenAI-compatible server over HTTP."""

from __future__ import annotations

import json
import math
import re
import socket
import time
from typing import TYPE_CHECKING

import pytest

from chaptan.chapters import ChapterOptions, generate_chapters
from chaptan.chapters.llm import LLMChapterer, LLMFailure, retitle, split_windows
from chaptan.chapters.model import Chapter
from chaptan.config import Settings
from chaptan.llm import make_chat_model
from chaptan.timecode import parse_timestamp
from chaptan.transcript import Segment, Transcript

if TYPE_CHECKING:
    from tests.openai_server import FakeOpenAI

# The `openai_server` fixture; imported by pytest alone so that its asserts get rewritten too.
pytest_plugins = ("tests.openai_server",)

TOPICS = ["We talk about growing tomatoes in a small garden and how much water they need.",
          "Now the bicycle: the chain, the gears and keeping the tyres pumped up.",
          "Finally a recipe for bread with flour, yeast, salt and a long slow rise."]


def make_transcript(seconds: float, step: float = 10.0, language: str = "en",
                    texts: list[str] | None = None) -> Transcript:
    """Segments every `step` seconds; the text cycles through `texts`, a topic per third."""
    texts = texts or TOPICS
    count = int(seconds // step)
    segments = tuple(Segment(i * step + 0.4, i * step + step - 0.5, texts[i * len(texts) // count])
                     for i in range(count))
    return Transcript(language, seconds, segments)


def settings_for(server: FakeOpenAI, **overrides: object) -> Settings:
    values: dict = {"openai_base_url": server.base_url, "openai_api_key": "test",
                    "llm_model": "test-model", "llm_timeout": 5.0, **overrides}
    return Settings(**values)


def chapters_reply(*chapters: tuple[object, str]) -> str:
    return json.dumps({"chapters": [{"start": start, "title": title} for start, title in chapters]})


def transcript_times(prompt: str) -> list[str]:
    """The times of the transcript lines in a prompt (not those of the chapters chosen so far)."""
    return re.findall(r"^\[([\d:]+)\]", prompt.split("Transcript:\n", 1)[1], re.MULTILINE)


def test_a_good_reply_gives_llm_chapters_snapped_to_segment_starts(openai_server: FakeOpenAI) -> None:
    transcript = make_transcript(120)
    openai_server.reply(chapters_reply(("0:00", "Tomatoes"), ("0:41", "Bicycle care"), (79, "Baking bread")))

    result = generate_chapters(transcript, ChapterOptions(), "llm", settings_for(openai_server))

    assert result.generator == "llm" and result.warnings == []
    assert [(c.start, c.title) for c in result.chapters] == [
        (0.0, "Tomatoes"), (40.4, "Bicycle care"), (80.4, "Baking bread")]
    request = openai_server.requests[0]
    assert request["model"] == "test-model"
    assert request["response_format"]["type"] == "json_schema"
    prompt = openai_server.prompt(0)
    assert "[00:40] Now the bicycle" in prompt and "English" in prompt
    assert "part 1 of 1" in prompt and "The first chapter starts at 00:00" in prompt


def test_an_hour_long_transcript_goes_in_windows_that_carry_earlier_titles(
        openai_server: FakeOpenAI) -> None:
    long_line = "This sentence is here to make the transcript about as dense as real speech is. " * 2
    transcript = make_transcript(4200, step=8.0, texts=[long_line])

    def script(request: dict) -> str:
        times = transcript_times(request["messages"][-1]["content"])
        middle = times[len(times) // 2]
        return chapters_reply((times[0], f"Topic at {times[0]}"), (middle, f"More at {times[0]}"))

    openai_server.reply(script)
    result = generate_chapters(transcript, ChapterOptions(max_chapters=12), "llm",
                               settings_for(openai_server))

    prompts = [openai_server.prompt(i) for i in range(len(openai_server.requests))]
    assert len(prompts) >= 4
    firsts = []
    for number, prompt in enumerate(prompts, 1):
        firsts.append(transcript_times(prompt)[0])
        assert f"part {number} of {len(prompts)}" in prompt and "The video lasts 01:10:00" in prompt
        assert len(prompt.split("Transcript:\n", 1)[1]) <= 13_000
        # Every earlier window's chapters reach the later prompts, so the model continues the list.
        for earlier in firsts[:-1]:
            assert f"Topic at {earlier}" in prompt and f"More at {earlier}" in prompt
        assert ("The first chapter starts" in prompt) == (number == 1)
    # Windows follow each other without overlap: each starts after the previous one's lines.
    assert firsts == sorted(set(firsts))
    assert result.generator == "llm" and len(result.chapters) == 12
    assert all(c.title.startswith(("Topic at", "More at")) for c in result.chapters)


def test_windows_cover_every_spoken_segment_once() -> None:
    transcript = make_transcript(4000, step=5.0)
    windows = split_windows(transcript, budget=500)
    covered = [seg for window in windows for seg in window.segments]
    assert len(windows) > 5 and covered == list(transcript.segments)
    assert all(a.end == b.start for a, b in zip(windows, windows[1:], strict=False))
    assert windows[0].earliest == 0 and windows[-1].end == transcript.duration


def test_a_japanese_transcript_asks_for_japanese_titles(openai_server: FakeOpenAI) -> None:
    texts = ["今日はトマトの育て方について話します。", "次は自転車の整備です。",
             "最後にパンの焼き方を紹介します。"]
    transcript = make_transcript(90, language="ja", texts=texts)
    openai_server.reply(chapters_reply(("0:00", "トマトの育て方"), ("0:30", "自転車の整備"),
                                       ("1:00", "パン作り")))

    result = generate_chapters(transcript, ChapterOptions(), "llm", settings_for(openai_server))

    assert "write every title in Japanese" in openai_server.prompt(0)
    assert result.generator == "llm"
    assert [c.title for c in result.chapters] == ["トマトの育て方", "自転車の整備", "パン作り"]


def test_a_server_error_falls_back_to_the_local_generator(openai_server: FakeOpenAI) -> None:
    openai_server.fail(500, "model crashed")

    result = generate_chapters(make_transcript(300), ChapterOptions(), "llm", settings_for(openai_server))

    assert result.generator == "local" and len(result.chapters) >= 3
    assert len(result.warnings) == 1
    assert "LLM failed" in result.warnings[0] and "HTTP 500: model crashed" in result.warnings[0]


def test_the_api_key_never_shows_in_a_warning(openai_server: FakeOpenAI) -> None:
    openai_server.fail(401, "Incorrect API key provided: sk-very-secret")

    result = generate_chapters(make_transcript(120), ChapterOptions(), "llm",
                               settings_for(openai_server, openai_api_key="sk-very-secret"))

    assert result.generator == "local" and "HTTP 401" in result.warnings[0]
    assert "sk-very-secret" not in result.warnings[0]


def test_garbage_timestamps_are_dropped_and_valid_ones_kept(openai_server: FakeOpenAI) -> None:
    transcript = make_transcript(120)
    garbage = ('{"chapters": [{"start": "banana", "title": "Fruit"}, {"start": -5, "title": "Before"},'
               ' {"start": 9999, "title": "After"}, {"start": NaN, "title": "Nothing"},'
               ' {"start": null, "title": "Null"}, {"start": "1:75", "title": "Bad clock"},'
               ' {"start": "0:00", "title": "Tomatoes"}, {"start": "0:00", "title": "Twice"},'
               ' {"start": "1:20", "title": "Bread"}]}')
    openai_server.reply(garbage)

    proposals = LLMChapterer(settings_for(openai_server)).propose(transcript, ChapterOptions())

    assert [(p.start, p.title, p.strength) for p in proposals] == [(0.4, "Tomatoes", 1.0),
                                                                   (80.4, "Bread", 1.0)]


def test_only_garbage_timestamps_fall_back_with_a_reason(openai_server: FakeOpenAI) -> None:
    openai_server.reply(chapters_reply(("banana", "Fruit"), (-5, "Before"), ("99:00", "After")))

    result = generate_chapters(make_transcript(120), ChapterOptions(), "llm", settings_for(openai_server))

    assert result.generator == "local"
    assert "none of the 3 chapter starts the LLM gave is a time in the video" in result.warnings[0]


def test_a_reply_that_is_not_json_falls_back(openai_server: FakeOpenAI) -> None:
    openai_server.reply("Sorry, I can't help with chapters today.")

    result = generate_chapters(make_transcript(120), ChapterOptions(), "llm", settings_for(openai_server))

    assert result.generator == "local" and "not JSON" in result.warnings[0]


def test_a_fenced_json_reply_from_a_server_without_structured_output(openai_server: FakeOpenAI) -> None:
    openai_server.refuse_structured_output = True
    openai_server.reply("Here you go:\n```json\n" + chapters_reply(("0:00", "Tomatoes"), ("0:40", "Bikes"),
                                                                  ("1:20", "Bread")) + "\n```")

    result = generate_chapters(make_transcript(120), ChapterOptions(), "llm", settings_for(openai_server))

    assert result.generator == "llm" and [c.title for c in result.chapters] == ["Tomatoes", "Bikes", "Bread"]
    assert ["response_format" in r for r in openai_server.requests] == [True, False]


def test_an_unreachable_server_falls_back_with_a_warning() -> None:
    with socket.socket() as probe:  # a port nothing listens on once the probe closes
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(openai_base_url=f"http://127.0.0.1:{port}/v1", llm_timeout=5.0)

    result = generate_chapters(make_transcript(120), ChapterOptions(), "llm", settings)

    assert result.generator == "local"
    assert f"cannot reach the LLM server at http://127.0.0.1:{port}/v1" in result.warnings[0]


def test_a_slow_server_times_out(openai_server: FakeOpenAI) -> None:
    def slow(request: dict) -> str:
        time.sleep(1.0)
        return chapters_reply(("0:00", "Late"))

    openai_server.reply(slow)
    chapterer = LLMChapterer(settings_for(openai_server, llm_timeout=0.2))

    with pytest.raises(LLMFailure, match="no answer from the LLM server .* within 0.2 s"):
        chapterer.propose(make_transcript(120), ChapterOptions())


def test_the_prompt_states_the_chapter_limit_and_minimum_length(openai_server: FakeOpenAI) -> None:
    openai_server.reply(chapters_reply(("0:00", "Tomatoes"), ("0:40", "Bikes"), ("1:20", "Bread")))

    generate_chapters(make_transcript(600), ChapterOptions(max_chapters=4, min_chapter_seconds=30),
                      "llm", settings_for(openai_server))

    prompt = openai_server.prompt(0)
    assert "at most 4 chapters" in prompt and "at least 30 seconds" in prompt


def test_retitle_replaces_only_the_chapters_asked_for(openai_server: FakeOpenAI) -> None:
    transcript = make_transcript(120, language="de")
    chapters = [Chapter(0, 40.4, "Eins"), Chapter(40.4, 80.4, "Zwei"), Chapter(80.4, 120, "Drei")]
    openai_server.reply('{"titles": [{"chapter": 2, "title": "Fahrradpflege"},'
                        ' {"chapter": 3, "title": "X"}]}')

    titles = retitle(settings_for(openai_server), transcript, chapters, [1])

    assert titles == ["Eins", "Fahrradpflege", "Drei"]
    prompt = openai_server.prompt(0)
    assert "write every title in German" in prompt and "chapters 2." in prompt
    assert 'Chapter 2, 00:40 to 01:20, now titled "Zwei"' in prompt and "[00:40] Now the bicycle" in prompt
    assert "[00:00]" not in prompt.split("What is said in each")[1]


def test_retitle_all_and_its_failures(openai_server: FakeOpenAI) -> None:
    transcript = make_transcript(120)
    chapters = [Chapter(0, 40.4, "A"), Chapter(40.4, 80.4, "B"), Chapter(80.4, 120, "C")]
    openai_server.reply('{"titles": [{"chapter": "1", "title": "Tomatoes"},'
                        ' {"chapter": 3, "title": "Bread"}]}')
    assert retitle(settings_for(openai_server), transcript, chapters) == ["Tomatoes", "B", "Bread"]

    openai_server.reply('{"titles": [{"chapter": 9, "title": "Nowhere"}]}')
    with pytest.raises(LLMFailure, match="no new title"):
        retitle(settings_for(openai_server), transcript, chapters)
    openai_server.fail(503, "overloaded")
    with pytest.raises(LLMFailure, match="HTTP 503: overloaded"):
        retitle(settings_for(openai_server), transcript, chapters, [0])
    with pytest.raises(ValueError):
        retitle(settings_for(openai_server), transcript, chapters, [3])


def test_make_chat_model_streams_the_reply_in_chunks(openai_server: FakeOpenAI) -> None:
    openai_server.reply("Chapters make long videos easy to browse.")
    model = make_chat_model(settings_for(openai_server), streaming=True)

    pieces = [chunk.text for chunk in model.stream("Why chapters?")]

    assert len([p for p in pieces if p]) == 7
    assert "".join(pieces) == "Chapters make long videos easy to browse."
    request = openai_server.requests[0]
    assert request["stream"] is True and request["messages"][-1]["content"] == "Why chapters?"


@pytest.mark.parametrize(("value", "seconds"), [
    ("1:02:03", 3723.0), ("2:03", 123.0), ("[01:05]", 65.0), ("90", 90.0), ("0:07.5", 7.5), (12.5, 12.5),
    (3, 3.0), (-5, -5.0), ("1:75", None), ("1:60:00", None), ("banana", None), ("-5", None),
    (math.nan, None), (math.inf, None), (True, None), (None, None), ([1], None),
])
def test_parse_timestamp(value: object, seconds: float | None) -> None:
    assert parse_timestamp(value) == seconds
