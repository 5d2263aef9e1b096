"""Editing a video's chapters: opening it for the editor, its version history, saving with the
stale-save check, restoring, retitling, validating and the table's edits. The editor tab and the
Python-client API both call this one service, so each rule lives here once; `chapters/editing.py`
holds the table arithmetic it uses.

Every method takes the `Requester` and acts only on that user's own finished videos (see
`VideoLibrary.finished`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .chapters import ChapterResult
from .chapters import editing as table
from .chapters import formats as chapter_formats
from .chapters.model import Chapter
from .chapters.rules import Violation, clip_title, validate
from .chapters.titles import title_for_span
from .config import Settings
from .errors import ChaptanError
from .messages import Message
from .storage.store import ChapterVersion, Job, StaleVersionError, Store
from .transcript import Transcript
from .videos import Requester, VideoLibrary


@dataclass(frozen=True)
class OpenVideo:
    """What the editor shows of a video: its newest chapters as table rows, the version they are
    (the base of the next save; None before any), and its transcript."""

    job: Job
    rows: list[list]
    base_version: int | None
    transcript: Transcript


@dataclass(frozen=True)
class Conflict:
    """A save refused because `latest` was saved after the editor's base version."""

    latest: ChapterVersion | None
    message: Message


class SaveConflict(StaleVersionError):
    """StaleVersionError with the version that came in between, for an editor to offer choices."""

    def __init__(self, conflict: Conflict):
        super().__init__(conflict.message)
        self.conflict = conflict


class Editing:
    def __init__(self, settings: Settings, store: Store, library: VideoLibrary):
        self.settings = settings
        self.store = store
        self.library = library

    def open(self, requester: Requester, job_id: str) -> OpenVideo:
        job = self.library.finished(requester, job_id)
        latest = self.store.latest_chapter_version(job.id)
        rows = table.rows_from_chapters(self.library.chapters(job).chapters)
        return OpenVideo(job, rows, latest.number if latest else None, self.library.transcript(job))

    def history(self, requester: Requester, job_id: str) -> list[ChapterVersion]:
        """The video's saved versions, newest first."""
        job = self.library.job(requester, job_id)
        return list(reversed(self.store.list_chapter_versions(job.id)))

    def transcript(self, requester: Requester, job_id: str) -> Transcript:
        """The transcript the editor searches and titles from."""
        return self.library.transcript(self.library.finished(requester, job_id))

    def check(self, requester: Requester, job_id: str, chapters: list[Chapter]) -> list[Violation]:
        job = self.library.finished(requester, job_id)
        return validate(chapters, job.duration or 0.0)

    def save(self, requester: Requester, job_id: str, chapters: list[Chapter], base_version: int | None,
             note: str = "") -> int:
        """Store `chapters` (sorted by time) as a new version. `base_version` is the version the editor
        started from; if someone saved since, SaveConflict rather than overwriting their work."""
        job = self.library.finished(requester, job_id)
        if not chapters:
            raise ChaptanError("there are no chapters to save")
        # A draft is kept whatever YouTube rules it still breaks (the editor lists them), so saving
        # unfinished work never loses it; only times that are not times never get this far.
        rows = [Chapter(c.start, c.end, clip_title(c.title, 200)).to_dict()
                for c in sorted(chapters, key=lambda c: c.start)]
        author = requester.name + (f" ({note})" if note else "")
        try:
            return self.store.add_chapter_version(job.id, rows, author=author, base_version=base_version)
        except StaleVersionError as exc:
            raise SaveConflict(Conflict(self.store.latest_chapter_version(job.id), exc.message)) from None

    def save_over(self, requester: Requester, job_id: str, chapters: list[Chapter]) -> int:
        """Save `chapters` on top of whatever version is newest now: the editor's "keep mine" after a
        conflict. Nothing is lost: the version saved in between stays in the history."""
        job = self.library.finished(requester, job_id)
        latest = self.store.latest_chapter_version(job.id)
        return self.save(requester, job_id, chapters, latest.number if latest else 0)

    def restore(self, requester: Requester, job_id: str, version: int, base_version: int | None) -> int:
        """Save an earlier version again as the newest one."""
        job = self.library.finished(requester, job_id)
        old = next((v for v in self.store.list_chapter_versions(job.id) if v.number == version), None)
        if old is None:
            raise ChaptanError("this video has no chapter version {version}", version=version)
        chapters = chapter_formats.chapters_from_dict({"chapters": old.chapters}, job.duration)
        return self.save(requester, job_id, chapters, base_version, note=f"restored version {version}")

    def retitle(self, requester: Requester, job_id: str, chapters: list[Chapter],
                indices: list[int] | None = None) -> ChapterResult:
        """`chapters` with new titles at `indices` (0-based; all when None), from the LLM when one
        is configured, else from the local titler; the result's generator says which wrote them."""
        transcript = self.transcript(requester, job_id)
        wanted = range(len(chapters)) if indices is None else indices
        if any(not 0 <= i < len(chapters) for i in wanted):
            raise ChaptanError("select a chapter row first")
        warnings = []
        if self.settings.llm_configured:
            from .chapters.llm import LLMFailure, retitle

            try:
                titles = retitle(self.settings, transcript, chapters, list(wanted))
                return ChapterResult(_titled(chapters, titles), "llm")
            except LLMFailure as exc:
                warnings.append(Message("the LLM failed ({reason}); used local titles", reason=exc.message))
        titles = [c.title for c in chapters]
        for i in wanted:
            others = titles[:i] + titles[i + 1:]
            new = title_for_span(transcript, chapters[i].start, chapters[i].end, avoid=others)
            titles[i] = new or titles[i]
        return ChapterResult(_titled(chapters, titles), "local", warnings)

    def add_at(self, requester: Requester, job_id: str, rows: Sequence[Sequence], at: float) -> list[list]:
        """The table with a chapter starting at `at`: inside a chapter that splits it, the earlier part
        keeping its title and the new one titled from what is said there."""
        job = self.library.finished(requester, job_id)
        return table.add_at(rows, at, job.duration or 0.0, self.library.transcript(job), title_for_span)


def _titled(chapters: list[Chapter], titles: list[str]) -> list[Chapter]:
    return [Chapter(c.start, c.end, title) for c, title in zip(chapters, titles)]
