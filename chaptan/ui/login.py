"""Gradio's login, backed by Chaptan's accounts, with throttling by user name and client address,
and Gradio's sign-in tokens kept in the accounts' `Sessions`, so they end with the account.

Gradio hands the auth callable only the name and password, so a small ASGI middleware records the
caller's address for the duration of the request. Behind reverse proxies that address comes from
X-Forwarded-For (see `client_address`), or every visitor would share the proxy's address and one
person's wrong passwords would lock everyone out. The login page's message is computed per request,
so a throttled visitor sees how long to wait when the page reloads, in the browser's language.
Checking a password costs about 50 ms of scrypt; it runs in a small thread pool, because on the
event loop a flood of sign-ins would stall every other visitor's requests.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar

import gradio as gr

from ..auth import Accounts
from .i18n import language_of_header, translate

_client_address: ContextVar[str] = ContextVar("chaptan_client_address", default="")
_accept_language: ContextVar[str] = ContextVar("chaptan_accept_language", default="")
# Enough to keep sign-ins quick for people, few enough that a flood leaves cores for everyone else.
SIGN_IN_THREADS = 2
_sign_in_pool = ThreadPoolExecutor(max_workers=SIGN_IN_THREADS, thread_name_prefix="chaptan-sign-in")


def _header(scope: dict, name: bytes) -> str:
    """An HTTP request's header `name` (lower case). Repeated header lines form one comma-separated
    list, in order (RFC 9110, 5.3)."""
    return ",".join(value.decode("latin-1") for key, value in scope.get("headers", ()) if key == name)


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
        token = _client_address.set(client_address(scope, self.trusted_proxies))
        language_token = _accept_language.set(_header(scope, b"accept-language"))
        try:
            await self.app(scope, receive, send)
        finally:
            _accept_language.reset(language_token)
            _client_address.reset(token)


def make_auth(accounts: Accounts):
    async def check(username: str, password: str) -> bool:
        client = _client_address.get()  # read here: the pool's threads do not see this context
        return await asyncio.get_running_loop().run_in_executor(
            _sign_in_pool, accounts.authenticate, username, password, client)
    return check


class ChaptanBlocks(gr.Blocks):
    """Blocks whose login message tells a throttled client how long to wait, and whose server keeps
    its sign-in tokens in the accounts' sessions."""

    accounts: Accounts | None = None

    @property
    def server_app(self):
        return self.__dict__.get("_server_app")

    @server_app.setter
    def server_app(self, app) -> None:
        # launch() makes the server app with a plain dict of tokens; a session must end with its account.
        if app is not None and self.accounts is not None:
            app.tokens = self.accounts.sessions
        self.__dict__["_server_app"] = app

    @property
    def auth_message(self) -> str | None:
        language = language_of_header(_accept_language.get())
        base = self.__dict__.get("_auth_message")
        base = translate(base, language) if base else base
        if self.accounts is None:
            return base
        wait = self.accounts.lockout_remaining("", client=_client_address.get())
        if wait <= 0:
            return base
        note = translate(f"Too many failed sign-ins from your address: try again in {int(wait) + 1} seconds.",
                         language)
        return (base or "") + f"<p style='color:#c33'>{note}</p>"

    @auth_message.setter
    def auth_message(self, value: str | None) -> None:
        self.__dict__["_auth_message"] = value
