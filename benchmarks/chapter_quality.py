"""Score the local chapter generator channel-held-out, beside TextTiling and uniform baselines.

    python benchmarks/chapter_quality.py [SET_DIR ...] [--cache DIR] [--per-group N] [--shipped]

SET_DIRs default to every set in ../shared/eval (chapters-dev, chapters-multi, chapters-zh). Each
video is chaptered as the app does it (local generator, then YouTube's rules), with the cue weights,
the chapter-count law and the curve weights refitted without the video's channel (the short clips
count as one group): the figure to expect for a creator nobody fitted on. `--shipped` uses the shipped weights
instead (in-sample, flattering). The two baselines of ../shared/eval/baselines.py, TextTiling and a
chapter every 90 s, are scored in the same run.

Prints one row per channel, then the means over long videos and over short clips, and the time
spent chaptering. `--cache DIR` keeps each video's sentence embeddings there (the first run over all
sets embeds about 19 million characters, some ten minutes on one core) and the held-out cue
weights (delete them after changing the cue features); `--per-group N` scores only
the first N videos of each channel, for a quick look.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fit_weights import DEFAULT_SETS, Case, cached_embeddings, fit_curve_weights, held_out, load_cases  # noqa: E402

from chaptan.chapters import ChapterOptions  # noqa: E402
from chaptan.chapters.count import shipped_count  # noqa: E402
from chaptan.chapters.cues import shipped_model  # noqa: E402
from chaptan.chapters.local import LocalChapterer, title_for_span  # noqa: E402
from chaptan.chapters.rules import enforce  # noqa: E402

METRICS = ("F1@5s", "segF1(IoU.5-.95)", "titleF1", "count_ratio", "youtube_valid")
# The CountModel settings a run can override.
COUNT_FIELDS = ("clear_peak", "step_peak", "weak_peak", "spacing")
SHORT_NAMES = {"F1@5s": "F1@5s", "segF1(IoU.5-.95)": "segF1", "titleF1": "titleF1",
               "count_ratio": "count", "youtube_valid": "valid"}


def load_module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def chapter(case: Case, chapterer: LocalChapterer) -> dict:
    chapters = enforce(chapterer.propose(case.transcript, ChapterOptions()), case.transcript,
                       ChapterOptions(), title_for_span)
    return {"chapters": [{"start": c.start, "title": c.title} for c in chapters]}


def baseline(case: Case, baselines: ModuleType, method: str) -> dict:
    starts = baselines.texttiling(case.truth) if method == "texttiling" else baselines.uniform(case.truth)
    ends = starts[1:] + [case.truth["duration"]]
    return {"chapters": [{"start": a, "title": baselines.title_for(case.truth, a, b)}
                         for a, b in zip(starts, ends)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sets", nargs="*", type=Path, default=list(DEFAULT_SETS))
    parser.add_argument("--cache", type=Path, help="folder for the videos' sentence embeddings")
    parser.add_argument("--per-group", type=int, default=0, help="score only N videos per channel")
    parser.add_argument("--shipped", action="store_true", help="shipped weights (in-sample)")
    parser.add_argument("--no-baselines", action="store_true")
    for field in COUNT_FIELDS:
        parser.add_argument(f"--{field.replace('_', '-')}", type=float, help=f"override CountModel.{field}")
    args = parser.parse_args()
    cases = load_cases(*args.sets)
    if not cases:
        raise SystemExit("no eval cases")
    eval_dir = args.sets[0].parent
    scorer = load_module(eval_dir / "score.py", "chapter_score")
    baselines = load_module(eval_dir / "baselines.py", "chapter_baselines")
    overrides = {k: v for k in COUNT_FIELDS if (v := getattr(args, k)) is not None}
    base_count = replace(shipped_count(), **overrides)
    groups: dict[str, list[Case]] = defaultdict(list)
    for case in cases:
        groups[case.group].append(case)
    scored = [c for g in groups.values() for c in (g[:args.per_group] if args.per_group else g)]
    rows: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    videos = {} if args.shipped else {id(v.case): v for v in held_out(cases, args.cache, base_count)}
    spent = 0.0
    for name, members in groups.items():
        if not args.shipped:
            weights = fit_curve_weights([v for v in videos.values() if v.case.group != name])
            print(f"... curve weights without {name}: {weights}", file=sys.stderr, flush=True)
        for case in members:
            if case not in scored:
                continue
            if args.shipped:
                vectors = cached_embeddings(case, args.cache)
                chapterer = LocalChapterer(shipped_model(), base_count, embed=lambda _texts, v=vectors: v)
            else:
                chapterer = videos[id(case)].chapterer(weights)
            began = time.perf_counter()
            prediction = chapter(case, chapterer)
            spent += time.perf_counter() - began
            rows[name]["ours"].append(scorer.score_one(case.truth, prediction))
            if not args.no_baselines:
                for method in ("texttiling", "uniform"):
                    rows[name][method].append(scorer.score_one(case.truth, baseline(case, baselines, method)))
        print(f"... {name}: {len(rows[name]['ours'])} videos", file=sys.stderr, flush=True)
    report(rows, {c.group: c.short for c in cases}, args.no_baselines)
    print(f"\nchaptering {spent:.1f} s for {len(scored)} videos "
          f"({'shipped weights, in-sample' if args.shipped else 'channel-held-out'})")


def report(rows: dict[str, dict[str, list[dict]]], short: dict[str, bool], no_baselines: bool) -> None:
    methods = ["ours"] + ([] if no_baselines else ["texttiling", "uniform"])
    header = f"{'group':24s} {'n':>4s} " + " ".join(f"{SHORT_NAMES[m]:>7s}" for m in METRICS)
    if not no_baselines:
        header += "   TT F1@5s segF1   U90 F1@5s segF1"
    print(header)

    def line(label: str, parts: dict[str, list[dict]]) -> str:
        ours = parts["ours"]
        text = f"{label[:24]:24s} {len(ours):4d} " + " ".join(
            f"{statistics.mean(r[m] for r in ours):7.3f}" for m in METRICS)
        for method in methods[1:]:
            text += "   " + " ".join(f"{statistics.mean(r[m] for r in parts[method]):5.3f}"
                                     for m in ("F1@5s", "segF1(IoU.5-.95)")) + "     "
        return text

    for name in sorted(rows, key=lambda n: (short[n], n)):
        print(line(name, rows[name]))
    for label, wanted in (("ALL LONG (mean of videos)", False), ("ALL SHORT CLIPS", True)):
        merged = {m: [r for n in rows if short[n] == wanted for r in rows[n][m]] for m in methods}
        if merged["ours"]:
            print(line(label, merged))
    long_groups = [n for n in rows if not short[n]]
    if long_groups:
        worst = min(long_groups,
                    key=lambda n: statistics.mean(r["segF1(IoU.5-.95)"] for r in rows[n]["ours"]))
        print(f"weakest long group by segF1: {worst}")


if __name__ == "__main__":
    main()
