"""Transcript types and their file formats (JSON, SRT, WebVTT, plain text)."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from .errors import TranscriptError, quoted
from .messages import Message
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
    def from_dict(cls, data: object, *, strict: bool = False) -> Transcript:
        """Build from `{"language", "duration", "segments": [{"start", "end", "text"}]}`.

        Extra keys are ignored. `language` and `duration` may be missing (unknown language; the
        end of the last segment). Every time must be a finite number of seconds within
        MAX_SECONDS. `strict` (a file someone gave, not one Chaptan stored) also refuses segments
        that end after the given duration instead of stretching the duration to them."""
        if not isinstance(data, dict) or not isinstance(data.get("segments"), list):
            raise TranscriptError('transcript JSON must be an object with a "segments" list')
        segments = []
        for i, raw in enumerate(data["segments"]):
            if not isinstance(raw, dict):
                raise TranscriptError("transcript segment {index} is not an object", index=i)
            missing = [k for k in ("start", "end", "text") if k not in raw]
            if missing:
                raise TranscriptError("transcript segment {index} lacks {keys}", index=i,
                                      keys=", ".join(missing))
            start = _seconds(raw["start"], Message("transcript segment {index} start", index=i))
            end = _seconds(raw["end"], Message("transcript segment {index} end", index=i))
            if not isinstance(raw["text"], str):
                raise TranscriptError("transcript segment {index} text is not a string", index=i)
            if end < start:
                raise TranscriptError("transcript segment {index} has end before start", index=i)
            word_start = Message("transcript segment {index} word start", index=i)
            word_end = Message("transcript segment {index} word end", index=i)
            words = tuple(Word(_seconds(w["start"], word_start), _seconds(w["end"], word_end), str(w["text"]))
                          for w in raw.get("words") or () if isinstance(w, dict)
                          and {"start", "end", "text"} <= w.keys())
            segments.append(Segment(start, end, raw["text"], words))
        read = list(segments)  # in the file's order, for messages that name a segment
        segments.sort(key=lambda s: s.start)
        last_end = max((s.end for s in segments), default=0.0)
        given = data.get("duration")
        duration = (last_end if given is None or given == 0
                    else _seconds(given, Message("transcript duration")))
        late = [i for i, s in enumerate(read) if s.end > duration + _PAST_END_SLACK_S]
        if strict and given and late:
            raise TranscriptError("transcript segment {index} ends at {end:g} s, after the transcript's "
                                  "duration ({duration:g} s)", index=late[0], end=read[late[0]].end,
                                  duration=duration)
        language = data.get("language") or ""
        if not isinstance(language, str):
            raise TranscriptError("transcript language is not a string")
        return cls(language=language, duration=max(duration, last_end), segments=tuple(segments))

    @classmethod
    def load(cls, path: str | Path, *, strict: bool = False) -> Transcript:
        """Read a transcript JSON file (`strict` as in `from_dict`)."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise TranscriptError("transcript not found: {file}", file=path) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise TranscriptError("cannot read transcript {file}: {reason}", file=path, reason=exc) from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TranscriptError("transcript {file} is not valid JSON: {reason} at line {line}", file=path,
                                  reason=exc.msg, line=exc.lineno) from None
        except RecursionError:
            raise TranscriptError("transcript {file} is nested too deeply to be a transcript",
                                  file=path) from None
        except ValueError as exc:  # e.g. an integer of more digits than Python converts
            raise TranscriptError("transcript {file} is not valid JSON: {reason}", file=path,
                                  reason=exc) from None
        return cls.from_dict(data, strict=strict)


# No video lasts this long; a transcript that claims to would have chaptering run for ever.
MAX_SECONDS = 100 * 3600.0
# Segment ends may pass the duration by rounding; a file whose speech runs on past it is wrong.
_PAST_END_SLACK_S = 1.0


def _seconds(value: object, what: Message) -> float:
    """`value` as a time in seconds: a finite number from 0 to MAX_SECONDS, or a TranscriptError
    naming `what`."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TranscriptError("{what} is non-numeric ({value})", what=what, value=quoted(value))
    try:
        seconds = float(value)
    except (ValueError, OverflowError):
        raise TranscriptError("{what} is non-numeric ({value})", what=what, value=quoted(value)) from None
    if not math.isfinite(seconds):
        raise TranscriptError("{what} is {seconds}, not a number of seconds", what=what, seconds=str(seconds))
    if not 0 <= seconds <= MAX_SECONDS:
        raise TranscriptError("{what} is {seconds:g} s; times run from 0 to {hours:g} hours", what=what,
                              seconds=seconds, hours=MAX_SECONDS / 3600)
    return seconds


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


# A transcript from a service that tells speakers apart starts each line with who speaks ("Lex
# Fridman: So…", "Speaker 2: …", 「罗永浩：…」). The name is not what is said: left in, it would be
# the commonest phrase of every chapter and tie all of one speaker's lines together. A line counts
# as labelled when its label recurs, and the transcript as labelled when at least LABELLED_SHARE of
# its lines are, so a "Note: …" or 「我说：…」 said once is kept. 20 of the 75 Lex Fridman transcripts
# of the eval data are labelled, and "Lex Fridman" titled their chapters; said without the names,
# channel-held-out (benchmarks/chapter_quality.py), Lex Fridman titleF1 0.159 -> 0.177 and F1@5s
# 0.186 -> 0.193; no other transcript there is labelled.
_SPEAKER_LABEL = re.compile(r"^\s*((?:[A-Z][\w.'’-]*|\d+)(?: (?:[A-Z][\w.'’-]*|\d+)){0,3}"
                            r"|[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]{1,6})\s*(?::\s+|：\s*)")
LABELLED_SHARE = 0.3


@lru_cache(maxsize=4)
def speech(t: Transcript) -> tuple[Segment, ...]:
    """The spoken segments, each as said: without the speaker's name where the transcript labels
    every line with one (and then without word timings, which would still hold the name)."""
    spoken = _spoken(t)
    labels = [m.group(1) if (m := _SPEAKER_LABEL.match(s.text)) else None for s in spoken]
    counts = Counter(label for label in labels if label)
    recurring = {label for label, n in counts.items() if n >= 2}
    if sum(counts[label] for label in recurring) < LABELLED_SHARE * len(spoken):
        return tuple(spoken)
    return tuple(replace(s, text=_SPEAKER_LABEL.sub("", s.text, count=1), words=())
                 if label in recurring else s for s, label in zip(spoken, labels))


TRANSCRIPT_FORMATS = {"json": to_json, "srt": to_srt, "vtt": to_vtt, "txt": to_txt}
