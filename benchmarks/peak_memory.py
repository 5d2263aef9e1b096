"""Peak memory of `python -m chaptan chapter` on a 1-hour input (target: < 1.5 GB RSS).

The hour is a few minutes of TTS speech looped into an AAC .m4a with PyAV (an hour of TTS would
take longer than the benchmark). The peak is ru_maxrss of the chaptan subprocess, the only child.
Run by hand: python benchmarks/peak_memory.py [--minutes 60]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from media_factory import SAMPLE_RATE, TOPICS, speak  # noqa: E402


def looped_m4a(path: Path, minutes: float) -> float:
    """Loop the spoken topics into `path` until it lasts `minutes`, encoding as it goes."""
    audio, _ = speak(TOPICS)
    target = int(minutes * 60 * SAMPLE_RATE)
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream("aac", rate=SAMPLE_RATE, layout="mono")
        written = 0
        while written < target:
            for start in range(0, audio.shape[0], SAMPLE_RATE):
                block = audio[None, start:start + SAMPLE_RATE]
                frame = av.AudioFrame.from_ndarray(block, format="s16", layout="mono")
                frame.sample_rate, frame.pts, frame.time_base = SAMPLE_RATE, written, Fraction(1, SAMPLE_RATE)
                out.mux(stream.encode(frame))
                written += block.shape[1]
        out.mux(stream.encode(None))
    return written / SAMPLE_RATE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        audio = Path(tmp) / "hour.m4a"
        seconds = looped_m4a(audio, args.minutes)
        print(f"input: {seconds / 60:.1f} min, {audio.stat().st_size / 1e6:.1f} MB", flush=True)
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "chaptan", "chapter", str(audio), "--generator", "local",
                        "--format", "json", "-o", str(Path(tmp) / "chapters.json")],
                       check=True, env=env, cwd=ROOT)
        wall = time.perf_counter() - start
        chapters = (Path(tmp) / "chapters.json").read_text().count('"title"')
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    print(f"peak RSS {peak_kib / 1024**2:.2f} GiB ({peak_kib * 1024 / 1e9:.2f} GB, target < 1.5 GB); "
          f"{wall:.0f} s wall, {seconds / wall:.1f}x real time, {chapters} chapters")


if __name__ == "__main__":
    main()
