"""Settings read from the environment: a value that cannot be used is named in a clear error."""

from __future__ import annotations

import pytest

from chaptan.config import Settings
from chaptan.errors import ChaptanError


@pytest.mark.parametrize("value", ["soon", "0", "-5", "nan", "inf"])
def test_a_bad_llm_timeout_is_a_settings_error_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv("CHAPTAN_LLM_TIMEOUT", value)
    with pytest.raises(ChaptanError, match=rf"CHAPTAN_LLM_TIMEOUT must be a number of seconds above 0, "
                                           rf"not '{value}'"):
        Settings.from_env()


def test_the_llm_timeout_is_read_in_seconds(monkeypatch):
    monkeypatch.delenv("CHAPTAN_LLM_TIMEOUT", raising=False)
    assert Settings.from_env().llm_timeout == 120.0
    monkeypatch.setenv("CHAPTAN_LLM_TIMEOUT", " 2.5 ")
    assert Settings.from_env().llm_timeout == 2.5


def test_sign_up_is_off_unless_set_and_a_bad_mode_names_the_choices(monkeypatch):
    monkeypatch.delenv("CHAPTAN_SIGNUP", raising=False)
    assert Settings.from_env().signup == "off"
    monkeypatch.setenv("CHAPTAN_SIGNUP", " Approval ")
    assert Settings.from_env().signup == "approval"
    monkeypatch.setenv("CHAPTAN_SIGNUP", "yes")
    with pytest.raises(ChaptanError, match=r"^CHAPTAN_SIGNUP must be one of off, approval, open, not 'yes'$"):
        Settings.from_env()
