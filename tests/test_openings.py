"""The opening model: what it reads, what the shipped weights prefer, and that fitting learns."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from chaptan.chapters.local import embed_segments
from chaptan.chapters.openings import WINDOW_SECONDS, OpeningModel, opening_features, shipped_openings

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
import fit_weights  # noqa: E402

DETAIL = [
    "So this would be five plus three, which is eight.",
    "And then if I put the increment in here, it adds one each time.",
    "The largest number an integer can store is about two billion.",
    "Because x is less than the width, it keeps going.",
]
OPENINGS = [
    "Okay, so let's get started.",
    "The first step I'd like to take is to set up the project.",
    "Let me say a few quick things about the code I have so far.",
]


def test_features_read_the_segment_and_each_side_of_the_start() -> None:
    starts = np.array([0.0, 10.0, 30.0, 70.0])
    embeddings = np.eye(4)
    features = opening_features(starts, embeddings)
    assert features.shape == (4, 4 * (1 + 2 * len(WINDOW_SECONDS)))
    at, before_20, after_20 = features[2, :4], features[2, 4:8], features[2, 8:12]
    assert at.tolist() == [0, 0, 1, 0]
    assert before_20.tolist() == [0, 1, 0, 0]  # 10 s is inside the 20 s before 30 s; 0 s is not
    assert after_20.tolist() == [0, 0, 1, 0]  # the segment itself opens the window after it
    before_60 = features[2, 12:16]
    assert np.allclose(before_60, [2 ** -0.5, 2 ** -0.5, 0, 0])  # the mean of both, unit length


def test_shipped_weights_hear_an_opening_among_details() -> None:
    model = shipped_openings()

    def score(text: str) -> float:
        texts = DETAIL + [text] + DETAIL
        starts = 8.0 * np.arange(len(texts))
        return float(model.score(starts, embed_segments(texts))[len(DETAIL)])

    assert min(map(score, OPENINGS)) > max(map(score, DETAIL))


def test_model_file_round_trip(tmp_path: Path) -> None:
    weights = np.linspace(-1, 1, 3 * (1 + 2 * len(WINDOW_SECONDS)))
    model = OpeningModel(weights, bias=-2.5)
    model.save(tmp_path / "openings.json")
    loaded = OpeningModel.from_file(tmp_path / "openings.json")
    starts, embeddings = np.array([0.0, 5.0, 40.0]), np.eye(3)
    assert np.allclose(loaded.score(starts, embeddings), model.score(starts, embeddings), atol=1e-3)


def test_weights_for_other_embeddings_are_refused() -> None:
    with pytest.raises(ValueError, match="features"):
        OpeningModel(np.zeros(12)).score(np.array([0.0, 5.0]), np.eye(2))


def write_case(folder: Path, name: str, seed: int) -> None:
    """A talk whose parts open with a spoken welcome and go on with arithmetic; 4 s segments,
    so that only the opening is within the 3 s that make a segment start positive."""
    rng = np.random.default_rng(seed)
    segments, chapters, t = [], [{"start": 0.0, "title": "Start"}], 0.0
    for part in range(6):
        if part:
            chapters.append({"start": t, "title": f"Part {part}"})
            segments.append({"start": t, "end": t + 4, "text": str(rng.choice(OPENINGS))})
            t += 4
        for _ in range(int(rng.integers(8, 14))):
            segments.append({"start": t, "end": t + 4, "text": str(rng.choice(DETAIL))})
            t += 4
    (folder / name).write_text(json.dumps({"duration": t, "segments": segments, "chapters": chapters}))


def test_fitting_learns_what_an_opening_says(tmp_path: Path) -> None:
    for seed in range(4):
        write_case(tmp_path, f"case{seed}.json", seed)
    cases = fit_weights.load_cases(tmp_path)
    model = fit_weights.fit_openings(cases)
    scores = model.score(cases[0].starts, cases[0].embeddings)
    opening = cases[0].labels == 1
    assert scores[opening].min() > scores[~opening].max()
