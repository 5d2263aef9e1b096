"""Times as Chaptan writes and reads them: chapter timestamps ('04:05', '1:02:03'), durations
('4:05'), subtitle and prompt clocks ('00:04:05.000'), the bracketed times replies cite ('[04:05]'),
and reading any of these back into seconds."""

from __future__ import annotations

import math
import re

# A bracketed time in running text, [m:ss] / [mm:ss] / [h:mm:ss]: how the assistant cites a moment.
BRACKETED = re.compile(r"\[(?:(\d+):)?(\d{1,2}):(\d{2})\]")
_TIMESTAMP = re.compile(r"\[?\s*(?:(?:(\d+):)?(\d+):)?(\d+(?:\.\d+)?)\s*\]?")


def clock_parts(seconds: float) -> tuple[int, int, int]:
    """(hours, minutes, seconds) of the whole seconds in `seconds` (rounded down, never negative)."""
    h, rem = divmod(max(0, int(seconds)), 3600)
    m, s = divmod(rem, 60)
    return h, m, s


def timestamp(seconds: float, *, pad_minutes: bool = True) -> str:
    """'04:05' under an hour and 'H:MM:SS' from one, as YouTube chapters are written; with
    pad_minutes=False '4:05', as a duration reads in running text. Whole seconds, rounded down: a
    chapter starting at 4:05.9 is heard from 4:05."""
    h, m, s = clock_parts(seconds)
    if h:
        return f"{h}:{m:02d}:{s:02d}"
    return f"{m:02d}:{s:02d}" if pad_minutes else f"{m}:{s:02d}"


def clock(seconds: float, *, hours: bool = False, sep: str = ".", millis: bool = True) -> str:
    """Fixed-width 'MM:SS.mmm', or 'HH:MM:SS.mmm' past an hour or with `hours` (subtitle style);
    `sep` before the milliseconds (SRT writes ','), none with millis=False."""
    total_ms = max(0, round(seconds * 1000))
    h, m, s = clock_parts(total_ms // 1000)
    out = f"{h:02d}:{m:02d}:{s:02d}" if hours or h else f"{m:02d}:{s:02d}"
    return f"{out}{sep}{total_ms % 1000:03d}" if millis else out


def parse_timestamp(value: object) -> float | None:
    """Seconds from a number or an 'ss', 'm:ss' or 'h:mm:ss' string (brackets and fractions
    allowed); None for anything else, including NaN and infinities."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = float(value)
        return seconds if math.isfinite(seconds) else None
    if not isinstance(value, str):
        return None
    match = _TIMESTAMP.fullmatch(value.strip())
    if not match:
        return None
    hours, minutes, seconds = (float(part) if part else 0.0 for part in match.groups())
    if (match.group(2) and seconds >= 60) or (match.group(1) and minutes >= 60):
        return None
    return hours * 3600 + minutes * 60 + seconds
