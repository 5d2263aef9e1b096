"""Accounts: scrypt password hashes, sign-in with throttling, and the first admin."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .config import Settings
from .errors import ChaptanError
from .store import NotFoundError, Store, User

log = logging.getLogger(__name__)

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_KEY_BYTES = 32
_NAME = re.compile(r"^[A-Za-z0-9._-]{1,32}$")
MIN_PASSWORD = 8

# Throttling: the first lockout comes after FREE_FAILURES misses, then each further miss doubles it.
FREE_FAILURES = 5
FIRST_LOCKOUT = 30.0
MAX_LOCKOUT = 15 * 60.0
FORGET_AFTER = 60 * 60.0  # failures this old no longer count
_MAX_TRACKED = 10_000  # bound the memory an attacker can make us spend on made-up names


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    """'scrypt$n$r$p$salt_b64$hash_b64' with a fresh random salt."""
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=_KEY_BYTES)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, encoded: str) -> bool:
    """Constant-time check; False (never an exception) for a malformed hash."""
    try:
        scheme, n, r, p, salt_b64, key_b64 = encoded.split("$")
        if scheme != "scrypt":
            return False
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(key_b64)
        key = hashlib.scrypt(password.encode(), salt=salt, n=int(n), r=int(r), p=int(p), dklen=len(expected))
    except ValueError:
        return False
    return hmac.compare_digest(key, expected)


# Checked against when the user does not exist, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def validate_name(name: str) -> None:
    if not _NAME.match(name):
        raise ChaptanError("user name {name!r} is not allowed: use 1 to 32 letters, digits, '.', '_' or '-'",
                           name=name)


def validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ChaptanError("the password is too short: use at least {count} characters", count=MIN_PASSWORD)


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0
    locked_until: float = 0.0


class _Throttle:
    """Failure counters per key (a user name or a client address), kept in memory."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._entries: dict[str, _Failures] = {}

    def remaining(self, key: str) -> float:
        entry = self._entries.get(key)
        return max(0.0, entry.locked_until - self._clock()) if entry else 0.0

    def fail(self, key: str) -> None:
        now = self._clock()
        entry = self._entries.get(key)
        if entry is None or now - entry.last > FORGET_AFTER:
            entry = self._entries[key] = _Failures()
        entry.count += 1
        entry.last = now
        if entry.count >= FREE_FAILURES:
            delay = min(FIRST_LOCKOUT * 2 ** (entry.count - FREE_FAILURES), MAX_LOCKOUT)
            entry.locked_until = now + delay
        if len(self._entries) > _MAX_TRACKED:
            self._forget_old(now)

    def reset(self, key: str) -> None:
        self._entries.pop(key, None)

    def _forget_old(self, now: float) -> None:
        stale = [k for k, e in self._entries.items() if now - e.last > FORGET_AFTER and e.locked_until <= now]
        for key in stale:
            del self._entries[key]


class Accounts:
    """User accounts over a Store. `authenticate` is what the login page calls."""

    def __init__(self, store: Store, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._names = _Throttle(clock)
        self._clients = _Throttle(clock)

    def create(self, name: str, password: str, *, is_admin: bool = False, email: str = "") -> User:
        validate_name(name)
        validate_password(password)
        user = User(name=name, password_hash=hash_password(password), is_admin=is_admin, email=email.strip())
        self._store.add_user(user)
        log.info("created user %s%s", name, " (admin)" if is_admin else "")
        return user

    def authenticate(self, name: str, password: str, client: str = "") -> bool:
        """True when the password is right and the account enabled; refused outright while locked out."""
        if self.lockout_remaining(name, client) > 0:
            log.warning("sign-in refused for %r from %r: locked out after failed attempts", name, client)
            return False
        user = self._store.get_user(name)
        ok = verify_password(password, user.password_hash if user else _DUMMY_HASH)
        ok = ok and user is not None and not user.disabled
        with self._lock:
            if ok:
                self._names.reset(name)
            else:
                self._names.fail(name)
                if client:
                    self._clients.fail(client)
        if not ok:
            log.warning("failed sign-in for %r from %r", name, client)
        return ok

    def lockout_remaining(self, name: str, client: str = "") -> float:
        """Seconds until `name` (or `client`) may try to sign in again; 0 when allowed now."""
        with self._lock:
            by_client = self._clients.remaining(client) if client else 0.0
            return max(self._names.remaining(name), by_client)

    def set_password(self, name: str, password: str) -> None:
        validate_password(password)
        self._store.update_user(name, password_hash=hash_password(password))
        with self._lock:
            self._names.reset(name)

    def set_email(self, name: str, email: str) -> None:
        self._store.update_user(name, email=email.strip())

    def set_disabled(self, name: str, disabled: bool) -> None:
        if disabled:
            self._keep_an_admin(name)
        self._store.update_user(name, disabled=disabled)

    def set_admin(self, name: str, is_admin: bool) -> None:
        if not is_admin:
            self._keep_an_admin(name)
        self._store.update_user(name, is_admin=is_admin)

    def remove(self, name: str) -> None:
        self._keep_an_admin(name)
        self._store.remove_user(name)

    def list(self) -> list[User]:
        return self._store.list_users()

    def get(self, name: str) -> User:
        user = self._store.get_user(name)
        if user is None:
            raise NotFoundError("no user named {name!r}", name=name)
        return user

    def ensure_admin(self, settings: Settings) -> str | None:
        """On first start (no users at all) create the admin.

        Name and password come from settings (CHAPTAN_ADMIN_USER / CHAPTAN_ADMIN_PASSWORD), else
        'admin' with a random password, which is returned for the caller to show once.
        """
        if self._store.list_users():
            return None
        password = settings.admin_password or secrets.token_urlsafe(12)
        self.create(settings.admin_user or "admin", password, is_admin=True)
        return None if settings.admin_password else password

    def _keep_an_admin(self, name: str) -> None:
        """Refuse to lock everyone out of the admin page by removing the last enabled admin."""
        user = self.get(name)
        admins = [u for u in self._store.list_users() if u.is_admin and not u.disabled]
        if user.is_admin and not user.disabled and len(admins) == 1:
            raise ChaptanError("{name!r} is the only enabled admin: make another user admin first", name=name)
