"""The LLM chapter generator, and LLM titles for chapters a user edits.

A transcript is sent in consecutive windows of `[mm:ss] text` lines, small enough for modest local
models. Each window's prompt carries the video's length, where the window sits in it, and the
chapters chosen so far, so the model continues the list instead of starting over at 0:00 and keeps
its titles consistent. Replies are JSON; every start is checked against its window and snapped to
a segment start there, so only times the transcript can back survive.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, ConfigDict, Field

from ..config import Settings
from ..errors import ChaptanError
from ..llm import language_name, make_chat_model
from ..messages import Message
from ..text import estimate_tokens
from ..timecode import clock, parse_timestamp
from ..transcript import Segment, Transcript
from .model import Chapter, ChapterOptions, Proposal
from .rules import MAX_TITLE_CHARS, clip_title

# About 12,000 characters of English per window: with the instructions and the chapters so far,
# a prompt stays well inside the 8k-token context many local models are served with.
WINDOW_TOKENS = 3_000
# Enough chapters so far to keep titles consistent, without letting the context grow unbounded.
CONTEXT_CHAPTERS = 40
# What retitling shows of the transcript in all, shared among the chapters to retitle.
RETITLE_TOKENS = 4_000
# Every LLM start is as sure as any other; the rules give the 0:00 chapter its own precedence.
LLM_STRENGTH = 1.0


class LLMFailure(ChaptanError):
    """The LLM could not be asked, or its answer was unusable; the message is one line."""


# Strict structured output (OpenAI) wants every object closed to extra keys.
class _ChapterItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: str | float = Field(description="Where the chapter starts: m:ss, h:mm:ss or seconds")
    title: str = Field(description=f"The chapter title, at most {MAX_TITLE_CHARS} characters")


class ChapterList(BaseModel):
    """Chapters that start in one part of a video transcript, in time order."""

    model_config = ConfigDict(extra="forbid")

    chapters: list[_ChapterItem]


class _TitleItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chapter: int = Field(description="The chapter's number, as listed")
    title: str = Field(description=f"Its new title, at most {MAX_TITLE_CHARS} characters")


class ChapterTitles(BaseModel):
    """New titles for the chapters asked about."""

    model_config = ConfigDict(extra="forbid")

    titles: list[_TitleItem]


class LLMChapterer:
    name = "llm"

    def __init__(self, settings: Settings, chat_model: BaseChatModel | None = None) -> None:
        self._chat = _JsonChat(chat_model or make_chat_model(settings), settings)

    def propose(self, transcript: Transcript, options: ChapterOptions) -> list[Proposal]:
        windows = split_windows(transcript)
        if not windows:
            raise LLMFailure("the transcript has no speech to make chapters from")
        chosen: list[Proposal] = []
        offered = 0
        for number, window in enumerate(windows, 1):
            messages = _chapter_prompt(transcript, options, window, number, len(windows), chosen)
            items = _items(self._chat.ask(ChapterList, messages), "chapters")
            offered += len(items)
            chosen.extend(_accept(items, window, {p.start for p in chosen}))
        # A window without a usable start is survivable (the rules fill gaps); a whole reply
        # without one means the model is not following the format, and the local generator is better.
        if not chosen:
            raise LLMFailure("none of the {count} chapter starts the LLM gave is a time in the video",
                             count=offered)
        return chosen


@dataclass(frozen=True)
class Window:
    """Consecutive transcript segments sent in one prompt; chapters found here start in
    [`earliest`, `end`]: `earliest` is 0 for the first window, else a second before its first
    line (the prompt shows whole seconds), and `end` is where the next window begins."""

    segments: tuple[Segment, ...]
    lines: str
    earliest: float
    end: float

    @property
    def start(self) -> float:
        return self.segments[0].start


def split_windows(transcript: Transcript, budget: float = WINDOW_TOKENS) -> list[Window]:
    """The spoken segments as `[time] text` lines, packed into consecutive windows of at most
    `budget` estimated tokens (a single longer line gets a window of its own)."""
    groups: list[list[tuple[Segment, str]]] = [[]]
    used = 0.0
    for seg in transcript.segments:
        if not seg.text.strip():
            continue
        line = f"[{_stamp(transcript, seg.start)}] {seg.text.strip()}"
        cost = estimate_tokens(line)
        if groups[-1] and used + cost > budget:
            groups.append([])
            used = 0.0
        groups[-1].append((seg, line))
        used += cost
    groups = [g for g in groups if g]
    windows = []
    for i, group in enumerate(groups):
        first = group[0][0].start
        end = groups[i + 1][0][0].start if i + 1 < len(groups) else transcript.duration
        windows.append(Window(tuple(seg for seg, _ in group), "\n".join(line for _, line in group),
                              0.0 if i == 0 else max(first - 1.0, 0.0), end))
    return windows


def _accept(items: list[dict], window: Window, taken: set[float]) -> list[Proposal]:
    """The items whose start lies in `window`, snapped to its nearest segment start; starts
    already in `taken` (or given twice) are dropped."""
    starts = [seg.start for seg in window.segments]
    taken = set(taken)
    accepted = []
    for item in items:
        seconds = parse_timestamp(item.get("start"))
        if seconds is None or not window.earliest <= seconds <= window.end:
            continue
        start = _nearest(starts, seconds)
        if start in taken:
            continue
        taken.add(start)
        title = item.get("title")
        accepted.append(Proposal(start, clip_title(title) if isinstance(title, str) else "", LLM_STRENGTH))
    return accepted


def _nearest(sorted_values: list[float], value: float) -> float:
    i = bisect.bisect_left(sorted_values, value)
    candidates = sorted_values[max(i - 1, 0):i + 1]
    return min(candidates, key=lambda v: abs(v - value))


def _stamp(transcript: Transcript, seconds: float) -> str:
    """The time as the prompts show it: whole seconds, with hours throughout for long videos."""
    return clock(seconds, hours=transcript.duration >= 3600, millis=False)


def _language_rule(transcript: Transcript) -> str:
    name = language_name(transcript.language)
    if not name:
        return "Write every title in the language the transcript is in."
    return f"The video is in {name}: write every title in {name}."


def _chapter_prompt(transcript: Transcript, options: ChapterOptions, window: Window, number: int,
                    count: int, chosen: Sequence[Proposal]) -> list[BaseMessage]:
    min_len = max(float(options.min_chapter_seconds), 1.0)
    system = (
        "You divide video transcripts into YouTube chapters. Each transcript line is "
        '"[time] text", the time being where that line starts.\n'
        "- A chapter starts where a new topic begins, at the time of one of the transcript lines.\n"
        f"- Every chapter lasts at least {min_len:g} seconds.\n"
        f"- Titles are short and specific, at most {MAX_TITLE_CHARS} characters, without numbers "
        "or times.\n"
        f"- {_language_rule(transcript)}\n"
        'Reply with JSON only, in this form: {"chapters": [{"start": "m:ss", "title": "..."}]}'
    )

    def stamp(seconds: float) -> str:
        return _stamp(transcript, seconds)

    parts = [f"The video lasts {stamp(transcript.duration)}. Here is part {number} of {count} of its "
             f"transcript, from {stamp(window.start)} to {stamp(window.end)}."]
    if chosen:
        recent = "\n".join(f"[{stamp(p.start)}] {p.title}" for p in chosen[-CONTEXT_CHAPTERS:])
        parts.append(f"Chapters chosen so far, from the earlier parts:\n{recent}\n"
                     "Continue this list with chapters that start in this part only: do not repeat "
                     "these chapters or start again at 0:00, and title in the same style.")
    else:
        parts.append(f"The first chapter starts at {stamp(0)}.")
    quota = _window_quota(transcript, options, window, min_len)
    parts.append(f"Give at most {quota} chapter{'s' if quota > 1 else ''} for this part; fewer when "
                 "the topic does not change that often.")
    parts.append(f"Transcript:\n{window.lines}")
    return [SystemMessage(system), HumanMessage("\n\n".join(parts))]


def _window_quota(transcript: Transcript, options: ChapterOptions, window: Window, min_len: float) -> int:
    """How many chapters a window may add: what fits at the minimum length, and with a chapter
    limit, the window's share of it by duration."""
    span = max(window.end - window.earliest, 0.0)
    quota = max(1, int(span // min_len))
    if options.max_chapters and transcript.duration > 0:
        quota = min(quota, max(1, round(options.max_chapters * span / transcript.duration)))
    return quota


def retitle(settings: Settings, transcript: Transcript, chapters: Sequence[Chapter],
            indices: Sequence[int] | None = None, chat_model: BaseChatModel | None = None) -> list[str]:
    """Every chapter's title, with new ones from the LLM for `indices` (all chapters when None).

    A chapter the reply skips keeps its title; a reply without any usable title raises LLMFailure."""
    wanted = sorted(set(range(len(chapters)) if indices is None else indices))
    if any(not 0 <= i < len(chapters) for i in wanted):
        raise ValueError(f"chapter indices {wanted} are not all between 0 and {len(chapters) - 1}")
    titles = [c.title for c in chapters]
    if not wanted:
        return titles
    chat = _JsonChat(chat_model or make_chat_model(settings), settings)
    items = _items(chat.ask(ChapterTitles, _retitle_prompt(transcript, chapters, wanted)), "titles")
    new: dict[int, str] = {}
    for item in items:
        index, title = _chapter_number(item.get("chapter")) - 1, item.get("title")
        if index in wanted and isinstance(title, str) and clip_title(title):
            new[index] = clip_title(title)
    if not new:
        raise LLMFailure("the LLM's reply held no new title for the chapters asked about")
    return [new.get(i, title) for i, title in enumerate(titles)]


def _chapter_number(value: object) -> int:
    """The 1-based chapter number a reply gives, as an int or a numeric string; 0 when neither."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _retitle_prompt(transcript: Transcript, chapters: Sequence[Chapter],
                    wanted: list[int]) -> list[BaseMessage]:
    def stamp(seconds: float) -> str:
        return _stamp(transcript, seconds)

    system = (
        "You write YouTube chapter titles: short and specific, at most "
        f"{MAX_TITLE_CHARS} characters, without numbers or times, each distinct from the other "
        f"chapters' titles. {_language_rule(transcript)}\n"
        'Reply with JSON only, in this form: {"titles": [{"chapter": 2, "title": "..."}]}'
    )
    listing = "\n".join(f"{i}. [{stamp(c.start)}] {c.title}" for i, c in enumerate(chapters, 1))
    budget = max(RETITLE_TOKENS / len(wanted), 100.0)
    spoken = []
    for i in wanted:
        c = chapters[i]
        spoken.append(f'Chapter {i + 1}, {stamp(c.start)} to {stamp(c.end)}, now titled "{c.title}":\n'
                      + _excerpt(transcript, c.start, c.end, budget))
    user = (f"The video lasts {stamp(transcript.duration)}. Its chapters:\n{listing}\n\n"
            f"Write new titles for chapters {', '.join(str(i + 1) for i in wanted)}. "
            "What is said in each:\n\n" + "\n\n".join(spoken))
    return [SystemMessage(system), HumanMessage(user)]


def _excerpt(transcript: Transcript, start: float, end: float, budget: float) -> str:
    """The chapter's lines from its beginning, as many as `budget` estimated tokens allow."""
    lines: list[str] = []
    used = 0.0
    for seg in transcript.segments:
        if not start <= seg.start < end or not seg.text.strip():
            continue
        line = f"[{_stamp(transcript, seg.start)}] {seg.text.strip()}"
        used += estimate_tokens(line)
        if lines and used > budget:
            break
        lines.append(line)
    return "\n".join(lines) or "(nothing is said)"


class _JsonChat:
    """Asks a chat model for JSON: through structured output (a json_schema response_format,
    which OpenAI, vLLM, llama.cpp and Ollama accept) until the server refuses it, then plainly,
    relying on the prompt's description of the JSON. Every failure becomes an LLMFailure."""

    def __init__(self, chat_model: BaseChatModel, settings: Settings) -> None:
        self._model = chat_model
        self._settings = settings
        self._structured = True

    def ask(self, schema: type[BaseModel], messages: list[BaseMessage]) -> object:
        try:
            if self._structured:
                try:
                    return self._ask_structured(schema, messages)
                except (openai.BadRequestError, openai.UnprocessableEntityError):
                    self._structured = False
            return json_from_text(str(self._model.invoke(messages).text))
        except (openai.OpenAIError, ValueError) as exc:
            raise LLMFailure(_describe(exc, self._settings)) from exc

    def _ask_structured(self, schema: type[BaseModel], messages: list[BaseMessage]) -> object:
        # The schema goes as a plain JSON schema: given the pydantic class, the OpenAI client
        # validates the whole reply against it and one bad item (or a ```json fence from a lax
        # server) would sink the valid ones, which `_accept` can keep.
        response_format = {"name": schema.__name__, "description": schema.__doc__ or "",
                           "schema": schema.model_json_schema(), "strict": True}
        structured = self._model.with_structured_output(response_format, method="json_schema",
                                                        include_raw=True)
        reply = structured.invoke(messages)
        if reply["parsed"] is not None:
            return reply["parsed"]
        return json_from_text(str(reply["raw"].text))


def json_from_text(text: str) -> object:
    """The JSON value in a model's reply, also when wrapped in a ```json fence or in prose."""
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.DOTALL | re.IGNORECASE)
    body = (fenced.group(1) if fenced else text).strip()
    try:
        return json.loads(body)
    except json.JSONDecodeError:
        pass
    decoder = json.JSONDecoder()
    for match in re.finditer(r"[\[{]", body):
        try:
            return decoder.raw_decode(body, match.start())[0]
        except json.JSONDecodeError:
            continue
    raise LLMFailure("the LLM's reply is not JSON: {reply!r}", reply=_one_line(text, 80))


def _items(data: object, key: str) -> list[dict]:
    """The objects in `data[key]` (or in `data` itself when the model sent a bare list)."""
    listed = data.get(key) if isinstance(data, dict) else data
    if not isinstance(listed, list):
        raise LLMFailure('the LLM\'s reply has no "{key}" list', key=key)
    return [item for item in listed if isinstance(item, dict)]


def _describe(exc: BaseException, settings: Settings) -> Message:
    """A one-line reason for `exc`, with the API key masked should the server have echoed it."""
    def masked(text: object) -> str:
        text = str(text)
        if settings.openai_api_key:
            text = text.replace(settings.openai_api_key, "***")
        return _one_line(text, 160)

    server = masked(settings.openai_base_url or "api.openai.com")
    if isinstance(exc, openai.APITimeoutError):
        return Message("no answer from the LLM server at {server} within {seconds:g} s", server=server,
                       seconds=settings.llm_timeout)
    if isinstance(exc, openai.APIConnectionError):
        return Message("cannot reach the LLM server at {server}", server=server)
    if isinstance(exc, openai.APIStatusError):
        body = exc.body if isinstance(exc.body, dict) else {}
        detail = body.get("message") if isinstance(body.get("message"), str) else exc.message
        return Message("the LLM server answered HTTP {status}: {detail}", status=exc.status_code,
                       detail=masked(detail))
    if isinstance(exc, openai.LengthFinishReasonError):
        return Message("the LLM's reply was cut off at its length limit")
    return Message("the LLM's reply is unusable: {detail}", detail=masked(exc))


def _one_line(text: str, limit: int) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[:limit - 1] + "…"
