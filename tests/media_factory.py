"""Real test media made on the spot: speech from the bundled Piper voice muxed with PyAV, plus the
broken files users upload (no audio, truncated, empty, text renamed .mp4)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from chaptan.tts import default_voice

# Three topics with no shared vocabulary, each about 35 s when spoken, so the chapter boundaries
# are unambiguous and the local generator can be held to within a few seconds.
PASTA = (
    "Let us start in the kitchen with a simple recipe for pasta. Bring a large pot of water to a "
    "rolling boil and add a generous handful of salt, because the water should taste like the sea. "
    "Drop in the spaghetti and stir it during the first minute so the noodles do not stick together. "
    "While the pasta cooks, warm olive oil in a pan with sliced garlic and a pinch of chili flakes. "
    "Taste a noodle after eight minutes; it should be al dente, tender but still firm. Save a cup of "
    "the starchy cooking water, drain the spaghetti, and toss it in the garlic oil with grated "
    "parmesan cheese and fresh parsley. Add a splash of the pasta water to make the sauce creamy."
)
SOLAR = (
    "Now let us leave the kitchen and travel into space to explore the solar system. The sun is a "
    "star at the center, and eight planets orbit around it. Mercury is the smallest planet and the "
    "closest to the sun. Venus is wrapped in thick clouds and is the hottest planet. Earth is our "
    "home, and Mars is a cold red desert with giant volcanoes. Beyond the asteroid belt, Jupiter is "
    "the largest planet, a gas giant with a great red storm. Saturn has beautiful icy rings, while "
    "Uranus and Neptune are distant ice giants. Astronomers use telescopes and spacecraft to study "
    "these planets, their moons, comets and the orbits they follow."
)
FOOTBALL = (
    "Finally, let us talk about football, the most popular sport in the world. Two teams of eleven "
    "players try to kick the ball into the opposing goal. The goalkeeper is the only player allowed "
    "to touch the ball with the hands inside the penalty area. A match lasts ninety minutes, split "
    "into two halves, and the referee can show a yellow card or a red card for a foul. Strikers "
    "score goals, midfielders pass the ball and control the game, and defenders tackle the "
    "attackers. The World Cup is held every four years, and millions of fans watch the final in "
    "the stadium and on television, cheering for their national team."
)
TOPICS = (PASTA, SOLAR, FOOTBALL)
SAMPLE_RATE = 22050

# The same three topics in Japanese, about 12 s each with the Kokoro voice: long enough together for
# three YouTube chapters, short enough to synthesise and transcribe in seconds.
JA_TOPICS = (
    "まず台所で、簡単なパスタの作り方を紹介します。大きな鍋にお湯を沸かして、塩をたっぷり入れます。"
    "麺がくっつかないように、最初の一分はよく混ぜてください。",
    "次に、宇宙へ出かけて太陽系を探検しましょう。太陽のまわりを八つの惑星が回っています。"
    "木星は一番大きな惑星で、土星には美しい輪があります。",
    "最後に、世界で一番人気のあるスポーツ、サッカーの話をします。十一人の選手が二つのチームに分かれて、"
    "相手のゴールにボールを蹴り込みます。",
)


@dataclass(frozen=True)
class SpokenMedia:
    path: Path
    topic_starts: tuple[float, ...]  # when each paragraph's speech begins, seconds
    duration: float
    texts: tuple[str, ...]


def speak(paragraphs: tuple[str, ...], *, pause: float = 1.5,
          lead: float = 0.5) -> tuple[np.ndarray, list[float]]:
    """int16 mono speech at SAMPLE_RATE with `pause` seconds of silence between paragraphs, and the
    time each paragraph starts."""
    voice = default_voice(deterministic=True)  # the same media every run
    assert voice.sample_rate == SAMPLE_RATE
    parts = [np.zeros(int(lead * SAMPLE_RATE), dtype=np.int16)]
    starts = []
    position = lead
    for i, text in enumerate(paragraphs):
        audio = np.asarray(voice.synthesize(text), dtype=np.int16)
        # Piper leaves a little silence around sentences; start at the first audible sample so the
        # recorded topic start is when speech really begins.
        audible = np.flatnonzero(np.abs(audio) > 500)
        audio = audio[audible[0]:] if audible.size else audio
        starts.append(position)
        parts.append(audio)
        position += audio.shape[0] / SAMPLE_RATE
        if i + 1 < len(paragraphs):
            parts.append(np.zeros(int(pause * SAMPLE_RATE), dtype=np.int16))
            position += pause
    parts.append(np.zeros(int(lead * SAMPLE_RATE), dtype=np.int16))
    return np.concatenate(parts), starts


def speak_japanese(paragraphs: tuple[str, ...] = JA_TOPICS, *, pause: float = 1.5) -> np.ndarray:
    """int16 mono Japanese speech at SAMPLE_RATE from the bundled Kokoro voice (24 kHz, resampled),
    paragraphs `pause` seconds apart. Kokoro has no random noise: the same text, the same samples."""
    from chaptan.tts import KokoroJapaneseVoice

    voice = KokoroJapaneseVoice()
    gap = np.zeros(int(pause * SAMPLE_RATE), dtype=np.int16)
    parts = [gap[:SAMPLE_RATE // 2]]
    for text in paragraphs:
        parts += [resample(voice.synthesize(text), voice.sample_rate), gap]
    return np.concatenate(parts)


def resample(audio: np.ndarray, rate: int) -> np.ndarray:
    """int16 mono at `rate` -> int16 mono at SAMPLE_RATE (linear interpolation: plenty for speech
    that Whisper hears at 16 kHz anyway)."""
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    if rate == SAMPLE_RATE:
        return audio.astype(np.int16)
    times = np.arange(int(audio.shape[0] * SAMPLE_RATE / rate)) * (rate / SAMPLE_RATE)
    return np.interp(times, np.arange(audio.shape[0]), audio).astype(np.int16)


def write_video(path: Path, audio: np.ndarray | None, *, seconds: float | None = None,
                video: bool = True, video_codec: str = "libx264", audio_codec: str = "aac",
                audio_rate: int = SAMPLE_RATE, faststart: bool = False) -> Path:
    """Mux a solid-colour video (1 fps) and/or audio (int16 mono at SAMPLE_RATE, encoded at
    `audio_rate`) into `path`. `faststart` puts the MP4 index first, as web uploads have it."""
    duration = seconds if seconds is not None else audio.shape[0] / SAMPLE_RATE
    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), mode="w", options=options) as out:
        vstream = astream = None
        if video:
            vstream = out.add_stream(video_codec, rate=1)
            vstream.width, vstream.height, vstream.pix_fmt = 160, 120, "yuv420p"
        if audio is not None:
            astream = out.add_stream(audio_codec, rate=audio_rate, layout="mono")
        if vstream is not None:
            frame = av.VideoFrame.from_ndarray(np.full((120, 160, 3), (40, 90, 160), dtype=np.uint8),
                                               format="rgb24")
            for second in range(int(np.ceil(duration))):
                frame.pts, frame.time_base = second, Fraction(1, 1)
                out.mux(vstream.encode(frame))
            out.mux(vstream.encode(None))
        if astream is not None:
            _write_audio(out, astream, audio)
    return path


def write_audio(path: Path, audio: np.ndarray, codec: str, rate: int = SAMPLE_RATE) -> Path:
    """An audio-only file (wav/flac/mp3/m4a...) from int16 mono samples at SAMPLE_RATE."""
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream(codec, rate=rate, layout="mono")
        _write_audio(out, stream, audio)
    return path


def _write_audio(out, stream, audio: np.ndarray) -> None:
    step = SAMPLE_RATE  # one-second frames; the encoder re-frames them to its own size
    for start in range(0, audio.shape[0], step):
        frame = av.AudioFrame.from_ndarray(audio[None, start:start + step], format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = SAMPLE_RATE, start, Fraction(1, SAMPLE_RATE)
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))


def spoken_video(path: Path, paragraphs: tuple[str, ...] = TOPICS) -> SpokenMedia:
    audio, starts = speak(paragraphs)
    write_video(path, audio)
    return SpokenMedia(path, tuple(starts), audio.shape[0] / SAMPLE_RATE, paragraphs)


def silent_video(path: Path, seconds: float = 5.0) -> Path:
    return write_video(path, None, seconds=seconds)


def truncated_copy(source: Path, path: Path, keep: float = 0.5) -> Path:
    """The first `keep` of `source`'s bytes, like an interrupted download."""
    data = source.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])
    return path


def empty_file(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def text_as_video(path: Path) -> Path:
    path.write_text("These are meeting notes, not a video.\n" * 20, encoding="utf-8")
    return path


# Session-wide cache: pytest's tmp_path_factory base folder is the same for every test module, and
# the TTS and muxing above take seconds, so each file is made once per test session.
@functools.cache
def _made(folder: Path, name: str) -> object:
    folder.mkdir(parents=True, exist_ok=True)
    if name == "talk":
        return spoken_video(folder / "talk.mp4")
    if name == "japanese":
        return write_video(folder / "japanese.mp4", speak_japanese())
    if name == "short":
        return speak(("Hello there. This is a short test of the transcription.",))[0]
    talk = _made(folder, "talk")
    makers = {
        "silent": lambda p: silent_video(p),
        "truncated": lambda p: truncated_copy(talk.path, p),
        "empty": empty_file,
        "text": text_as_video,
    }
    return makers[name](folder / f"{name}.mp4")


def media_folder(tmp_path_factory) -> Path:
    return tmp_path_factory.getbasetemp() / "chaptan-media"


def talk_video(tmp_path_factory) -> SpokenMedia:
    """Three topics (pasta, the solar system, football) as an H.264 + AAC mp4."""
    return _made(media_folder(tmp_path_factory), "talk")


def short_speech(tmp_path_factory) -> np.ndarray:
    """A few seconds of speech, int16 at SAMPLE_RATE, to write in every container."""
    return _made(media_folder(tmp_path_factory), "short")


def japanese_video(tmp_path_factory) -> Path:
    """JA_TOPICS spoken by the Kokoro voice, as an H.264 + AAC mp4 (about 40 s)."""
    return _made(media_folder(tmp_path_factory), "japanese")


def bad_file(tmp_path_factory, kind: str) -> Path:
    """silent (video without audio), truncated, empty, or text (a text file named .mp4)."""
    return _made(media_folder(tmp_path_factory), kind)
