"""Sign-in flood against the real app: what wrong passwords from changing addresses cost everyone
else (run by hand).

    python benchmarks/sign_in_flood.py [--rate 22] [--seconds 10]

A signed-in user asks for /config (a light request) in a loop, first alone, then while attackers post
wrong passwords at `--rate` sign-ins a second, each from a new address in a new /24 (so no address or
range throttling applies and every attempt is hashed). Reports the user's p50 and p95 latency both
ways, and how many sign-ins the app answered.
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

from tests.app_harness import ALICE, running_app  # noqa: E402


def latencies(session, seconds: float) -> list[float]:
    out, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        start = time.perf_counter()
        assert session.get("/config").status_code == 200
        out.append((time.perf_counter() - start) * 1000)
        time.sleep(0.02)
    return out


def flood(app, rate: float, stop: threading.Event, answered: list[int]) -> None:
    session = app.http(None)
    number = 0
    while not stop.is_set():
        number += 1
        address = f"10.{number // 250 % 250}.{number % 250}.1"
        session.post("/login", data={"username": f"guess{number}", "password": "wrong"},
                     headers={"X-Forwarded-For": address})
        answered.append(1)
        time.sleep(max(0.0, 1 / rate))


def summary(name: str, values: list[float]) -> str:
    p95 = statistics.quantiles(values, n=20)[-1]
    return f"{name}: p50 {statistics.median(values):.0f} ms, p95 {p95:.0f} ms ({len(values)} requests)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=22.0, help="sign-ins a second, all attackers together")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, running_app(Path(folder)) as app:
        user = app.http(ALICE)
        print(summary("alone", latencies(user, args.seconds)))
        stop, answered, attackers = threading.Event(), [], []
        for _ in range(4):  # each posts at a quarter of the rate, as a sign-in takes a while
            thread = threading.Thread(target=flood, args=(app, args.rate / 4, stop, answered), daemon=True)
            thread.start()
            attackers.append(thread)
        flooded = latencies(user, args.seconds)
        stop.set()
        for thread in attackers:
            thread.join()
        print(summary(f"during {args.rate:g} sign-ins/s", flooded))
        print(f"sign-ins answered: {len(answered)} ({len(answered) / args.seconds:.1f}/s)")


if __name__ == "__main__":
    main()
