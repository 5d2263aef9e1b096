"""The shared text and time rules: one token estimate, one stemmer and stopword list, one way to
write and read times."""

from __future__ import annotations

import pytest

from chaptan.chapters.model import Chapter
from chaptan.chat import TranscriptIndex, estimate_tokens
from chaptan.text import script_language, split_sentences
from chaptan.timecode import clock, parse_timestamp, timestamp
from chaptan.transcript import Segment, Transcript


def test_the_token_estimate_counts_every_non_ascii_character() -> None:
    # The chapter writer and the chat memory count with the same estimate: Cyrillic costs about a
    # token a character, as Japanese does, not one per four.
    assert estimate_tokens("Привет, мир") == 9 + 1
    assert estimate_tokens("Saturn は土星") == 3 + 2


def test_retrieval_folds_plurals_as_the_chapter_writer_does() -> None:
    segments = (Segment(0.0, 4.0, "Put the box on the top shelf."),
                Segment(30.0, 34.0, "Water the plants every morning."))
    index = TranscriptIndex.from_transcript(Transcript("en", 60.0, segments), [Chapter(0.0, 60.0, "Home")])
    assert index.search("Where do the boxes go?")[0].text.startswith("Put the box")


def test_script_language_and_streamed_sentences() -> None:
    texts = ("土星の環", "土星有環", "ｻﾀｰﾝ", "Saturn")
    assert [script_language(t) for t in texts] == ["ja", "zh", "ja", "en"]
    assert list(split_sentences(["It is 3.5 m ", "wide. 土星。", "環！Bye"])) == [
        "It is 3.5 m wide.", "土星。", "環！", "Bye"]


@pytest.mark.parametrize(("seconds", "chapter", "duration", "subtitle"), [
    (0, "00:00", "0:00", "00:00:00.000"),
    (245.9, "04:05", "4:05", "00:04:05.900"),
    (4500, "1:15:00", "1:15:00", "01:15:00.000"),
])
def test_one_module_writes_times_and_reads_them_back(seconds: float, chapter: str, duration: str,
                                                     subtitle: str) -> None:
    assert timestamp(seconds) == chapter and timestamp(seconds, pad_minutes=False) == duration
    assert clock(seconds, hours=True) == subtitle
    assert parse_timestamp(chapter) == parse_timestamp(f"[{duration}]") == int(seconds)
