"""Errors a user can cause and fix. They carry a one-line message and never need a traceback."""

from typing import Any

from .messages import Message


class ChaptanError(Exception):
    """A problem with the user's input or configuration (the CLI exits 2, the app shows the message).

    Raised with a message id and its parameters (see chaptan.messages): `str(error)` is the English
    text, `error.message` the Message the browser renders in its own language."""

    def __init__(self, message: str, /, **params: Any) -> None:
        self.message = Message(message, **params)
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class MediaError(ChaptanError):
    """The file is not usable media: not media at all, empty, truncated, or without audio."""


class TranscriptError(ChaptanError):
    """A transcript file is malformed."""


class ChapterError(ChaptanError):
    """A chapter list is malformed."""


QUOTED_CHARS = 40


def quoted(value: object, limit: int = QUOTED_CHARS) -> str:
    """`value` as a message shows what someone typed: its repr, cut to `limit` characters so that a
    pasted page is never echoed back whole."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"
