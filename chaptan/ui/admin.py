"""Admin: manage users and see every user's jobs and disk use. Every handler re-checks the role."""

from __future__ import annotations

import gradio as gr

from ..services import Services
from ..videos import Requester
from .common import fmt_time, requester, user_errors
from .i18n import language_of, localized, localized_table, t, translate

USER_HEADERS = ["User", "Administrator", "Disabled", "E-mail", "Videos", "Disk (MB)", "Created"]
# What each action button says it did.
DONE = {"create": "Created the user **{user}**.", "reset": "Reset the password of **{user}**.",
        "email": "Set the e-mail of **{user}**.", "disable": "Disabled **{user}**.",
        "enable": "Enabled **{user}**.", "remove": "Removed **{user}** and their videos."}


def _admin(services: Services, request: gr.Request) -> Requester:
    req = requester(services, request)
    if not req.is_admin:
        raise gr.Error("Only administrators can do this.")
    return req


def build_admin_tab(demo: gr.Blocks, services: Services) -> gr.Tab:
    with gr.Tab(t("Admin"), visible=False) as tab:
        users = gr.Dataframe(headers=USER_HEADERS, interactive=False, label=t("Users"))
        refresh = gr.Button(t("Refresh"), size="sm")
        with gr.Row():
            name = gr.Textbox(label=t("User name"))
            password = gr.Textbox(label=t("New password (8+ characters)"), type="password")
            email = gr.Textbox(label=t("E-mail (optional)"))
            is_admin = gr.Checkbox(label=t("Administrator"))
        with gr.Row():
            create = gr.Button(t("Create user"), variant="primary")
            reset = gr.Button(t("Reset password"))
            set_email = gr.Button(t("Set e-mail"))
            disable = gr.Button(t("Disable"))
            enable = gr.Button(t("Enable"))
            remove = gr.Button(t("Remove"), variant="stop")
        message = gr.Markdown()

    @user_errors
    def table(request: gr.Request):
        _admin(services, request)
        jobs = services.store.list_jobs(None)
        language = language_of(request)
        yes = translate("yes", language)
        rows = []
        for user in services.accounts.list():
            count = sum(1 for j in jobs if j.owner == user.name)
            disk = services.artifacts.usage(user.name) / 1e6
            rows.append([user.name, yes if user.is_admin else "", yes if user.disabled else "",
                         user.email, count, round(disk, 1), fmt_time(user.created)])
        return localized_table(USER_HEADERS, rows, language)

    refresh.click(table, None, [users], api_visibility="private")

    def action(verb: str):
        @user_errors
        def run(user: str, pw: str, mail: str, admin: bool, request: gr.Request):
            req = _admin(services, request)
            accounts = services.accounts
            user = user.strip()
            if verb == "create":
                accounts.create(user, pw, is_admin=admin, email=mail.strip())
            elif verb == "reset":
                accounts.set_password(user, pw)
            elif verb == "email":
                accounts.set_email(user, mail.strip())
            elif verb in ("disable", "remove") and user == req.name:
                raise gr.Error("You cannot do that to your own account.")
            elif verb == "disable":
                accounts.set_disabled(user, True)
            elif verb == "enable":
                accounts.set_disabled(user, False)
            elif verb == "remove":
                for job in services.store.list_jobs(user):
                    services.library.delete(req, job.id)
                accounts.remove(user)
            return localized(DONE[verb].format(user=user), request), "", table(request)
        return run

    for button, verb in ((create, "create"), (reset, "reset"), (set_email, "email"),
                         (disable, "disable"), (enable, "enable"), (remove, "remove")):
        button.click(action(verb), [name, password, email, is_admin], [message, password, users],
                     api_visibility="private")

    @user_errors
    def on_load(request: gr.Request):
        req = requester(services, request)
        if not req.is_admin:
            return gr.Tab(visible=False), []
        return gr.Tab(visible=True), table(request)

    demo.load(on_load, None, [tab, users], api_visibility="private")
    return tab
