"""One conversation per user, kept in the Store so it survives restarts, trimmed to a token budget.

Token counts are `text.estimate_tokens` (the estimate the chapter writer packs its prompts by)
plus MESSAGE_OVERHEAD per message for the role and separators that chat formats add.
"""

from __future__ import annotations

import threading

from ..storage.store import MEMORY_TABLE, Store
from ..text import estimate_tokens

ROLES = ("user", "assistant")
MESSAGE_OVERHEAD = 4
# Read-modify-write of a user's document must not interleave (two browser tabs, one user).
_WRITE_LOCK = threading.Lock()


def message_tokens(message: dict[str, str]) -> int:
    return MESSAGE_OVERHEAD + estimate_tokens(message["content"])


class ConversationMemory:
    """The user's past messages (oldest first) under `system`, the system prompt, which is never
    stored (it comes from the settings of the day) nor trimmed. Adding a message drops the oldest
    ones until system prompt + history fit `budget` tokens; the newest message always stays, so a
    single message longer than the budget is kept on its own."""

    def __init__(self, store: Store, user: str, budget: int, system: str = ""):
        self.store, self.user, self.budget, self.system = store, user, budget, system

    def history(self) -> list[dict[str, str]]:
        doc = self.store.get_doc(MEMORY_TABLE, self.user) or {}
        return [{"role": m["role"], "content": m["content"]} for m in doc.get("messages", [])]

    def messages(self) -> list[dict[str, str]]:
        head = [{"role": "system", "content": self.system}] if self.system else []
        return head + self.history()

    def tokens(self) -> int:
        return sum(message_tokens(m) for m in self.messages())

    def add(self, role: str, content: str) -> None:
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, not {role!r}")
        with _WRITE_LOCK:
            history = self.history() + [{"role": role, "content": content}]
            self.store.put_doc(MEMORY_TABLE, self.user, {"messages": self._trim(history)})

    def clear(self) -> None:
        self.store.delete_doc(MEMORY_TABLE, self.user)

    def _trim(self, history: list[dict[str, str]]) -> list[dict[str, str]]:
        system = message_tokens({"content": self.system}) if self.system else 0
        sizes = [message_tokens(m) for m in history]
        total = system + sum(sizes)
        first = 0
        while total > self.budget and first < len(history) - 1:
            total -= sizes[first]
            first += 1
        # A reply whose question was dropped would read as the model's own opening line.
        while first < len(history) - 1 and history[first]["role"] == "assistant":
            first += 1
        return history[first:]
