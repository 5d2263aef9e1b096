"""Transcript types and their file formats (JSON, SRT, WebVTT, plain text)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .errors import TranscriptError
from .timecode import clock


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class Transcript:
    language: str
    duration: float
    segments: tuple[Segment, ...]
    # What the transcriber could not do (speech left out, and why): shown with the job, not saved in
    # the transcript's file formats.
    warnings: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())

    def to_dict(self, words: bool = False) -> dict:
        def seg(s: Segment) -> dict:
            out = {"start": round(s.start, 3), "end": round(s.end, 3), "text": s.text.strip()}
            if words and s.words:
                out["words"] = [{"start": round(w.start, 3), "end": round(w.end, 3), "text": w.text}
                                for w in s.words]
            return out
        return {"language": self.language, "duration": round(self.duration, 3),
                "segments": [seg(s) for s in self.segments]}

    @classmethod
    def from_dict(cls, data: object) -> Transcript:
        """Build from `{"language", "duration", "segments": [{"start", "end", "text"}]}`.

        Extra keys are ignored. `language` and `duration` may be missing (unknown language; the
        end of the last segment)."""
        if not isinstance(data, dict) or not isinstance(data.get("segments"), list):
            raise TranscriptError('transcript JSON must be an object with a "segments" list')
        segments = []
        for i, raw in enumerate(data["segments"]):
            if not isinstance(raw, dict):
                raise TranscriptError(f"transcript segment {i} is not an object")
            missing = [k for k in ("start", "end", "text") if k not in raw]
            if missing:
                raise TranscriptError(f"transcript segment {i} lacks {', '.join(missing)}")
            try:
                start, end = float(raw["start"]), float(raw["end"])
            except (TypeError, ValueError):
                raise TranscriptError(f"transcript segment {i} has a non-numeric time") from None
            if not isinstance(raw["text"], str):
                raise TranscriptError(f"transcript segment {i} text is not a string")
            if start < 0 or end < start:
                raise TranscriptError(f"transcript segment {i} has end before start")
            words = tuple(Word(float(w["start"]), float(w["end"]), str(w["text"]))
                          for w in raw.get("words") or () if isinstance(w, dict)
                          and {"start", "end", "text"} <= w.keys())
            segments.append(Segment(start, end, raw["text"], words))
        segments.sort(key=lambda s: s.start)
        last_end = max((s.end for s in segments), default=0.0)
        try:
            duration = float(data.get("duration") or last_end)
        except (TypeError, ValueError):
            raise TranscriptError("transcript duration is not a number") from None
        language = data.get("language") or ""
        if not isinstance(language, str):
            raise TranscriptError("transcript language is not a string")
        return cls(language=language, duration=max(duration, last_end), segments=tuple(segments))

    @classmethod
    def load(cls, path: str | Path) -> Transcript:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise TranscriptError(f"transcript not found: {path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise TranscriptError(f"cannot read transcript {path}: {exc}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TranscriptError(f"transcript {path} is not valid JSON: {exc.msg} "
                                  f"at line {exc.lineno}") from None
        return cls.from_dict(data)


def to_srt(t: Transcript) -> str:
    blocks = []
    for i, s in enumerate(_spoken(t), 1):
        blocks.append(f"{i}\n{clock(s.start, hours=True, sep=',')} --> "
                      f"{clock(s.end, hours=True, sep=',')}\n{s.text.strip()}\n")
    return "\n".join(blocks)


def to_vtt(t: Transcript) -> str:
    cues = [f"{clock(s.start, hours=True)} --> {clock(s.end, hours=True)}\n{s.text.strip()}\n"
            for s in _spoken(t)]
    return "WEBVTT\n\n" + "\n".join(cues)


def to_txt(t: Transcript) -> str:
    return "".join(f"{s.text.strip()}\n" for s in _spoken(t))


def to_json(t: Transcript) -> str:
    return json.dumps(t.to_dict(), ensure_ascii=False, indent=2) + "\n"


def _spoken(t: Transcript) -> list[Segment]:
    return [s for s in t.segments if s.text.strip()]


TRANSCRIPT_FORMATS = {"json": to_json, "srt": to_srt, "vtt": to_vtt, "txt": to_txt}
