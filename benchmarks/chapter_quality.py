"""Score the local chapter generator on a folder of eval cases (transcript + creator chapters).

    python benchmarks/chapter_quality.py [TRUTH_DIR] [--folds K]

TRUTH_DIR defaults to ../shared/eval/chapters-dev next to the repository. The chapters go
through the local generator and YouTube's rules, as in the app. Prints the scorer's table for
all cases, the means over the even- and odd-indexed halves, and the time taken.

The shipped cue and opening weights were fitted on these same videos (benchmarks/fit_weights.py),
so the plain run flatters them. With --folds K every video is chaptered with weights refitted on
the other folds only (video i is in fold i mod K): the figure to trust for unseen videos.
With K equal to the number of videos each one is held out alone (leave-one-out): the closest
estimate for the shipped weights, which are fitted on all of them, at one fit per video.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fit_weights import fit_cues, fit_openings, load_cases  # noqa: E402

from chaptan.chapters import ChapterOptions  # noqa: E402
from chaptan.chapters.local import LocalChapterer, title_for_span  # noqa: E402
from chaptan.chapters.rules import enforce  # noqa: E402

DEFAULT_TRUTH = REPO.parent / "shared" / "eval" / "chapters-dev"


def load_scorer(truth_dir: Path) -> ModuleType:
    path = truth_dir.parent / "score.py"
    spec = importlib.util.spec_from_file_location("chapter_score", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"no scorer at {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def predict_all(truth_dir: Path, out_dir: Path, folds: int) -> float:
    """Write one prediction file per case; return the seconds spent chaptering."""
    cases = load_cases(truth_dir)
    chapterers = [LocalChapterer()]
    if folds > 1:
        training = [[c for i, c in enumerate(cases) if i % folds != k] for k in range(folds)]
        chapterers = [LocalChapterer(fit_cues(part), fit_openings(part)) for part in training]
    options = ChapterOptions()
    spent = 0.0
    for i, case in enumerate(cases):
        chapterer = chapterers[i % len(chapterers)]
        began = time.perf_counter()
        proposals = chapterer.propose(case.transcript, options)
        chapters = enforce(proposals, case.transcript, options, title_for_span)
        spent += time.perf_counter() - began
        rows = [{"start": c.start, "title": c.title} for c in chapters]
        (out_dir / case.name).write_text(json.dumps({"chapters": rows}), encoding="utf-8")
    return spent


def split_means(scorer: ModuleType, files: list[Path], out_dir: Path) -> None:
    rows = [scorer.score_one(json.loads(f.read_text(encoding="utf-8")),
                             json.loads((out_dir / f.name).read_text(encoding="utf-8"))) for f in files]
    metrics = ["F1@5s", "segF1(IoU.5-.95)", "titleF1", "count_ratio", "youtube_valid"]
    print(f"\n{'half':6s} " + " ".join(f"{m:>17s}" for m in metrics))
    for name, part in (("all", rows), ("even", rows[0::2]), ("odd", rows[1::2])):
        print(f"{name:6s} " + " ".join(f"{statistics.mean(r[m] for r in part):17.3f}" for m in metrics))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("truth_dir", nargs="?", type=Path, default=DEFAULT_TRUTH)
    parser.add_argument("--folds", type=int, default=0,
                        help="refit the learned weights without each held-out fold (0: shipped weights)")
    args = parser.parse_args()
    files = sorted(args.truth_dir.glob("*.json"))
    if not files:
        raise SystemExit(f"no eval cases in {args.truth_dir}")
    scorer = load_scorer(args.truth_dir)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        out_dir = Path(tmp)
        spent = predict_all(args.truth_dir, out_dir, args.folds)
        table = io.StringIO()
        with contextlib.redirect_stdout(table):
            scorer.main(str(args.truth_dir), str(out_dir))
        print(table.getvalue(), end="")
        split_means(scorer, files, out_dir)
    if args.folds <= 1:
        print("\nIn-sample: the shipped cue and opening weights were fitted on these videos; "
              "add --folds 6 for figures that hold for unseen ones.")
    print(f"\nchaptering {spent:.2f} s for {len(files)} videos; total {time.perf_counter() - began:.2f} s")


if __name__ == "__main__":
    main()
