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
    row: int | None  # the row as people count it: 1 is the first row shown; None for the list as a whole
    message: Message


def time_order(chapters: Sequence[Chapter]) -> list[int]:
    """The indices of `chapters` by start time; rows starting together keep their order."""
    return sorted(range(len(chapters)), key=lambda i: (chapters[i].start, i))


def validate(chapters: Sequence[Chapter], duration: float,
             min_seconds: float = YOUTUBE_MIN_SECONDS) -> list[Violation]:
    """Every way `chapters` breaks YouTube's rules, each with its row and the reason.

    The chapters are taken in the order the person wrote them (the editor's rows, a list sent to
    the API), so a message names the row they see; a chapter lasts until the next one in time."""
    if not chapters:
        return [Violation(None, Message("there are no chapters"))]
    problems: list[Violation] = []
    in_time = time_order(chapters)
    earliest = in_time[0]
    if chapters[earliest].start != 0:
        problems.append(Violation(earliest + 1, Message("the first chapter must start at 0:00")))
    if len(chapters) < MIN_CHAPTERS:
        too_few = Message("YouTube needs at least {least} chapters, this list has {count}",
                          least=MIN_CHAPTERS, count=len(chapters))
        problems.append(Violation(None, too_few))
    later_starts = {i: next((chapters[j].start for j in in_time[rank + 1:]
                             if chapters[j].start > chapters[i].start), duration)
                    for rank, i in enumerate(in_time)}
    first_at: dict[float, int] = {}
    titles: dict[str, int] = {}
    for i, ch in enumerate(chapters):
        row = i + 1
        twin = first_at.setdefault(ch.start, row)
        if twin != row:
            problems.append(Violation(row, Message("row {row} starts at the same time as row {other}",
                                                   row=row, other=twin)))
        elif i and ch.start < chapters[i - 1].start:
            problems.append(Violation(row, Message("row {row} starts before row {above} above it: "
                                                   "the chapters are out of order", row=row, above=row - 1)))
        length = later_starts[i] - ch.start
        if ch.start >= duration > 0:
            problems.append(Violation(row, Message("row {row} starts after the end of the video", row=row)))
        elif twin == row and length < min_seconds:
            problems.append(Violation(row, Message("row {row} lasts {length:.0f} s; "
                                                   "chapters need at least {least:g} s",
                                                   row=row, length=max(length, 0), least=min_seconds)))
        title = ch.title.strip()
        if not title:
            problems.append(Violation(row, Message("row {row} has no title", row=row)))
        elif len(title) > MAX_TITLE_CHARS:
            problems.append(Violation(row, Message("row {row} title has {count} characters; "
                                                   "the limit is {limit}",
                                                   row=row, count=len(title), limit=MAX_TITLE_CHARS)))
        key = title.casefold()
        if title and key in titles:
            problems.append(Violation(row, Message("row {row} has the same title as row {other}", row=row,
                                                   other=titles[key])))
        titles.setdefault(key, row)
    return problems
