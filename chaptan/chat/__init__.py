"""The voice assistant's core: per-user conversation memory, retrieval over a video's transcript,
and the assistant that hears, answers and speaks. No UI here; the app's tab drives `Assistant`."""

from ..text import estimate_tokens
from .assistant import Assistant, TurnResult
from .memory import ConversationMemory
from .retrieval import Passage, TranscriptIndex

__all__ = ["Assistant", "ConversationMemory", "Passage", "TranscriptIndex", "TurnResult", "estimate_tokens"]
