"""A real explainer as a user uploads it: six announced topics of 15 to 40 s, spoken by the bundled
voice, transcribed by the bundled Whisper model and chaptered by the local generator."""

from __future__ import annotations

import pytest
from media_factory import SIX_TOPICS, six_topic_video

from chaptan.chapters import validate
from chaptan.config import Settings
from chaptan.pipeline import process_media


@pytest.fixture(scope="module")
def six(tmp_path_factory):
    media = six_topic_video(tmp_path_factory)
    transcript, result = process_media(media.path, settings=Settings.from_env(), language="en",
                                       generator="local")
    return media, transcript, result


def test_every_announced_topic_is_a_chapter_where_it_starts(six) -> None:
    media, transcript, result = six
    starts = [c.start for c in result.chapters]
    assert len(starts) == len(SIX_TOPICS), [(c.start, c.title) for c in result.chapters]
    assert all(abs(s - t) <= 5 for s, t in zip(starts, media.topic_starts)), (starts, media.topic_starts)
    assert validate(result.chapters, transcript.duration) == []


def test_each_title_names_its_topic(six) -> None:
    _, _, result = six
    for chapter, (term, _) in zip(result.chapters, SIX_TOPICS):
        assert term in chapter.title.lower(), [c.title for c in result.chapters]
        assert len(chapter.title.split()) <= 6
