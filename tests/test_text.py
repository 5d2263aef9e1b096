"""The shared text and time rules: one token estimate, one stemmer and stopword list, one way to
write and read times."""

from __future__ import annotations

import pytest

from chaptan.chapters.model import Chapter
from chaptan.chat import TranscriptIndex, estimate_tokens
from chaptan.text import cjk_sentences, reading_terms, runs_on, script_language, split_sentences
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


def test_japanese_homophones_share_their_reading() -> None:
    # Whisper hears 富士山 as 藤さん and 申告 as 新国: written apart, they sound alike.
    assert set(reading_terms("藤さんに登ります")) >= set(reading_terms("富士山の話")) - {"~ハナ", "~ナシ"}
    heard, said = set(reading_terms("確定新国では")), set(reading_terms("確定申告の"))
    assert {"~シン", "~ンコ", "~コク"} <= heard & said
    # Grammar and numbers make no terms; the marks keep readings apart from written katakana.
    assert reading_terms("とてもよかったです") == [] and reading_terms("3776") == []
    assert all(term.startswith("~") for term in reading_terms("コンブと味噌"))


def test_japanese_sentences_run_on_without_end_marks() -> None:
    text = ("毎年3月15日ごろです早めに準備すると楽になります "
            "最後は桜です春になると花が咲きますので、楽しみです")
    assert cjk_sentences(text) == [(0, "毎年3月15日ごろです"), (11, "早めに準備すると楽になります"),
                                   (26, "最後は桜です"), (32, "春になると花が咲きますので、楽しみです")]
    # Before hiragana a polite ending goes on (ですが, ですね); a space ends a sentence.
    assert runs_on("です", "春") and runs_on("ます", " 桜") and runs_on("コツ", " 二つ")
    assert not runs_on("です", "が") and not runs_on("ます", "ので") and not runs_on("話", "です")
    assert not runs_on("in", " the")


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
