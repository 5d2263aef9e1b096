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
    from the declared duration, so the peak is the result plus one chunk (not twice the result)."""
    info = probe(path)
    buffer = np.empty(int((info.duration + 1) * sample_rate), dtype=np.float32)
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
    clipped = [Chapter(c.start, min(c.end, end), c.title) for c in chapters if c.start < end]
    if not clipped:
        raise MediaError("all chapters start after the end of {file} ({end:.1f} s)", file=input_path, end=end)
    with tempfile.TemporaryDirectory(prefix="chaptan-") as tmp:
        meta = Path(tmp) / "chapters.txt"
        meta.write_text(to_ffmetadata(clipped), encoding="utf-8")
        # -map_metadata 0 keeps the source's own tags (title, creation time); only the chapters
        # come from the FFMETADATA file.
        cmd = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
               "-i", str(input_path), "-i", str(meta),
               "-map", "0", "-map_metadata", "0", "-map_chapters", "1", "-c", "copy"]
        if output_path.suffix.lower() in {".mp4", ".m4a", ".mov", ".m4v"}:
            cmd += ["-movflags", "+faststart"]
        cmd.append(str(output_path))
        done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        output_path.unlink(missing_ok=True)
        raise MediaError("ffmpeg could not write {file}: {reason}", file=output_path,
                         reason=lines[-1] if lines else "unknown error")
    written = read_chapters(output_path)
    if len(written) != len(clipped):
        raise MediaError("{file} was written but holds {written} of {count} chapters", file=output_path,
                         written=len(written), count=len(clipped))
    return output_path


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
