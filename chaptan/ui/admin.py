"""Admin: manage users and see every user's jobs and disk use, through the administration service the
`users` CLI calls too. Every handler re-checks the role."""

from __future__ import annotations

import gradio as gr

from ..messages import Message
from ..services import Services
from ..videos import Requester
from .common import fmt_time, requester, user_errors
from .i18n import language_of, localized, localized_table, t, translate

USER_HEADERS = ["User", "Administrator", "Disabled", "Awaiting approval", "E-mail", "Videos", "Disk (MB)",
                "Created"]
# What each action button says it did.
DONE = {"create": "Created the user **{user}**.", "reset": "Reset the password of **{user}**.",
        "email": "Set the e-mail of **{user}**.", "disable": "Disabled **{user}**.",
        "enable": "Enabled **{user}**.", "grant": "Made **{user}** an administrator.",
        "revoke": "**{user}** is no longer an administrator.",
        "remove": "Removed **{user}** and all their data ({size} MB).",
        "approve": "Approved **{user}**: they can sign in now.",
        "reject": "Rejected the sign-up of **{user}**: the account is removed."}
# What an administrator may not do to their own account, so no one locks themselves out by a slip.
NOT_TO_ONESELF = ("disable", "revoke", "remove")


def _admin(services: Services, request: gr.Request) -> Requester:
    req = requester(services, request)
    if not req.is_admin:
        raise gr.Error("Only administrators can do this.")
    return req


def build_admin_tab(demo: gr.Blocks, services: Services) -> gr.Tab:
    with gr.Tab(t("Admin"), visible=False) as tab:
        users = gr.Dataframe(headers=USER_HEADERS, interactive=False, label=t("Users"))
        waiting = gr.Markdown()
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
            grant = gr.Button(t("Make administrator"))
            revoke = gr.Button(t("Revoke administrator"))
            remove = gr.Button(t("Remove"), variant="stop")
        with gr.Row():
            approve = gr.Button(t("Approve sign-up"))
            reject = gr.Button(t("Reject sign-up"), variant="stop")
        message = gr.Markdown()

    @user_errors
    def table(request: gr.Request):
        _admin(services, request)
        language = language_of(request)
        yes = translate("yes", language)
        rows = [[held.user.name, yes if held.user.is_admin else "", yes if held.user.disabled else "",
                 yes if held.user.pending else "", held.user.email, held.videos, round(held.bytes / 1e6, 1),
                 fmt_time(held.user.created)]
                for held in services.administration.usage()]
        return localized_table(USER_HEADERS, rows, language)

    @user_errors
    def awaiting(request: gr.Request) -> str:
        """Who signed up and waits for an administrator, said above the table so no one is missed."""
        _admin(services, request)
        names = [user.name for user in services.accounts.list() if user.pending]
        if not names:
            return ""
        return localized(Message("Awaiting approval: **{names}**. Type a name below, then Approve sign-up "
                                 "or Reject sign-up.", names=", ".join(names)), request)

    refresh.click(table, None, [users], api_visibility="private")
    refresh.click(awaiting, None, [waiting], api_visibility="private")

    def action(verb: str):
        def run(user: str, pw: str, mail: str, admin: bool, request: gr.Request):
            req = _admin(services, request)
            accounts, administration = services.accounts, services.administration
            user = user.strip()
            size = ""
            if verb in NOT_TO_ONESELF and user == req.name:
                raise gr.Error("You cannot do that to your own account.")
            if verb == "create":
                administration.create_user(user, pw, is_admin=admin, email=mail.strip())
            elif verb == "reset":
                accounts.set_password(user, pw)
            elif verb == "email":
                accounts.set_email(user, mail.strip())
            elif verb in ("disable", "enable"):
                accounts.set_disabled(user, verb == "disable")
            elif verb in ("grant", "revoke"):
                administration.set_admin(user, verb == "grant")
            elif verb == "remove":
                size = f"{administration.remove_user(user).bytes / 1e6:.1f}"
            elif verb == "approve":
                administration.approve_user(user)
            elif verb == "reject":
                administration.reject_user(user)
            return (localized(Message(DONE[verb], user=user, size=size), request), "", table(request),
                    awaiting(request))
        run.__name__ = f"admin_{verb}"  # each button's handler is told apart by name (tests, logs)
        return user_errors(run)

    for button, verb in ((create, "create"), (reset, "reset"), (set_email, "email"), (disable, "disable"),
                         (enable, "enable"), (grant, "grant"), (revoke, "revoke"), (remove, "remove"),
                         (approve, "approve"), (reject, "reject")):
        button.click(action(verb), [name, password, email, is_admin], [message, password, users, waiting],
                     api_visibility="private")

    @user_errors
    def on_load(request: gr.Request):
        req = requester(services, request)
        if not req.is_admin:
            return gr.Tab(visible=False), [], ""
        return gr.Tab(visible=True), table(request), awaiting(request)

    demo.load(on_load, None, [tab, users, waiting], api_visibility="private")
    return tab
