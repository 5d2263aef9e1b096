"""Chapter generation: a local (offline) generator and an LLM generator, both held to YouTube's rules."""

from __future__ import annotations

import logging

from ..config import GENERATORS, Settings
from ..errors import ChaptanError, quoted
from ..messages import Message
from ..transcript import Transcript
from .local import LocalChapterer, title_for_span
from .model import Chapter, Chapterer, ChapterOptions, ChapterResult, Proposal
from .rules import enforce, validate

__all__ = ["Chapter", "ChapterOptions", "ChapterResult", "Chapterer", "Proposal",
           "generate_chapters", "validate"]

log = logging.getLogger(__name__)


def generate_chapters(transcript: Transcript, options: ChapterOptions | None = None,
                      generator: str = "auto", settings: Settings | None = None) -> ChapterResult:
    """Chapters for `transcript`. `auto` uses the LLM when one is configured, else the local
    generator; any LLM failure falls back to the local generator with a warning."""
    options = options or ChapterOptions()
    settings = settings or Settings.from_env()
    if generator not in GENERATORS:
        raise ChaptanError("unknown generator {generator}; choose {choices} or {last}",
                           generator=quoted(generator),
                           choices=", ".join(GENERATORS[:-1]), last=GENERATORS[-1])
    if options.max_chapters and options.max_chapters < 3:
        raise ChaptanError("YouTube needs at least 3 chapters: max chapters must be 0 (no limit) or 3+")
    warnings: list[str] = []
    use_llm = generator == "llm" or (generator == "auto" and settings.llm_configured)
    if generator == "llm" and not settings.llm_configured:
        warnings.append(Message("no LLM is configured (set OPENAI_API_KEY or OPENAI_BASE_URL); "
                                "used the local generator"))
        use_llm = False
    if use_llm and transcript.segments:
        from .llm import LLMChapterer, LLMFailure

        try:
            proposals = LLMChapterer(settings).propose(transcript, options)
            return ChapterResult(enforce(proposals, transcript, options, title_for_span), "llm", warnings)
        except LLMFailure as exc:
            log.warning("LLM chapters failed: %s", exc)
            warnings.append(Message("the LLM failed ({reason}); used the local generator",
                                    reason=exc.message))
    proposals = LocalChapterer().propose(transcript, options)
    return ChapterResult(enforce(proposals, transcript, options, title_for_span), "local", warnings)
