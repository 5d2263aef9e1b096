"""The video library: what the app and its API do with a user's videos, with no UI in it.

Every method takes the `Requester` and acts only on that user's own jobs (admins excepted); a job
someone else owns is reported exactly like one that does not exist, so ids cannot be probed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from .chapters import ChapterOptions, ChapterResult
from .chapters import formats as chapter_formats
from .config import GENERATORS, Settings
from .errors import ChaptanError, MediaError, quoted
from .exports import EXPORT_KEYS
from .jobs.runner import JobRunner
from .media import probe
from .playback import PLAYBACK_FILE, PlaybackCopies, needs_copy
from .storage.artifacts import ArtifactStore
from .storage.store import Job, JobStatus, NotFoundError, Store
from .transcript import Transcript

log = logging.getLogger(__name__)

TRANSCRIPT_FILE = "transcript.json"
SOURCE_PREFIX = "source"
# Gradio keeps an upload at <cache>/<hash of its bytes>/<name>, so the same file uploaded twice (two
# tabs, or a script running two generators at once) arrives as one path, and the first submission
# moves it away. Later submissions of that path copy the job file it became (whoever holds the path
# uploaded those very bytes); this many paths are recalled.
RECALLED_UPLOADS = 64
UPLOAD_LOCKS = 64  # one path always takes the same lock; two paths rarely share one
MAX_TITLE = 200
LANGUAGES = ("auto", "en", "ja", "zh", "ko", "es", "fr", "de", "it", "pt", "ru", "nl", "vi", "th", "id")


@dataclass(frozen=True)
class Requester:
    name: str
    is_admin: bool = False
    id: str = ""  # the account's id (see store.User.id)


class VideoNotFound(ChaptanError):
    """A video the caller named is not theirs, or does not exist: the two read the same."""


class VideoLibrary:
    def __init__(self, settings: Settings, store: Store, artifacts: ArtifactStore,
                 runner: JobRunner | None = None):
        self.settings = settings
        self.store = store
        self.artifacts = artifacts
        self.runner = runner
        self._taken: OrderedDict[Path, Path] = OrderedDict()  # upload path -> the job file it became
        self._recall = threading.Lock()  # guards _taken
        self._taking = [threading.Lock() for _ in range(UPLOAD_LOCKS)]
        self.playback = PlaybackCopies()
        self._quota = threading.Lock()  # one upload at a time is measured against the quota and kept

    def upload_lock(self, upload: Path) -> threading.Lock:
        """The lock a submission of `upload` holds while it finds and takes the file."""
        return self._taking[hash(upload) % UPLOAD_LOCKS]

    # --- jobs -----------------------------------------------------------------------------
    def submit(self, requester: Requester, upload: Path, *, title: str = "", language: str = "auto",
               generator: str = "auto", max_chapters: int = 0) -> Job:
        """Check the upload is usable media, keep it in the user's folder, queue the job."""
        upload = Path(upload)
        if language not in LANGUAGES and not (2 <= len(language) <= 3 and language.isalpha()):
            raise ChaptanError("unknown language {language}", language=quoted(language))
        if generator not in GENERATORS:
            raise ChaptanError("unknown generator {generator}; choose {choices} or {last}",
                               generator=quoted(generator), choices=", ".join(GENERATORS[:-1]),
                               last=GENERATORS[-1])
        if max_chapters and max_chapters < 3:
            raise ChaptanError("YouTube needs at least 3 chapters: max chapters must be 0 (no limit) or 3+")
        job_id = uuid.uuid4().hex[:12]
        suffix = upload.suffix.lower() if upload.suffix.lower().lstrip(".").isalnum() else ""
        source_name = f"{SOURCE_PREFIX}{suffix}"
        # One submission of a path at a time between finding the upload and taking it, so that two
        # cannot both find it and then race to move it. Other paths go on meanwhile: taking a big
        # upload to a data dir on another disk is a copy of gigabytes.
        with self.upload_lock(upload):
            with self._recall:
                taken = self._taken.get(upload)
            present = taken if not upload.exists() and taken is not None and taken.exists() else upload
            try:
                info = probe(present)
            except MediaError as exc:
                # The message names the server's temporary path; the person knows the file by its name.
                raise MediaError(exc.message.replaced(file=upload.name)) from None
            with self._quota if self.settings.user_quota else contextlib.nullcontext():
                self._check_quota(requester, present, upload)
                try:
                    stored = self.artifacts.put_file(requester.name, job_id, source_name, present,
                                                     move=present == upload)
                except OSError as exc:  # the data folder is full or read-only: leave no folder behind
                    self.artifacts.delete_job(requester.name, job_id)
                    raise ChaptanError("the server could not store this upload ({reason}); try again later",
                                       reason=exc.strerror or exc) from None
            with self._recall:
                self._taken[upload] = stored
                self._taken.move_to_end(upload)
                while len(self._taken) > RECALLED_UPLOADS:
                    self._taken.popitem(last=False)
        now = time.time()
        copy = needs_copy(self.settings.playback_copy, info, suffix)
        job = Job(id=job_id, owner=requester.name, title=(title or upload.stem)[:MAX_TITLE],
                  source_name=source_name, status=JobStatus.QUEUED, stage="queued", progress=0.0,
                  eta_seconds=None, error="", created=now, updated=now, started=None, finished=None,
                  language=language, generator=generator, max_chapters=int(max_chapters),
                  duration=info.duration, warnings=(), attempts=0, playback="making" if copy else "")
        try:
            self.store.add_job(job)
        except OSError as exc:
            self.artifacts.delete_job(requester.name, job_id)
            raise ChaptanError("the server could not save this video ({reason}); try again later",
                               reason=exc.strerror or exc) from None
        if self.runner is not None:
            self.runner.submit(job)
        if copy:
            self._make_playback_copy(job)
        return job

    def _check_quota(self, requester: Requester, present: Path, upload: Path) -> None:
        """Refuse an upload that would take the user past CHAPTAN_USER_QUOTA; the refused upload is
        deleted at once rather than kept in Gradio's folder for an hour."""
        quota = self.settings.user_quota
        if not quota:
            return
        used, size = self.artifacts.usage(requester.name), present.stat().st_size
        if used + size <= quota:
            return
        if present == upload:
            upload.unlink(missing_ok=True)
        raise ChaptanError("{file} ({size} MB) does not fit in your storage quota: {used} of {quota} MB "
                           "used; delete videos in My videos to make room", file=upload.name,
                           size=_megabytes(size), used=_megabytes(used), quota=_megabytes(quota))

    def resume_playback_copies(self) -> None:
        """Copies a previous process left half-made are made again (at start)."""
        for job in self.store.list_jobs():
            if job.playback == "making":
                self._make_playback_copy(job)

    def playback_progress(self, job: Job) -> float | None:
        """How far the playable copy is (0..1), while it is being made."""
        return self.playback.progress(job.id) if job.playback == "making" else None

    def player_file(self, job: Job) -> Path:
        """What the players show: the playable copy once it is made, else the upload itself."""
        if job.playback == "ready":
            try:
                return self.artifacts.path(job.owner, job.id, PLAYBACK_FILE)
            except ChaptanError:  # lost with the disk and not in the bucket: the upload still plays somewhere
                log.warning("job %s: its playable copy is missing; showing the upload", job.id)
        return self.source(job)

    def _make_playback_copy(self, job: Job) -> None:
        def done(error: str) -> None:
            try:
                self.store.update_job(job.id, playback="failed" if error else "ready")
            except NotFoundError:  # deleted meanwhile: the job folder is gone too
                return
            if not error:
                self.artifacts.mirror_file(job.owner, job.id, PLAYBACK_FILE)

        source = self.artifacts.local_path(job.owner, job.id, job.source_name)
        dest = self.artifacts.local_path(job.owner, job.id, PLAYBACK_FILE)
        self.playback.start(job.id, source, dest, job.duration or 0.0, done)

    def remove_orphan_folders(self) -> int:
        """Delete job folders that no job owns and that hold only unfinished writes (dot files): uploads
        a crash or a full disk interrupted before the job was saved (a `.source.mp4.partial`, say).
        A folder with a finished file is kept: it may be all that is left of a lost database."""
        known = {job.id for job in self.store.list_jobs()}
        orphans = [(owner, job_id) for owner, job_id in self.artifacts.job_folders()
                   if job_id not in known and all(p.name.startswith(".") for p in
                                                  self.artifacts.job_dir(owner, job_id).iterdir())]
        for owner, job_id in orphans:
            log.warning("removing the folder of %s's job %s, which no job owns", owner, job_id)
            self.artifacts.delete_job(owner, job_id)
        return len(orphans)

    def job(self, requester: Requester, job_id: str) -> Job:
        job = self.store.get_job(str(job_id).strip())
        if job is None or (job.owner != requester.name and not requester.is_admin):
            raise VideoNotFound("no video {job_id!r} in your library", job_id=str(job_id))
        return job

    def jobs(self, requester: Requester, everyone: bool = False) -> list[Job]:
        return self.store.list_jobs(None if (everyone and requester.is_admin) else requester.name)

    def retry(self, requester: Requester, job_id: str) -> Job:
        job = self.job(requester, job_id)
        if job.status != JobStatus.FAILED:
            raise ChaptanError("only a failed video can be retried")
        if self.runner is None:
            raise ChaptanError("no worker is running")
        return self.runner.retry(job.id)

    def rename(self, requester: Requester, job_id: str, title: str) -> Job:
        """Give the video a new title (what lists, pickers and download names show); any state."""
        job = self.job(requester, job_id)
        cleaned = " ".join(str(title or "").split())
        if not cleaned:
            raise ChaptanError("a video's title cannot be empty")
        if len(cleaned) > MAX_TITLE:
            raise ChaptanError("a video's title can have at most {limit} characters", limit=MAX_TITLE)
        return self.store.update_job(job.id, title=cleaned)

    def delete(self, requester: Requester, job_id: str) -> None:
        job = self.job(requester, job_id)
        if job.status == JobStatus.RUNNING:
            raise ChaptanError("this video is being processed; delete it when it has finished")
        self.store.delete_job(job.id)
        self.artifacts.delete_job(job.owner, job.id)

    # --- results --------------------------------------------------------------------------
    def source(self, job: Job) -> Path:
        """The job's uploaded file (fetched back from the mirror when only it has the file)."""
        return self.artifacts.path(job.owner, job.id, job.source_name)

    def transcript(self, job: Job) -> Transcript:
        return Transcript.load(self.artifacts.path(job.owner, job.id, TRANSCRIPT_FILE))

    def chapters(self, job: Job) -> ChapterResult:
        versions = self.store.list_chapter_versions(job.id)
        if not versions:
            raise ChaptanError("this video has no chapters yet")
        duration = job.duration or 0.0
        chapters = chapter_formats.chapters_from_dict({"chapters": versions[-1].chapters}, duration)
        # People's saves (LLM retitles included) edit what the pipeline wrote, so the generator is
        # the one named by the newest version the pipeline saved, not by whoever saved last.
        written_by = {_pipeline_author(g): g for g in GENERATORS if g != "auto"}
        generator = next((written_by[v.author] for v in reversed(versions) if v.author in written_by),
                         "local")
        return ChapterResult(chapters, generator, list(job.warnings))

    def summary(self, job: Job) -> dict:
        return {"job_id": job.id, "title": job.title, "owner": job.owner, "status": job.status.value,
                "stage": job.stage, "progress": round(job.progress, 3), "error": str(job.error),
                "duration": job.duration, "created": job.created, "language": job.language,
                "worker": job.worker, "playback": job.playback or "original",
                "playback_progress": self.playback_progress(job)}

    def details(self, requester: Requester, job_id: str) -> dict:
        job = self.job(requester, job_id)
        out = self.summary(job)
        out["warnings"] = list(job.warnings)
        done = job.status == JobStatus.DONE
        out["exports"] = list(EXPORT_KEYS) if done else []
        out["transcript"] = self.transcript(job).to_dict() if done else None
        out["chapters"] = [c.to_dict() for c in self.chapters(job).chapters] if done else []
        out["chapter_versions"] = [
            {"version": v.number, "created": v.created, "author": v.author, "chapters": v.chapters}
            for v in self.store.list_chapter_versions(job.id)]
        return out

    def finished(self, requester: Requester, job_id: str) -> Job:
        """The caller's video `job_id`, refused until it has finished processing."""
        job = self.job(requester, job_id)
        if job.status != JobStatus.DONE:
            raise ChaptanError("this video has not finished processing yet")
        return job


class Processing:
    """A job's work in the app's own process (transcribe, chapter, save), and the recording of any
    job's result, also one a Celery worker returned. Only the app writes the database."""

    def __init__(self, settings: Settings, store: Store, artifacts: ArtifactStore, transcriber):
        self.settings = settings
        self.store = store
        self.artifacts = artifacts
        self.transcriber = transcriber

    def process(self, job: Job, report) -> None:
        """The in-process job worker's work. Runs in a background thread."""
        source = self.artifacts.path(job.owner, job.id, job.source_name)
        self.record_result(job, transcribe_and_chapter(self.settings, self.artifacts, self.transcriber, job,
                                                       source, report))

    def record_result(self, job: Job, result: dict) -> None:
        """Save what a job's work returned: its first chapter version, its real duration and
        language, its warnings."""
        self.store.add_chapter_version(job.id, result["chapters"],
                                       author=_pipeline_author(result["generator"]), base_version=None)
        self.store.update_job(job.id, duration=result["duration"], warnings=tuple(result["warnings"]),
                              language=job.language if job.language != "auto" else
                              (result["language"] or "auto"))


def transcribe_and_chapter(settings: Settings, artifacts: ArtifactStore, transcriber, job: Job, source: Path,
                           report) -> dict:
    """Transcribe and chapter a job's upload and write its transcript into the artifact store: the
    work itself, the same in the app's process and on a Celery worker. Returns what
    `Processing.record_result` saves, as JSON-ready data (a worker's travels through the broker)."""
    from .pipeline import process_media

    transcript, result = process_media(
        source, settings=settings, language=job.language, generator=job.generator,
        options=ChapterOptions(max_chapters=job.max_chapters), progress=report, transcriber=transcriber,
        duration=job.duration or None)  # probed at upload; an unknown (0) one is probed again
    if not transcript.segments:
        raise ChaptanError("no speech was found in this video's audio, so there is nothing to chapter")
    report(0.99, "saving")
    artifacts.write_text(job.owner, job.id, TRANSCRIPT_FILE,
                         json.dumps(transcript.to_dict(), ensure_ascii=False))
    return {"chapters": [c.to_dict() for c in result.chapters], "generator": result.generator,
            "warnings": list(result.warnings), "duration": transcript.duration,
            "language": transcript.language}


def _pipeline_author(generator: str) -> str:
    """The author of a chapter version the pipeline saved; user names have no spaces, so no
    person's save (`name` or `name (note)`) can look like it."""
    return f"chaptan ({generator})"


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f}"
