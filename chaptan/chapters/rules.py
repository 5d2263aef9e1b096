"""YouTube's chapter rules: enforce them on proposals, and explain violations in edited tables.

YouTube accepts a chapter list when the first chapter starts at 0:00, there are at least three,
each lasts at least 10 seconds, and the starts ascend. We also keep titles 1-70 characters and
distinct, so a list is usable as-is in a video description.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..messages import Message
from ..transcript import Transcript
from .model import Chapter, ChapterOptions, Proposal, Titler

MAX_TITLE_CHARS = 70
MIN_CHAPTERS = 3
YOUTUBE_MIN_SECONDS = 10.0


def clip_title(title: str, limit: int = MAX_TITLE_CHARS) -> str:
    """Collapse whitespace and cut to `limit` characters, at a word boundary when there is one."""
    text = re.sub(r"\s+", " ", title).strip().strip("\"'")
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—、。")


def enforce(proposals: Sequence[Proposal], transcript: Transcript, options: ChapterOptions,
            titler: Titler) -> list[Chapter]:
    """Turn proposals into a list that obeys every rule.

    Too-short chapters are merged away by dropping their weaker start; past `max_chapters` the
    weakest starts go; videos long enough for three chapters that have fewer get their longest
    chapters split at a segment start near the middle."""
    duration = transcript.duration
    min_len = max(float(options.min_chapter_seconds), 1.0)
    by_start: dict[float, Proposal] = {}
    for p in sorted(proposals, key=lambda p: p.start):
        start = round(min(max(float(p.start), 0.0), duration), 3)
        if start not in by_start or p.strength > by_start[start].strength:
            by_start[start] = p
    starts = sorted(by_start)
    # The first chapter starts at 0:00: a proposal near the start takes it over.
    if not starts or starts[0] >= min_len:
        starts.insert(0, 0.0)
        by_start.setdefault(0.0, Proposal(0.0, "", float("inf")))
    elif starts[0] > 0:
        first = by_start.pop(starts[0])
        by_start[0.0] = Proposal(0.0, first.title, float("inf"))
        starts[0] = 0.0
    strength = {s: (float("inf") if s == 0 else by_start[s].strength) for s in starts}

    def lengths() -> list[float]:
        return [b - a for a, b in zip(starts, starts[1:] + [duration])]

    # Merge chapters shorter than the minimum, shortest first.
    while len(starts) > 1:
        spans = lengths()
        i = min(range(len(spans)), key=spans.__getitem__)
        if spans[i] >= min_len:
            break
        if i == len(starts) - 1:
            drop = i
        elif i == 0:
            drop = 1
        else:
            drop = i if strength[starts[i]] <= strength[starts[i + 1]] else i + 1
        del starts[drop]
    limit = options.max_chapters
    while limit and len(starts) > limit:
        weakest = min(range(1, len(starts)), key=lambda i: (strength[starts[i]], lengths()[i]))
        del starts[weakest]
    # Split the longest chapters until there are three, when the video is long enough.
    seg_starts = sorted({round(s.start, 3) for s in transcript.segments})
    wanted = MIN_CHAPTERS if duration >= 30 else 1
    if limit:
        wanted = min(wanted, limit)
    while len(starts) < wanted:
        spans = lengths()
        i = max(range(len(spans)), key=spans.__getitem__)
        cut = _split_point(starts[i], starts[i] + spans[i], min_len, seg_starts)
        if cut is None:
            break
        bisect.insort(starts, cut)
        by_start[cut] = Proposal(cut, "", 0.0)
        strength[cut] = 0.0
    ends = starts[1:] + [duration]
    titles: list[str] = []
    for start, end in zip(starts, ends):
        title = clip_title(by_start[start].title) if start in by_start else ""
        if not title:
            title = clip_title(titler(transcript, start, end, avoid=titles))
        titles.append(title or f"Chapter {len(titles) + 1}")
    return [Chapter(s, e, t) for s, e, t in zip(starts, ends, _distinct(titles))]


def _split_point(a: float, b: float, min_len: float, seg_starts: list[float]) -> float | None:
    if b - a < 2 * min_len:
        return None
    middle = (a + b) / 2
    fits = [s for s in seg_starts if a + min_len <= s <= b - min_len]
    return min(fits, key=lambda s: abs(s - middle)) if fits else round(middle, 3)


def _distinct(titles: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for title in titles:
        key = title.casefold()
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            suffix = f" ({seen[key]})"
            title = clip_title(title, MAX_TITLE_CHARS - len(suffix)) + suffix
        out.append(title)
    return out


@dataclass(frozen=True)
class Violation:
    row: int  # 0-based index in the table; -1 for the table as a whole
    message: Message


def validate(chapters: Sequence[Chapter], duration: float,
             min_seconds: float = YOUTUBE_MIN_SECONDS) -> list[Violation]:
    """Every way `chapters` breaks YouTube's rules, each with the row and the reason."""
    problems: list[Violation] = []
    if not chapters:
        return [Violation(-1, Message("there are no chapters"))]
    if chapters[0].start != 0:
        problems.append(Violation(0, Message("the first chapter must start at 0:00")))
    if len(chapters) < MIN_CHAPTERS:
        too_few = Message("YouTube needs at least {least} chapters, this list has {count}",
                          least=MIN_CHAPTERS, count=len(chapters))
        problems.append(Violation(-1, too_few))
    seen: dict[str, int] = {}
    for i, ch in enumerate(chapters):
        row = i + 1
        if i and ch.start <= chapters[i - 1].start:
            problems.append(Violation(i, Message("row {row} starts before or with the chapter above it",
                                                 row=row)))
        end = chapters[i + 1].start if i + 1 < len(chapters) else duration
        if end - ch.start < min_seconds and not (i and ch.start <= chapters[i - 1].start):
            problems.append(Violation(i, Message("row {row} lasts {length:.0f} s; "
                                                 "chapters need at least {least:g} s",
                                                 row=row, length=max(end - ch.start, 0), least=min_seconds)))
        if ch.start >= duration > 0:
            problems.append(Violation(i, Message("row {row} starts after the end of the video", row=row)))
        title = ch.title.strip()
        if not title:
            problems.append(Violation(i, Message("row {row} has no title", row=row)))
        elif len(title) > MAX_TITLE_CHARS:
            problems.append(Violation(i, Message("row {row} title has {count} characters; "
                                                 "the limit is {limit}",
                                                 row=row, count=len(title), limit=MAX_TITLE_CHARS)))
        key = title.casefold()
        if title and key in seen:
            problems.append(Violation(i, Message("row {row} has the same title as row {other}", row=row,
                                                 other=seen[key] + 1)))
        seen.setdefault(key, i)
    return problems
