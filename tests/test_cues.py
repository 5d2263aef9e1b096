"""The spoken-cue model: what it reads, what the shipped weights prefer, and that fitting learns."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from chaptan.chapters.cues import CueModel, boundary_features, shipped_model, skeleton

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
import fit_weights  # noqa: E402

CONTEXT = "I think that is going to work."
TRANSITIONS = [
    "Okay, so now the next thing I want to do is add a function.",
    "All right, let me go back to the code.",
    "Now let us talk about football.",
    "So the first step is to train the model.",
]
CONTINUATIONS = [
    "because it just goes up and then it is",
    "and then the ball keeps moving",
    "or maybe I could use a different number",
]


def test_skeleton_keeps_function_words_and_hides_the_topic() -> None:
    expected = ["<s>", "so", "now", "the", "X", "goes", "in", "</s>"]
    assert skeleton("So now, the spaghetti goes in.") == expected
    assert skeleton("and the planets")[-1] == "X"  # no sentence end without a full stop


def test_boundary_features_say_where_each_ngram_was_said() -> None:
    first, middle, last = boundary_features(["Hello there.", "So now.", "Pasta"])
    assert not any(f.startswith("before:") for f in first)
    assert not any(f.startswith("after:") for f in last)
    assert {"before:<s> X", "at:so now", "after:<s> X"} <= middle


def test_shipped_weights_rank_transitions_above_continuations() -> None:
    model = shipped_model()
    score = lambda text: float(model.score([CONTEXT, text, "And it works like this."])[1])  # noqa: E731
    assert min(map(score, TRANSITIONS)) > max(map(score, CONTINUATIONS))
    assert len(model.weights) > 1000


def test_model_file_round_trip(tmp_path: Path) -> None:
    model = CueModel({"at:so now": 0.5, "before:</s>": -0.25}, bias=-3.0)
    model.save(tmp_path / "cues.json")
    loaded = CueModel.from_file(tmp_path / "cues.json")
    assert loaded == model
    assert np.allclose(loaded.score(["x.", "So now we go.", "y"]), model.score(["x.", "So now we go.", "y"]))


def write_case(folder: Path, name: str, seed: int) -> None:
    """A talk whose chapters all open with "all right, what about", with filler in between; 4 s
    segments, so that only the opening is within the 3 s that make a segment start positive."""
    rng = np.random.default_rng(seed)
    filler = ["the loop draws a circle", "and then it moves", "because the speed is small",
              "it has a colour", "which is red or blue"]
    segments, chapters, t = [], [{"start": 0.0, "title": "Start"}], 0.0
    for chapter in range(6):
        if chapter:
            chapters.append({"start": t, "title": f"Part {chapter}"})
            segments.append({"start": t, "end": t + 4, "text": "All right, what about the next bit?"})
            t += 4
        for _ in range(int(rng.integers(8, 14))):
            segments.append({"start": t, "end": t + 4, "text": str(rng.choice(filler))})
            t += 4
    (folder / name).write_text(json.dumps({"duration": t, "segments": segments, "chapters": chapters}))


def test_fitting_learns_a_planted_cue(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(fit_weights, "MIN_COUNT", 5)  # six small talks: thirty chapter openings
    for seed in range(6):
        write_case(tmp_path, f"case{seed}.json", seed)
    model = fit_weights.fit_cues(fit_weights.load_cases(tmp_path))
    assert model.weights["at:all right what"] > 0
    opening = model.score(["it has a colour", "All right, what about the next bit?", "and then it moves"])
    assert opening[1] > opening[0] and opening[1] > opening[2]
