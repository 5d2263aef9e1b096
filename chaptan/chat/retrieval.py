"""Find the moments of one video that answer a question: its transcript cut into passages of a
few segments (never across a chapter boundary), ranked with BM25.

Terms are `text.search_terms`: lower-cased words with a light English plural stem, and character
bigrams for Chinese and Japanese, which write no spaces between words. Embeddings were left out:
word overlap already finds the passage for the factual questions asked about one's own video, and a
model load would cost seconds per process.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..chapters.model import Chapter
from ..text import STOPWORDS, search_terms
from ..transcript import Segment, Transcript

# Besides the shared stopwords, the words of asking about a video, which say nothing about where
# in it something is: dropping them keeps "tell" and "video" from ranking passages.
QUESTION_STOPWORDS = STOPWORDS | frozenset(
    "itself ours theirs whom tell says video talk talks mention mentioned".split())
BM25_K1 = 1.5
BM25_B = 0.75


@dataclass(frozen=True)
class Passage:
    start: float
    end: float
    text: str
    chapter_title: str = ""
    score: float = 0.0


def terms(text: str) -> list[str]:
    """The index terms of `text` (see the module docstring)."""
    return search_terms(text, QUESTION_STOPWORDS)


def split_passages(segments: Sequence[Segment], chapters: Sequence[Chapter], *,
                   max_segments: int = 3, max_seconds: float = 30.0) -> list[Passage]:
    """Consecutive segments grouped into passages, each within one chapter."""
    passages: list[Passage] = []
    group: list[Segment] = []
    group_chapter = ""
    for segment in segments:
        if not segment.text.strip():
            continue
        chapter = chapter_at(chapters, segment.start)
        if group and (chapter != group_chapter or len(group) >= max_segments
                      or segment.end - group[0].start > max_seconds):
            passages.append(_passage(group, group_chapter))
            group = []
        if not group:
            group_chapter = chapter
        group.append(segment)
    if group:
        passages.append(_passage(group, group_chapter))
    return passages


def chapter_at(chapters: Sequence[Chapter], seconds: float) -> str:
    """The title of the chapter playing at `seconds` ('' before the first or without chapters).
    Half a second of slack: chapter starts are rounded, segment starts are not."""
    title = ""
    for chapter in chapters:
        if chapter.start <= seconds + 0.5:
            title = chapter.title
    return title


def _passage(group: list[Segment], chapter: str) -> Passage:
    return Passage(group[0].start, group[-1].end, " ".join(s.text.strip() for s in group), chapter)


class TranscriptIndex:
    """BM25 over the passages of one transcript. The chapter title counts as part of each passage,
    so "the part about football" finds that chapter's passages."""

    def __init__(self, passages: Sequence[Passage]):
        self.passages = tuple(passages)
        self._terms = [Counter(terms(f"{p.text} {p.chapter_title}")) for p in self.passages]
        self._lengths = [sum(c.values()) for c in self._terms]
        self._avg_length = (sum(self._lengths) / len(self._lengths)) if self._lengths else 0.0
        frequency = Counter(term for counts in self._terms for term in counts)
        count = len(self.passages)
        self._idf = {t: math.log(1 + (count - df + 0.5) / (df + 0.5)) for t, df in frequency.items()}

    @classmethod
    def from_transcript(cls, transcript: Transcript, chapters: Sequence[Chapter] = ()) -> TranscriptIndex:
        return cls(split_passages(transcript.segments, chapters))

    def search(self, question: str, k: int = 3) -> list[Passage]:
        """Up to `k` passages sharing terms with `question`, best first (ties: earlier first)."""
        wanted = set(terms(question))
        scored = [(self._score(wanted, i), i) for i in range(len(self.passages))]
        best = sorted((item for item in scored if item[0] > 0), key=lambda item: (-item[0], item[1]))
        return [replace(self.passages[i], score=round(score, 4)) for score, i in best[:k]]

    def _score(self, wanted: set[str], index: int) -> float:
        counts, length = self._terms[index], self._lengths[index]
        norm = BM25_K1 * (1 - BM25_B + BM25_B * length / self._avg_length) if self._avg_length else BM25_K1
        return sum(self._idf[t] * counts[t] * (BM25_K1 + 1) / (counts[t] + norm)
                   for t in wanted if t in counts)

    def chapter_openings(self, limit: int) -> list[Passage]:
        """The first passage of each chapter, up to `limit`: what to show when nothing matches."""
        seen: set[str] = set()
        openings = []
        for passage in self.passages:
            if passage.chapter_title not in seen:
                seen.add(passage.chapter_title)
                openings.append(passage)
        return openings[:limit]
