"""Spoken transition cues: how a speaker's wording says that a new part of the talk begins.

A presenter who moves on says so with function words ("so now what I want to do is", "the next
thing", "okay, let's") and stops carrying the last thought on ("because", "and then"). The cue
model reads only those words: every content word becomes X, so what it knows is how people talk
at a turn, not what any one video is about, and it carries over to videos on other subjects.

Each segment start is scored from the word n-grams of the segment before it, the segment itself
and the one after, by a logistic regression whose weights ship in `cue_weights.json`. They are
fitted on creators' chapters by `benchmarks/fit_weights.py`, which says how.

Three marks besides the words hold in every language, so the model scores Japanese and Chinese
talks by them alone: a sentence that ends (。 as well as .), a question (an interviewer opens most
topics with one: a chapter starts at a question 1.5 to 4.6 times as often as elsewhere in the
interviews of our eval data, Mandarin included), and a pause before the segment.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..text import SENTENCE_END, STOPWORDS

WEIGHTS_FILE = Path(__file__).with_name("cue_weights.json")
# The neighbours whose wording is read, as feature prefixes: the segment before, at and after.
POSITIONS = ("before", "at", "after")
MAX_GRAM = 3
_TOKEN = re.compile(r"[a-z']+")
QUESTION = "<?>"
# Silence before a segment, in seconds, that counts as a pause and as a long one.
PAUSE_SECONDS = (1.0, 2.5)


def skeleton(text: str) -> list[str]:
    """The segment's function words in order, content words as X, with sentence edges marked."""
    tokens = ["<s>"] + [w if w in STOPWORDS else "X" for w in _TOKEN.findall(text.lower())]
    if text.rstrip().rstrip("\"'”」』)").endswith(SENTENCE_END):
        tokens.append("</s>")
    return tokens


def grams(text: str) -> set[str]:
    tokens = skeleton(text)
    found = {" ".join(tokens[i:i + n]) for n in range(1, MAX_GRAM + 1) for i in range(len(tokens) - n + 1)}
    if "?" in text or "？" in text:
        found.add(QUESTION)
    return found


def boundary_features(texts: Sequence[str], pauses: Sequence[float] | None = None) -> list[set[str]]:
    """For each segment start: the n-grams around it, each tagged with where it was said, and
    the pause before it (seconds of silence since the previous segment ended)."""
    per_segment = [grams(t) for t in texts]
    empty: set[str] = set()
    features = []
    for i in range(len(texts)):
        around = (per_segment[i - 1] if i > 0 else empty, per_segment[i],
                  per_segment[i + 1] if i + 1 < len(texts) else empty)
        found = {f"{where}:{g}" for where, found in zip(POSITIONS, around) for g in found}
        if pauses is not None:
            found |= {f"pause>{s:g}" for s in PAUSE_SECONDS if pauses[i] > s}
        features.append(found)
    return features


@dataclass(frozen=True)
class CueModel:
    weights: Mapping[str, float]
    bias: float = 0.0

    def score(self, texts: Sequence[str], pauses: Sequence[float] | None = None) -> np.ndarray:
        """Log-odds that a chapter starts at each segment, from its wording and the pause before it."""
        return np.array([self.bias + sum(self.weights.get(f, 0.0) for f in found)
                         for found in boundary_features(texts, pauses)], dtype=np.float64)

    def save(self, path: Path = WEIGHTS_FILE) -> None:
        kept = {k: round(v, 4) for k, v in sorted(self.weights.items())}
        path.write_text(json.dumps({"bias": round(self.bias, 4), "weights": kept}, ensure_ascii=False,
                                   indent=0) + "\n", encoding="utf-8")

    @classmethod
    def from_file(cls, path: Path) -> CueModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(dict(data["weights"]), float(data["bias"]))


@lru_cache(maxsize=1)
def shipped_model() -> CueModel:
    return CueModel.from_file(WEIGHTS_FILE)
