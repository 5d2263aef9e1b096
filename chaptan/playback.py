"""Playable copies: a small H.264/AAC MP4 of an upload that browsers cannot play (MKV, HEVC, ProRes...).

The original stays the source of transcription and of the "video with chapter markers" export; the
copy only feeds the players, so the editor's seek and the assistant's clickable times work. It is
made with the bundled ffmpeg in a background thread beside the job, at most 720p, and a restart
finishes copies a previous process left half-made.
"""

from __future__ import annotations

import logging
import os
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

from .errors import ChaptanError
from .media import MediaInfo, ffmpeg_exe

log = logging.getLogger(__name__)

PLAYBACK_FILE = "playback.mp4"
PLAYBACK_MODES = ("auto", "always", "never")
MAX_HEIGHT = 720
# What Chromium, Firefox and Safari all play: MP4 (and QuickTime) with H.264/AV1 video and AAC/MP3
# audio, WebM with VP8/VP9/AV1 and Opus/Vorbis, and the plain audio files.
MP4_FAMILY = "mov,mp4,m4a,3gp,3g2,mj2"
MP4_VIDEO = {"h264", "av1"}
MP4_AUDIO = {"aac", "mp3", ""}
WEBM_VIDEO = {"vp8", "vp9", "av1"}
WEBM_AUDIO = {"opus", "vorbis", ""}
AUDIO_ONLY = {("mp3", "mp3"), ("ogg", "opus"), ("ogg", "vorbis"), ("wav", "pcm_s16le"), ("flac", "flac"),
              (MP4_FAMILY, "aac")}


def browser_plays(info: MediaInfo, suffix: str) -> bool:
    """Whether browsers play the file as it is (by container and codecs, as probed)."""
    if not info.has_video:
        return (info.container, info.audio_codec) in AUDIO_ONLY
    if info.container == MP4_FAMILY:
        return info.video_codec in MP4_VIDEO and info.audio_codec in MP4_AUDIO
    if info.container == "matroska,webm" and suffix.lower() == ".webm":
        return info.video_codec in WEBM_VIDEO and info.audio_codec in WEBM_AUDIO
    return False


def needs_copy(mode: str, info: MediaInfo, suffix: str) -> bool:
    if mode == "never":
        return False
    return mode == "always" or not browser_plays(info, suffix)


def make_copy(source: Path, dest: Path, duration: float, progress: Callable[[float], None]) -> Path:
    """Encode `source` into `dest` (H.264 + AAC, at most 720p, web-optimised); `progress(fraction)`
    as ffmpeg moves through the file. Written beside `dest` and renamed into place when complete."""
    partial = dest.with_name(f".{dest.name}.partial.mp4")
    cmd = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(source),
           "-map", "0:v:0?", "-map", "0:a:0?", "-sn", "-dn",
           "-vf", f"scale=-2:'min({MAX_HEIGHT},trunc(ih/2)*2)'", "-c:v", "libx264", "-preset", "veryfast",
           "-crf", "26", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-ac", "2",
           "-movflags", "+faststart", "-progress", "pipe:1", "-nostats", str(partial)]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as ffmpeg:
        for line in ffmpeg.stdout:
            key, _, value = line.strip().partition("=")
            if key == "out_time_us" and value.isdigit() and duration > 0:
                progress(min(0.99, int(value) / 1e6 / duration))
        error = ffmpeg.stderr.read()
    if ffmpeg.returncode != 0:
        partial.unlink(missing_ok=True)
        reason = (error.strip().splitlines() or ["ffmpeg failed"])[-1]
        raise ChaptanError("could not make a playable copy: {reason}", reason=reason)
    os.replace(partial, dest)
    progress(1.0)
    return dest


class PlaybackCopies:
    """Makes copies in the background, one at a time (encoding is heavy), and knows how far each is.

    The queue drains on a daemon thread of its own rather than a ThreadPoolExecutor: an executor's
    worker is joined at interpreter exit, which would hold a stopping app until every queued encode
    had finished; a half-made copy is simply made again at the next start."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._progress: dict[str, float] = {}  # job id -> fraction, while it is being made
        self._queue: list[tuple[str, Callable[[], None]]] = []
        self._busy = False

    def progress(self, job_id: str) -> float | None:
        with self._lock:
            return self._progress.get(job_id)

    def start(self, job_id: str, source: Path, dest: Path, duration: float,
              on_done: Callable[[str], None]) -> None:
        """Queue a copy; `on_done(error)` runs when it ends ("" when the copy is ready)."""
        def make() -> None:
            def report(fraction: float) -> None:
                with self._lock:
                    self._progress[job_id] = fraction
            try:
                make_copy(source, dest, duration, report)
                error = ""
            except (ChaptanError, OSError) as exc:
                log.warning("playable copy of job %s failed: %s", job_id, exc)
                error = str(exc)
            finally:
                with self._lock:
                    self._progress.pop(job_id, None)
            on_done(error)

        with self._lock:
            self._progress[job_id] = 0.0
            self._queue.append((job_id, make))
            if self._busy:
                return
            self._busy = True
        threading.Thread(target=self._drain, name="chaptan-playback", daemon=True).start()

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._busy = False
                    return
                _, make = self._queue.pop(0)
            try:
                make()
            except Exception:  # a copy must never take the thread (and the queue) down
                log.exception("playable copy failed")
