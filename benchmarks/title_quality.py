"""Score the titler alone: title each creator's TRUE chapter spans and compare with their titles.

    python benchmarks/title_quality.py [SET_DIR ...] [--per-group N] [--pairs N]

Boundary errors are left out: every true chapter [start, next start) is titled with
`title_for_span`, its earlier neighbours' titles as `avoid`, as chaptan.chapters.rules.enforce does,
and scored with ../shared/eval/score.py's titleF1 (word overlap; CJK by character bigrams). The
baseline in the same run is the eval kit's own (../shared/eval/baselines.py: the span's first six
words). The titler learns nothing from the eval cases, so no refitting per channel is needed.
Prints one row per channel, then the means over long videos and over short clips; `--pairs N`
prints N (creator, ours) title pairs per channel to compare them by eye.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from chapter_quality import load_module  # noqa: E402
from fit_weights import DEFAULT_SETS, Case, load_cases  # noqa: E402

from chaptan.chapters.titles import title_for_span  # noqa: E402


def true_spans(case: Case) -> list[tuple[float, float, str]]:
    chapters = sorted(case.truth["chapters"], key=lambda c: float(c["start"]))
    starts = [float(c["start"]) for c in chapters]
    ends = starts[1:] + [float(case.truth["duration"])]
    return [(a, b, c["title"]) for a, b, c in zip(starts, ends, chapters)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sets", nargs="*", type=Path, default=list(DEFAULT_SETS))
    parser.add_argument("--per-group", type=int, default=0, help="score only N videos per channel")
    parser.add_argument("--pairs", type=int, default=0, help="print N title pairs per channel")
    args = parser.parse_args()
    eval_dir = args.sets[0].parent
    scorer = load_module(eval_dir / "score.py", "chapter_score")
    baselines = load_module(eval_dir / "baselines.py", "chapter_baselines")
    groups: dict[str, list[Case]] = defaultdict(list)
    for case in load_cases(*args.sets):
        if not args.per_group or len(groups[case.group]) < args.per_group:
            groups[case.group].append(case)
    scores: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    spent = 0.0
    for name, members in groups.items():
        pairs = []
        for case in members:
            ours, baseline, titles = [], [], []
            began = time.perf_counter()
            for start, end, truth in true_spans(case):
                title = title_for_span(case.transcript, start, end, avoid=titles)
                titles.append(title)
                ours.append(scorer.tok_f1(truth, title))
                baseline.append(scorer.tok_f1(truth, baselines.title_for(case.truth, start, end)))
                pairs.append((truth, title))
            spent += time.perf_counter() - began
            scores[name]["ours"].append(statistics.mean(ours))
            scores[name]["baseline"].append(statistics.mean(baseline))
        for truth, title in pairs[:args.pairs]:
            print(f"  {name[:14]:14}  {truth[:50]:50} | {title}")
    print(f"{'group':24} {'videos':>6} {'ours':>7} {'first6':>7}")
    for short in (False, True):
        names = [n for n in groups if (n == "short clips") == short]
        for name in names:
            s = scores[name]
            print(f"{name[:24]:24} {len(s['ours']):6} {statistics.mean(s['ours']):7.3f} "
                  f"{statistics.mean(s['baseline']):7.3f}")
        if names:
            ours = [v for n in names for v in scores[n]["ours"]]
            base = [v for n in names for v in scores[n]["baseline"]]
            label = "mean, short clips" if short else "mean, long videos"
            print(f"{label:24} {len(ours):6} {statistics.mean(ours):7.3f} {statistics.mean(base):7.3f}")
    print(f"titling took {spent:.1f} s")


if __name__ == "__main__":
    main()
