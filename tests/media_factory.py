"""Real test media made on the spot: speech from the bundled Piper voice muxed with PyAV, plus the
broken files users upload (no audio, truncated, empty, text renamed .mp4)."""

from __future__ import annotations

import functools
import struct
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from chaptan.speech.tts import default_voice

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

# Six announced topics of different lengths (about 15 to 40 s spoken), as an explainer has them:
# the count must come from what is said, not from the talk's two and a half minutes. Each pair is
# (the topic's key term, its paragraph).
SIX_TOPICS = (
    ("bread", "First, baking bread. Mix flour, water, yeast and salt into a soft dough. Knead the "
              "dough for ten minutes until it is smooth, then let the bread rise in a warm place for "
              "an hour. Shape the loaf and bake the bread in a hot oven until the crust is brown."),
    ("volcano", "Second, volcanoes. A volcano forms where molten rock called magma rises through the "
                "crust of the earth. Under the volcano the magma collects in a chamber, and when the "
                "pressure grows too high, the volcano erupts and pours out lava, ash and gas. Some "
                "volcanoes, like those in Hawaii, erupt gently with rivers of lava, while others "
                "explode violently and throw ash high into the sky. Scientists watch volcanoes with "
                "seismometers and satellites to warn the people who live near the volcano."),
    ("chess", "Third, chess. Chess is a board game for two players on a board of sixty four black "
              "and white squares. Each chess player moves a king, a queen, two rooks, two bishops, "
              "two knights and eight pawns. A game of chess ends with checkmate, when the king is "
              "attacked and cannot escape."),
    ("bee", "Fourth, honey bees. A honey bee colony lives in a hive with one queen, thousands of "
            "worker bees and a few drones. The queen bee lays all the eggs, up to two thousand in a "
            "single day. Worker bees fly from flower to flower collecting nectar and pollen, and they "
            "dance to tell the other bees where the best flowers are. Back in the hive the bees turn "
            "the nectar into honey and store it in combs of wax. Bees also pollinate crops, so "
            "farmers depend on healthy bee colonies for apples, almonds and many vegetables."),
    ("piano", "Fifth, the piano. A piano has eighty eight black and white keys. When you press a "
              "piano key, a small felt hammer strikes a steel string, and the string vibrates to make "
              "a note. The pedals of the piano hold the notes or make them softer. Pianists practise "
              "scales every day to play quickly and evenly."),
    ("recycling", "Finally, recycling. Recycling turns waste like paper, glass, plastic and metal "
                  "into new products instead of burying it in a landfill. Sort the recycling at home, "
                  "rinse the bottles and cans, flatten the cardboard boxes, and put the recycling bin "
                  "out on collection day. Recycling saves energy and water, and it keeps plastic out "
                  "of the rivers and the ocean."),
)
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

# A Japanese explainer of five announced topics, 15 to 30 s each with the Kokoro voice; each pair is
# (the topic's key term and how Whisper may write it instead: in kana, or, as the bundled base model
# does on some machines, as a name of the same sound (藤山 for 富士山); its paragraph).
JA_FIVE_TOPICS = (
    (("味噌汁", "みそしる"),
     "最初は味噌汁の作り方です。鍋に水と昆布を入れて、出汁を取ります。豆腐とわかめを入れて、"
     "火を止めてから味噌を溶かします。味噌汁は沸騰させないのがこつです。"),
    (("富士山", "ふじさん", "藤山"),
     "二つ目は富士山の話です。富士山は日本で一番高い山で、高さは三千七百七十六メートルです。"
     "夏になると、たくさんの人が富士山に登ります。山頂から見る日の出はとても美しいです。"
     "富士山は昔から絵や歌にもよく描かれてきました。"),
    (("新幹線", "しんかんせん"),
     "三つ目は新幹線です。新幹線は時速三百キロ近くで走る高速鉄道です。東京から大阪まで、"
     "新幹線なら二時間半ほどで着きます。新幹線はとても時間に正確なことで有名です。"),
    (("確定申告", "かくていしんこく"),
     "四つ目は確定申告の準備です。確定申告では、一年間の収入と経費をまとめて税務署に届けます。"
     "領収書は日付ごとに整理しておきましょう。確定申告の期限は毎年三月十五日ごろです。"
     "早めに準備すると、確定申告は楽になります。"),
    (("桜", "さくら"),
     "最後は桜です。春になると、日本中で桜の花が咲きます。人々は桜の木の下でお花見をして、"
     "お弁当を食べます。桜の花はすぐに散ってしまうので、とても大切にされています。"),
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


def speak_japanese(paragraphs: tuple[str, ...] = JA_TOPICS, *,
                   pause: float = 1.5) -> tuple[np.ndarray, list[float]]:
    """int16 mono Japanese speech at SAMPLE_RATE from the bundled Kokoro voice (24 kHz, resampled),
    paragraphs `pause` seconds apart, and the time each paragraph starts. Kokoro has no random
    noise: the same text, the same samples."""
    from chaptan.speech.tts import KokoroJapaneseVoice

    voice = KokoroJapaneseVoice()
    gap = np.zeros(int(pause * SAMPLE_RATE), dtype=np.int16)
    parts, starts, position = [gap[:SAMPLE_RATE // 2]], [], 0.5
    for text in paragraphs:
        audio = resample(voice.synthesize(text), voice.sample_rate)
        audible = np.flatnonzero(np.abs(audio) > 500)
        starts.append(position + (audible[0] / SAMPLE_RATE if audible.size else 0.0))
        parts += [audio, gap]
        position += (audio.shape[0] + gap.shape[0]) / SAMPLE_RATE
    return np.concatenate(parts), starts


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


def long_video(path: Path, seconds: float, *, fps: str = "1", audio_rate: int = 8000) -> Path:
    """A `seconds`-long video for container limits, cheap to make at any length: one minute of a
    16x16 picture at `fps` with a sine tone at `audio_rate`, encoded once and then repeated by stream
    copy (ffmpeg's -stream_loop)."""
    from chaptan.media import ffmpeg_exe

    piece = path.with_name(f"{path.stem}-piece{path.suffix}")
    quiet = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
    subprocess.run([*quiet, "-f", "lavfi", "-i", f"color=c=navy:s=16x16:r={fps}",
                    "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate={audio_rate}", "-t", "60",
                    "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-b:a", "16k", str(piece)],
                   check=True)
    subprocess.run([*quiet, "-stream_loop", "-1", "-i", str(piece), "-t", str(seconds), "-c", "copy",
                    str(path)], check=True)
    piece.unlink()
    return path


def declare_duration(path: Path, seconds: float) -> Path:
    """Make a Matroska file claim to last `seconds`, whatever it holds, as a damaged or hostile upload
    may: its Segment Info Duration (EBML id 0x4489, an 8-byte float in milliseconds) is rewritten."""
    data = path.read_bytes()
    at = data.find(b"\x44\x89\x88")
    assert at > 0, f"{path} has no 8-byte Matroska duration"
    path.write_bytes(data[:at + 3] + struct.pack(">d", seconds * 1000) + data[at + 11:])
    return path


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
    if name == "six":
        return spoken_video(folder / "six.mp4", tuple(text for _, text in SIX_TOPICS))
    if name == "japanese":
        return write_video(folder / "japanese.mp4", speak_japanese()[0])
    if name == "japanese-five":
        audio, starts = speak_japanese(tuple(text for _, text in JA_FIVE_TOPICS))
        write_video(folder / "japanese-five.mp4", audio)
        return SpokenMedia(folder / "japanese-five.mp4", tuple(starts), audio.shape[0] / SAMPLE_RATE,
                           tuple(text for _, text in JA_FIVE_TOPICS))
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


def six_topic_video(tmp_path_factory) -> SpokenMedia:
    """SIX_TOPICS spoken as an H.264 + AAC mp4."""
    return _made(media_folder(tmp_path_factory), "six")


def short_speech(tmp_path_factory) -> np.ndarray:
    """A few seconds of speech, int16 at SAMPLE_RATE, to write in every container."""
    return _made(media_folder(tmp_path_factory), "short")


def japanese_video(tmp_path_factory) -> Path:
    """JA_TOPICS spoken by the Kokoro voice, as an H.264 + AAC mp4 (about 40 s)."""
    return _made(media_folder(tmp_path_factory), "japanese")


def japanese_five_topic_video(tmp_path_factory) -> SpokenMedia:
    """JA_FIVE_TOPICS spoken by the Kokoro voice, as an H.264 + AAC mp4."""
    return _made(media_folder(tmp_path_factory), "japanese-five")


def bad_file(tmp_path_factory, kind: str) -> Path:
    """silent (video without audio), truncated, empty, or text (a text file named .mp4)."""
    return _made(media_folder(tmp_path_factory), kind)
