"""Celery workers: throughput with 1 and 2 workers, and the cost of going through the broker.

    python benchmarks/celery_workers.py [--videos 8] [--seconds 120]

Needs redis-server on PATH. Makes `--videos` spoken videos of about `--seconds` each (Piper), then:
1. in-process: one video chaptered by the app's own runner (no broker), the process pinned to one
   core like the worker it is compared with; the median of three runs;
2. the same video through Celery with one pinned worker (median of three): the overhead is (2 - 1) / 1;
3. all videos with 1 worker, then with 2 workers, each worker pinned to its own core:
   the wall time ratio.
Everything runs on this machine in one go, so the ratios compare like with like.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from chaptan.videos import Requester  # noqa: E402
from tests.app_harness import ALICE, running_app  # noqa: E402
from tests.media_factory import SIX_TOPICS, TOPICS, spoken_video  # noqa: E402
from tests.test_workers import Redis, Workers  # noqa: E402


def make_videos(folder: Path, count: int, seconds: float) -> list[Path]:
    paragraphs = [*TOPICS, *(text for _, text in SIX_TOPICS)]
    videos = []
    for number in range(count):
        picked, length = [], 0.0
        for offset in range(len(paragraphs)):
            picked.append(paragraphs[(number + offset) % len(paragraphs)])
            length += len(picked[-1]) / 15.0  # Piper speaks about 15 characters a second
            if length >= seconds:
                break
        videos.append(spoken_video(folder / f"talk-{number}.mp4", tuple(picked)).path)
    return videos


def run_jobs(app, videos: list[Path], scratch: Path) -> float:
    """Wall seconds from submitting every video to the last one done."""
    library = app.services.library
    started = time.monotonic()
    ids = []
    for video in videos:
        upload = scratch / f"upload-{time.monotonic_ns()}{video.suffix}"
        shutil.copyfile(video, upload)
        ids.append(library.submit(Requester(ALICE[0]), upload, title=video.stem, generator="local").id)
    for job_id in ids:
        job = app.services.runner.wait(job_id, timeout=7200)
        assert job.status == "done", job.error
    return time.monotonic() - started


def pin_this_process(cores: set[int]) -> None:
    """Pin every thread of this process (the in-process runner's model threads too), so the
    in-process figure runs on one core like the pinned worker it is compared with."""
    for thread in Path("/proc/self/task").iterdir():
        os.sched_setaffinity(int(thread.name), cores)


def pinned_workers(redis: Redis, data: Path, count: int) -> Workers:
    """`count` workers, each with every process of its group (Celery's prefork pool forks the
    process that runs the jobs) pinned to a core of its own."""
    pool = Workers(redis, data)
    pool.start(count)
    for core, worker in enumerate(pool.processes):
        group = subprocess.run(["ps", "-o", "pid=", "-g", str(worker.pid)], capture_output=True, text=True)
        for pid in group.stdout.split():
            for thread in Path(f"/proc/{pid}/task").iterdir():
                os.sched_setaffinity(int(thread.name), {core % os.cpu_count()})
    return pool


def median_of(runs: int, measure) -> float:
    return statistics.median(measure() for _ in range(runs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--videos", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=120.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="chaptan-celery-bench-") as tmp:
        tmp = Path(tmp)
        videos = make_videos(tmp, args.videos, args.seconds)
        redis = Redis(tmp)
        redis.start()
        try:
            every_core = os.sched_getaffinity(0)
            with running_app(tmp / "local") as app:
                run_jobs(app, videos[:1], tmp)  # warm the model in this process
                pin_this_process({0})
                local = median_of(3, lambda: run_jobs(app, videos[:1], tmp))
                pin_this_process(every_core)
            data = tmp / "celery"
            with running_app(data, broker_url=redis.url) as app:
                pool = pinned_workers(redis, data, 1)
                try:
                    run_jobs(app, videos[:1], tmp)  # the worker's first job loads its chapter model
                    remote = median_of(3, lambda: run_jobs(app, videos[:1], tmp))
                    one = run_jobs(app, videos, tmp)
                finally:
                    pool.stop()
                pool = pinned_workers(redis, data, 2)
                try:
                    run_jobs(app, videos[:4], tmp)  # each worker loads its chapter model
                    two = run_jobs(app, videos, tmp)
                finally:
                    pool.stop()
        finally:
            redis.stop()
    print(f"one video in-process          {local:8.1f} s")
    print(f"one video through Celery      {remote:8.1f} s   overhead {100 * (remote - local) / local:+.1f}%")
    print(f"{args.videos} videos, 1 worker          {one:8.1f} s")
    print(f"{args.videos} videos, 2 workers         {two:8.1f} s   speed-up {one / two:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
