"""Chapter file formats: YouTube description text, JSON, WebVTT chapters and FFmetadata."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from ..errors import ChapterError
from ..timecode import clock, parse_timestamp, timestamp
from .model import Chapter, ChapterResult


def to_youtube(chapters: Sequence[Chapter]) -> str:
    return "".join(f"{timestamp(c.start)} {c.title}\n" for c in chapters)


def to_json(result: ChapterResult) -> str:
    return json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n"


def to_vtt(chapters: Sequence[Chapter]) -> str:
    cues = [f"Chapter {i}\n{clock(c.start, hours=True)} --> {clock(c.end, hours=True)}\n{c.title}\n"
            for i, c in enumerate(chapters, 1)]
    return "WEBVTT\n\n" + "\n".join(cues)


def _ffmeta_escape(text: str) -> str:
    for ch in ("\\", "=", ";", "#", "\n"):
        text = text.replace(ch, "\\" + ch)
    return text


def to_ffmetadata(chapters: Sequence[Chapter]) -> str:
    lines = [";FFMETADATA1"]
    for c in chapters:
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={round(c.start * 1000)}",
                  f"END={round(c.end * 1000)}", f"title={_ffmeta_escape(c.title)}"]
    return "\n".join(lines) + "\n"


CHAPTER_FORMATS = ("youtube", "json", "vtt", "ffmetadata")


def render(result: ChapterResult, fmt: str) -> str:
    if fmt == "json":
        return to_json(result)
    renderers = {"youtube": to_youtube, "vtt": to_vtt, "ffmetadata": to_ffmetadata}
    if fmt not in renderers:
        raise ChapterError("unknown chapter format {format!r}; choose one of {choices}", format=fmt,
                           choices=", ".join(CHAPTER_FORMATS))
    return renderers[fmt](result.chapters)


def chapters_from_dict(data: object, duration: float | None = None) -> list[Chapter]:
    """Read `{"chapters": [{"start", "title", "end"?}]}` (or a bare list). Missing ends are the
    next chapter's start, or `duration` for the last."""
    items = data.get("chapters") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        raise ChapterError('chapters JSON must hold a non-empty "chapters" list')
    rows = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or "start" not in item or "title" not in item:
            raise ChapterError("chapter {number} needs a start and a title", number=i + 1)
        start = parse_timestamp(item["start"])
        end = parse_timestamp(item["end"]) if item.get("end") is not None else None
        if start is None or (end is None and item.get("end") is not None):
            raise ChapterError("chapter {number} has a time that is not a number of seconds or m:ss",
                               number=i + 1)
        rows.append((start, end, str(item["title"])))
    rows.sort(key=lambda r: r[0])
    chapters = []
    for i, (start, end, title) in enumerate(rows):
        nxt = rows[i + 1][0] if i + 1 < len(rows) else None
        end = nxt if nxt is not None else (end if end is not None else duration)
        if end is None:
            raise ChapterError("the last chapter needs an end time (or give the video's duration)")
        chapters.append(Chapter(start, max(end, start), title))
    return chapters


def load_chapters(path: str | Path, duration: float | None = None) -> list[Chapter]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ChapterError("chapters file not found: {file}", file=path) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # ValueError: JSON errors among them
        raise ChapterError("cannot read chapters file {file}: {reason}", file=path, reason=exc) from None
    except RecursionError:
        raise ChapterError("chapters file {file} is nested too deeply to be a chapter list",
                           file=path) from None
    return chapters_from_dict(data, duration)
