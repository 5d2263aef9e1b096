"""Administration: what is done to accounts as a whole, the one place the Admin tab and the `users`
CLI both call. Removing a user removes everything of theirs (videos, job folders, transcripts,
served copies, voice memory, their objects in the bucket), so a new account that takes the name
starts empty; a new account also clears whatever an interrupted removal left under its name.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .auth import Accounts, validate_name, validate_password
from .errors import ChaptanError
from .storage import ArtifactStore
from .store import MEMORY_TABLE, NotFoundError, Store, User

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UserUsage:
    """An account with what it holds: its videos and the bytes of its files in the data folder."""

    user: User
    videos: int
    bytes: int


class Administration:
    def __init__(self, store: Store, accounts: Accounts, artifacts: ArtifactStore, outbox: Path):
        self.store = store
        self.accounts = accounts
        self.artifacts = artifacts
        self.outbox = outbox

    def create_user(self, name: str, password: str, *, is_admin: bool = False, email: str = "") -> User:
        validate_name(name)
        if self.store.get_user(name) is not None:
            raise ChaptanError("user {name!r} already exists", name=name)
        validate_password(password)
        self._erase_data(name)
        return self.accounts.create(name, password, is_admin=is_admin, email=email)

    def remove_user(self, name: str) -> UserUsage:
        """Remove the account (its sessions end with it), then all its data; returns what it held.
        A video being processed is cancelled at its next progress report."""
        held = self.usage_of(self.accounts.get(name))
        user = self.accounts.remove(name)
        self._erase_data(name)
        if user.id:
            shutil.rmtree(self.outbox / user.id, ignore_errors=True)
        log.info("removed user %s with %d video(s) and %d bytes of files", name, held.videos, held.bytes)
        return held

    def set_admin(self, name: str, is_admin: bool) -> None:
        """Grant or revoke the administrator role; the last enabled admin keeps it."""
        self.accounts.set_admin(name, is_admin)

    def usage(self) -> list[UserUsage]:
        """Every account by name, with its videos and disk use."""
        videos = Counter(job.owner for job in self.store.list_jobs(None))
        return [UserUsage(user, videos[user.name], self.artifacts.usage(user.name))
                for user in self.accounts.list()]

    def usage_of(self, user: User) -> UserUsage:
        return UserUsage(user, len(self.store.list_jobs(user.name)), self.artifacts.usage(user.name))

    def _erase_data(self, name: str) -> None:
        for job in self.store.list_jobs(name):
            with contextlib.suppress(NotFoundError):  # deleted meanwhile, by its owner or a worker
                self.store.delete_job(job.id)
        self.store.delete_doc(MEMORY_TABLE, name)
        self.artifacts.delete_user(name)
