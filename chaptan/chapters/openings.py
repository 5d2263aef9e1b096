"""What the opening of a part sounds like, by meaning rather than wording.

A presenter starts a new part of a talk by talking about the talk ("let's get started", "the
first step", "let me say a few things about the code so far"), and works through details in its
middle ("because 3 plus 2 is 5"). The opening model scores every segment start by the sentence
embedding of that segment and of the 20 s and 60 s before and after it: a logistic regression
whose weights ship in `opening_weights.json`, fitted on creators' chapters by
`benchmarks/fit_weights.py`. Where `cues.py` reads only function words, this reads what kind of
thing is said, so it also hears an opening phrased in words the cue model never saw.

The embeddings are all-MiniLM-L6-v2's, so the model is for English transcripts only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .windows import window_sums

WEIGHTS_FILE = Path(__file__).with_name("opening_weights.json")
# Seconds of speech on each side whose mean embedding is read, besides the segment's own.
WINDOW_SECONDS = (20.0, 60.0)


def opening_features(starts: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
    """One row per segment start: the segment's embedding, then for each window the unit mean
    embedding of what was said in the window before the start and in the window from it."""
    vectors = np.asarray(embeddings, dtype=np.float64)
    parts = [vectors]
    for before, after in window_sums(starts, vectors, WINDOW_SECONDS):
        parts += [_unit_rows(before), _unit_rows(after)]
    return np.hstack(parts)


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


@dataclass(frozen=True, eq=False)
class OpeningModel:
    weights: np.ndarray
    bias: float = 0.0

    def score(self, starts: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
        """Log-odds that a chapter starts at each segment, from what is said around it."""
        features = opening_features(starts, embeddings)
        if features.shape[1] != len(self.weights):
            raise ValueError(f"opening weights are for {len(self.weights)} features, "
                             f"the embeddings give {features.shape[1]}")
        return features @ self.weights + self.bias

    def save(self, path: Path = WEIGHTS_FILE) -> None:
        data = {"bias": round(self.bias, 4), "windows": list(WINDOW_SECONDS),
                "weights": [round(float(w), 4) for w in self.weights]}
        path.write_text(json.dumps(data) + "\n", encoding="utf-8")

    @classmethod
    def from_file(cls, path: Path) -> OpeningModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        if tuple(data["windows"]) != WINDOW_SECONDS:
            raise ValueError(f"{path} was fitted for windows {data['windows']}, not {WINDOW_SECONDS}")
        return cls(np.asarray(data["weights"], dtype=np.float64), float(data["bias"]))


@lru_cache(maxsize=1)
def shipped_openings() -> OpeningModel:
    return OpeningModel.from_file(WEIGHTS_FILE)
