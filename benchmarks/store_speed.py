"""Does the database stay fast with a big library? (targets: a job state change <= 5 ms, the
`/list_videos` listing p95 <= 50 ms while two jobs report progress)

Fills a fresh data dir with 50 users and 1000 jobs (each finished one with a chapter version, three
mirrored artifacts and every user with a chat memory, as an S3-mirrored install has), then times:
  state change:  Store.update_job(status=...) on one job, back and forth
  listing:       what /list_videos does for one user (VideoLibrary.jobs + summary + JSON), while two
                 threads report progress through ProgressReporter as running jobs do
Run by hand: python benchmarks/store_speed.py [--jobs 1000] [--users 50] [--rounds 200]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chaptan.config import Settings  # noqa: E402
from chaptan.jobs.runner import ProgressReporter  # noqa: E402
from chaptan.storage.artifacts import ArtifactStore  # noqa: E402
from chaptan.storage.store import DB_FILE, Job, Store, User  # noqa: E402
from chaptan.videos import Requester, VideoLibrary  # noqa: E402

CHAPTERS = [{"start": 60.0 * i, "end": 60.0 * (i + 1), "title": f"Chapter {i + 1} of the talk"}
            for i in range(10)]
ARTIFACTS = ("source.mp4", "transcript.json", "chapters.json")


def fill(path: Path, users: int, jobs: int) -> list[str]:
    """Write the library as one database file of the single-file layout, as an install that has run
    for a while holds it (a Store opened on it moves each table into its own file first)."""
    names = [f"user{u:02d}" for u in range(users)]
    tables: dict[str, dict] = {"users": {}, "jobs": {}, "chapter_versions": {}, "doc:memory": {},
                               "doc:mirror": {}}
    for name in names:
        user = User(name, "scrypt$16384$8$1$" + "ab" * 40, email=f"{name}@example.com")
        tables["users"][name] = dataclasses.asdict(user)
        tables["doc:memory"][name] = {"messages": [{"role": "user", "content": "what was chapter 3?"},
                                                   {"role": "assistant", "content": "the budget " * 20}]}
    for i in range(jobs):
        job_id = f"{i:012x}"
        owner = names[i % users]
        job = Job(job_id, owner, title=f"Weekly meeting {i}", source_name="source.mp4", status="done",
                  stage="done", progress=1.0, created=1_700_000_000.0 + i, language="en", generator="local",
                  duration=1800.0, attempts=1)
        tables["jobs"][job_id] = dataclasses.asdict(job)
        tables["chapter_versions"][job_id] = {"versions": [
            {"number": 1, "created": 1_700_000_000.0 + i, "author": "chaptan (local)", "chapters": CHAPTERS}]}
        for name in ARTIFACTS:
            tables["doc:mirror"][f"users/{owner}/jobs/{job_id}/{name}"] = {
                "state": "done", "size": 123456, "mtime": 1_700_000_000.0, "error": "", "attempts": 0}
    path.write_text(json.dumps(tables), encoding="utf-8")
    return names


def report_progress(store: Store, job_id: str, stop: threading.Event) -> None:
    """A running job's progress reports, as the pipeline makes them (many a second, throttled)."""
    report = ProgressReporter(store, job_id)
    fraction = 0.0
    while not stop.is_set():
        fraction = (fraction + 0.001) % 1.0
        report(fraction, "transcribing")
        time.sleep(0.01)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        names = fill(data / DB_FILE, args.users, args.jobs)
        started = time.perf_counter()
        store = Store(data / DB_FILE)
        print(f"{args.users} users, {args.jobs} jobs: opened in {time.perf_counter() - started:.2f} s; "
              f"database files: {sum(p.stat().st_size for p in data.glob('*.json')) / 1e6:.1f} MB")
        library = VideoLibrary(Settings(data_dir=data), store, ArtifactStore(data))

        changes = []
        target = f"{0:012x}"
        for round_ in range(args.rounds):
            status = "running" if round_ % 2 == 0 else "done"
            began = time.perf_counter()
            store.update_job(target, status=status)
            changes.append((time.perf_counter() - began) * 1000)

        for job_id in (f"{1:012x}", f"{2:012x}"):
            store.update_job(job_id, status="running", stage="transcribing", progress=0.0)
        stop = threading.Event()
        reporters = [threading.Thread(target=report_progress, args=(store, job_id, stop), daemon=True)
                     for job_id in (f"{1:012x}", f"{2:012x}")]
        for thread in reporters:
            thread.start()
        listings = []
        requester = Requester(names[1])
        try:
            for _ in range(args.rounds):
                began = time.perf_counter()
                json.dumps([library.summary(j) for j in library.jobs(requester)], ensure_ascii=False)
                listings.append((time.perf_counter() - began) * 1000)
                time.sleep(0.005)
        finally:
            stop.set()
            for thread in reporters:
                thread.join()

        for label, times, target in (("state change", changes, "target <= 5 ms"),
                                     ("listing", listings, "target p95 <= 50 ms, 2 jobs reporting progress")):
            print(f"{label:13} median {statistics.median(times):6.1f} ms   "
                  f"p95 {percentile(times, 0.95):6.1f} ms   ({target})")


if __name__ == "__main__":
    main()
