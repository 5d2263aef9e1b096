"""Build every long-lived service of the app from Settings, once, in one place.

The UI receives a `Services` and never constructs backends itself, so tests can start the app on a
temporary data dir with the bundled models, and a Space or a GPU VM changes only the settings.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .accounts.administration import Administration
from .accounts.auth import Accounts
from .accounts.seats import SeatRoom
from .chat.assistant import Assistant
from .config import Settings
from .editing import Editing
from .exports import Exports
from .jobs.runner import JobRunner
from .mail import send_job_email
from .speech.transcribe import SpeechToText, WhisperTranscriber
from .speech.tts import VoiceRegistry
from .storage.artifacts import ArtifactStore, outbox_root
from .storage.store import Job, Store
from .videos import Processing, VideoLibrary

if TYPE_CHECKING:
    from .jobs.remote import RemoteWork
    from .storage.s3 import S3Mirror

log = logging.getLogger(__name__)
DB_FILE = "chaptan.json"
REMOTE_JOBS_IN_FLIGHT = 32  # jobs handed to Celery workers at once; the broker queues the rest


@dataclass
class Services:
    settings: Settings
    store: Store
    accounts: Accounts
    artifacts: ArtifactStore
    library: VideoLibrary
    editing: Editing
    transcriber: SpeechToText
    runner: JobRunner
    assistant: Assistant
    seats: SeatRoom
    administration: Administration
    exports: Exports
    mirror: S3Mirror | None = None

    def start(self) -> str | None:
        """Start the job workers (re-queuing jobs a crash left behind) and make sure an admin exists.
        Returns a generated admin password to print once, when one was made."""
        password = self.accounts.ensure_admin(self.settings)
        if self.mirror is not None:
            self.mirror.start()
        self.library.remove_orphan_folders()
        self.runner.start()
        self.library.resume_playback_copies()
        self.assistant.warm_up_voices()
        return password

    def stop(self) -> None:
        # A running job stops at its next progress report; loading a Whisper model reports nothing
        # for seconds, and a worker thread still inside CTranslate2 at exit aborts the process.
        self.runner.stop(timeout=15)
        if self.mirror is not None:
            self.mirror.stop(timeout=10)  # after the runner, so its last writes reach the bucket


def build_services(settings: Settings, transcriber: SpeechToText | None = None) -> Services:
    """Every service, sharing one speech-to-text model between the pipeline and the assistant."""
    data_dir = Path(settings.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    store, mirror = _open_store(settings, data_dir / DB_FILE)
    artifacts = ArtifactStore(data_dir, mirror)
    transcriber = transcriber or WhisperTranscriber(settings=settings)
    processing = Processing(settings, store, artifacts, transcriber)
    remote = _remote_work(settings, store, processing)
    runner = JobRunner(store, remote or processing.process, workers=_job_threads(settings),
                       on_finish=functools.partial(_mail_owner, settings, store))
    library = VideoLibrary(settings, store, artifacts, runner)
    assistant = Assistant(settings, store, library, transcriber, VoiceRegistry(settings.models_dir))
    seats = SeatRoom(settings.seats, settings.seat_idle_seconds)
    accounts = Accounts(store, session_idle=settings.session_idle)
    administration = Administration(store, accounts, artifacts, outbox_root())
    return Services(settings, store, accounts, artifacts, library, Editing(settings, store, library),
                    transcriber, runner, assistant, seats, administration, Exports(library), mirror)


def _mail_owner(settings: Settings, store: Store, job: Job) -> None:
    """Tell the owner of a finished job, when they gave an email address."""
    user = store.get_user(job.owner)
    if user is not None and user.email:
        send_job_email(settings, user.email, job)


def _remote_work(settings: Settings, store: Store, processing: Processing) -> RemoteWork | None:
    """With a broker, a job runner thread follows the job on a Celery worker instead of doing it."""
    if not settings.broker_url:
        return None
    from .jobs.remote import RemoteWork, make_celery  # celery loads only when a broker is configured

    return RemoteWork(make_celery(settings.broker_url), store, processing.record_result)


def _job_threads(settings: Settings) -> int:
    # With workers, a runner thread only follows a remote task, so many jobs can be in flight.
    return REMOTE_JOBS_IN_FLIGHT if settings.broker_url else settings.workers


def _open_store(settings: Settings, db_path: Path) -> tuple[Store, S3Mirror | None]:
    """The database, restored from the bucket first on a host that has none, and the bucket's mirror."""
    if not settings.s3_bucket:
        return Store(db_path), None
    from .storage.s3 import build_mirror, restore_database  # boto3 loads only when a bucket is configured

    restore_database(settings, db_path)
    store = Store(db_path)
    mirror = build_mirror(settings, store)
    if mirror is not None:
        store.on_change(mirror.schedule_snapshot)
    return store, mirror
