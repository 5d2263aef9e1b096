"""How long the local chapter writer takes on one hour of speech, as the app runs it.

    python benchmarks/chapter_speed.py [CASE.json ...]

Each case (default: the first eval video of at least an hour in ../shared/eval/chapters-multi) is
cut to its first hour and chaptered end to end (embeddings, boundary scores, YouTube's rules and
titles) three times in this process: the first run includes loading the sentence encoder (and the
Japanese or Chinese segmenter where the language needs one), the others are warm. The target is
under 10 s on a 2-core laptop CPU.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from chaptan.chapters import generate_chapters  # noqa: E402
from chaptan.config import Settings  # noqa: E402
from chaptan.transcript import Transcript  # noqa: E402

HOUR = 3600.0
DEFAULT_SET = REPO.parent / "shared" / "eval" / "chapters-multi"


def first_hour(path: Path) -> Transcript:
    data = json.loads(path.read_text(encoding="utf-8"))
    data["segments"] = [s for s in data["segments"] if s["start"] < HOUR]
    data["duration"] = min(float(data["duration"]), HOUR)
    return Transcript.from_dict(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cases", nargs="*", type=Path)
    args = parser.parse_args()
    cases = args.cases or [next(p for p in sorted(DEFAULT_SET.glob("*.json"))
                                if json.loads(p.read_text(encoding="utf-8"))["duration"] >= HOUR)]
    settings = Settings.from_env()
    for path in cases:
        transcript = first_hour(path)
        times = []
        for _ in range(3):
            began = time.perf_counter()
            result = generate_chapters(transcript, generator="local", settings=settings)
            times.append(time.perf_counter() - began)
        print(f"{path.name}: {len(transcript.segments)} segments, {transcript.duration / 60:.0f} min, "
              f"{len(result.chapters)} chapters; first run {times[0]:.2f} s, warm "
              f"{min(times[1:]):.2f}-{max(times[1:]):.2f} s")


if __name__ == "__main__":
    main()
