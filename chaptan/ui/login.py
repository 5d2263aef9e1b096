"""Gradio's login, backed by Chaptan's accounts, with throttling by user name and client address.

Gradio hands the auth callable only the name and password, so a small ASGI middleware records the
caller's address for the duration of the request. The login page's message is computed per
request, so a throttled visitor sees how long to wait when the page reloads.
"""

from __future__ import annotations

from contextvars import ContextVar

import gradio as gr

from ..auth import Accounts

_client_address: ContextVar[str] = ContextVar("chaptan_client_address", default="")

LOGIN_MESSAGE = ("<b>Chaptan</b> · チャプたん: sign in to chapter your videos. "
                 "After 5 failed attempts, signing in is paused for a while, longer each time.")


class ClientAddressMiddleware:
    """Pure ASGI (not BaseHTTPMiddleware), so the context variable reaches the route handlers."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        token = _client_address.set(client[0] if client else "")
        try:
            await self.app(scope, receive, send)
        finally:
            _client_address.reset(token)


def make_auth(accounts: Accounts):
    def check(username: str, password: str) -> bool:
        return accounts.authenticate(username, password, client=_client_address.get())
    return check


class ChaptanBlocks(gr.Blocks):
    """Blocks whose login message tells a throttled client how long to wait."""

    accounts: Accounts | None = None

    @property
    def auth_message(self) -> str | None:
        base = self.__dict__.get("_auth_message")
        if self.accounts is None:
            return base
        wait = self.accounts.lockout_remaining("", client=_client_address.get())
        if wait <= 0:
            return base
        note = (f"<p style='color:#c33'>Too many failed sign-ins from your address: "
                f"try again in {int(wait) + 1} seconds.</p>")
        return (base or "") + note

    @auth_message.setter
    def auth_message(self, value: str | None) -> None:
        self.__dict__["_auth_message"] = value
