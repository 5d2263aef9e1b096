"""Exports: the files a finished video is downloaded as, made when someone asks for one.

The formats themselves live with what they format (chapters in `chapters/formats.py`, transcripts in
`transcript.py`); this module names the export keys the app, its API and the CLI share, and holds the
rules of exporting a user's video: only a finished one, YouTube text only when the chapters follow
YouTube's rules, files named after the video's title and readable by their owner alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .chapters import formats as chapter_formats
from .chapters.model import Chapter, ChapterResult
from .chapters.rules import validate
from .errors import ChaptanError
from .media import probe
from .storage.store import Job
from .transcript import TRANSCRIPT_FORMATS, Transcript

if TYPE_CHECKING:  # the library lists the export keys in a video's details, so it imports this module
    from .videos import Requester, VideoLibrary


@dataclass(frozen=True)
class ExportFormat:
    key: str
    label: str
    suffix: str


EXPORTS = (
    ExportFormat("youtube", "Chapters: YouTube description (.txt)", "chapters.txt"),
    ExportFormat("chapters_json", "Chapters: JSON", "chapters.json"),
    ExportFormat("chapters_vtt", "Chapters: WebVTT", "chapters.vtt"),
    ExportFormat("ffmetadata", "Chapters: FFmetadata", "ffmetadata.txt"),
    ExportFormat("srt", "Transcript: SRT", "srt"),
    ExportFormat("vtt", "Transcript: WebVTT", "vtt"),
    ExportFormat("txt", "Transcript: plain text", "txt"),
    ExportFormat("json", "Transcript: JSON", "json"),
    ExportFormat("video", "Video with embedded chapters", "mp4"),
)
EXPORT_KEYS = tuple(e.key for e in EXPORTS)
EXPORT_MODE = 0o600  # an export is its owner's alone, even on a machine shared with other accounts
# The chapter formats by their export key (the CLI's `chapter --format` names them without the prefix).
CHAPTER_KEYS = {"youtube": "youtube", "chapters_json": "json", "chapters_vtt": "vtt",
                "ffmetadata": "ffmetadata"}


def file_stem(title: str) -> str:
    """A file name stem from a video's title, safe on every file system."""
    cleaned = "".join(ch if ch.isalnum() or ch in "-_ " else "_" for ch in title).strip()
    return "-".join(cleaned.split())[:60] or "video"


def render_text(key: str, transcript: Transcript | None = None, chapters: ChapterResult | None = None) -> str:
    """The text of export `key` of a transcript or of chapters (whichever the key formats)."""
    if key in TRANSCRIPT_FORMATS and transcript is not None:
        return TRANSCRIPT_FORMATS[key](transcript)
    if key in CHAPTER_KEYS and chapters is not None:
        return chapter_formats.render(chapters, CHAPTER_KEYS[key])
    raise ChaptanError("unknown export format {format!r}; choose one of {choices}", format=key,
                       choices=", ".join(EXPORT_KEYS))


class Exports:
    """A user's finished videos as files, one format at a time, on request."""

    def __init__(self, library: VideoLibrary):
        self.library = library

    def write(self, requester: Requester, job_id: str, key: str, dest_dir: Path) -> Path:
        """Write export `key` of the latest saved chapters into `dest_dir`, named after the video's
        title, and return its path."""
        job = self.library.finished(requester, job_id)
        spec = next((e for e in EXPORTS if e.key == key), None)
        if spec is None:
            raise ChaptanError("unknown export format {format!r}; choose one of {choices}", format=key,
                               choices=", ".join(EXPORT_KEYS))
        dest_dir.mkdir(parents=True, exist_ok=True)
        stem = file_stem(job.title)
        if spec.key == "video":
            dest = self._video(job, dest_dir, stem)
        else:
            dest = dest_dir / f"{stem}.{spec.suffix}"
            dest.write_text(self.text(job, spec.key), encoding="utf-8")
        dest.chmod(EXPORT_MODE)
        return dest

    def text(self, job: Job, key: str) -> str:
        """The text of export `key` of a finished `job`; a draft is refused as YouTube text."""
        if key in TRANSCRIPT_FORMATS:
            return render_text(key, transcript=self.library.transcript(job))
        result = self.library.chapters(job)
        if key == "youtube":
            problems = validate(result.chapters, job.duration or 0.0)
            if problems:
                raise ChaptanError("the saved chapters are a draft that YouTube would refuse ({problems}): "
                                   "fix them in the Chapter editor first",
                                   problems=[p.message for p in problems[:3]])
        return render_text(key, chapters=result)

    def _video(self, job: Job, dest_dir: Path, stem: str) -> Path:
        from .media import embed_chapters

        source = self.library.source(job)
        chapters: list[Chapter] = self.library.chapters(job).chapters
        info = probe(source)
        suffix = ".mp4" if info.has_video else ".m4a"
        dest = dest_dir / f"{stem}-chapters{suffix}"
        try:
            embed_chapters(source, chapters, dest)
        except ChaptanError:
            # Some codecs (e.g. Vorbis) have no place in MP4; Matroska takes any stream as is.
            dest = dest.with_suffix(".mkv" if info.has_video else ".mka")
            embed_chapters(source, chapters, dest)
        return dest
