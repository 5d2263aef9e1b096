"""A real explainer as a user uploads it: announced topics of 15 to 40 s, spoken by the bundled
voices (six in English by Piper, five in Japanese by Kokoro), transcribed by the bundled Whisper
models and chaptered by the local generator."""

from __future__ import annotations

import pytest
from media_factory import JA_FIVE_TOPICS, SIX_TOPICS, japanese_five_topic_video, six_topic_video

from chaptan.chapters import validate
from chaptan.config import Settings
from chaptan.pipeline import process_media

TALKS = {"en": (six_topic_video, SIX_TOPICS), "ja": (japanese_five_topic_video, JA_FIVE_TOPICS)}


@pytest.fixture(scope="module", params=sorted(TALKS))
def talk(request, tmp_path_factory):
    make, topics = TALKS[request.param]
    media = make(tmp_path_factory)
    transcript, result = process_media(media.path, settings=Settings.from_env(), language="auto",
                                       generator="local")
    return media, topics, transcript, result


def test_every_announced_topic_is_a_chapter_where_it_starts(talk) -> None:
    media, topics, transcript, result = talk
    starts = [c.start for c in result.chapters]
    assert len(starts) == len(topics), [(c.start, c.title) for c in result.chapters]
    assert all(abs(s - t) <= 5 for s, t in zip(starts, media.topic_starts)), (starts, media.topic_starts)
    assert validate(result.chapters, transcript.duration) == []


def names(title: str, term: str | tuple[str, ...]) -> bool:
    """Whether the title names the term: as a word in English; in Japanese by a pair of its
    characters (Whisper writes 確定申告 as 確定進国 at times), as the scorer compares CJK titles."""
    if isinstance(term, str):
        return term in title.lower()
    return any(word[i:i + 2] in title for word in term for i in range(max(len(word) - 1, 1)))


def test_each_title_names_its_topic(talk) -> None:
    _, topics, transcript, result = talk
    for chapter, (term, _) in zip(result.chapters, topics):
        assert names(chapter.title, term), [c.title for c in result.chapters]
        # A short phrase: a few words, or in Japanese a few characters, never a sentence.
        assert len(chapter.title.split()) <= 6 and len(chapter.title) <= 40
        assert not chapter.title.endswith(("。", "."))
