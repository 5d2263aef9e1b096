"""Chapter-table edits for the editor: rows of (start text, title) in, rows out. No UI here.

The table holds what the person typed, so a malformed time is reported with its row instead of
being dropped. A table becomes Chapter objects in `table_chapters` (the rows' own order, for
messages that name a row) or `to_chapters` (time order, as chapters are saved).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import ChapterError, quoted
from ..timecode import parse_timestamp, timestamp
from ..transcript import Transcript
from .model import Chapter
from .rules import clip_title, time_order

Row = list  # [start text, title]


def parse_clock(text: object) -> float | None:
    """'1:02:03', '2:05', '2:05.5' or plain seconds -> seconds; None when it is not a time."""
    seconds = parse_timestamp(text)
    return seconds if seconds is not None and seconds >= 0 else None


def rows_from_chapters(chapters: Sequence[Chapter]) -> list[Row]:
    """Rows as the editor shows them: starts written M:SS (H:MM:SS from an hour)."""
    return [[row_time(c.start), c.title] for c in chapters]


def row_time(seconds: float) -> str:
    return timestamp(seconds, pad_minutes=False)


def parse_rows(rows: Sequence[Sequence]) -> list[tuple[float, str]]:
    """(start, title) per non-empty row, in table order; a bad time raises with its row number."""
    out = []
    for i, row in enumerate(rows):
        start_text = row[0] if len(row) > 0 else ""
        title = str(row[1] if len(row) > 1 and row[1] is not None else "").strip()
        if not str(start_text or "").strip() and not title:
            continue
        start = parse_clock(start_text)
        if start is None:
            raise ChapterError("row {row}: {text} is not a time; write m:ss or h:mm:ss", row=i + 1,
                               text=quoted(start_text))
        out.append((start, title))
    return out


def table_chapters(rows: Sequence[Sequence], duration: float) -> list[Chapter]:
    """A chapter per non-empty row, in the table's order (so rule messages name the rows the person
    sees), each ending where the next chapter in time starts, the last at `duration`."""
    starts = [Chapter(start, start, title) for start, title in parse_rows(rows)]
    in_time = time_order(starts)
    ends = {i: starts[j].start for i, j in zip(in_time, in_time[1:])}
    last = max(duration, starts[in_time[-1]].start) if starts else duration
    return [Chapter(c.start, ends.get(i, last), c.title) for i, c in enumerate(starts)]


def to_chapters(rows: Sequence[Sequence], duration: float) -> list[Chapter]:
    """The table's chapters sorted by time, as they are saved and exported."""
    return sorted(table_chapters(rows, duration), key=lambda c: c.start)


def sort_rows(rows: Sequence[Sequence], duration: float) -> list[Row]:
    return rows_from_chapters(to_chapters(rows, duration))


def add_at(rows: Sequence[Sequence], at: float, duration: float, transcript: Transcript | None,
           titler=None) -> list[Row]:
    """A new chapter at `at` (the player's time), titled from what is said there, by a title no
    other chapter has."""
    chapters = to_chapters(rows, duration)
    if any(abs(c.start - at) < 0.5 for c in chapters):
        raise ChapterError("there is already a chapter at {time}", time=row_time(at))
    following = [c.start for c in chapters if c.start > at]
    end = following[0] if following else duration
    others = [c.title for c in chapters]
    title = titler(transcript, at, end, avoid=others) if (titler and transcript) else ""
    chapters.append(Chapter(at, end, clip_title(title) or "New chapter"))
    return sort_rows(rows_from_chapters(chapters), duration)


def chapter_at(rows: Sequence[Sequence], at: float, duration: float) -> Chapter | None:
    """The chapter that `at` falls inside (after its start), which a chapter added there splits."""
    return next((c for c in reversed(to_chapters(rows, duration)) if c.start < at), None)


def delete_row(rows: Sequence[Sequence], index: int, duration: float) -> list[Row]:
    """Without the table's row `index` (0-based, as the table selects); the rest sorted by time."""
    chapters = table_chapters(rows, duration)
    _check_index(chapters, index)
    del chapters[index]
    return rows_from_chapters(sorted(chapters, key=lambda c: c.start))


def merge_with_next(rows: Sequence[Sequence], index: int, duration: float) -> list[Row]:
    """The table's row `index` absorbs the chapter after it in time and keeps its own title."""
    chapters = table_chapters(rows, duration)
    _check_index(chapters, index)
    in_time = time_order(chapters)
    rank = in_time.index(index)
    if rank + 1 >= len(in_time):
        raise ChapterError("the last chapter has no next chapter to merge with")
    absorbed = in_time[rank + 1]
    return rows_from_chapters([chapters[i] for i in in_time if i != absorbed])


def _check_index(chapters: list[Chapter], index: int) -> None:
    if not 0 <= index < len(chapters):
        raise ChapterError("select a chapter row first")
