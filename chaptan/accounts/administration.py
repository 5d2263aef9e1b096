"""Administration: what is done to accounts as a whole, the one place the Admin tab and the `users`
CLI both call. Removing a user removes everything of theirs (videos, job folders, transcripts,
served copies, voice memory, their objects in the bucket), so a new account that takes the name
starts empty; a new account also clears whatever an interrupted removal left under its name.
Self sign-up (CHAPTAN_SIGNUP) is here too, so the page that offers it obeys the same name rules.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..errors import ChaptanError
from ..storage.artifacts import ArtifactStore
from ..storage.store import MEMORY_TABLE, NotFoundError, Store, User
from .auth import Accounts, validate_email, validate_name, validate_password

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
        # Held from a name's check until its account exists, so two at once cannot both take a name.
        self._naming = threading.Lock()

    def create_user(self, name: str, password: str, *, is_admin: bool = False, email: str = "") -> User:
        with self._naming:
            self.check_new_name(name)
            validate_password(password)
            self._erase_data(name)
            return self.accounts.create(name, password, is_admin=is_admin, email=email)

    def check_new_name(self, name: str) -> None:
        """Refuse a name that breaks the rules, is taken, or differs from a taken one only in case:
        "Alice" beside "alice" would be two people nobody tells apart."""
        validate_name(name)
        clash = self._name_clash(name)
        if clash == name:
            raise ChaptanError("user {name!r} already exists", name=name)
        if clash is not None:
            raise ChaptanError("user {name!r} is too like the existing user {existing!r}: names may not "
                               "differ only in case", name=name, existing=clash)

    def sign_up(self, name: str, password: str, email: str, *, mode: str, client: str = "") -> User:
        """A person's own account, never an administrator: with mode "approval" it awaits an
        administrator's approval before it can sign in, with "open" it can at once. Sign-ups from
        one address or range are throttled (SignUpThrottled); so are names refused as taken, which
        would otherwise let a script list the accounts."""
        if mode not in ("approval", "open"):
            raise ChaptanError("sign-up is off on this server")
        self.accounts.check_sign_up(client)
        validate_name(name)
        validate_password(password)
        email = email.strip()
        validate_email(email)
        with self._naming:
            if self._name_clash(name) is not None:
                self.accounts.count_sign_up(client)
                log.warning("sign-up from %r refused: the name %r is taken", client, name)
                raise ChaptanError("the name {name!r} is taken: choose another", name=name)
            self._erase_data(name)
            user = self.accounts.create(name, password, email=email, pending=mode == "approval")
        self.accounts.count_sign_up(client)
        log.info("user %s signed up from %r%s", name, client, ", awaiting approval" if user.pending else "")
        return user

    def approve_user(self, name: str) -> None:
        """Let an account that signed up sign in."""
        if not self.accounts.get(name).pending:
            raise ChaptanError("{name!r} is not awaiting approval", name=name)
        self.accounts.approve(name)
        log.info("approved user %s", name)

    def reject_user(self, name: str) -> None:
        """Remove an account that signed up and awaits approval (an approved one goes by remove_user)."""
        if not self.accounts.get(name).pending:
            raise ChaptanError("{name!r} is not awaiting approval", name=name)
        self.remove_user(name)
        log.info("rejected the sign-up of %s", name)

    def _name_clash(self, name: str) -> str | None:
        """The existing name equal to `name` ignoring case, if any."""
        folded = name.casefold()
        return next((user.name for user in self.store.list_users() if user.name.casefold() == folded), None)

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
