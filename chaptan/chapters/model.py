"""Chapter types shared by the generators, the rules and the formats."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Protocol

from ..transcript import Transcript

# A long video opens with an introduction a minute or three long that its creator makes a chapter of
# its own: the first chapter of 178 of the 240 long eval videos ends between 20 s and 4 minutes in
# (median 100 s), and 98 are titled "Introduction" or "Intro". In a video at least LONG_VIDEO_SECONDS
# long, the local generator ends the opening chapter within OPENING_SECONDS, and the titler calls a
# first chapter that short the introduction.
LONG_VIDEO_SECONDS = 600.0
OPENING_SECONDS = 240.0


@dataclass(frozen=True)
class Chapter:
    start: float
    end: float
    title: str

    def to_dict(self) -> dict:
        return {"start": round(self.start, 3), "end": round(self.end, 3), "title": self.title}


@dataclass(frozen=True)
class Proposal:
    """A generator's suggested chapter start. `strength` (higher = surer) decides which starts
    survive when the rules must drop some; `title` may be empty (the local titler fills it)."""

    start: float
    title: str = ""
    strength: float = 1.0


@dataclass(frozen=True)
class ChapterOptions:
    max_chapters: int = 0  # 0: no limit
    min_chapter_seconds: float = 10.0


@dataclass
class ChapterResult:
    chapters: list[Chapter]
    generator: str  # "local" | "llm"
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"chapters": [c.to_dict() for c in self.chapters], "generator": self.generator,
                "warnings": list(self.warnings)}


class Chapterer(Protocol):
    """Proposes chapter starts for a transcript; `chaptan.chapters.rules.enforce` makes them valid."""

    name: str

    def propose(self, transcript: Transcript, options: ChapterOptions) -> list[Proposal]: ...


class Titler(Protocol):
    """A title for the speech in [start, end), unlike any title in `avoid`."""

    def __call__(self, transcript: Transcript, start: float, end: float,
                 avoid: Collection[str] = ()) -> str: ...
