"""Accounts: scrypt password hashes, sign-in with throttling, sessions bound to accounts, the first admin."""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import ipaddress
import logging
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass

from ..config import Settings
from ..errors import ChaptanError
from ..storage.store import NotFoundError, Store, User

log = logging.getLogger(__name__)

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_KEY_BYTES = 32
# A name is a folder name on disk and in the bucket: no dots (".." or hidden files), nothing leading
# but a letter or digit.
MAX_NAME = 32
_NAME = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9_-]{{0,{MAX_NAME - 1}}}$")
MIN_PASSWORD = 8

# Throttling: the first lockout comes after FREE_FAILURES misses, then each further miss doubles it.
FREE_FAILURES = 5
# A whole address range (an IPv4 /24, an IPv6 /64: what one attacker easily holds) gets more misses
# before its lockout, since an office or a campus behind one range shares it.
RANGE_FREE_FAILURES = 20
IPV4_RANGE, IPV6_RANGE = 24, 64
FIRST_LOCKOUT = 30.0
MAX_LOCKOUT = 15 * 60.0
FORGET_AFTER = 60 * 60.0  # failures this old no longer count
# Self sign-up: a person makes an account or two, a script makes hundreds. After this many sign-ups
# (or names refused as taken, which probe for accounts) an address waits SIGNUP_WAIT, then twice
# that for each further one; a whole range gets more, as for sign-ins.
SIGNUPS_PER_ADDRESS = 3
SIGNUPS_PER_RANGE = 10
SIGNUP_WAIT = 10 * 60.0
MAX_EMAIL = 254
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
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
        raise ChaptanError("user name {name!r} is not allowed: use 1 to {limit} letters, digits, '-' or '_', "
                           "starting with a letter or digit", name=name, limit=MAX_NAME)


def validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ChaptanError("the password is too short: use at least {count} characters", count=MIN_PASSWORD)


def validate_email(email: str) -> None:
    """A plausible address (something@domain.tld); whether it receives mail is not checked."""
    if len(email) > MAX_EMAIL or not _EMAIL.match(email):
        raise ChaptanError("{email!r} does not look like an e-mail address", email=email)


class SignIn(enum.Enum):
    """How a sign-in went; true only when it let the person in."""

    OK = "ok"
    REFUSED = "refused"
    # The right password for an account that an administrator has not approved yet.
    PENDING = "pending"

    def __bool__(self) -> bool:
        return self is SignIn.OK


class SignUpThrottled(ChaptanError):
    """Too many sign-ups from the caller's address or range; `wait` is in seconds."""

    def __init__(self, wait: float) -> None:
        super().__init__("Too many sign-ups from your address: try again in {seconds} seconds.",
                         seconds=int(wait) + 1)
        self.wait = wait


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0
    locked_until: float = 0.0


def address_range(address: str) -> str:
    """The network an address belongs to for throttling ('' for what is not an IP address)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return ""
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = IPV4_RANGE if ip.version == 4 else IPV6_RANGE
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


class _Throttle:
    """Failure counters per key (a user name, a client address or range), kept in memory."""

    def __init__(self, clock: Callable[[], float], free_failures: int = FREE_FAILURES,
                 first_lockout: float = FIRST_LOCKOUT) -> None:
        self._clock = clock
        self._free = free_failures
        self._first = first_lockout
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
        if entry.count >= self._free:
            delay = min(self._first * 2 ** (entry.count - self._free), MAX_LOCKOUT)
            entry.locked_until = now + delay
        if len(self._entries) > _MAX_TRACKED:
            self._forget_old(now)

    def reset(self, key: str) -> None:
        self._entries.pop(key, None)

    def _forget_old(self, now: float) -> None:
        stale = [k for k, e in self._entries.items() if now - e.last > FORGET_AFTER and e.locked_until <= now]
        for key in stale:
            del self._entries[key]


@dataclass
class _Session:
    name: str
    user_id: str
    epoch: int
    last_seen: float


class Sessions(MutableMapping[str, str]):
    """Sign-in tokens -> user names, as Gradio keeps them (`app.tokens`), each bound to the account it
    was made for. A token stops working when that account is removed (a new account of the same name
    has another id), disabled or given a new password (its session epoch moved on), or after
    `idle_timeout` seconds without a request (0: never). The account is read from the Store on every
    look-up, so changes made by the `users` CLI in another process count at once."""

    def __init__(self, store: Store, idle_timeout: float = 0.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._idle = idle_timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._sessions: dict[str, _Session] = {}

    def __setitem__(self, token: str, name: str) -> None:
        user = self._store.get_user(name)
        if user is None:  # removed between its sign-in and now: the token is never valid
            return
        now = self._clock()
        with self._lock:
            if self._idle:
                self._sessions = {t: s for t, s in self._sessions.items() if now - s.last_seen <= self._idle}
            self._sessions[token] = _Session(user.name, user.id, user.session_epoch, now)

    def __getitem__(self, token: str) -> str:
        return self.session(token).name

    def __delitem__(self, token: str) -> None:
        with self._lock:
            del self._sessions[token]

    def __iter__(self) -> Iterator[str]:
        # Live tokens only: Gradio's sign-out reads every token it is given, and an ended one is gone.
        with self._lock:
            tokens = list(self._sessions)
        return iter([token for token in tokens if token in self])

    def __len__(self) -> int:
        return len(list(iter(self)))

    def session(self, token: str) -> _Session:
        """The live session of `token`, its last use now; KeyError (and the token forgotten) when the
        token is unknown or no longer valid."""
        with self._lock:
            session = self._sessions.get(token)
        if session is None:
            raise KeyError(token)
        now = self._clock()
        user = self._store.get_user(session.name)
        if ((self._idle and now - session.last_seen > self._idle) or user is None or user.disabled
                or user.id != session.user_id or user.session_epoch != session.epoch):
            with self._lock:
                self._sessions.pop(token, None)
            raise KeyError(token)
        session.last_seen = now
        return session


class Accounts:
    """User accounts over a Store. `authenticate` is what the login page calls; `sessions` is where
    the app keeps its sign-in tokens."""

    def __init__(self, store: Store, *, session_idle: float = 0.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._names = _Throttle(clock)
        self._clients = _Throttle(clock)
        self._ranges = _Throttle(clock, RANGE_FREE_FAILURES)
        self._signup_clients = _Throttle(clock, SIGNUPS_PER_ADDRESS, SIGNUP_WAIT)
        self._signup_ranges = _Throttle(clock, SIGNUPS_PER_RANGE, SIGNUP_WAIT)
        self.sessions = Sessions(store, session_idle, clock)

    def create(self, name: str, password: str, *, is_admin: bool = False, email: str = "",
               pending: bool = False) -> User:
        validate_name(name)
        validate_password(password)
        user = User(name=name, password_hash=hash_password(password), is_admin=is_admin, email=email.strip(),
                    id=uuid.uuid4().hex, pending=pending)
        self._store.add_user(user)
        note = " (admin)" if is_admin else " (awaiting approval)" if pending else ""
        log.info("created user %s%s", name, note)
        return user

    def authenticate(self, name: str, password: str, client: str = "") -> SignIn:
        """OK when the password is right and the account enabled and approved; refused outright while
        locked out. The right password of an account awaiting approval is PENDING, and no failure:
        it is no guess. It hashes for about 50 ms: the web app calls it from a thread pool, never its
        event loop."""
        if self.lockout_remaining(name, client) > 0:
            log.warning("sign-in refused for %r from %r: locked out after failed attempts", name, client)
            return SignIn.REFUSED
        user = self._store.get_user(name)
        right = verify_password(password, user.password_hash if user else _DUMMY_HASH)
        right = right and user is not None and not user.disabled
        if right and user.pending:
            log.info("sign-in of %r from %r refused: the account awaits approval", name, client)
            return SignIn.PENDING
        network = address_range(client)
        with self._lock:
            if right:
                self._names.reset(name)
            else:
                self._names.fail(name)
                if client:
                    self._clients.fail(client)
                if network:
                    self._ranges.fail(network)
        if not right:
            log.warning("failed sign-in for %r from %r", name, client)
        return SignIn.OK if right else SignIn.REFUSED

    def lockout_remaining(self, name: str, client: str = "") -> float:
        """Seconds until `name` (or `client`, or its address range) may try to sign in again; 0 when
        allowed now."""
        network = address_range(client)
        with self._lock:
            by_client = self._clients.remaining(client) if client else 0.0
            by_range = self._ranges.remaining(network) if network else 0.0
            return max(self._names.remaining(name), by_client, by_range)

    def check_sign_up(self, client: str) -> None:
        """Raise SignUpThrottled while `client` (or its address range) has made too many sign-ups."""
        network = address_range(client)
        with self._lock:
            wait = max(self._signup_clients.remaining(client) if client else 0.0,
                       self._signup_ranges.remaining(network) if network else 0.0)
        if wait > 0:
            log.warning("sign-up refused from %r: too many sign-ups", client)
            raise SignUpThrottled(wait)

    def count_sign_up(self, client: str) -> None:
        network = address_range(client)
        with self._lock:
            if client:
                self._signup_clients.fail(client)
            if network:
                self._signup_ranges.fail(network)

    def approve(self, name: str) -> None:
        """Let an account that awaits approval sign in."""
        self.get(name)
        self._store.update_user(name, pending=False)

    def set_password(self, name: str, password: str) -> None:
        """A new password ends every session of the user."""
        validate_password(password)
        user = self.get(name)
        self._store.update_user(name, password_hash=hash_password(password),
                                session_epoch=user.session_epoch + 1)
        with self._lock:
            self._names.reset(name)

    def set_email(self, name: str, email: str) -> None:
        self._store.update_user(name, email=email.strip())

    def set_disabled(self, name: str, disabled: bool) -> None:
        """Disabling ends every session of the user; enabling brings none of them back."""
        user = self.get(name)
        if disabled:
            self._keep_an_admin(name)
        self._store.update_user(name, disabled=disabled, session_epoch=user.session_epoch + int(disabled))

    def set_admin(self, name: str, is_admin: bool) -> None:
        if not is_admin:
            self._keep_an_admin(name)
        self._store.update_user(name, is_admin=is_admin)

    def remove(self, name: str) -> User:
        """The account only, which ends its sessions; `Administration.remove_user` removes its data."""
        user = self.get(name)
        self._keep_an_admin(name)
        self._store.remove_user(name)
        return user

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
            self._assign_missing_ids()
            return None
        password = settings.admin_password or secrets.token_urlsafe(12)
        self.create(settings.admin_user or "admin", password, is_admin=True)
        return None if settings.admin_password else password

    def _assign_missing_ids(self) -> None:
        """Accounts made before users had ids get one, so their sessions and files are bound too."""
        for user in self._store.list_users():
            if not user.id:
                self._store.update_user(user.name, id=uuid.uuid4().hex)

    def _keep_an_admin(self, name: str) -> None:
        """Refuse to lock everyone out of the admin page by removing the last enabled admin."""
        user = self.get(name)
        admins = [u for u in self._store.list_users() if u.is_admin and not u.disabled]
        if user.is_admin and not user.disabled and len(admins) == 1:
            raise ChaptanError("{name!r} is the only enabled admin: make another user admin first", name=name)
