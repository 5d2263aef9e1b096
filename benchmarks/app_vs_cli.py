"""Is the app's own job as fast as the CLI? (target: upload to chapters within 10 % of the CLI on
the same file)

    python benchmarks/app_vs_cli.py [--minutes 2] [--rounds 2]

Makes a video of TTS speech (as benchmarks/pipeline_speed.py does), starts the real app in this
process (tests/app_harness.py: a temporary data dir, a free port), then alternates, per round:
  CLI: python -m chaptan chapter VIDEO --generator local, a fresh subprocess (imports, model load)
  app: the upload through gradio_client's /chapter_video (language auto, local generator) until the
       chapters come back, as the app's user waits for them
The CLI row uses the same language (auto) and generator. Before the rounds the app's models are
warmed as app.py does at start (chaptan.pipeline.warm_up in the background), so its jobs find them
loaded, as a user's upload after start does. CPU seconds are this process's (the app, its worker
thread and the client polling it) plus its children's (ffmpeg, the CLI) during each row: on a
shared machine they move far less than the wall time. The best round of each is reported.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]
os.environ["HF_HUB_OFFLINE"] = "1"  # the app here and the CLI: bundled models only

from app_harness import ALICE, chapter_through_api, running_app  # noqa: E402
from pipeline_speed import long_video  # noqa: E402

from chaptan.pipeline import warm_up  # noqa: E402


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(run) -> tuple[float, float]:
    """(wall, CPU) seconds of `run()`."""
    cpu, start = cpu_seconds(), time.perf_counter()
    run()
    return time.perf_counter() - start, cpu_seconds() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "talk.mp4"
        seconds = long_video(video, args.minutes)
        print(f"input: {seconds / 60:.1f} min of speech, {video.stat().st_size / 1e6:.1f} MB", flush=True)
        cli = [sys.executable, "-m", "chaptan", "chapter", str(video), "--generator", "local",
               "--format", "json", "-o", str(Path(tmp) / "chapters.json")]
        rows: dict[str, list[tuple[float, float]]] = {"CLI": [], "app": []}
        with running_app(Path(tmp) / "data") as app:
            warm_up(app.services.transcriber).join()
            for round_number in range(1, args.rounds + 1):
                for name, run in (("CLI", lambda: subprocess.run(cli, check=True, cwd=ROOT,
                                                                 stdout=subprocess.DEVNULL)),
                                  ("app", lambda: chapter_through_api(app, ALICE, video))):
                    wall, cpu = timed(run)
                    rows[name].append((wall, cpu))
                    print(f"round {round_number}: {name:4s} {wall:6.1f} s wall {cpu:6.1f} s CPU", flush=True)
    (cli_wall, cli_cpu), (app_wall, app_cpu) = min(rows["CLI"]), min(rows["app"])
    print(f"\nbest of {args.rounds} round(s): CLI {cli_wall:.1f} s wall {cli_cpu:.1f} s CPU, "
          f"app {app_wall:.1f} s wall {app_cpu:.1f} s CPU; app / CLI {app_wall / cli_wall:.2f}x wall, "
          f"{app_cpu / cli_cpu:.2f}x CPU (target <= 1.10)")


if __name__ == "__main__":
    main()
