"""Accounts over HTTP against the real app: removal takes everything, sessions end with the account,
names are checked once, served files reach only their owner, sign-ins hash off the event loop and
are throttled per address range, and uploads stop at the user's quota."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from chaptan.storage.store import MEMORY_TABLE, User
from chaptan.videos import Requester
from tests.app_harness import ADMIN, add_finished_job, running_app
from tests.media_factory import SAMPLE_RATE, write_video

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "long-enough-pw-1"
DURATION = 20.0
TRANSCRIPT = {"language": "en", "duration": DURATION,
              "segments": [{"start": 0.5, "end": 9.0, "text": "My bank PIN is 4711, please remember it."},
                           {"start": 10.0, "end": 19.0, "text": "Now something else entirely."}]}
CHAPTERS = [{"start": 0.0, "end": 10.0, "title": "The PIN"},
            {"start": 10.0, "end": DURATION, "title": "Something else"}]


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    """A real 20 s video with a (quiet) audio track: jobs are added finished, so nothing transcribes it."""
    return write_video(tmp_path_factory.mktemp("accounts-media") / "pin.mp4",
                       np.zeros(int(SAMPLE_RATE * DURATION), dtype=np.int16))


@pytest.fixture(scope="module")
def app(tmp_path_factory, media):
    # The quota leaves room for one copy of `media` per user, not for two.
    with running_app(tmp_path_factory.mktemp("accounts-data"),
                     user_quota=int(media.stat().st_size * 1.5)) as running:
        yield running


def new_user(app, name: str, password: str = PASSWORD) -> tuple[str, str]:
    app.services.administration.create_user(name, password)
    return name, password


def cli(app, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """`python -m chaptan users ...` on the running app's data dir, as an operator runs it."""
    env = {**os.environ, "CHAPTAN_DATA_DIR": str(app.services.settings.data_dir)}
    return subprocess.run([sys.executable, "-m", "chaptan", "users", *args], cwd=ROOT, env=env,
                          input=stdin, capture_output=True, text=True, timeout=120)


def signed_in(session) -> bool:
    return session.get("/config").status_code == 200


def as_browser(name: str) -> gr.Request:
    return gr.Request(username=name, headers={"accept-language": "en"})


def admin_action(app, verb: str, user: str, password: str = ""):
    return app.handler(f"admin_{verb}")(user, password, "", False, as_browser(ADMIN[0]))


def test_a_new_account_with_a_removed_users_name_gets_nothing_of_theirs(app, media):
    carol = new_user(app, "carol")
    old_id = app.services.accounts.get("carol").id
    old_session = app.http(carol)
    job_id = add_finished_job(app.services, "carol", media, TRANSCRIPT, CHAPTERS)
    app.services.assistant.memory(Requester("carol")).add("user", "My bank PIN is 4711")
    client = Client(app.url, auth=carol, verbose=False, download_files=False)
    export = client.predict(job_id, "txt", api_name="/export")
    served = Path(export["path"])
    assert "4711" in served.read_text(encoding="utf-8")

    removed = cli(app, "remove", "carol")
    assert removed.returncode == 0, removed.stderr
    assert "1 video(s)" in removed.stdout
    added = cli(app, "add", "carol", "--password-stdin", stdin="a-new-carol-pw\n")
    assert added.returncode == 0, added.stderr

    services = app.services
    assert services.accounts.get("carol").id != old_id
    assert services.store.get_job(job_id) is None
    assert services.store.get_doc(MEMORY_TABLE, "carol") is None
    assert not (services.artifacts.root / "users" / "carol").exists()
    assert not served.exists()
    new_carol = Client(app.url, auth=("carol", "a-new-carol-pw"), verbose=False)
    assert json.loads(new_carol.predict(api_name="/list_videos")) == []
    with pytest.raises(AppError, match="no video"):
        new_carol.predict(job_id, api_name="/get_video")
    # The old cookie does not open the new account.
    assert not signed_in(old_session)
    assert old_session.get(export["url"]).status_code in (401, 403, 404)


def test_every_session_ends_on_a_new_password_an_admin_reset_and_disabling(app, media):
    erin = new_user(app, "erin")
    first, untouched = app.http(erin), app.http(erin)
    assert signed_in(first)
    changed = cli(app, "passwd", "erin", "--password-stdin", stdin="erin-second-pw\n")
    assert changed.returncode == 0, changed.stderr
    assert not signed_in(first)

    signing_out = app.http(("erin", "erin-second-pw"))
    assert signing_out.get("/logout").status_code == 302  # past the ended session `untouched` still holds
    assert not signed_in(untouched)
    second = app.http(("erin", "erin-second-pw"))
    assert signed_in(second)
    admin_action(app, "reset", "erin", "erin-third-pw-1")
    assert not signed_in(second)

    third = app.http(("erin", "erin-third-pw-1"))
    job_id = add_finished_job(app.services, "erin", media, TRANSCRIPT, CHAPTERS)
    link = Client(app.url, auth=("erin", "erin-third-pw-1"), verbose=False,
                  download_files=False).predict(job_id, "txt", api_name="/export")["url"]
    assert third.get(link).status_code == 200
    admin_action(app, "disable", "erin")
    assert not signed_in(third)
    assert third.post("/gradio_api/upload", files={"files": ("a.mp4", media.read_bytes())}).status_code == 401
    assert third.get(link).status_code in (401, 403, 404)
    admin_action(app, "enable", "erin")
    assert not signed_in(third)  # enabling again brings no old session back


def test_names_are_checked_once_everywhere_and_old_bad_names_break_nothing(app):
    for bad in ("..", ".hidden", "_x"):
        refused = cli(app, "add", bad, "--password", PASSWORD)
        assert refused.returncode == 2
        assert refused.stderr.strip() == (f"chaptan: error: user name {bad!r} is not allowed: use 1 to 32 "
                                          "letters, digits, '-' or '_', starting with a letter or digit")
        with pytest.warns(UserWarning, match="is not allowed"):  # a toast: the page stays as it was
            admin_action(app, "create", bad, PASSWORD)
        assert app.services.store.get_user(bad) is None
    # An account an older version let in still lists, with the admin table working for everyone.
    app.services.store.add_user(User(name="..", password_hash="x", id="legacy"))
    table = app.handler("table")(as_browser(ADMIN[0]))
    assert ".." in [row[0] for row in table["data"]]
    listed = cli(app, "list")
    assert listed.returncode == 0 and any(line.startswith("..") for line in listed.stdout.splitlines())
    app.services.accounts.remove("..")


def test_the_admin_role_is_granted_and_revoked_from_the_cli_and_the_admin_tab(app, media):
    owner, ivy = new_user(app, "owner1"), new_user(app, "ivy")
    job_id = add_finished_job(app.services, owner[0], media, TRANSCRIPT, CHAPTERS)
    granted = cli(app, "admin", "ivy")
    assert granted.returncode == 0 and "now an administrator" in granted.stdout
    client = Client(app.url, auth=ivy, verbose=False)
    assert json.loads(client.predict(job_id, api_name="/get_video"))["owner"] == "owner1"
    assert cli(app, "admin", "--revoke", "ivy").returncode == 0
    with pytest.raises(AppError, match="no video"):
        client.predict(job_id, api_name="/get_video")
    message, *_ = admin_action(app, "grant", "ivy")
    assert "administrator" in message and app.services.accounts.get("ivy").is_admin
    admin_action(app, "revoke", "ivy")
    assert not app.services.accounts.get("ivy").is_admin


def test_download_links_reach_only_their_owner_and_copies_are_private(app, media):
    frank, gina = new_user(app, "frank"), new_user(app, "gina")
    job_id = add_finished_job(app.services, "frank", media, TRANSCRIPT, CHAPTERS)
    export = Client(app.url, auth=frank, verbose=False, download_files=False).predict(
        job_id, "srt", api_name="/export")
    assert app.http(frank).get(export["url"]).status_code == 200
    assert app.http(gina).get(export["url"]).status_code == 404
    assert app.http(None).get(export["url"]).status_code in (401, 403, 404)
    served = Path(export["path"])
    assert stat.S_IMODE(served.stat().st_mode) == 0o600
    assert stat.S_IMODE(served.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(served.parent.parent.stat().st_mode) == 0o700


def test_sign_ins_hash_off_the_event_loop_and_are_throttled_per_address_range(app, monkeypatch):
    hank = new_user(app, "hank")
    accounts = app.services.accounts
    original, on_loop = accounts.authenticate, []

    def recording(*args, **kwargs):
        try:
            asyncio.get_running_loop()
            on_loop.append(True)
        except RuntimeError:
            on_loop.append(False)
        return original(*args, **kwargs)

    monkeypatch.setattr(accounts, "authenticate", recording)
    # uvicorn takes X-Forwarded-For from a loopback peer as the client: a flood from one /24, one
    # failure per address, never enough to lock out any single address.
    for number in range(1, 21):
        reply = app.http(None).post("/login", data={"username": f"guess{number}", "password": "wrong"},
                                    headers={"X-Forwarded-For": f"203.0.113.{number}"})
        assert reply.status_code == 400
    assert on_loop and not any(on_loop)
    same_range = app.http(None).post("/login", data={"username": hank[0], "password": hank[1]},
                                     headers={"X-Forwarded-For": "203.0.113.200"})
    assert same_range.status_code == 400
    elsewhere = app.http(None).post("/login", data={"username": hank[0], "password": hank[1]},
                                    headers={"X-Forwarded-For": "198.51.100.7"})
    assert elsewhere.status_code == 200


def test_uploads_stop_at_the_users_quota_with_a_clear_message(app, media, tmp_path):
    judy = new_user(app, "judy")
    add_finished_job(app.services, "judy", media, TRANSCRIPT, CHAPTERS)
    upload = tmp_path / "second.mp4"
    upload.write_bytes(media.read_bytes())
    client = Client(app.url, auth=judy, verbose=False)
    with pytest.raises(AppError, match=r"^second\.mp4 \(\d+\.\d MB\) does not fit in your storage quota: "
                                       r"\d+\.\d of \d+\.\d MB used"):
        client.predict(handle_file(str(upload)), "auto", "local", 0, api_name="/chapter_video")
    assert len(json.loads(client.predict(api_name="/list_videos"))) == 1
