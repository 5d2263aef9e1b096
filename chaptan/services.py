"""Build every long-lived service of the app from Settings, once, in one place.

The UI receives a `Services` and never constructs backends itself, so tests can start the app on a
temporary data dir with the bundled models, and a Space or a GPU VM changes only the settings.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from .auth import Accounts
from .config import Settings
from .jobs import JobRunner
from .mail import send_job_email
from .storage import ArtifactStore
from .store import Job, Store
from .videos import VideoLibrary

log = logging.getLogger(__name__)
DB_FILE = "chaptan.json"


@dataclass
class Services:
    settings: Settings
    store: Store
    accounts: Accounts
    artifacts: ArtifactStore
    library: VideoLibrary
    runner: JobRunner

    def start(self) -> str | None:
        """Start the job workers (re-queuing jobs a crash left behind) and make sure an admin exists.
        Returns a generated admin password to print once, when one was made."""
        password = self.accounts.ensure_admin(self.settings)
        self.runner.start()
        return password

    def stop(self) -> None:
        self.runner.stop(timeout=5)

    def _job_finished(self, job: Job) -> None:
        user = self.store.get_user(job.owner)
        if user is not None and user.email:
            send_job_email(self.settings, user.email, job)


def build_services(settings: Settings, transcriber=None) -> Services:
    data_dir = Path(settings.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(data_dir / DB_FILE)
    artifacts = ArtifactStore(data_dir)
    library = VideoLibrary(settings, store, artifacts, transcriber=transcriber)
    services: Services
    runner = JobRunner(store, library.process, workers=settings.workers,
                       on_finish=lambda job: services._job_finished(job))
    library.runner = runner
    services = Services(settings, store, Accounts(store), artifacts, library, runner)
    return services
