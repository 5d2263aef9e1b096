"""Probing, decoding and chapter embedding on real files made by media_factory."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest
from media_factory import (
    SAMPLE_RATE,
    bad_file,
    declare_duration,
    long_video,
    short_speech,
    talk_video,
    write_audio,
    write_video,
)

from chaptan.chapters.model import Chapter
from chaptan.errors import ChaptanError, MediaError
from chaptan.media import decode_audio, embed_chapters, ffmpeg_exe, iter_audio_chunks, probe, read_chapters
from chaptan.speech.tts import default_voice, list_voices


@pytest.fixture(scope="module")
def talk(tmp_path_factory):
    return talk_video(tmp_path_factory)


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    return short_speech(tmp_path_factory)


def test_probe_describes_a_video(talk):
    info = probe(talk.path)
    assert info.has_audio and info.has_video
    assert (info.audio_codec, info.video_codec) == ("aac", "h264")
    assert "mp4" in info.container
    assert info.duration == pytest.approx(talk.duration, abs=1.0)


@pytest.mark.parametrize("name, kwargs", [
    ("clip.mp4", {}),
    ("clip.mov", {}),
    ("clip.mkv", {}),
    ("clip.webm", {"video_codec": "libvpx", "audio_codec": "libopus", "audio_rate": 48000}),
])
def test_video_containers_decode(tmp_path, speech, name, kwargs):
    path = write_video(tmp_path / name, speech, **kwargs)
    info = probe(path)
    assert info.has_audio and info.has_video
    audio = decode_audio(path)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert audio.shape[0] / 16000 == pytest.approx(speech.shape[0] / SAMPLE_RATE, abs=0.1)


@pytest.mark.parametrize("name, codec", [
    ("clip.wav", "pcm_s16le"), ("clip.flac", "flac"), ("clip.mp3", "libmp3lame"), ("clip.m4a", "aac"),
])
def test_audio_containers_decode(tmp_path, speech, name, codec):
    path = write_audio(tmp_path / name, speech, codec)
    info = probe(path)
    assert info.has_audio and not info.has_video
    audio = decode_audio(path)
    assert audio.shape[0] / 16000 == pytest.approx(speech.shape[0] / SAMPLE_RATE, abs=0.1)
    assert 0.05 < float(np.abs(audio).max()) < 1.1  # resampling may overshoot full scale a little


def test_chunks_are_bounded_and_add_up(talk):
    chunks = list(iter_audio_chunks(talk.path, chunk_seconds=10))
    assert all(c.dtype == np.float32 and c.shape[0] <= 10 * 16000 for c in chunks)
    assert all(c.shape[0] == 10 * 16000 for c in chunks[:-1])
    whole = decode_audio(talk.path)
    assert np.array_equal(np.concatenate(chunks), whole)
    assert whole.shape[0] / 16000 == pytest.approx(talk.duration, abs=0.2)


@pytest.mark.parametrize("kind, message", [
    ("empty", "is empty"),
    ("text", "not a readable audio or video file"),
    ("truncated", "not a readable audio or video file"),
    ("silent", "no audio stream"),
])
def test_bad_files_are_refused(tmp_path_factory, kind, message):
    with pytest.raises(MediaError, match=message):
        probe(bad_file(tmp_path_factory, kind))


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(MediaError, match="no such file"):
        probe(tmp_path / "nothing.mp4")
    with pytest.raises(MediaError, match="is a folder"):
        probe(tmp_path)


def test_truncated_file_with_index_first_is_refused(tmp_path, speech):
    # A faststart mp4 keeps its index at the front, so a cut-off download still opens; the missing
    # end must still be noticed.
    long_audio = np.tile(speech, 4)
    full = write_video(tmp_path / "full.mp4", long_audio, faststart=True)
    assert probe(full).has_audio
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(full.read_bytes()[: int(full.stat().st_size * 0.6)])
    with pytest.raises(MediaError, match="truncated"):
        probe(cut)


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_audio_ending_before_the_video_is_not_truncation(tmp_path, speech, suffix):
    path = write_video(tmp_path / f"long-video{suffix}", speech, seconds=20)
    info = probe(path)
    assert info.duration == pytest.approx(20, abs=1) and info.has_audio


def test_a_declared_duration_is_checked_against_the_media(tmp_path, speech):
    # 11 s of picture, a few seconds of speech, and a header claiming 100,000 hours.
    path = declare_duration(write_video(tmp_path / "claims.mkv", speech, seconds=11), 100_000 * 3600)
    assert probe(path).duration == pytest.approx(11, abs=0.5)
    audio = decode_audio(path)  # sized from the duration: 100,000 hours would not fit in memory
    assert audio.shape[0] / 16000 == pytest.approx(speech.shape[0] / SAMPLE_RATE, abs=0.1)


def test_video_without_audio_is_fine_when_audio_is_not_needed(tmp_path_factory):
    info = probe(bad_file(tmp_path_factory, "silent"), need_audio=False)
    assert info.has_video and not info.has_audio


CHAPTERS = [Chapter(0.0, 37.0, "Cooking pasta"), Chapter(37.0, 74.0, "The solar system; planets = 8"),
            Chapter(74.0, 109.0, "Football #1 sport")]


def _codecs(path: Path) -> list[tuple[str, str]]:
    with av.open(str(path)) as container:
        # MP4 adds a data track of chapter titles, which has no codec.
        return [(s.type, s.codec_context.name) for s in container.streams if s.type != "data"]


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_embed_copies_streams_and_adds_chapters(talk, tmp_path, suffix):
    out = embed_chapters(talk.path, CHAPTERS, tmp_path / f"out{suffix}")
    chapters = read_chapters(out)
    assert [c.title for c in chapters] == [c.title for c in CHAPTERS]
    assert [c.start for c in chapters] == pytest.approx([c.start for c in CHAPTERS], abs=0.01)
    assert _codecs(out) == _codecs(talk.path)
    assert probe(out).duration == pytest.approx(probe(talk.path).duration, abs=0.5)
    # Stream copy, not re-encode: the packets are byte-identical.
    with av.open(str(talk.path)) as a, av.open(str(out)) as b:
        first_a = [bytes(p) for p, _ in zip(a.demux(a.streams.audio[0]), range(20))]
        first_b = [bytes(p) for p, _ in zip(b.demux(b.streams.audio[0]), range(20))]
    assert first_a == first_b


def _chapters_read_back(path: Path) -> tuple[list[tuple[float, float, str]], list[int]]:
    """The chapters as the bundled ffmpeg binary reads them (an FFMETADATA dump, apart from PyAV),
    and the sample count of each data track (MP4 keeps its QuickTime chapter track there)."""
    dump = subprocess.run([ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-i", str(path),
                           "-f", "ffmetadata", "-"], capture_output=True, text=True, check=True).stdout
    chapters = []
    for block in dump.split("[CHAPTER]")[1:]:
        fields = dict(line.split("=", 1) for line in block.strip().splitlines())
        num, den = map(int, fields["TIMEBASE"].split("/"))
        chapters.append((int(fields["START"]) * num / den, int(fields["END"]) * num / den, fields["title"]))
    with av.open(str(path)) as container:
        tracks = [s.frames for s in container.streams.data]
    return chapters, tracks


def _minutes(lengths: list[int], end: float) -> list[Chapter]:
    starts = [sum(lengths[:i]) * 60.0 for i in range(len(lengths))]
    return [Chapter(a, b, f"{n} minutes from {a / 60:g}")
            for a, b, n in zip(starts, starts[1:] + [end], lengths)]


def test_an_hour_of_chapters_of_1_to_30_minutes_reads_back_exactly(tmp_path):
    hour_video = long_video(tmp_path / "hour.mp4", 3600)
    # Long chapters between short ones: a chapter dropped from the middle of an MP4's chapter track
    # shifts every later title.
    chapters = _minutes([1, 20, 3, 30, 6], 3600.0)
    out = embed_chapters(hour_video, chapters, tmp_path / "out.mp4")
    found, tracks = _chapters_read_back(out)
    assert found == [(c.start, c.end, c.title) for c in chapters]
    assert tracks == [len(chapters)]


def test_a_29_97_fps_video_keeps_chapters_of_10_and_14_minutes_even_when_chaptered_twice(tmp_path):
    video = long_video(tmp_path / "ntsc.mp4", 1500, fps="30000/1001", audio_rate=44100)
    first = embed_chapters(video, _minutes([1, 10, 14], 1500.0), tmp_path / "first.mp4")
    chapters = _minutes([2, 13, 10], 1500.0)
    out = embed_chapters(first, chapters, tmp_path / "second.mp4")
    found, tracks = _chapters_read_back(out)
    assert found == [(c.start, c.end, c.title) for c in chapters]
    # The first copy's chapter track is not carried over beside the new one.
    assert tracks == [len(chapters)]


def test_embed_refuses_bad_targets(talk, tmp_path):
    with pytest.raises(MediaError, match="output folder does not exist"):
        embed_chapters(talk.path, CHAPTERS, tmp_path / "no" / "out.mp4")
    with pytest.raises(MediaError, match="no chapters"):
        embed_chapters(talk.path, [], tmp_path / "out.mp4")
    with pytest.raises(MediaError, match="not the input"):
        embed_chapters(talk.path, CHAPTERS, talk.path)


def test_default_voice_speaks():
    voice = default_voice()
    audio = voice.synthesize("Chapters make long videos easy to navigate.")
    assert voice.language == "en_US" and voice.sample_rate == 22050
    assert audio.dtype == np.int16 and audio.shape[0] > voice.sample_rate  # over a second of speech
    assert default_voice()._voice is voice._voice  # the ONNX session is loaded once


def test_deterministic_voice_repeats_itself():
    """The test media rely on it: Piper's own noise made each run's speech, and so its
    transcript, a little different."""
    text = "The goalkeeper dives as the referee points to the penalty spot."
    steady = default_voice(deterministic=True)
    assert np.array_equal(steady.synthesize(text), steady.synthesize(text))
    varied = default_voice()
    assert not np.array_equal(varied.synthesize(text), varied.synthesize(text))


def test_list_voices_finds_dropped_in_voices(tmp_path):
    bundled = list_voices(tmp_path)[0]
    voices = tmp_path / "voices"
    voices.mkdir()
    os.symlink(bundled.model_path, voices / "de_DE-test.onnx")
    config = json.loads(bundled.config_path.read_text())
    config.pop("language")
    config["espeak"] = {"voice": "de"}
    (voices / "de_DE-test.onnx.json").write_text(json.dumps(config))
    os.symlink(bundled.model_path, voices / "orphan.onnx")  # no config: not a usable voice
    found = list_voices(tmp_path)
    assert [(v.name, v.language) for v in found] == [(bundled.name, "en_US"), ("de_DE-test", "de")]


def test_broken_voice_config_is_a_user_error(tmp_path):
    voices = tmp_path / "voices"
    voices.mkdir()
    (voices / "bad.onnx").write_bytes(b"x")
    (voices / "bad.onnx.json").write_text("{not json")
    with pytest.raises(ChaptanError, match="cannot read voice config"):
        list_voices(tmp_path)
