"""Media file -> transcript -> chapters, the one pipeline the CLI and the app both run."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from .chapters import ChapterOptions, ChapterResult, generate_chapters
from .config import Settings
from .media import probe
from .speech.transcribe import ProgressFn, SpeechToText, WhisperTranscriber
from .transcript import Transcript

log = logging.getLogger(__name__)

# Share of the progress bar per stage: transcription is nearly all of the time.
_PROBE_SHARE, _TRANSCRIBE_SHARE = 0.01, 0.94


def process_media(path: str | Path, *, settings: Settings, language: str = "auto", generator: str = "auto",
                  options: ChapterOptions | None = None, progress: ProgressFn | None = None,
                  transcriber: SpeechToText | None = None,
                  duration: float | None = None) -> tuple[Transcript, ChapterResult]:
    """Probe, transcribe and chapter `path`. `progress(fraction, stage)` gets the overall fraction
    (0..1, never decreasing) and the stage: probing, transcribing, chaptering, done. `duration` is
    the media's, when the caller has probed it already (the app does at upload): it is not probed
    twice."""
    options = options or ChapterOptions()
    report = progress or (lambda fraction, stage: None)
    report(0.0, "probing")
    if duration is None:
        info = probe(path)
        log.info("%s: %.1f s, %s, audio %s", path, info.duration, info.container, info.audio_codec)
        duration = info.duration
    report(_PROBE_SHARE, "probing")
    warm = warm_up()
    transcriber = transcriber or WhisperTranscriber(settings=settings)

    def transcribing(fraction: float, stage: str) -> None:
        report(_PROBE_SHARE + _TRANSCRIBE_SHARE * fraction, stage)

    transcript = transcriber.transcribe(Path(path), language=None if language == "auto" else language,
                                        progress=transcribing, duration=duration)
    report(_PROBE_SHARE + _TRANSCRIBE_SHARE, "chaptering")
    warm.join()
    result = generate_chapters(transcript, options, generator, settings)
    # Speech the transcriber had to leave out is the first thing the job's warnings say.
    result.warnings[:0] = transcript.warnings
    report(1.0, "done")
    return transcript, result


def warm_up(transcriber: SpeechToText | None = None) -> threading.Thread:
    """Load what a job needs in a background thread: `transcriber`'s models (when it has a
    warm_up) and the local chapter writer's sentence encoder, which the pipeline loads while Whisper
    runs, so chaptering adds little at the end. The app calls this at start, so its first job pays
    for no model load; models are cached per process, so a second call finds them loaded. A failure
    is only logged: the job loads the model again and reports any error itself."""
    def warm() -> None:
        from .chapters.local import LocalChapterer

        loads = [transcriber.warm_up] if hasattr(transcriber, "warm_up") else []
        for load in [*loads, LocalChapterer().warm_up]:
            try:
                load()
            except Exception:  # best effort: the real call reports its own errors
                log.warning("could not preload a model", exc_info=True)

    thread = threading.Thread(target=warm, name="chaptan-warm-up", daemon=True)
    thread.start()
    return thread
