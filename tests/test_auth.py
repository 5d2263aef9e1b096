"""Accounts: scrypt hashes, sign-in throttling, the first admin, and the `users` CLI."""

from __future__ import annotations

import argparse
import base64
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chaptan.accounts.auth import Accounts, hash_password, verify_password
from chaptan.cli import users as users_cli
from chaptan.config import Settings
from chaptan.errors import ChaptanError
from chaptan.storage.store import DB_FILE, Store

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def accounts(tmp_path: Path, clock: FakeClock) -> Accounts:
    return Accounts(Store(tmp_path / DB_FILE), clock=clock)


def test_hash_format_and_verify() -> None:
    encoded = hash_password(PASSWORD)
    scheme, n, r, p, salt, key = encoded.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert len(base64.b64decode(salt)) == 16 and len(base64.b64decode(key)) == 32
    assert hash_password(PASSWORD) != encoded  # fresh salt each time
    assert verify_password(PASSWORD, encoded)
    assert not verify_password("wrong password", encoded)
    assert not verify_password(PASSWORD, "not a hash")
    assert not verify_password(PASSWORD, "bcrypt$1$2$3$YQ==$YQ==")


def test_create_validates(accounts: Accounts) -> None:
    user = accounts.create("Ann-b_c1", PASSWORD, email=" ann@example.com ")
    assert user.email == "ann@example.com" and not user.is_admin
    assert PASSWORD not in user.password_hash
    for bad_name in ("", "a" * 33, "ann smith", "ann/..", "änn", "..", ".hidden", "_x", "-x", "ann.b"):
        with pytest.raises(ChaptanError, match="not allowed"):
            accounts.create(bad_name, PASSWORD)
    with pytest.raises(ChaptanError, match="at least 8"):
        accounts.create("bob", "short")
    with pytest.raises(ChaptanError, match="already exists"):
        accounts.create("Ann-b_c1", PASSWORD)


def test_authenticate(accounts: Accounts) -> None:
    accounts.create("ann", PASSWORD)
    assert accounts.authenticate("ann", PASSWORD)
    assert not accounts.authenticate("ann", "wrong password")
    assert not accounts.authenticate("nobody", PASSWORD)
    accounts.set_disabled("ann", True)
    assert not accounts.authenticate("ann", PASSWORD)
    accounts.set_disabled("ann", False)
    accounts.set_password("ann", "a new password")
    assert accounts.authenticate("ann", "a new password") and not accounts.authenticate("ann", PASSWORD)


def _fail(accounts: Accounts, times: int, name: str = "ann", client: str = "") -> None:
    for _ in range(times):
        assert not accounts.authenticate(name, "wrong password", client)


def test_throttling_after_five_failures_with_growing_delay(accounts: Accounts, clock: FakeClock) -> None:
    accounts.create("ann", PASSWORD)
    _fail(accounts, 4)
    assert accounts.lockout_remaining("ann") == 0
    _fail(accounts, 1)
    assert accounts.lockout_remaining("ann") == 30
    assert not accounts.authenticate("ann", PASSWORD)  # refused unchecked while locked out
    clock.now += 10
    assert accounts.lockout_remaining("ann") == 20

    clock.now += 20
    _fail(accounts, 1)  # every further miss doubles the delay
    assert accounts.lockout_remaining("ann") == 60
    clock.now += 60
    _fail(accounts, 1)
    assert accounts.lockout_remaining("ann") == 120
    for _ in range(5):
        clock.now += accounts.lockout_remaining("ann")
        _fail(accounts, 1)
    assert accounts.lockout_remaining("ann") == 15 * 60  # capped

    clock.now += 15 * 60
    assert accounts.authenticate("ann", PASSWORD)  # a success resets the name's counter
    _fail(accounts, 4)
    assert accounts.lockout_remaining("ann") == 0


def test_throttling_per_client_address(accounts: Accounts) -> None:
    accounts.create("ann", PASSWORD)
    for name in ("a1", "a2", "a3", "a4", "a5"):  # guessing many names from one address
        _fail(accounts, 1, name=name, client="10.0.0.9")
    assert accounts.lockout_remaining("ann", "10.0.0.9") == 30
    assert not accounts.authenticate("ann", PASSWORD, "10.0.0.9")
    assert accounts.authenticate("ann", PASSWORD, "10.0.0.7")
    assert accounts.lockout_remaining("", "10.0.0.9") == 30  # a success elsewhere resets no client


def test_old_failures_are_forgotten(accounts: Accounts, clock: FakeClock) -> None:
    accounts.create("ann", PASSWORD)
    _fail(accounts, 4)
    clock.now += 2 * 60 * 60
    _fail(accounts, 4)
    assert accounts.lockout_remaining("ann") == 0


def test_sessions_end_after_the_idle_time(tmp_path: Path, clock: FakeClock) -> None:
    accounts = Accounts(Store(tmp_path / DB_FILE), session_idle=600, clock=clock)
    accounts.create("ann", PASSWORD)
    accounts.sessions["token"] = "ann"  # as Gradio's sign-in stores it
    clock.now += 599
    assert accounts.sessions.get("token") == "ann"  # each use starts the idle time again
    clock.now += 599
    assert "token" in accounts.sessions
    clock.now += 601
    assert accounts.sessions.get("token") is None
    assert list(accounts.sessions) == []


def test_ensure_admin_from_settings(accounts: Accounts) -> None:
    settings = Settings(admin_user="boss", admin_password="boss password")
    assert accounts.ensure_admin(settings) is None
    assert [(u.name, u.is_admin) for u in accounts.list()] == [("boss", True)]
    assert accounts.authenticate("boss", "boss password")
    assert accounts.ensure_admin(Settings()) is None  # users exist: nothing to do
    assert len(accounts.list()) == 1


def test_ensure_admin_generates_a_password(accounts: Accounts) -> None:
    password = accounts.ensure_admin(Settings())
    assert password and len(password) >= 16
    assert accounts.get("admin").is_admin
    assert accounts.authenticate("admin", password)


def test_last_enabled_admin_is_kept(accounts: Accounts) -> None:
    accounts.create("root", PASSWORD, is_admin=True)
    accounts.create("ann", PASSWORD)
    for change in (lambda: accounts.remove("root"), lambda: accounts.set_disabled("root", True),
                   lambda: accounts.set_admin("root", False)):
        with pytest.raises(ChaptanError, match="only enabled admin"):
            change()
    accounts.set_admin("ann", True)
    accounts.remove("root")
    assert [u.name for u in accounts.list()] == ["ann"]


# -- the users CLI ----------------------------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CHAPTAN_DATA_DIR", str(tmp_path))
    return tmp_path


def _cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="chaptan")
    users_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def _accounts_in(data_dir: Path) -> Accounts:
    return Accounts(Store(data_dir / DB_FILE))


def test_cli_add_list_passwd_disable_remove(data_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli("users", "add", "ann", "--password", PASSWORD, "--admin", "--email", "ann@example.com") == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("bob password\n"))
    assert _cli("users", "add", "bob", "--password-stdin") == 0
    capsys.readouterr()

    assert _cli("users", "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["ann", "admin", "enabled"] and lines[0].endswith("ann@example.com")
    assert lines[1].split()[:3] == ["bob", "user", "enabled"]

    accounts = _accounts_in(data_dir)
    assert accounts.authenticate("bob", "bob password")
    monkeypatch.setattr(sys, "stdin", io.StringIO("bob's new password\n"))
    assert _cli("users", "passwd", "bob", "--password-stdin") == 0
    assert accounts.authenticate("bob", "bob's new password")

    assert _cli("users", "disable", "bob") == 0
    assert not accounts.authenticate("bob", "bob's new password")
    assert _cli("users", "enable", "bob") == 0
    assert accounts.authenticate("bob", "bob's new password")
    assert _cli("users", "remove", "bob") == 0
    assert [u.name for u in accounts.list()] == ["ann"]


def test_cli_generates_a_password_when_piped(data_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a terminal, no --password
    assert _cli("users", "add", "ann") == 0
    out = capsys.readouterr().out
    password = out.split("password for ann: ")[1].split()[0]
    assert _accounts_in(data_dir).authenticate("ann", password)


def test_cli_prompts_on_a_terminal(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    answers = iter(["typed password", "typed password", "one", "another"])
    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.setattr(users_cli.getpass, "getpass", lambda prompt: next(answers))
    assert _cli("users", "add", "ann") == 0
    assert _accounts_in(data_dir).authenticate("ann", "typed password")
    with pytest.raises(ChaptanError, match="differ"):
        _cli("users", "passwd", "ann")


def test_cli_mistakes_raise_chaptan_error(data_dir: Path) -> None:
    _cli("users", "add", "ann", "--password", PASSWORD)
    with pytest.raises(ChaptanError, match="already exists"):
        _cli("users", "add", "ann", "--password", PASSWORD)
    with pytest.raises(ChaptanError, match="not allowed"):
        _cli("users", "add", "bad name", "--password", PASSWORD)
    with pytest.raises(ChaptanError, match="no user"):
        _cli("users", "passwd", "nobody", "--password", PASSWORD)
    with pytest.raises(ChaptanError, match="no user"):
        _cli("users", "remove", "nobody")


def test_python_m_chaptan_users(tmp_path: Path) -> None:
    main = pytest.importorskip("chaptan.__main__")
    if "chaptan.cli.users" not in main.COMMAND_MODULES:
        pytest.skip("chaptan/__main__.py does not wire the users commands yet")
    env = {**os.environ, "CHAPTAN_DATA_DIR": str(tmp_path)}

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "chaptan", "users", *args], cwd=ROOT, env=env,
                              input=stdin, capture_output=True, text=True, timeout=120)

    added = run("add", "ann", "--password-stdin", stdin=f"{PASSWORD}\n")
    assert added.returncode == 0, added.stderr
    listed = run("list")
    assert listed.returncode == 0 and listed.stdout.startswith("ann ")
    again = run("add", "ann", "--password", PASSWORD)
    assert again.returncode == 2
    assert again.stderr.strip().splitlines() == ["chaptan: error: user 'ann' already exists"]
