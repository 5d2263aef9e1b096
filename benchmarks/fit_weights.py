"""Fit the local generator's learned weights on eval cases: the spoken-cue weights
(chaptan/chapters/cue_weights.json) and the opening weights (chaptan/chapters/opening_weights.json).

    python benchmarks/fit_weights.py [TRUTH_DIR]

TRUTH_DIR holds transcripts with their creators' chapters (default ../shared/eval/chapters-dev).
Every segment start is an example: positive when a creator's chapter starts within 3 s of it.
Two L2-regularised logistic regressions learn from them:
- cues: the function-word n-grams around the start (chaptan.chapters.cues). N-grams seen at fewer
  than MIN_COUNT starts are left out, as are weights too small to matter, which keeps the shipped
  file small.
- openings: the MiniLM embeddings of the segment and of the speech around it
  (chaptan.chapters.openings); the embeddings take a minute or so for the 54 eval videos.

The weights are fitted on the same videos the quality benchmark scores, so judge them by
`python benchmarks/chapter_quality.py --folds 6`, which refits them without each held-out video.
Needs scikit-learn (installed with sentence-transformers).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from chaptan.chapters.cues import WEIGHTS_FILE as CUE_WEIGHTS_FILE  # noqa: E402
from chaptan.chapters.cues import CueModel, boundary_features  # noqa: E402
from chaptan.chapters.local import embed_segments, spoken_segments  # noqa: E402
from chaptan.chapters.openings import WEIGHTS_FILE as OPENING_WEIGHTS_FILE  # noqa: E402
from chaptan.chapters.openings import OpeningModel, opening_features  # noqa: E402
from chaptan.transcript import Transcript  # noqa: E402

DEFAULT_TRUTH = REPO.parent / "shared" / "eval" / "chapters-dev"
TOLERANCE_SECONDS = 3.0
MIN_COUNT = 50
REGULARISATION = 0.02  # scikit-learn's C: strong, because the positives are few and the n-grams many
# Milder for the openings: 1,920 dense features, each a coordinate of a unit vector.
OPENING_REGULARISATION = 0.1
SMALLEST_WEIGHT = 0.005


class Case:
    """One eval video: its spoken segments and the starts of its creator's chapters."""

    def __init__(self, path: Path) -> None:
        self.name = path.name
        self.truth = json.loads(path.read_text(encoding="utf-8"))
        self.transcript = Transcript.from_dict(self.truth)
        self.starts, self.texts = spoken_segments(self.transcript)
        chapter_starts = np.array([c["start"] for c in self.truth["chapters"] if c["start"] > 0])
        if len(chapter_starts) == 0 or len(self.starts) == 0:
            self.labels = np.zeros(len(self.starts))
        else:
            nearest = np.abs(self.starts[:, None] - chapter_starts[None, :]).min(axis=1)
            self.labels = (nearest <= TOLERANCE_SECONDS).astype(float)

    @cached_property
    def embeddings(self) -> np.ndarray:
        """MiniLM rows of the spoken segments, computed once: every fold's fit reads them."""
        return embed_segments(self.texts)


def load_cases(truth_dir: Path) -> list[Case]:
    return [Case(path) for path in sorted(truth_dir.glob("*.json"))]


def fit_openings(cases: Sequence[Case]) -> OpeningModel:
    from sklearn.linear_model import LogisticRegression

    features = np.vstack([opening_features(case.starts, case.embeddings) for case in cases])
    labels = np.concatenate([case.labels for case in cases])
    model = LogisticRegression(C=OPENING_REGULARISATION, max_iter=5000).fit(features, labels)
    return OpeningModel(model.coef_[0].copy(), float(model.intercept_[0]))


def fit_cues(cases: Sequence[Case]) -> CueModel:
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    features = [found for case in cases for found in boundary_features(case.texts)]
    labels = np.concatenate([case.labels for case in cases])
    counts = Counter(f for found in features for f in found)
    vocabulary = {f: i for i, f in enumerate(sorted(f for f, n in counts.items() if n >= MIN_COUNT))}
    rows, cols = [], []
    for row, found in enumerate(features):
        for f in found:
            if f in vocabulary:
                rows.append(row)
                cols.append(vocabulary[f])
    matrix = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(features), len(vocabulary)))
    model = LogisticRegression(C=REGULARISATION, max_iter=5000).fit(matrix, labels)
    weights = {f: float(model.coef_[0][i]) for f, i in vocabulary.items()
               if abs(model.coef_[0][i]) >= SMALLEST_WEIGHT}
    return CueModel(weights, float(model.intercept_[0]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("truth_dir", nargs="?", type=Path, default=DEFAULT_TRUTH)
    parser.add_argument("--cues-output", type=Path, default=CUE_WEIGHTS_FILE)
    parser.add_argument("--openings-output", type=Path, default=OPENING_WEIGHTS_FILE)
    args = parser.parse_args()
    cases = load_cases(args.truth_dir)
    if not cases:
        raise SystemExit(f"no eval cases in {args.truth_dir}")
    positives = int(sum(case.labels.sum() for case in cases))
    print(f"{len(cases)} videos: {sum(len(c.texts) for c in cases)} segment starts, "
          f"{positives} near a chapter start")
    cues = fit_cues(cases)
    cues.save(args.cues_output)
    print(f"cues: {len(cues.weights)} weights -> {args.cues_output}")
    openings = fit_openings(cases)
    openings.save(args.openings_output)
    print(f"openings: {len(openings.weights)} weights -> {args.openings_output}")


if __name__ == "__main__":
    main()
