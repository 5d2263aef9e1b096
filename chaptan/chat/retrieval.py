"""Find the moments of one video that answer a question: its transcript cut into passages of a
few segments (never across a chapter boundary), ranked with BM25.

Terms are lower-cased words with a light English plural stem for Latin-script text, and character
bigrams for Chinese and Japanese, which write no spaces between words: bigrams match most two-kanji
words and need no dictionary. Embeddings were left out: word overlap already finds the passage for
the factual questions asked about one's own video, and a model load would cost seconds per process.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..chapters.model import Chapter
from ..transcript import Segment, Transcript

_CJK_RANGES = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
_TERM = re.compile(rf"[{_CJK_RANGES}]+|[^\W{_CJK_RANGES}]+")
_CJK_RUN = re.compile(rf"[{_CJK_RANGES}]")
# Words that say nothing about where in a video something is; dropping them keeps "what" and
# "the" from ranking passages.
STOPWORDS = frozenset("""
a about above after again all also am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers him his how i if in into is it its itself just let me more most my no nor
not now of off on once only or other our ours out over own same she should so some such than that
the their theirs them then there these they this those through to too under until up us very was
we were what when where which while who whom why will with would you your yours tell say said says
video talk talks mention mentioned
""".split())
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
    out: list[str] = []
    for run in _TERM.findall(text.lower()):
        if _CJK_RUN.match(run):
            out.extend([run] if len(run) == 1 else [run[i:i + 2] for i in range(len(run) - 1)])
        elif run not in STOPWORDS:
            out.append(_stem(run))
    return out


def _stem(word: str) -> str:
    """'planets' -> 'planet', 'stories' -> 'story': enough to match a question's plural with the
    transcript's singular, without a stemmer's surprises on names."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


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
