"""The self sign-up page (CHAPTAN_SIGNUP=approval or open): a small server-rendered form at /signup.

Gradio's login page runs no script of ours, so sign-up is a page of its own, added to Gradio's
FastAPI app when the server app is made (`ChaptanBlocks.server_app`); no route of Gradio's takes
/signup. Its links are relative, so it works under any root path. The rules (names, passwords,
e-mail, throttling, approval) are Administration.sign_up's; this page only shows them.

A browser (it sends Sec-Fetch-Mode) gets HTML in its own language; a script gets JSON in English,
as the API speaks. A form post from another site is refused (its Origin or Sec-Fetch-Site says so),
so no page elsewhere can make accounts in a visitor's name.
"""

from __future__ import annotations

import asyncio
import functools
import html
import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from ..accounts.administration import Administration
from ..accounts.auth import MAX_NAME, MIN_PASSWORD, SignUpThrottled
from ..errors import ChaptanError
from ..messages import Message
from .i18n import language_of_header, translate
from .login import client_address, sign_in_pool

log = logging.getLogger(__name__)

PATH = "/signup"
# The page's fixed texts (a dict of texts, so tests/test_messages.py finds each one's translations).
TEXTS = {"title": "Create an account",
         "approval": "An administrator approves new accounts before they can sign in.",
         "username": "User name", "email": "E-mail", "submit": "Create account", "back": "Back to sign-in"}
PASSWORD_LABEL = "Password ({count}+ characters)"
CREATED_PENDING = ("Your account {name} is created. An administrator must approve it before you can "
                   "sign in.")
CREATED_OPEN = "Your account {name} is created: you can sign in now."
CROSS_SITE = "This form can only be sent from this site's own sign-up page."
STYLE = ("body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem}"
         "label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.4rem;box-sizing:border-box}"
         "button{margin-top:1rem;padding:.5rem 1rem}.error{color:#c33}")


def signup_route(administration: Administration, mode: str,
                 trusted_proxies: int) -> Callable[[FastAPI], None]:
    """What adds GET and POST /signup to the server app, for `ChaptanBlocks.signup`."""

    async def form(request: Request) -> Response:
        return _page(_language(request), mode)

    async def sign_up(request: Request) -> Response:
        browser = bool(request.headers.get("sec-fetch-mode"))
        language = _language(request) if browser else "en"
        if browser and not _same_site(request):
            log.warning("sign-up refused: a form post from another site (%s)", request.headers.get("origin"))
            return _page(language, mode, error=translate(CROSS_SITE, language), status=403)
        fields = await request.form()
        # Only these three are read: whatever else a form sends (an "admin" field) has no say.
        name, password, email = (str(fields.get(key) or "") for key in ("username", "password", "email"))
        name = name.strip()
        client = client_address(request.scope, trusted_proxies)
        try:
            user = await asyncio.get_running_loop().run_in_executor(
                sign_in_pool, functools.partial(administration.sign_up, name, password, email, mode=mode,
                                                 client=client))
        except ChaptanError as exc:
            status, headers = 400, {}
            if isinstance(exc, SignUpThrottled):
                status, headers = 429, {"Retry-After": str(int(exc.wait) + 1)}
            if not browser:
                return JSONResponse({"success": False, "detail": exc.message}, status, headers)
            return _page(language, mode, error=translate(exc.message, language), name=name, email=email,
                         status=status, headers=headers)
        done = Message(CREATED_PENDING if user.pending else CREATED_OPEN, name=user.name)
        if not browser:
            return JSONResponse({"success": True, "name": user.name, "pending": user.pending, "detail": done})
        return _done(language, translate(done, language))

    def attach(app: FastAPI) -> None:
        app.add_api_route(PATH, form, methods=["GET"], response_class=HTMLResponse, include_in_schema=False)
        app.add_api_route(PATH, sign_up, methods=["POST"], include_in_schema=False)

    return attach


def _language(request: Request) -> str:
    return language_of_header(request.headers.get("accept-language", ""))


def _same_site(request: Request) -> bool:
    """Whether a browser's post comes from a page of this site (its Origin is this host)."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("x-forwarded-host") or request.headers.get("host", "")
    return urlsplit(origin).netloc.lower() == host.split(",")[0].strip().lower()


def _text(key: str, language: str) -> str:
    return html.escape(translate(TEXTS[key], language))


def _document(language: str, body: str, status: int = 200, headers: dict | None = None) -> HTMLResponse:
    title = _text("title", language)
    return HTMLResponse(f"<!doctype html><html lang='{language}'><head><meta charset='utf-8'>"
                        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
                        f"<title>{title} · Chaptan</title><style>{STYLE}</style></head>"
                        f"<body><h1>{title}</h1>{body}"
                        f"<p><a href='./'>{_text('back', language)}</a></p></body></html>",
                        status, headers)


def _page(language: str, mode: str, *, error: str = "", name: str = "", email: str = "", status: int = 200,
          headers: dict | None = None) -> HTMLResponse:
    """The form; after a refusal with the reason and what was typed, but the password."""
    note = f"<p>{_text('approval', language)}</p>" if mode == "approval" else ""
    problem = f"<p class='error' role='alert'>{html.escape(error)}</p>" if error else ""
    password_label = html.escape(translate(Message(PASSWORD_LABEL, count=MIN_PASSWORD), language))
    body = (f"{note}{problem}<form method='post' action='signup'>"
            f"<label for='username'>{_text('username', language)}</label>"
            f"<input id='username' name='username' required maxlength='{MAX_NAME}' autocomplete='username' "
            f"value='{html.escape(name)}'>"
            f"<label for='password'>{password_label}</label>"
            f"<input id='password' name='password' type='password' required minlength='{MIN_PASSWORD}' "
            "autocomplete='new-password'>"
            f"<label for='email'>{_text('email', language)}</label>"
            f"<input id='email' name='email' type='email' required autocomplete='email' "
            f"value='{html.escape(email)}'>"
            f"<button type='submit'>{_text('submit', language)}</button></form>")
    return _document(language, body, status, headers)


def _done(language: str, message: str) -> HTMLResponse:
    return _document(language, f"<p role='status'>{html.escape(message)}</p>")
