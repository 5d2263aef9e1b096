"""Fit the local generator's learned parts on eval cases: the spoken-cue weights
(chaptan/chapters/cue_weights.json) and the chapter-count law (chaptan/chapters/count.py).

    python benchmarks/fit_weights.py [SET_DIR ...]

Each SET_DIR holds transcripts with their creators' chapters (default: every set in
../shared/eval: chapters-dev, chapters-multi and chapters-zh). Every segment start is an example:
positive when a creator's chapter starts within 3 s of it.
- cues: an L2-regularised logistic regression on the function-word n-grams, questions and pauses
  around each start (chaptan.chapters.cues), fitted on every case (in Japanese and Chinese only the
  questions, sentence ends and pauses are seen). N-grams seen at fewer than MIN_COUNT
  starts are left out, as are weights too small to matter, which keeps the shipped file small.
- count: chapters ≈ scale · duration^power, least squares in log-log space, each channel weighted
  alike so that the 75 Lex Fridman interviews do not decide it for everyone.
- curves: how much each dissimilarity curve and the cues count (chaptan.chapters.local.CurveWeights),
  a logistic regression on every start's curves and cue log-odds. Each video's cue log-odds and
  windows come from the cue model and count law fitted without its channel, as a new creator's
  would: in-sample cue scores would look surer than they are. This needs every video's sentence
  embeddings: `--cache DIR` keeps them, and the held-out cue models, for the next run.

Judge them by `python benchmarks/chapter_quality.py`, which refits all three without the channel scored.
Needs scikit-learn.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from chaptan.chapters.count import CountModel  # noqa: E402
from chaptan.chapters.cues import WEIGHTS_FILE as CUE_WEIGHTS_FILE  # noqa: E402
from chaptan.chapters.cues import CueModel, boundary_features  # noqa: E402
from chaptan.chapters.embedding import embed_texts  # noqa: E402
from chaptan.chapters.local import CurveWeights, LocalChapterer, pauses_before, segment_views, spoken_segments  # noqa: E402
from chaptan.transcript import Transcript  # noqa: E402

EVAL = REPO.parent / "shared" / "eval"
DEFAULT_SETS = (EVAL / "chapters-dev", EVAL / "chapters-multi", EVAL / "chapters-zh")
TOLERANCE_SECONDS = 3.0
MIN_COUNT = 50
REGULARISATION = 0.02  # scikit-learn's C: strong, because the positives are few and the n-grams many
SMALLEST_WEIGHT = 0.005
# The curve weights' regression has 7 inputs and some 400,000 starts: scikit-learn's default.
CURVE_REGULARISATION = 1.0
SHORT_CLIPS = "short clips"


class Case:
    """One eval video: its spoken segments, the starts of its creator's chapters, and its channel."""

    def __init__(self, path: Path) -> None:
        self.name = path.name
        self.set = path.parent.name
        self.truth = json.loads(path.read_text(encoding="utf-8"))
        self.transcript = Transcript.from_dict(self.truth)
        self.starts, self.texts = spoken_segments(self.transcript)
        self.pauses = pauses_before(self.transcript)
        # The short clips come from 60 channels: they count as one group, as the README says.
        self.group = SHORT_CLIPS if self.truth.get("channel_id") else (
            self.truth.get("channel") or ("The Coding Train" if self.set == "chapters-dev" else self.set))
        self.short = self.group == SHORT_CLIPS
        chapter_starts = np.array([c["start"] for c in self.truth["chapters"] if c["start"] > 0])
        if len(chapter_starts) == 0 or len(self.starts) == 0:
            self.labels = np.zeros(len(self.starts))
        else:
            nearest = np.abs(self.starts[:, None] - chapter_starts[None, :]).min(axis=1)
            self.labels = (nearest <= TOLERANCE_SECONDS).astype(float)


    @cached_property
    def cue_features(self) -> list[set[str]]:
        """The cue model's features at each segment start, computed once: every fold reads them."""
        return boundary_features(self.texts, self.pauses)


def load_cases(*set_dirs: Path) -> list[Case]:
    return [Case(path) for folder in set_dirs for path in sorted(Path(folder).glob("*.json"))]


def fit_cues(cases: Sequence[Case]) -> CueModel:
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    features = [found for case in cases for found in case.cue_features]
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


def fit_count(cases: Sequence[Case], base: CountModel | None = None) -> CountModel:
    """The count law fitted on `cases`, every channel weighted alike; other settings from `base`."""
    base = base or CountModel()
    groups = Counter(c.group for c in cases)
    x = np.log([max(c.truth["duration"], 1.0) for c in cases])
    y = np.log([len(c.truth["chapters"]) for c in cases])
    w = np.array([1.0 / groups[c.group] for c in cases])
    power, intercept = np.polyfit(x, y, 1, w=np.sqrt(w))
    return CountModel(**{**base.__dict__, "scale": float(np.exp(intercept)), "power": float(power)})


def cached_embeddings(case: Case, cache: Path | None) -> np.ndarray:
    if cache is None:
        return embed_texts(case.texts)
    path = cache / case.set / (Path(case.name).stem + ".npy")
    if path.exists():
        rows = np.load(path).astype(np.float32)
        if len(rows) == len(case.texts):
            return rows
    rows = embed_texts(case.texts)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, rows.astype(np.float16))
    return rows


def held_out_cues(group: str, others: Sequence[Case], cache: Path | None) -> CueModel:
    """Cue weights fitted without `group`, kept in the cache folder (a fit takes a minute or two)."""
    path = cache / f"cues-without-{group.replace(' ', '_').replace('/', '_')}.json" if cache else None
    if path is not None and path.exists():
        return CueModel.from_file(path)
    cues = fit_cues(others)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        cues.save(path)
    return cues


@dataclass(frozen=True)
class HeldOut:
    """A video as a creator nobody fitted on would see it: the cue model and count law fitted
    without its channel, its sentence embeddings, and what they make of each start."""
    case: Case
    cues: CueModel
    count: CountModel
    vectors: np.ndarray
    curves: np.ndarray
    cue_scores: np.ndarray

    def chapterer(self, weights: CurveWeights) -> LocalChapterer:
        return LocalChapterer(self.cues, self.count, embed=lambda _texts: self.vectors, weights=weights)


def held_out(cases: Sequence[Case], cache: Path | None, base: CountModel | None = None) -> list[HeldOut]:
    videos = []
    for group in dict.fromkeys(c.group for c in cases):
        others = [c for c in cases if c.group != group]
        cues, count = held_out_cues(group, others, cache), fit_count(others, base)
        for case in (c for c in cases if c.group == group):
            vectors = cached_embeddings(case, cache)
            views = segment_views(case.texts, vectors, case.transcript.language)
            curves = LocalChapterer(cues, count).curves(case.transcript, case.starts, views)
            videos.append(HeldOut(case, cues, count, vectors, curves, cues.score(case.texts, case.pauses)))
    return videos


def fit_curve_weights(videos: Sequence[HeldOut]) -> CurveWeights:
    from sklearn.linear_model import LogisticRegression

    inputs = np.vstack([np.vstack([v.curves, v.cue_scores - v.cue_scores.mean()]).T for v in videos])
    labels = np.concatenate([v.case.labels for v in videos])
    coef = LogisticRegression(C=CURVE_REGULARISATION, max_iter=2000).fit(inputs, labels).coef_[0]
    # A curve that ran against the starts would only be noise that the fit cancels: it gets none.
    curves = np.maximum(coef[:-1], 0.0)
    total = float(curves.sum())
    return CurveWeights(tuple(round(float(w) / total, 3) for w in curves), round(float(coef[-1]) / total, 3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sets", nargs="*", type=Path, default=list(DEFAULT_SETS))
    parser.add_argument("--cues-output", type=Path, default=CUE_WEIGHTS_FILE)
    parser.add_argument("--cache", type=Path, help="folder for the videos' sentence embeddings")
    args = parser.parse_args()
    cases = load_cases(*args.sets)
    if not cases:
        raise SystemExit(f"no eval cases in {', '.join(map(str, args.sets))}")
    positives = int(sum(case.labels.sum() for case in cases))
    print(f"{len(cases)} videos: {sum(len(c.texts) for c in cases)} segment starts, "
          f"{positives} near a chapter start")
    cues = fit_cues(cases)
    cues.save(args.cues_output)
    print(f"cues: {len(cues.weights)} weights -> {args.cues_output}")
    count = fit_count(cases)
    print(f"count: chapters = {count.scale:.3f} * duration^{count.power:.3f} (set these in count.py)")
    weights = fit_curve_weights(held_out(cases, args.cache))
    print(f"curves: {weights} (set these in chaptan/chapters/local.py)")


if __name__ == "__main__":
    main()
