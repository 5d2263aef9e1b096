"""Gradio's login, backed by Chaptan's accounts, with throttling by user name and client address,
and Gradio's sign-in tokens kept in the accounts' `Sessions`, so they end with the account.

Gradio hands the auth callable only the name and password, so a small ASGI middleware records the
caller's address for the duration of the request. Behind reverse proxies that address comes from
X-Forwarded-For (see `client_address`), or every visitor would share the proxy's address and one
person's wrong passwords would lock everyone out. The login page's message is computed per request,
so a throttled visitor sees how long to wait, in the browser's language.

Gradio's login form says "Incorrect credentials" for any refusal (HTTP 400) and reloads the page on
success (200), and the login page runs no script of ours. So a browser's sign-in refused for a
lockout is answered 200 without a session: the form reloads the page at once, and the page's message
says how long to wait (a short cookie carries the name, for a lockout of the name alone). The right
password of an account that signed up and awaits approval is answered the same way, and the page
says the account awaits an administrator. Scripts, which send no Sec-Fetch-Mode header, keep the 400
with the reason in its detail. With self sign-up on, the message links to the sign-up page.

Checking a password costs about 50 ms of scrypt; it runs in a small thread pool, because on the
event loop a flood of sign-ins would stall every other visitor's requests.
"""

from __future__ import annotations

import asyncio
import html
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from urllib.parse import quote, unquote

import gradio as gr
from fastapi import FastAPI

from ..accounts.auth import Accounts, SignIn
from ..messages import Message
from .i18n import language_of_header, translate

_client_address: ContextVar[str] = ContextVar("chaptan_client_address", default="")
_accept_language: ContextVar[str] = ContextVar("chaptan_accept_language", default="")
# The name a refused browser sign-in was for, read back from LOCKED_COOKIE by the page it reloads;
# the same for an account awaiting approval, from PENDING_COOKIE.
_locked_name: ContextVar[str] = ContextVar("chaptan_locked_name", default="")
_pending_name: ContextVar[str] = ContextVar("chaptan_pending_name", default="")
# Filled by the auth callable when a sign-in is refused while locked out ({"name": ..., "wait": s})
# or for an account awaiting approval ({"name": ..., "pending": True}). A dict set per request,
# since the route may run the callable in a copy of the request's context.
_refusal: ContextVar[dict | None] = ContextVar("chaptan_refusal", default=None)
LOCKED_COOKIE = "chaptan-locked-name"
PENDING_COOKIE = "chaptan-pending-name"
PENDING_NOTE_SECONDS = 60  # long enough for the reload that shows it
CLIENT_WAIT = "Too many failed sign-ins from your address: try again in {seconds} seconds."
NAME_WAIT = "Too many failed sign-ins for {name}: try again in {seconds} seconds."
PENDING = "The account {name} awaits an administrator's approval: you can sign in once it is approved."
SIGNUP_LINK = "Create an account"
# Enough to keep sign-ins quick for people, few enough that a flood leaves cores for everyone else;
# sign-ups hash their new passwords here too.
SIGN_IN_THREADS = 2
sign_in_pool = ThreadPoolExecutor(max_workers=SIGN_IN_THREADS, thread_name_prefix="chaptan-sign-in")


def _header(scope: dict, name: bytes) -> str:
    """An HTTP request's header `name` (lower case). Repeated header lines form one comma-separated
    list, in order (RFC 9110, 5.3)."""
    return ",".join(value.decode("latin-1") for key, value in scope.get("headers", ()) if key == name)


def _cookie(scope: dict, name: str) -> str:
    for part in _header(scope, b"cookie").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return unquote(value)
    return ""


def client_address(scope: dict, trusted_proxies: int) -> str:
    """The address to throttle an HTTP request's sign-ins by.

    Each proxy appends the address it received the request from to X-Forwarded-For, so with
    `trusted_proxies` proxies in front, the entry that many places from the right is the one the
    outermost trusted proxy saw; entries left of it were sent by the client and may be forged. With
    no trusted proxies, or a header shorter than that (the request did not pass them all), it is the
    peer in scope["client"]: the TCP peer, unless uvicorn already replaced it, which it does from
    X-Forwarded-For for loopback peers (its FORWARDED_ALLOW_IPS).
    """
    if trusted_proxies > 0:
        entries = _header(scope, b"x-forwarded-for").split(",")
        forwarded = [entry.strip() for entry in entries if entry.strip()]
        if len(forwarded) >= trusted_proxies:
            return forwarded[-trusted_proxies]
    peer = scope.get("client")
    return peer[0] if peer else ""


class ClientAddressMiddleware:
    """Records the caller's address and Accept-Language for the request. Pure ASGI (not
    BaseHTTPMiddleware), so the context variables reach the route handlers."""

    def __init__(self, app, trusted_proxies: int = 0):
        self.app = app
        self.trusted_proxies = trusted_proxies

    async def __call__(self, scope, receive, send):
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        tokens = [(_client_address, _client_address.set(client_address(scope, self.trusted_proxies))),
                  (_accept_language, _accept_language.set(_header(scope, b"accept-language"))),
                  (_locked_name, _locked_name.set(_cookie(scope, LOCKED_COOKIE))),
                  (_pending_name, _pending_name.set(_cookie(scope, PENDING_COOKIE))),
                  (_refusal, _refusal.set(refusal := {}))]
        try:
            if scope.get("method") == "POST" and scope.get("path", "").endswith("/login"):
                send = self._refusal_reply(scope, send, refusal)
            await self.app(scope, receive, send)
        finally:
            for var, token in reversed(tokens):
                var.reset(token)

    @staticmethod
    def _refusal_reply(scope: dict, send, refusal: dict):
        """`send`, but a 400 for a sign-in refused while locked out or awaiting approval (`refusal`
        filled in by the auth callable) becomes the reply that says so."""
        browser = bool(_header(scope, b"sec-fetch-mode"))
        replaced = False

        async def replying(message):
            nonlocal replaced
            if message["type"] == "http.response.start" and message["status"] == 400 and refusal:
                replaced = True
                language = language_of_header(_header(scope, b"accept-language"))
                if refusal.get("pending"):
                    note = translate(Message(PENDING, name=refusal["name"]), language)
                    cookie, seconds = PENDING_COOKIE, PENDING_NOTE_SECONDS
                else:
                    note = lockout_note(refusal["name"], refusal["wait"], language)
                    cookie, seconds = LOCKED_COOKIE, int(refusal["wait"]) + 1
                body = json.dumps({"success": False, "detail": note}).encode()
                headers = [(b"content-type", b"application/json"),
                           (b"content-length", str(len(body)).encode())]
                if browser:
                    cookie = (f"{cookie}={quote(refusal['name'])}; "
                              f"Max-Age={seconds}; Path=/; HttpOnly; SameSite=Lax")
                    headers.append((b"set-cookie", cookie.encode()))
                await send({"type": "http.response.start", "status": 200 if browser else 400,
                            "headers": headers})
                await send({"type": "http.response.body", "body": body})
            elif not replaced:
                await send(message)
        return replying


def lockout_note(name: str, wait: float, language: str) -> str:
    """How long a refused sign-in must wait, in `language`; by address when the address is locked."""
    seconds = int(wait) + 1
    if not name:
        return translate(Message(CLIENT_WAIT, seconds=seconds), language)
    return translate(Message(NAME_WAIT, name=name, seconds=seconds), language)


def make_auth(accounts: Accounts):
    async def check(username: str, password: str) -> bool:
        client = _client_address.get()  # read here: the pool's threads do not see this context
        outcome = await asyncio.get_running_loop().run_in_executor(
            sign_in_pool, accounts.authenticate, username, password, client)
        if outcome is SignIn.OK:
            return True
        refusal = _refusal.get()
        if outcome is SignIn.PENDING:
            if refusal is not None:
                refusal.update(name=username, pending=True)
            return False
        by_client = accounts.lockout_remaining("", client=client) if client else 0.0
        by_name = accounts.lockout_remaining(username)
        if refusal is not None and max(by_client, by_name) > 0:
            # The address's lockout covers every name, so it is the one to report when both hold.
            refusal.update(name="" if by_client >= by_name else username, wait=max(by_client, by_name))
        return False
    return check


class ChaptanBlocks(gr.Blocks):
    """Blocks whose login message tells a throttled client how long to wait, and whose server keeps
    its sign-in tokens in the accounts' sessions and serves the sign-up page when there is one."""

    accounts: Accounts | None = None
    # Adds the sign-up page's route to the server app (chaptan.ui.signup); None: sign-up is off.
    signup: Callable[[FastAPI], None] | None = None

    @property
    def server_app(self):
        return self.__dict__.get("_server_app")

    @server_app.setter
    def server_app(self, app) -> None:
        # launch() makes the server app with a plain dict of tokens; a session must end with its account.
        if app is not None and self.accounts is not None:
            app.tokens = self.accounts.sessions
        if app is not None and self.signup is not None:
            self.signup(app)
        self.__dict__["_server_app"] = app

    @property
    def auth_message(self) -> str | None:
        language = language_of_header(_accept_language.get())
        base = self.__dict__.get("_auth_message")
        base = translate(base, language) if base else base
        if self.signup is not None:
            # Relative, so it reaches the sign-up page beside the login page under any root path.
            link = html.escape(translate(SIGNUP_LINK, language))
            base = (base or "") + f"<p><a href='signup'>{link}</a></p>"
        if self.accounts is None:
            return base
        notes = []
        if pending := _pending_name.get():
            notes.append(translate(Message(PENDING, name=pending), language))
        client = _client_address.get()
        by_client = self.accounts.lockout_remaining("", client=client) if client else 0.0
        name = _locked_name.get()
        by_name = self.accounts.lockout_remaining(name) if name else 0.0
        if (wait := max(by_client, by_name)) > 0:
            notes.append(lockout_note("" if by_client >= by_name else name, wait, language))
        return (base or "") + "".join(f"<p style='color:#c33'>{html.escape(note)}</p>" for note in notes)

    @auth_message.setter
    def auth_message(self, value: str | None) -> None:
        self.__dict__["_auth_message"] = value
