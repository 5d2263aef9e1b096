"""Chapter types shared by the generators, the rules and the formats."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Protocol

from ..transcript import Transcript


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
