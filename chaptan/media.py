"""Reading media (probe, streaming audio decode) and writing chapter markers into a copy of a video.

Everything user-facing raises MediaError with a one-line message; PyAV/ffmpeg errors never escape."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import av.error
import numpy as np

from .chapters.formats import to_ffmetadata
from .chapters.model import Chapter
from .errors import MediaError

log = logging.getLogger(__name__)

MEDIA_EXTENSIONS = (".mp4", ".mov", ".mkv", ".webm", ".m4a", ".mp3", ".wav", ".flac")
SAMPLE_RATE = 16000
# How far the last audio packet may end before the declared duration before we call the file
# truncated: containers round durations and encoders pad, but never by seconds.
_TRUNCATION_SLACK_S = 2.0
# How far before the declared end probing looks for the last packets.
_TAIL_SECONDS = 10.0
# decode_audio's first buffer: files longer than this grow it as they decode.
_BUFFER_SECONDS = 4 * 3600.0
# Chapter times go to ffmpeg in milliseconds, and MP4 chapter tracks are written in them.
_MOV_TIMESCALE = 1000
_CHAPTER_SLACK_S = 0.002


@dataclass(frozen=True)
class MediaInfo:
    path: Path
    duration: float  # seconds
    container: str  # ffmpeg demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    has_audio: bool
    has_video: bool
    audio_codec: str = ""
    video_codec: str = ""
    sample_rate: int = 0
    channels: int = 0


def _check_file(path: Path) -> None:
    if not path.exists():
        raise MediaError("no such file: {file}", file=path)
    if path.is_dir():
        raise MediaError("{file} is a folder, not a media file", file=path)
    if path.stat().st_size == 0:
        raise MediaError("{file} is empty (0 bytes)", file=path)
    if not os.access(path, os.R_OK):
        raise MediaError("cannot read {file}: permission denied", file=path)


def _open(path: Path) -> av.container.InputContainer:
    _check_file(path)
    try:
        return av.open(str(path), mode="r")
    except av.error.FFmpegError as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise MediaError("{file} is not a readable audio or video file ({reason}); "
                         "it may be damaged or truncated", file=path, reason=reason) from None


def probe(path: str | Path, *, need_audio: bool = True) -> MediaInfo:
    """Describe a media file, checking that it is really media, not truncated, and (unless
    `need_audio` is false) has an audio stream."""
    path = Path(path)
    with _open(path) as container:
        audio = container.streams.audio[0] if container.streams.audio else None
        video = next((s for s in container.streams.video if not _is_cover_art(s)), None)
        if audio is None and video is None:
            raise MediaError("{file} is not an audio or video file (no audio or video stream found)",
                             file=path)
        if need_audio and audio is None:
            raise MediaError("{file} has no audio stream, so there is nothing to transcribe", file=path)
        duration = _duration(container)
        if audio is not None:
            _check_audio_readable(container, audio, path)
        duration = _real_duration(container, [s for s in (audio, video) if s is not None], duration, path)
        return MediaInfo(
            path=path,
            duration=duration,
            container=container.format.name,
            has_audio=audio is not None,
            has_video=video is not None,
            audio_codec=audio.codec_context.name if audio is not None else "",
            video_codec=video.codec_context.name if video is not None else "",
            sample_rate=(audio.codec_context.sample_rate or 0) if audio is not None else 0,
            channels=(audio.codec_context.channels or 0) if audio is not None else 0,
        )


def _is_cover_art(stream: av.stream.Stream) -> bool:
    # MP3/M4A/FLAC album art shows up as a one-picture video stream; it does not make a video.
    return bool(stream.disposition & av.stream.Disposition.attached_pic)


def _duration(container: av.container.InputContainer) -> float:
    if container.duration:
        return container.duration / av.time_base
    best = 0.0
    for stream in container.streams:
        if stream.duration and stream.time_base:
            best = max(best, float(stream.duration * stream.time_base))
    return best


def _real_duration(container, streams: list, declared: float, path: Path) -> float:
    """The declared duration, unless the audio and video end well before it. A container's duration
    is only a claim (a Matroska file may declare 100,000 hours over 11 s of media), and progress,
    chapters and exports all run to this length, so the last packets are looked at: a seek near
    the declared end finds them, and when it finds none (no index to seek by) the file is read
    through."""
    if declared <= _TRUNCATION_SLACK_S * 2:
        return declared
    start = container.start_time / av.time_base if container.start_time else 0.0
    # Seeking by the audio, where every packet is a key frame, lands just before the target, not
    # at a video key frame that may be minutes earlier.
    by = streams[0]
    target = start + max(declared - _TAIL_SECONDS, 0.0)
    try:
        container.seek(int(target / by.time_base), stream=by, backward=True)
        end = _packets_end(container, streams)
        if end is None:
            container.seek(0, backward=True)
            end = _packets_end(container, streams)
    except av.error.FFmpegError as exc:
        # Some files cannot seek; decoding them still finds their real end.
        log.info("%s: cannot check the declared duration (%s)", path, exc.strerror or exc)
        return declared
    if end is None or end - start >= declared - _TRUNCATION_SLACK_S:
        return declared
    log.warning("%s declares %.1f s but its audio and video end at %.1f s", path, declared, end - start)
    return max(end - start, 0.0)


def _packets_end(container, streams: list) -> float | None:
    """Where the packets of `streams` from here on end, in seconds; None when there are none."""
    end = None
    for packet in container.demux(*streams):
        stamp = packet.pts if packet.pts is not None else packet.dts
        if stamp is not None and packet.size:
            packet_end = float((stamp + (packet.duration or 0)) * packet.time_base)
            end = packet_end if end is None else max(end, packet_end)
    return end


def _check_audio_readable(container, stream, path: Path) -> None:
    """Decode the first audio frame, then look for audio near the audio stream's declared end: an
    MP4 cut off mid-download still opens when its index comes first, but its last minutes are gone.
    Only MP4/MOV declare per-stream durations from their sample index (Matroska copies the file's
    duration to every stream, and audio may rightly stop before the video), so only they are
    checked; other formats are simply read to their real end."""
    try:
        for packet in container.demux(stream):
            if packet.size and packet.decode():
                break
        else:
            raise MediaError("{file} contains no decodable audio", file=path)
        if "mov" not in container.format.name.split(",") or not stream.duration:
            return
        duration = float(stream.duration * stream.time_base)
        if duration <= _TRUNCATION_SLACK_S * 2:
            return
        container.seek(int((duration - _TRUNCATION_SLACK_S * 2) / stream.time_base), stream=stream,
                       backward=True, any_frame=False)
        last_end = 0.0
        for packet in container.demux(stream):
            if packet.pts is not None and packet.size:
                last_end = max(last_end, float((packet.pts + (packet.duration or 0)) * stream.time_base))
    except av.error.FFmpegError as exc:
        raise MediaError("{file} is damaged: its audio cannot be decoded ({reason})", file=path,
                         reason=exc.strerror or exc) from None
    start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
    if last_end and last_end - start < duration - _TRUNCATION_SLACK_S * 2:
        raise MediaError("{file} is truncated: its audio stops at {end:.1f} s of {duration:.1f} s", file=path,
                         end=last_end, duration=duration)
    if not last_end:
        raise MediaError("{file} is truncated: no audio near its end ({duration:.1f} s)", file=path,
                         duration=duration)


def iter_audio_chunks(path: str | Path, sample_rate: int = SAMPLE_RATE,
                      chunk_seconds: float = 30.0) -> Iterator[np.ndarray]:
    """Decode the first audio stream to mono float32 at `sample_rate`, yielding arrays of about
    `chunk_seconds` each. Only the chunk in hand is held in memory, whatever the file's length."""
    path = Path(path)
    chunk_samples = max(1, int(chunk_seconds * sample_rate))
    with _open(path) as container:
        if not container.streams.audio:
            raise MediaError("{file} has no audio stream, so there is nothing to transcribe", file=path)
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        pending: list[np.ndarray] = []
        pending_len = 0
        bad_packets = 0
        for frames in _decoded_frames(container, stream, path):
            if frames is None:
                bad_packets += 1
                continue
            for frame in frames:
                for out in resampler.resample(frame):
                    samples = out.to_ndarray().reshape(-1)
                    pending.append(samples)
                    pending_len += samples.shape[0]
            while pending_len >= chunk_samples:
                joined = np.concatenate(pending)
                yield joined[:chunk_samples]
                pending, pending_len = [joined[chunk_samples:]], joined.shape[0] - chunk_samples
        for out in resampler.resample(None):
            pending.append(out.to_ndarray().reshape(-1))
        if bad_packets:
            log.warning("%s: skipped %d damaged audio packets", path, bad_packets)
        if pending:
            tail = np.concatenate(pending)
            if tail.size:
                yield tail


def _decoded_frames(container, stream, path: Path) -> Iterator[list | None]:
    """Frames per packet; None for a packet the decoder rejects (skipped, as ffmpeg does)."""
    try:
        for packet in container.demux(stream):
            try:
                yield packet.decode()
            except av.error.InvalidDataError:
                yield None
    except av.error.FFmpegError as exc:
        raise MediaError("{file} is damaged: reading it failed ({reason})", file=path,
                         reason=exc.strerror or exc) from None


def decode_audio(path: str | Path, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The whole audio track as one mono float32 array, filled chunk by chunk into a buffer sized
    from the duration, so the peak is the result plus one chunk (not twice the result)."""
    info = probe(path)
    buffer = np.empty(int((min(info.duration, _BUFFER_SECONDS) + 1) * sample_rate), dtype=np.float32)
    filled = 0
    for chunk in iter_audio_chunks(path, sample_rate):
        if filled + chunk.shape[0] > buffer.shape[0]:
            buffer = np.resize(buffer, max(filled + chunk.shape[0], int(buffer.shape[0] * 1.25)))
        buffer[filled:filled + chunk.shape[0]] = chunk
        filled += chunk.shape[0]
    if not filled:
        raise MediaError("{file} contains no decodable audio", file=path)
    return buffer[:filled].copy() if filled < buffer.shape[0] * 0.9 else buffer[:filled]


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def embed_chapters(input_path: str | Path, chapters: Sequence[Chapter], output_path: str | Path) -> Path:
    """Copy `input_path` to `output_path` with chapter markers, all streams copied (no re-encode)."""
    input_path, output_path = Path(input_path), Path(output_path)
    info = probe(input_path, need_audio=False)
    if not chapters:
        raise MediaError("there are no chapters to embed")
    if output_path.resolve() == input_path.resolve():
        raise MediaError("the output must be a new file, not the input itself")
    if output_path.parent and not output_path.parent.is_dir():
        raise MediaError("output folder does not exist: {folder}", folder=output_path.parent)
    end = info.duration or max(c.end for c in chapters)
    # A chapter of no length (a draft's two rows at one time) marks nothing; Matroska drops it.
    clipped = [Chapter(c.start, min(c.end, end), c.title) for c in chapters if c.start < min(c.end, end)]
    if not clipped:
        raise MediaError("all chapters start after the end of {file} ({end:.1f} s)", file=input_path, end=end)
    with tempfile.TemporaryDirectory(prefix="chaptan-") as tmp:
        meta = Path(tmp) / "chapters.txt"
        meta.write_text(to_ffmetadata(clipped), encoding="utf-8")
        # -map_metadata 0 keeps the source's own tags (title, creation time); only the chapters
        # come from the FFMETADATA file. Data streams are left out: a source's own QuickTime chapter
        # track is one, and copied it would sit beside the new one with the old chapters.
        cmd = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
               "-i", str(input_path), "-i", str(meta),
               "-map", "0", "-map", "-0:d?", "-map_metadata", "0", "-map_chapters", "1", "-c", "copy"]
        if _is_mov(output_path):
            # The MP4 muxer times its QuickTime chapter track in the movie timescale, by default the
            # least common multiple of the tracks' own (4,410,000 for 29.97 fps video with 44.1 kHz
            # audio), and drops every chapter whose length overflows 32 bits there (8 minutes at
            # that scale), which shifts the titles players show. In milliseconds a chapter may
            # last 24 days.
            cmd += ["-movflags", "+faststart", "-movie_timescale", str(_MOV_TIMESCALE)]
        cmd.append(str(output_path))
        done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        output_path.unlink(missing_ok=True)
        raise MediaError("ffmpeg could not write {file}: {reason}", file=output_path,
                         reason=lines[-1] if lines else "unknown error")
    try:
        _check_written(output_path, clipped)
    except MediaError:
        output_path.unlink(missing_ok=True)
        raise
    return output_path


def _is_mov(path: Path) -> bool:
    return path.suffix.lower() in {".mp4", ".m4a", ".mov", ".m4v"}


def _check_written(path: Path, expected: Sequence[Chapter]) -> None:
    """Read the chapters back as players do and fail unless each has the start, end and title asked
    for. In MP4 the QuickTime chapter track must hold every chapter: the demuxer fills what it lacks
    from the Nero chapter list, which not every player reads, so the list alone can look right."""
    with _open(path) as container:
        found = [Chapter(float(c["start"] * c["time_base"]), float(c["end"] * c["time_base"]),
                         str(c["metadata"].get("title", ""))) for c in container.chapters()]
        track = container.streams.data[-1] if container.streams.data else None
        samples = track.frames if track is not None else 0
    if len(found) != len(expected):
        raise MediaError("{file} was written but holds {written} of {count} chapters", file=path,
                         written=len(found), count=len(expected))
    if _is_mov(path) and samples != len(expected):
        raise MediaError("{file} was written but its QuickTime chapter track holds {samples} of {count} "
                         "chapters", file=path, samples=samples, count=len(expected))
    for number, (want, got) in enumerate(zip(expected, found), 1):
        if (abs(got.start - want.start) > _CHAPTER_SLACK_S or abs(got.end - want.end) > _CHAPTER_SLACK_S
                or got.title != want.title):
            raise MediaError("{file} was written but chapter {number} reads back as "
                             "{start:.3f}-{end:.3f} s {title!r}, not {wanted_start:.3f}-{wanted_end:.3f} s "
                             "{wanted_title!r}", file=path, number=number, start=got.start, end=got.end,
                             title=got.title, wanted_start=want.start, wanted_end=want.end,
                             wanted_title=want.title)


def read_chapters(path: str | Path) -> list[Chapter]:
    """The chapter markers stored in a media file."""
    with _open(Path(path)) as container:
        return [Chapter(float(c["start"] * c["time_base"]), float(c["end"] * c["time_base"]),
                        str(c["metadata"].get("title", ""))) for c in container.chapters()]


def ensure_ffmpeg_on_path() -> str:
    """Put an `ffmpeg` from imageio-ffmpeg on PATH for libraries that look it up by name (Gradio's
    streaming audio). Its binary has a versioned file name, so a link named `ffmpeg` points to it."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    folder = Path(tempfile.gettempdir()) / "chaptan-bin"
    folder.mkdir(exist_ok=True)
    link = folder / "ffmpeg"
    if not link.exists():
        try:
            link.symlink_to(ffmpeg_exe())
        except FileExistsError:  # another process made it first
            pass
    os.environ["PATH"] = f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"
    return str(link)


def resample(samples: np.ndarray, rate: int, to_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Samples (int16, or float32 in [-1, 1]; mono, or channels along the shorter axis) at `rate`
    as mono float32 at `to_rate`, filtered by FFmpeg's resampler as decoded media is."""
    audio = np.asarray(samples)
    if audio.ndim == 2:
        audio = audio.mean(axis=int(np.argmin(audio.shape)))
    audio = audio.reshape(-1)
    audio = audio / 32768.0 if np.issubdtype(audio.dtype, np.integer) else audio
    audio = np.ascontiguousarray(audio, dtype=np.float32)
    if rate == to_rate or not audio.size:
        return audio
    frame = av.AudioFrame.from_ndarray(audio[None, :], format="flt", layout="mono")
    frame.sample_rate = int(rate)
    resampler = av.AudioResampler(format="flt", layout="mono", rate=int(to_rate))
    parts = [out.to_ndarray().reshape(-1) for out in (*resampler.resample(frame), *resampler.resample(None))]
    return np.concatenate(parts).astype(np.float32, copy=False)
