"""Which address sign-in throttling counts a request against, directly and behind reverse proxies."""

from __future__ import annotations

import pytest

from chaptan.config import Settings
from chaptan.errors import ChaptanError
from chaptan.ui.login import client_address

PROXY = "10.16.3.80"  # the TCP peer when a proxy is in front
VISITOR = "203.0.113.7"


def http_scope(*forwarded_for: str, peer: str | None = PROXY) -> dict:
    """An ASGI HTTP scope as uvicorn builds it, with one X-Forwarded-For line per argument."""
    headers = [(b"host", b"chaptan.example"),
               *((b"x-forwarded-for", value.encode("latin-1")) for value in forwarded_for)]
    return {"type": "http", "headers": headers, "client": (peer, 51234) if peer else None}


def test_no_trusted_proxy_uses_the_peer_and_ignores_the_header():
    assert client_address(http_scope(), 0) == PROXY
    assert client_address(http_scope(VISITOR), 0) == PROXY


def test_one_trusted_proxy_uses_the_rightmost_entry():
    assert client_address(http_scope(VISITOR), 1) == VISITOR
    assert client_address(http_scope(f"192.0.2.1 , {VISITOR}"), 1) == VISITOR


def test_two_trusted_proxies_use_the_second_entry_from_the_right():
    # The outer proxy appended the visitor, the inner one the outer proxy's address.
    assert client_address(http_scope(f"{VISITOR}, 10.0.0.5"), 2) == VISITOR
    assert client_address(http_scope(f"192.0.2.1, {VISITOR}, 10.0.0.5"), 2) == VISITOR


def test_forged_entries_left_of_the_trusted_ones_are_ignored():
    for forged in ("1.1.1.1", "1.1.1.1, 2.2.2.2", "not-an-address"):
        assert client_address(http_scope(f"{forged}, {VISITOR}"), 1) == VISITOR


def test_a_missing_or_too_short_header_falls_back_to_the_peer():
    assert client_address(http_scope(), 1) == PROXY
    assert client_address(http_scope(""), 1) == PROXY
    assert client_address(http_scope(VISITOR), 2) == PROXY
    assert client_address(http_scope(peer=None), 1) == ""


def test_repeated_header_lines_are_one_list_in_order():
    assert client_address(http_scope("1.1.1.1", f"{VISITOR}, 10.0.0.5"), 2) == VISITOR
    assert client_address(http_scope(f"1.1.1.1, {VISITOR}", "10.0.0.5"), 2) == VISITOR


def test_trusted_proxies_setting(monkeypatch):
    monkeypatch.delenv("CHAPTAN_TRUSTED_PROXIES", raising=False)
    assert Settings.from_env().trusted_proxies == 0
    monkeypatch.setenv("CHAPTAN_TRUSTED_PROXIES", " 2 ")
    assert Settings.from_env().trusted_proxies == 2
    monkeypatch.setenv("CHAPTAN_TRUSTED_PROXIES", "-1")
    assert Settings.from_env().trusted_proxies == 0
    monkeypatch.setenv("CHAPTAN_TRUSTED_PROXIES", "one")
    with pytest.raises(ChaptanError, match="CHAPTAN_TRUSTED_PROXIES"):
        Settings.from_env()
