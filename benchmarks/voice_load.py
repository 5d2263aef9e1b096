"""Load run for the voice chat: N simulated gradio_client users talk at once (run by hand).

    python benchmarks/voice_load.py [--users 20] [--turns 2]

Each user logs in, asks typed questions about a processed video through /voice_turn, and polls
its queue position while waiting. The server counts turns in flight, so the report shows the seat
limit (CHAPTAN_SEATS, default 10) holding under load.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.app_harness import add_finished_job, running_app  # noqa: E402
from tests.media_factory import TOPICS, spoken_video  # noqa: E402
from tests.test_voice_app import CHAPTERS, transcript  # noqa: E402

QUESTIONS = ("Which planet has icy rings?", "How long does the spaghetti cook?",
             "Who may touch the ball with the hands?", "What is the hottest planet?")


class InFlight:
    """Wraps Assistant.turn to count turns running at the same moment."""

    def __init__(self, assistant):
        self.lock = threading.Lock()
        self.now = self.peak = 0
        original = assistant.turn

        def counted(*args, **kwargs):
            with self.lock:
                self.now += 1
                self.peak = max(self.peak, self.now)
            try:
                return original(*args, **kwargs)
            finally:
                with self.lock:
                    self.now -= 1

        assistant.turn = counted


def user_session(app, name: str, job_id: str, turns: int, out: dict) -> None:
    client = app.client((name, "load-password-1"))
    for i in range(turns):
        started = time.perf_counter()
        job = client.submit(None, QUESTIONS[i % len(QUESTIONS)], job_id, "", api_name="/voice_turn")
        while not job.done():
            status = job.status()
            if status.rank is not None:
                out["ranks"].append(status.rank)
            time.sleep(0.05)
        try:
            job.result()
            out["latencies"].append(time.perf_counter() - started)
        except Exception as exc:  # noqa: BLE001 - every failure is reported, not raised
            out["errors"].append(f"{name}: {exc}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--turns", type=int, default=2)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    media = spoken_video(folder / "talk.mp4", TOPICS[:1])
    with running_app(folder / "data") as app:
        owner_ids = []
        for i in range(args.users):
            name = f"user{i:02d}"
            app.services.accounts.create(name, "load-password-1")
            owner_ids.append((name, add_finished_job(app.services, name, media.path, transcript(), CHAPTERS)))
        counter = InFlight(app.services.assistant)
        out: dict = {"latencies": [], "ranks": [], "errors": []}
        threads = [threading.Thread(target=user_session, args=(app, n, j, args.turns, out))
                   for n, j in owner_ids]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
    lat = sorted(out["latencies"])
    print(f"users {args.users}, turns {len(lat)} ok, errors {len(out['errors'])}, wall {wall:.1f} s")
    print(f"turns in flight at once: peak {counter.peak} (seat limit {app.services.settings.seats})")
    if lat:
        p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))]
        print(f"turn latency: P50 {statistics.median(lat):.2f} s, P95 {p95:.2f} s, max {lat[-1]:.2f} s")
    if out["ranks"]:
        print(f"queue positions seen: max {max(out['ranks'])}, samples {len(out['ranks'])}")
    for error in out["errors"][:5]:
        print("error:", error)


if __name__ == "__main__":
    main()
