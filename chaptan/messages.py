"""Messages as data: an id and parameters, rendered in a language at the edge.

A message id is its English text, as in gettext: a `str.format` template when the message has
parameters ("row {row} has no title"), the text as written when it has none. `Message` is that
English text (a str, so the CLI, the API, logs and `str(error)` read it as before) and keeps its id
and parameters, so the browser can show it in its own language with `render`.

The translations are the gettext catalogs in chaptan/locale/<language>/LC_MESSAGES/chaptan.po, read
as they are (Babel's .po reader; nothing is compiled). A missing or fuzzy translation falls back to
English. tests/test_messages.py fails when a message the code can show lacks a translation.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

LANGUAGES = ("en", "ja", "zh-TW")  # the interface's languages; English is the ids themselves
LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "chaptan"
log = logging.getLogger(__name__)
LIST_SEPARATOR = "; "  # a parameter that is a list of messages shows them joined by this


class Message(str):
    """A message's English text that remembers its id and parameters.

    Parameters are kept as plain data (numbers, strings, None, messages, tuples of these), so a
    message can be stored in the database and rendered again later in another language."""

    id: str
    params: Mapping[str, Any]

    def __new__(cls, message_id: str, /, **params: Any) -> Message:
        if isinstance(message_id, Message) and not params:
            return message_id
        plain = {name: _plain(value) for name, value in params.items()}
        self = super().__new__(cls, _fill(str(message_id), plain, "en"))
        self.id = str(message_id)
        self.params = plain
        return self

    def __reduce__(self):
        return (_rebuild, (self.id, dict(self.params)))

    def replaced(self, **params: Any) -> Message:
        """The same message with some parameters changed."""
        return Message(self.id, **{**self.params, **params})

    def to_data(self) -> dict[str, Any]:
        """The message as JSON data; `Message.from_data` reads it back."""
        return {"id": self.id, "params": {name: _data(value) for name, value in self.params.items()}}

    @classmethod
    def from_data(cls, data: Any) -> Any:
        """A message from `to_data`'s form; other values (text stored before messages were data,
        or never a message) are returned as they are."""
        if isinstance(data, Mapping) and set(data) == {"id", "params"}:
            return cls(data["id"], **{name: cls.from_data(value) for name, value in data["params"].items()})
        if isinstance(data, list):
            return tuple(cls.from_data(value) for value in data)
        return data


def _rebuild(message_id: str, params: dict[str, Any]) -> Message:
    return Message(message_id, **params)


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (Message, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return tuple(_plain(item) for item in value)
    return str(value)


def _data(value: Any) -> Any:
    if isinstance(value, Message):
        return value.to_data()
    if isinstance(value, tuple):
        return [_data(item) for item in value]
    return value


def _shown(value: Any, language: str) -> Any:
    if isinstance(value, Message):
        return render(value, language)
    if isinstance(value, tuple):
        return LIST_SEPARATOR.join(str(_shown(item, language)) for item in value)
    return value


def _fill(template: str, params: Mapping[str, Any], language: str) -> str:
    if not params:
        return template
    return template.format(**{name: _shown(value, language) for name, value in params.items()})


def locale_folder(language: str) -> str:
    """The catalog folder's name of a BCP 47 language tag: zh-TW is zh_TW."""
    return language.replace("-", "_")


@functools.cache
def catalog(language: str) -> dict[str, str]:
    """The translations into `language`, by message id; empty for English and unknown languages."""
    path = LOCALE_DIR / locale_folder(language) / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == "en" or not path.is_file():
        return {}
    with path.open("rb") as po:
        entries = read_po(po, locale=locale_folder(language), domain=DOMAIN)
    return {entry.id: entry.string for entry in entries
            if entry.id and isinstance(entry.id, str) and entry.string and not entry.fuzzy}


def render(message: str, language: str) -> str:
    """`message` in `language`. A Message is filled in with its parameters (messages among them
    rendered in the same language); plain text is looked up as it is. English when the catalog
    has no translation."""
    if not isinstance(message, Message):
        return catalog(language).get(message, message)
    template = catalog(language).get(message.id)
    if template is None:
        return _fill(message.id, message.params, language)  # its parameters may still be translated
    try:
        return _fill(template, message.params, language)
    except (KeyError, IndexError, ValueError):
        # tests/test_messages.py keeps the shipped catalogs' fields right; one edited in place is not
        # checked, and a wrong field there must not take the page down.
        log.warning("the %s translation of %r has fields the message lacks", language, message.id)
        return _fill(message.id, message.params, language)
