"""The speech protocols: `stt((rate, samples)) -> str` and `stream_tts(text)` yielding
(rate, samples) per sentence, with the voice owning sentence splitting and clean-up."""

from __future__ import annotations

import re

import numpy as np
import pytest

from chaptan.config import Settings
from chaptan.speech.transcribe import WhisperTranscriber
from chaptan.speech.tts import VoiceRegistry, default_voice


@pytest.fixture(scope="module")
def whisper(tmp_path_factory: pytest.TempPathFactory) -> WhisperTranscriber:
    return WhisperTranscriber(settings=Settings(models_dir=tmp_path_factory.mktemp("models")), device="cpu")


@pytest.fixture(scope="module")
def voices(tmp_path_factory: pytest.TempPathFactory) -> VoiceRegistry:
    return VoiceRegistry(tmp_path_factory.mktemp("models"))


def test_a_voice_speaks_each_sentence_as_it_is_read_aloud() -> None:
    voice = default_voice(deterministic=True)  # the same text gives the same samples
    chunks = list(voice.stream_tts("Saturn has **icy** rings. They come up at [04:05]!"))
    assert [rate for rate, _ in chunks] == [voice.sample_rate] * 2
    assert all(samples.dtype == np.int16 and samples.size > voice.sample_rate // 2 for _, samples in chunks)
    # The voice drops the markup and reads the cited time as words, sentence by sentence.
    assert np.array_equal(chunks[0][1], voice.synthesize("Saturn has icy rings."))
    assert np.array_equal(chunks[1][1], voice.synthesize("They come up at 4 minutes 5 seconds!"))
    rate, whole = voice.tts("Saturn has **icy** rings. They come up at [04:05]!")
    assert rate == voice.sample_rate and np.array_equal(whole, np.concatenate([s for _, s in chunks]))


def test_streamed_text_is_spoken_as_each_sentence_completes(voices: VoiceRegistry) -> None:
    sent: list[str] = []

    def reply():
        for piece in ("Jupiter is ", "the largest. ", "Saturn ", "has rings."):
            sent.append(piece)
            yield piece

    chunks = voices.stream_tts(reply())
    rate, samples = next(chunks)
    assert rate == 22050 and samples.size > rate // 2
    assert sent == ["Jupiter is ", "the largest. "]
    assert len(list(chunks)) == 1 and len(sent) == 4


def test_text_no_installed_voice_speaks_is_read_through_but_not_spoken(voices: VoiceRegistry) -> None:
    if voices.for_language("zh") is not None:
        pytest.skip("a Chinese voice is installed here")
    sent: list[str] = []

    def reply():
        for piece in ("土星有美麗的環。", "木星最大。"):
            sent.append(piece)
            yield piece

    assert list(voices.stream_tts(reply())) == []
    assert len(sent) == 2  # whoever streams the reply still gets all of it


def test_stt_hears_a_recording_given_as_rate_and_samples_at_any_rate(whisper: WhisperTranscriber) -> None:
    voice = default_voice(deterministic=True)
    rate, samples = voice.tts("What planet has rings?")
    assert rate == 22050 and samples.dtype == np.int16
    assert re.search(r"ring|planet", whisper.stt((rate, samples)), re.IGNORECASE)
    stereo = np.stack([samples, samples], axis=1).astype(np.float32) / 32768
    assert re.search(r"ring|planet", whisper.stt((rate, stereo)), re.IGNORECASE)


def test_stt_of_silence_is_empty(whisper: WhisperTranscriber) -> None:
    assert whisper.stt((16000, np.zeros(16000 * 2, dtype=np.float32))) == ""
