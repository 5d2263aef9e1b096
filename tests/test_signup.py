"""Self sign-up over HTTP against the real app (CHAPTAN_SIGNUP): the page beside Gradio's login, an
account that waits for an administrator's approval (Admin tab and CLI), open sign-up, the name,
password and e-mail rules, no way to an administrator's role, throttling per address and range,
and the page in the browser's language."""

from __future__ import annotations

import pytest

from chaptan.errors import ChaptanError
from tests.app_harness import ADMIN, ALICE, running_app
from tests.test_accounts import admin_action, as_browser, cli, signed_in

PASSWORD = "long-enough-pw-1"
# What a browser's form post sends and a script's does not (login.py and signup.py tell them apart
# by Sec-Fetch-Mode).
BROWSER = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Site": "same-origin", "Accept-Language": "en-US"}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("signup-data"), signup="approval") as running:
        yield running


def sign_up(app, name: str, address: str, *, password: str = PASSWORD, email: str = "", headers=None,
            **extra: str):
    """POST /signup from `address` (uvicorn takes X-Forwarded-For from a loopback peer as the
    client, so each test signs up from addresses of its own and the throttle counts them apart)."""
    fields = {"username": name, "password": password, "email": email or f"{name.lower()}@example.com",
              **extra}
    headers = {"X-Forwarded-For": address, **(headers or {})}
    return app.http(None).post("/signup", data=fields, headers=headers)


def sign_in(app, name: str, password: str = PASSWORD, headers=None):
    return app.http(None).post("/login", data={"username": name, "password": password}, headers=headers)


def test_an_account_signed_up_for_approval_signs_in_once_an_administrator_approves_it(app):
    # The login page links to the sign-up page, which serves its form.
    login_page = app.http(None).get("/config")
    assert login_page.status_code == 401
    assert "<a href='signup'>Create an account</a>" in login_page.json()["detail"]["auth_message"]
    form = app.http(None).get("/signup", headers=BROWSER)
    assert form.status_code == 200 and "<form method='post' action='signup'>" in form.text
    assert "An administrator approves new accounts" in form.text

    # A script signs up; the extra fields a form could add give no administrator's role.
    reply = sign_up(app, "dora", "192.0.2.1", is_admin="true", admin="1", pending="false")
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"success": True, "name": "dora", "pending": True,
                            "detail": "Your account dora is created. An administrator must approve it "
                                      "before you can sign in."}
    dora = app.services.accounts.get("dora")
    assert dora.pending and not dora.is_admin and dora.email == "dora@example.com"

    # Waiting: the right password is refused, and says why; it counts as no failed guess.
    refused = sign_in(app, "dora")
    assert refused.status_code == 400
    assert "awaits an administrator's approval" in refused.json()["detail"]
    browser = app.http(None)
    reply = browser.post("/login", data={"username": "dora", "password": PASSWORD},
                         headers={"Sec-Fetch-Mode": "cors"})
    assert reply.status_code == 200 and not signed_in(browser)  # Gradio's form reloads the page...
    note = browser.get("/config").json()["detail"]["auth_message"]
    assert "The account dora awaits an administrator&#x27;s approval" in note  # ...which says why
    assert sign_in(app, "dora", "wrong-password").json()["detail"] == "Incorrect credentials."
    assert app.services.accounts.lockout_remaining("dora") == 0

    # The Admin tab lists it as awaiting approval; Approve lets it in.
    table = app.handler("table")(as_browser(ADMIN[0]))
    assert ["dora", "", "", "yes"] in [row[:4] for row in table["data"]]
    message, _, _, waiting = admin_action(app, "approve", "dora")
    assert message == "Approved **dora**: they can sign in now." and "dora" not in waiting
    assert signed_in(app.http(("dora", PASSWORD)))

    # The CLI lists a second one as pending and approves it.
    assert sign_up(app, "ezra", "192.0.2.2").status_code == 200
    waiting = app.handler("awaiting")(as_browser(ADMIN[0]))  # the Admin tab's Refresh
    assert waiting.startswith("Awaiting approval: **ezra**. Type a name below")
    listed = cli(app, "list")
    assert any(line.split()[:3] == ["ezra", "user", "pending"] for line in listed.stdout.splitlines()), \
        listed.stdout
    approved = cli(app, "approve", "ezra")
    assert approved.returncode == 0 and "approved ezra" in approved.stdout
    assert sign_in(app, "ezra").status_code == 200
    assert cli(app, "approve", "ezra").returncode == 2  # already approved: said, not done twice

    # Reject removes an account that waits; an approved one is left to Remove.
    assert sign_up(app, "fenn", "192.0.2.3").status_code == 200
    message, *_ = admin_action(app, "reject", "fenn")
    assert message == "Rejected the sign-up of **fenn**: the account is removed."
    assert app.services.store.get_user("fenn") is None
    with pytest.warns(UserWarning, match="'dora' is not awaiting approval"):
        admin_action(app, "reject", "dora")
    assert app.services.store.get_user("dora") is not None


def test_names_taken_or_differing_only_in_case_are_refused_everywhere(app):
    for name in ("alice", "Alice", "ALICE"):
        reply = sign_up(app, name, "198.51.100.1" if name == "alice" else "198.51.100.2")
        assert reply.status_code == 400
        assert reply.json() == {"success": False, "detail": f"the name {name!r} is taken: choose another"}
    with pytest.raises(ChaptanError, match="'Alice' is too like the existing user 'alice': names may not "
                                           "differ only in case"):
        app.services.administration.create_user("Alice", PASSWORD)
    added = cli(app, "add", "ALICE", "--password", PASSWORD)
    assert added.returncode == 2 and "too like the existing user 'alice'" in added.stderr
    with pytest.warns(UserWarning, match="too like the existing user"):
        app.handler("admin_create")("aLiCe", PASSWORD, "", False, as_browser(ADMIN[0]))
    assert [u.name for u in app.services.accounts.list() if u.name.lower() == "alice"] == ["alice"]
    assert sign_in(app, *ALICE).status_code == 200


def test_weak_passwords_bad_names_and_e_mails_are_refused_in_the_browsers_language(app):
    for fields, detail in (({"password": "short"}, "the password is too short: use at least 8 characters"),
                           ({"email": "no-at-sign"}, "'no-at-sign' does not look like an e-mail address"),
                           ({"email": "a@localhost"}, "'a@localhost' does not look like an e-mail address")):
        reply = sign_up(app, "gail", "198.51.100.10", **fields)
        assert (reply.status_code, reply.json()["detail"]) == (400, detail)
    reply = sign_up(app, "../etc", "198.51.100.10")
    assert reply.status_code == 400 and "is not allowed" in reply.json()["detail"]
    assert app.services.store.get_user("gail") is None

    # A Japanese browser gets the form back in Japanese, with what was typed but the password.
    japanese = {**BROWSER, "Accept-Language": "ja,en;q=0.5"}
    assert "アカウントを作成" in app.http(None).get("/signup", headers=japanese).text
    reply = sign_up(app, "gail", "198.51.100.10", password="short", headers=japanese)
    assert reply.status_code == 400 and reply.headers["content-type"].startswith("text/html")
    assert "パスワードが短すぎます。8 文字以上にしてください" in reply.text
    assert "value='gail'" in reply.text and "value='gail@example.com'" in reply.text
    assert "value='short'" not in reply.text
    done = sign_up(app, "gail", "198.51.100.10", headers=japanese)
    assert done.status_code == 200
    assert "アカウント gail を作成しました。ログインするには管理者の承認が必要です。" in done.text


def test_a_form_posted_from_another_site_is_refused(app):
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        reply = sign_up(app, "hugo", "198.51.100.20", headers={**BROWSER, **headers})
        assert reply.status_code == 403 and "only be sent from this site" in reply.text
    assert app.services.store.get_user("hugo") is None
    same_site = sign_up(app, "hugo", "198.51.100.20", headers={**BROWSER, "Origin": app.url})
    assert same_site.status_code == 200, same_site.text


def test_a_flood_of_sign_ups_is_refused_with_a_wait_per_address_and_per_range(app):
    for number in range(3):
        assert sign_up(app, f"bot{number}", "203.0.113.1").status_code == 200
    flooded = sign_up(app, "bot3", "203.0.113.1")
    assert flooded.status_code == 429 and int(flooded.headers["Retry-After"]) > 60
    assert flooded.json()["detail"].startswith("Too many sign-ups from your address: try again in ")
    assert app.services.store.get_user("bot3") is None
    # Other addresses of the range may sign up until the range has made 10 accounts.
    for number in range(3, 10):
        assert sign_up(app, f"bot{number}", f"203.0.113.{number}").status_code == 200
    assert sign_up(app, "bot10", "203.0.113.77").status_code == 429
    assert sign_up(app, "bot10", "192.0.2.99").status_code == 200


def test_open_sign_up_signs_in_at_once_and_off_has_no_page(tmp_path):
    with running_app(tmp_path / "open", signup="open") as app:
        reply = sign_up(app, "ivan", "192.0.2.50", headers=BROWSER)
        assert reply.status_code == 200 and "Your account ivan is created: you can sign in now." in reply.text
        assert "An administrator approves" not in app.http(None).get("/signup", headers=BROWSER).text
        assert signed_in(app.http(("ivan", PASSWORD)))
        assert not app.services.accounts.get("ivan").is_admin
    with running_app(tmp_path / "off") as app:
        assert app.http(None).get("/signup", headers=BROWSER).status_code == 404
        assert sign_up(app, "jane", "192.0.2.51").status_code == 404
        assert "signup" not in app.http(None).get("/config").json()["detail"]["auth_message"]
        assert app.services.store.get_user("jane") is None
