"""The voice assistant: hears a question, answers it about the user's selected video, speaks the
answer sentence by sentence.

With an LLM configured the answer is generated from the persona, the user's conversation memory
and the video's chapters and most relevant transcript passages. Without one it is still built from
the data: the passage that best matches the question, with its time, or the user's video list.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import openai

from ..chapters.model import Chapter
from ..config import Settings
from ..errors import ChaptanError
from ..llm import language_name, make_chat_model
from ..media import SAMPLE_RATE, decode_audio
from ..messages import Message, render
from ..speech.transcribe import SpeechRecognizer
from ..speech.tts import TextToSpeech, VoiceRegistry
from ..storage.store import Job, JobStatus, Store
from ..text import script_language
from ..timecode import timestamp as format_timestamp
from ..videos import Requester, VideoLibrary
from .memory import ConversationMemory
from .retrieval import Passage, TranscriptIndex, chapter_at

log = logging.getLogger(__name__)

DEFAULT_PERSONA = (
    "You are Chaptan, a friendly assistant that helps creators with their videos: what was said and "
    "when, chapters, titles, descriptions, clips and ideas for the next video. Answer in the language "
    "the user writes in. Your replies are also read aloud, so keep them short and conversational, "
    "without tables or long lists."
)
CONTEXT_PASSAGES = 4  # passages given to the LLM: enough for follow-ups, little enough to stay focused
OFFLINE_ALSO = 2  # further matching moments the offline answer points to after the best one
INDEX_CACHE = 16  # transcripts kept indexed: the videos being talked about right now
# The offline answers are messages of the interface's catalog (chaptan/locale), in the reply's
# language; a question in Chinese is answered in Traditional Chinese, the interface's Chinese.
_REPLY_LOCALES = {"ja": "ja", "zh": "zh-TW"}


@dataclass(frozen=True)
class TurnResult:
    user_text: str
    reply_text: str
    reply_audio: tuple[int, np.ndarray]  # (sample rate, mono int16 samples)
    citations: tuple[Passage, ...]
    voice: str  # the name of the voice that spoke the reply


@dataclass(frozen=True)
class _Video:
    job: Job
    chapters: tuple[Chapter, ...]
    index: TranscriptIndex | None  # None until the video is processed


@dataclass(frozen=True)
class _Plan:
    """What a reply is built from, settled before the first word is generated."""

    question: str
    language: str  # "en" | "ja" | "zh", from the question's script
    video: _Video | None
    matches: tuple[Passage, ...]  # passages sharing words with the question, best first


def timestamp(seconds: float) -> str:
    """'[04:05]': how a reply cites a moment (BRACKETED reads it back), as chapters are written."""
    return f"[{format_timestamp(seconds)}]"


class Assistant:
    """One per app; safe to use from several sessions at once."""

    def __init__(self, settings: Settings, store: Store, library: VideoLibrary, recognizer: SpeechRecognizer,
                 voices: VoiceRegistry):
        self.settings, self.store, self.library = settings, store, library
        self.recognizer, self.voices = recognizer, voices
        self._indexes: OrderedDict[tuple, TranscriptIndex] = OrderedDict()
        self._lock = threading.Lock()
        self._model = None

    @property
    def persona(self) -> str:
        return self.settings.system_prompt or DEFAULT_PERSONA

    def memory(self, requester: Requester) -> ConversationMemory:
        return ConversationMemory(self.store, requester.name, self.settings.memory_tokens, self.persona)

    # --- a whole turn ---------------------------------------------------------------------------
    def turn(self, requester: Requester, *, audio: str | Path | None = None, text: str = "",
             job_id: str = "", voice: str = "") -> TurnResult:
        """Hear (when `audio` is given, else take `text`), answer, speak."""
        self.voices.get(voice)  # an unknown voice fails before the question is answered and remembered
        user_text = self.hear(audio) if audio is not None else text.strip()
        if not user_text:
            raise ChaptanError("ask me something: type a question or record one")
        plan = self._plan(requester, user_text, job_id)
        reply = "".join(self._reply(requester, plan)).strip()
        speaker = self.voices.voice_for(reply, voice)
        if speaker is None:
            return TurnResult(user_text, f"{reply}\n\n{self.unspoken_note(reply)}",
                              (0, np.zeros(0, np.int16)), self._citations(plan), "")
        return TurnResult(user_text, reply, speaker.tts(reply), self._citations(plan), speaker.name)

    def hear(self, audio: str | Path) -> str:
        """What was said in the recording, in whatever language it was said."""
        text = self.recognizer.stt((SAMPLE_RATE, decode_audio(audio, SAMPLE_RATE))).strip()
        if not text:
            raise ChaptanError("I heard no speech in that recording; please try again")
        return text

    # --- streaming parts, for the UI ------------------------------------------------------------
    def stream_reply(self, requester: Requester, user_text: str, job_id: str = "") -> Iterator[str]:
        """The reply to `user_text` in pieces as they are generated. The video is looked up now, so
        someone else's video fails here rather than mid-stream; memory is updated when the stream
        ends (or is abandoned)."""
        return self._reply(requester, self._plan(requester, user_text.strip(), job_id))

    def speak_sentences(self, text_iter: Iterable[str], voice: str = "") -> Iterator[tuple[int, np.ndarray]]:
        """(sample rate, int16 samples) per sentence of the streamed text, each as soon as the
        sentence is complete, in the voice `VoiceRegistry.stream_tts` picks for it."""
        return self.voices.stream_tts(text_iter, voice)

    def voice_for(self, text: str, name: str = "") -> TextToSpeech | None:
        """The voice that would speak `text` (see VoiceRegistry.voice_for)."""
        return self.voices.voice_for(text, name)

    def unspoken_note(self, reply: str) -> str:
        """The line added to a reply that no installed voice can speak, in the reply's language;
        empty when one can."""
        if self.voices.voice_for(reply) is not None:
            return ""
        # No Chinese voice ships in a PyPI package with a clear license; `models pull` names one.
        return _said(script_language(reply),
                     Message("(No voice for this language is installed, so this reply is text only.)"))

    def warm_up_voices(self) -> threading.Thread:
        """Load the Japanese voice in the background: Kokoro takes seconds to load on a CPU, which
        the first Japanese reply would otherwise wait for. A failure is only logged: that reply
        loads it again and reports its own error."""
        def warm() -> None:
            try:
                voice = self.voices.for_language("ja")
                if voice is not None:
                    voice.tts("こんにちは。")  # the first synthesis also sets up the ONNX session
            except Exception:  # best effort: the real call reports its own errors
                log.warning("could not preload the Japanese voice", exc_info=True)

        thread = threading.Thread(target=warm, name="chaptan-voice-warm-up", daemon=True)
        thread.start()
        return thread

    # --- answering ------------------------------------------------------------------------------
    def _plan(self, requester: Requester, question: str, job_id: str) -> _Plan:
        if not question:
            raise ChaptanError("ask me something: type a question or record one")
        video = self._video(requester, job_id) if job_id.strip() else None
        matches = video.index.search(question, CONTEXT_PASSAGES) if video and video.index else []
        return _Plan(question, script_language(question), video, tuple(matches))

    def _video(self, requester: Requester, job_id: str) -> _Video:
        job = self.library.job(requester, job_id)  # raises for videos that are not the requester's
        if job.status != JobStatus.DONE:
            return _Video(job, (), None)
        try:
            chapters = tuple(self.library.chapters(job).chapters)
        except ChaptanError:  # a video whose chapters were never saved is still worth asking about
            chapters = ()
        return _Video(job, chapters, self._index(job, chapters))

    def _index(self, job: Job, chapters: tuple[Chapter, ...]) -> TranscriptIndex:
        key = (job.id, job.updated, chapters)
        with self._lock:
            if key in self._indexes:
                self._indexes.move_to_end(key)
                return self._indexes[key]
        index = TranscriptIndex.from_transcript(self.library.transcript(job), chapters)
        with self._lock:
            self._indexes[key] = index
            while len(self._indexes) > INDEX_CACHE:
                self._indexes.popitem(last=False)
        return index

    def _citations(self, plan: _Plan) -> tuple[Passage, ...]:
        if plan.matches or not self.settings.llm_configured or not (plan.video and plan.video.index):
            return plan.matches
        return tuple(plan.video.index.chapter_openings(CONTEXT_PASSAGES))

    def _reply(self, requester: Requester, plan: _Plan) -> Iterator[str]:
        memory = self.memory(requester)
        history = memory.messages()
        pieces: list[str] = []
        try:
            source = (self._llm_reply(requester, plan, history) if self.settings.llm_configured
                      else iter([self._offline_reply(requester, plan, with_note=True)]))
            for piece in source:
                pieces.append(piece)
                yield piece
        finally:
            memory.add("user", plan.question)
            reply = "".join(pieces).strip()
            if reply:
                memory.add("assistant", reply)

    def _llm_reply(self, requester: Requester, plan: _Plan, history: list[dict[str, str]]) -> Iterator[str]:
        context = self._context(requester, plan)
        messages = history + [{"role": "system", "content": context},
                              {"role": "user", "content": plan.question}]
        produced = False
        try:
            for chunk in self._chat_model().stream(messages):
                if isinstance(chunk.content, str) and chunk.content:
                    produced = True
                    yield chunk.content
        except openai.APIError as exc:
            # The data still answers when the server is down; the user is told which answer this is.
            log.warning("LLM request failed: %s", exc)
            error = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            if produced:
                yield "\n\n" + _said(plan.language, Message("(The LLM server stopped answering: {error}.)",
                                                            error=error))
            else:
                failed = Message("The LLM server did not answer ({error}), "
                                 "so here is what the transcript says.", error=error)
                offline = self._offline_reply(requester, plan, with_note=False)
                yield f"{_said(plan.language, failed)}\n\n{offline}"

    def _chat_model(self):
        with self._lock:
            if self._model is None:
                self._model = make_chat_model(self.settings, streaming=True)
            return self._model

    def _context(self, requester: Requester, plan: _Plan) -> str:
        lines = []
        if plan.language in ("ja", "zh"):
            lines.append(f"The user writes in {language_name(plan.language)}: reply in it.")
        if plan.video is None:
            lines.append("The user has not selected a video. " + _video_list(self.library.jobs(requester)))
        elif plan.video.index is None:
            job = plan.video.job
            error = f" Error: {job.error}" if job.error else ""
            lines.append(f'The selected video "{job.title}" is {job.status} ({job.stage}); '
                         f"its transcript is not available yet.{error}")
        else:
            lines.extend(_video_lines(plan.video, plan.matches, self._citations(plan)))
        return "\n".join(lines)

    def _offline_reply(self, requester: Requester, plan: _Plan, *, with_note: bool) -> str:
        language = plan.language
        if plan.video is not None and plan.video.index is not None:
            body = _found_text(plan.video, plan.matches, language)
        elif plan.video is not None and plan.video.job.status == JobStatus.FAILED:
            job = plan.video.job
            body = _said(language, Message('"{title}" could not be processed: {error}', title=job.title,
                                           error=job.error))
        elif plan.video is not None:
            job = plan.video.job
            body = _said(language, Message(
                '"{title}" is still being processed ({stage}, {percent}%). Ask me again when it is done.',
                title=job.title, stage=Message(job.stage or job.status.value),
                percent=round(job.progress * 100)))
        elif jobs := self.library.jobs(requester):
            titles = ", ".join(_quote(j.title, language) for j in jobs)
            body = _said(language, Message(
                "You have {count} video(s): {titles}. Select one of them to ask me about it, and I will find "
                "the moment that answers your question.", count=len(jobs), titles=titles))
        else:
            body = _said(language, Message(
                "You have no videos yet. Upload one, and once it is transcribed you can ask me about it."))
        note = Message("Open conversation needs an LLM: set OPENAI_BASE_URL (and OPENAI_API_KEY) to an "
                       "OpenAI-compatible server.")
        return f"{body}\n\n{_said(language, note)}" if with_note else body


def _said(language: str, message: Message) -> str:
    """`message` in the reply language `language` ("en", "ja" or "zh")."""
    return render(message, _REPLY_LOCALES.get(language, "en"))


def _quote(title: str, language: str) -> str:
    return f"「{title}」" if language in ("ja", "zh") else f'"{title}"'


def _video_list(jobs: list[Job]) -> str:
    if not jobs:
        return "They have no videos yet; they can upload one and ask about it once it is transcribed."
    listed = "; ".join(f'"{j.title}" ({j.status})' for j in jobs[:30])
    return f"Their videos: {listed}. To ask about one, they select it in the assistant's video list."


def _video_lines(video: _Video, matches: tuple[Passage, ...], shown: tuple[Passage, ...]) -> list[str]:
    job = video.job
    lines = [f'The user selected their video "{job.title}" (length {format_timestamp(job.duration or 0)}, '
             f"language {job.language or 'unknown'})."]
    if video.chapters:
        lines.append("Chapters:")
        lines.extend(f"{timestamp(c.start)} {c.title}" for c in video.chapters)
    lines.append("Transcript passages most relevant to the question:" if matches else
                 "No transcript passage shares words with the question; the opening of each chapter:")
    lines.extend(f"{timestamp(p.start)}" + (f' (chapter "{p.chapter_title}")' if p.chapter_title else "")
                 + f" {p.text}" for p in shown)
    example = timestamp(shown[0].start) if shown else "[00:00]"
    lines.append("Answer questions about this video from these chapters and passages. When you refer to a "
                 f"moment, cite its time in brackets as written above, e.g. {example}. If they do not "
                 "hold the answer, say so rather than guess.")
    return lines


def _found_text(video: _Video, matches: tuple[Passage, ...], language: str) -> str:
    title = video.job.title
    if not matches:
        if not video.chapters:
            return _said(language, Message('I found nothing about that in the transcript of "{title}".',
                                           title=title))
        chapters = ", ".join(f"{timestamp(c.start)} {c.title}" for c in video.chapters)
        return _said(language, Message('I found nothing about that in "{title}". Its chapters: {chapters}.',
                                       title=title, chapters=chapters))
    best = matches[0]
    chapter = best.chapter_title or chapter_at(video.chapters, best.start)
    time = format_timestamp(best.start)
    answer = _said(language, Message('At [{time}] (chapter "{chapter}"):\n{text}', time=time, chapter=chapter,
                                     text=best.text) if chapter else
                   Message("At [{time}]:\n{text}", time=time, text=best.text))
    others = matches[1:1 + OFFLINE_ALSO]
    if others:
        times = ", ".join(timestamp(p.start) for p in others)
        answer += " " + _said(language, Message("It also comes up at {times}.", times=times))
    return answer
