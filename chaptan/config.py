"""One frozen Settings object, read from environment variables (documented in README.md)."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import ChaptanError

# Sizes count in 1024s, as Gradio does when it parses and shows an upload limit: a decimal "2gb"
# (2,000,000,000 bytes) would show in the browser as "1.9 Gb".
_SIZE_UNITS = {"": 1, "b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3, "tb": 1024**4,
               "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}
_SIZE_NAMES = ("bytes", "KB", "MB", "GB", "TB")


# The chapter writers a job or command can ask for: the LLM when one is configured, else the offline
# generator (auto); the offline generator; the LLM. Here, not in chapters/, so the command line can
# offer them without importing the generators.
GENERATORS = ("auto", "local", "llm")
# Self sign-up: none; accounts that wait for an administrator's approval; accounts usable at once.
SIGNUP_MODES = ("off", "approval", "open")


def parse_size(text: str) -> int:
    """'2gb' / '500 MB' / '1048576' -> bytes (1 kb = 1024 bytes)."""
    raw = text.strip().lower().replace(" ", "")
    number = raw.rstrip("kmgtib")
    unit = raw[len(number):]
    if unit not in _SIZE_UNITS or not number:
        raise ChaptanError("cannot read size {text!r}: use e.g. 2gb, 500mb or a number of bytes", text=text)
    return int(float(number) * _SIZE_UNITS[unit])


def format_size(size: int) -> str:
    """Bytes as `parse_size` reads them: 2 * 1024**3 -> '2 GB', 1.5 * 1024**2 -> '1.5 MB'."""
    value, unit = float(size), 0
    while value >= 1024 and unit < len(_SIZE_NAMES) - 1:
        value, unit = value / 1024, unit + 1
    return f"{value:.1f}".removesuffix(".0") + f" {_SIZE_NAMES[unit]}"


_DURATION_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """'30m' / '12h' / '7d' / '90' (seconds) -> seconds."""
    raw = text.strip().lower().replace(" ", "")
    number = raw.rstrip("smhd")
    unit = raw[len(number):]
    try:
        seconds = float(number) * _DURATION_UNITS[unit]
    except (KeyError, ValueError):
        seconds = -1.0
    if not 0 <= seconds < float("inf"):  # also refuses nan
        raise ChaptanError("cannot read duration {text!r}: use e.g. 30m, 12h, 7d or a number of seconds",
                           text=text)
    return seconds


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _env_int(name: str, default: int) -> int:
    value = _env(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ChaptanError("{name} must be a whole number, not {value!r}", name=name,
                           value=value) from None


def _env_seconds(name: str, default: float) -> float:
    value = _env(name)
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise ChaptanError("{name} must be a number of seconds above 0, not {value!r}", name=name,
                           value=value)
    return seconds


def _env_bool(name: str, default: bool) -> bool:
    value = _env(name).lower()
    if not value:
        return default
    return value in {"1", "true", "yes", "on"}


def _choice(name: str, choices: tuple[str, ...], default: str) -> str:
    value = _env(name, default).lower()
    if value not in choices:
        raise ChaptanError("{name} must be one of {choices}, not {value!r}", name=name,
                           choices=", ".join(choices), value=value)
    return value


def _default_cache_dir() -> str:
    """The XDG user cache folder (~/.cache unless XDG_CACHE_HOME says otherwise), /chaptan."""
    return str(Path(_env("XDG_CACHE_HOME") or "~/.cache").expanduser() / "chaptan")


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("data")
    models_dir: Path = Path("models")
    # Files Chaptan makes from its packages and can make again (the joined Whisper base model):
    # kept per user, out of the data folder, which is backed up and mirrored to S3.
    cache_dir: Path = Path("~/.cache/chaptan").expanduser()
    # Whisper: a model name faster-whisper knows (downloaded when online) or a CTranslate2 folder;
    # empty means: first folder under models/whisper/, else the bundled tiny.en.
    whisper_model: str = ""
    device: str = "auto"  # auto | cpu | cuda
    compute_type: str = ""  # empty: float16 on CUDA, int8 on CPU
    # LLM (any OpenAI-compatible server)
    openai_api_key: str = ""
    openai_base_url: str = ""
    llm_model: str = "gpt-4o-mini"
    llm_timeout: float = 120.0
    # App
    max_upload: int = 2 * 1024**3
    workers: int = 1
    admin_user: str = ""
    admin_password: str = ""
    # A session unused this long ends (seconds; 0: only sign-out, a new password or removal end it).
    session_idle: float = 12 * 3600.0
    signup: str = "off"  # one of SIGNUP_MODES
    # Bytes one user's videos may take in the data folder (0: no limit).
    user_quota: int = 0
    # Reverse proxies in front of the app whose X-Forwarded-For entries are believed (0: none, use the
    # TCP peer). Not defaulted to 1 on a Hugging Face Space: public reports (e.g. mteb PR #4754) show a
    # Space's app sees an internal peer address and the visitor in X-Forwarded-For, but nothing found
    # says how many entries the Space's proxies append, and trusting one too many lets a visitor forge
    # their address; so the README tells Space owners to set it and check the logged address.
    trusted_proxies: int = 0
    # E-mail when a job ends
    email_host: str = ""
    email_port: int = 587
    email_user: str = ""
    email_password: str = ""
    email_use_tls: bool = True
    email_from: str = ""
    # Voice assistant
    system_prompt: str = ""
    memory_tokens: int = 2000
    seats: int = 10
    seat_idle_seconds: float = 300.0
    # S3 mirror
    s3_bucket: str = ""
    s3_prefix: str = "chaptan/"
    s3_verify_interval: int = 900  # seconds between checks of the bucket's listing
    playback_copy: str = "auto"  # auto | always | never: H.264 copies of uploads browsers cannot play
    # Celery workers (empty: jobs run in this process)
    broker_url: str = ""

    @property
    def llm_configured(self) -> bool:
        return bool(self.openai_api_key or self.openai_base_url)

    @property
    def email_configured(self) -> bool:
        return bool(self.email_host)

    @classmethod
    def from_env(cls) -> Settings:
        prefix = _env("CHAPTAN_S3_PREFIX", "chaptan/")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        verify_interval = _env_int("CHAPTAN_S3_VERIFY_INTERVAL", 900)
        if verify_interval < 1:
            raise ChaptanError("CHAPTAN_S3_VERIFY_INTERVAL must be 1 second or more, not {value}",
                               value=verify_interval)
        return cls(
            data_dir=Path(_env("CHAPTAN_DATA_DIR", "data")),
            models_dir=Path(_env("CHAPTAN_MODELS_DIR", "models")),
            cache_dir=Path(_env("CHAPTAN_CACHE_DIR") or _default_cache_dir()).expanduser(),
            whisper_model=_env("CHAPTAN_WHISPER_MODEL"),
            device=_env("CHAPTAN_DEVICE", "auto").lower(),
            compute_type=_env("CHAPTAN_COMPUTE_TYPE"),
            openai_api_key=_env("OPENAI_API_KEY"),
            openai_base_url=_env("OPENAI_BASE_URL"),
            llm_model=_env("CHAPTAN_LLM_MODEL", "gpt-4o-mini"),
            llm_timeout=_env_seconds("CHAPTAN_LLM_TIMEOUT", 120.0),
            max_upload=parse_size(_env("CHAPTAN_MAX_UPLOAD", "2gb")),
            workers=max(1, _env_int("CHAPTAN_WORKERS", 1)),
            admin_user=_env("CHAPTAN_ADMIN_USER"),
            admin_password=os.environ.get("CHAPTAN_ADMIN_PASSWORD", ""),
            session_idle=parse_duration(_env("CHAPTAN_SESSION_IDLE", "12h")),
            signup=_choice("CHAPTAN_SIGNUP", SIGNUP_MODES, "off"),
            user_quota=parse_size(_env("CHAPTAN_USER_QUOTA", "0")),
            trusted_proxies=max(0, _env_int("CHAPTAN_TRUSTED_PROXIES", 0)),
            email_host=_env("EMAIL_HOST"),
            email_port=_env_int("EMAIL_PORT", 587),
            email_user=_env("EMAIL_HOST_USER"),
            email_password=os.environ.get("EMAIL_HOST_PASSWORD", ""),
            email_use_tls=_env_bool("EMAIL_USE_TLS", True),
            email_from=_env("DEFAULT_FROM_EMAIL"),
            system_prompt=_env("CHAPTAN_SYSTEM_PROMPT"),
            memory_tokens=_env_int("CHAPTAN_MEMORY_TOKENS", 2000),
            seats=max(1, _env_int("CHAPTAN_SEATS", 10)),
            seat_idle_seconds=float(max(10, _env_int("CHAPTAN_SEAT_IDLE_SECONDS", 300))),
            s3_bucket=_env("CHAPTAN_S3_BUCKET"),
            s3_prefix=prefix,
            s3_verify_interval=verify_interval,
            broker_url=_env("CHAPTAN_BROKER_URL"),
            playback_copy=_choice("CHAPTAN_PLAYBACK_COPY", ("auto", "always", "never"), "auto"),
        )
