"""The Gradio app, built from services by a factory so tests and app.py launch the same thing."""

from __future__ import annotations

import contextlib

import gradio as gr
from starlette.middleware import Middleware

from ..media import ensure_ffmpeg_on_path
from ..messages import Message
from ..services import Services
from ..storage.artifacts import outbox_root
from ..storage.store import JobStatus
from .admin import build_admin_tab
from .api import build_api
from .common import OwnFilesMiddleware, requester, user_errors
from .editor import build_editor_tab
from .i18n import HEADER, I18N, LOGIN_MESSAGE, NO_FINISHED_VIDEO, localized, t
from .library import build_library_tab
from .login import ChaptanBlocks, ClientAddressMiddleware, make_auth
from .results import CSS
from .signup import signup_route
from .timeline import CSS as TIMELINE_CSS
from .timeline import TIMELINE_JS
from .upload import build_upload_tab
from .voice import SEEK_JS, build_voice_tab

# Work that loads a CPU/GPU for long (remuxing, waiting on the job workers) is grouped so its
# limits are explicit; Gradio gives a shared concurrency_id the lowest limit of its events.
HEAVY_ID = "heavy"
SUBMIT_ID = "submit"
SUBMIT_LIMIT = 16
CACHE_SWEEP = (1800, 3600)  # Gradio's served copies are deleted an hour after they were made
# How often an open page checks whether the caller's videos changed (one listing of the jobs table):
# a video that finishes, fails or goes away shows in every list within this many seconds.
LISTS_POLL_SECONDS = 3.0


def build_app(services: Services) -> gr.Blocks:
    ensure_ffmpeg_on_path()  # Gradio's streaming audio output calls `ffmpeg` by name
    heavy = {"id": HEAVY_ID, "limit": max(1, services.settings.workers)}
    submit = {"id": SUBMIT_ID, "limit": SUBMIT_LIMIT}
    with ChaptanBlocks(title="Chaptan", delete_cache=CACHE_SWEEP) as demo:
        demo.accounts = services.accounts
        settings = services.settings
        if settings.signup != "off":
            demo.signup = signup_route(services.administration, settings.signup, settings.trusted_proxies)
        with gr.Row():
            gr.Markdown(t(HEADER))
            who = gr.Markdown(elem_id="chaptan-user")
            gr.Button(t("Log out"), link="/logout", size="sm", scale=0, min_width=100)
        videos_changed = watch_videos(services)
        with gr.Tabs():
            with gr.Tab(t("Upload & chapter")) as upload_tab:
                build_upload_tab(demo, services, heavy)
            with gr.Tab(t("My videos")) as library_tab:
                build_library_tab(demo, services, heavy, videos_changed)
            with gr.Tab(t("Chapter editor")) as editor_tab:
                with until_a_video_is_done(demo, services, videos_changed):
                    build_editor_tab(demo, services, heavy, videos_changed)
            with gr.Tab(t("Talk to Chaptan")) as voice_tab:
                wire_seat = build_voice_tab(demo, services, videos_changed)
            admin_tab = build_admin_tab(demo, services)
        wire_seat(voice_tab, [upload_tab, library_tab, editor_tab, admin_tab])
        build_api(services, heavy, submit)

        @user_errors
        def greet(request: gr.Request) -> str:
            if not (request and request.username):
                return ""
            return localized(Message("Signed in as **{user}**", user=request.username), request)

        demo.load(greet, None, [who], api_visibility="private")
    demo.queue(api_open=False, default_concurrency_limit=8)
    return demo


def watch_videos(services: Services) -> gr.State:
    """A value that changes when the caller's videos do (one added, finished, failed, renamed or
    deleted; every user's for admins), so the tabs' lists can refresh on its .change instead of on a
    Refresh click."""
    seen = gr.State("")
    timer = gr.Timer(LISTS_POLL_SECONDS)

    @user_errors
    def check(previous: str, request: gr.Request):
        req = requester(services, request)
        jobs = services.library.jobs(req, everyone=req.is_admin)
        current = "|".join(f"{j.id}:{j.status}:{j.title}" for j in jobs)
        return gr.skip() if current == previous else current

    timer.tick(check, [seen], [seen], api_visibility="private", show_progress="hidden")
    return seen


@contextlib.contextmanager
def until_a_video_is_done(demo: gr.Blocks, services: Services, videos_changed: gr.State):
    """What is built inside shows once the caller has a finished video; until then, a note that says
    how to get one takes its place (rather than an empty player and empty boxes)."""
    note = gr.Markdown(t(NO_FINISHED_VIDEO), visible=False, elem_classes=["chaptan-empty"])
    with gr.Column(visible=False) as body:
        yield

    @user_errors
    def toggle(request: gr.Request):
        req = requester(services, request)
        done = any(j.status == JobStatus.DONE for j in services.library.jobs(req))
        return gr.Markdown(visible=not done), gr.Column(visible=done)

    demo.load(toggle, None, [note, body], api_visibility="private")
    videos_changed.change(toggle, None, [note, body], api_visibility="private", show_progress="hidden")


def launch_options(services: Services) -> dict:
    """Keyword arguments for `demo.launch` that every deployment needs."""
    return {
        "auth": make_auth(services.accounts),
        "auth_message": LOGIN_MESSAGE,
        "max_file_size": services.settings.max_upload,
        "footer_links": ["api", "settings"],
        "i18n": I18N,
        "css": CSS + TIMELINE_CSS,
        "head": SEEK_JS + TIMELINE_JS,
        "theme": gr.themes.Soft(),
        "app_kwargs": {"middleware": [
            Middleware(ClientAddressMiddleware, trusted_proxies=services.settings.trusted_proxies),
            Middleware(OwnFilesMiddleware, sessions=services.accounts.sessions, outbox=outbox_root()),
        ]},
    }
