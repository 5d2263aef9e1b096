"""Which Whisper model should a fresh install use? Compares the two choices on the same inputs:

  base:            the multilingual base (CHAPTAN_WHISPER_MODEL=base) for every language
  tiny.en + base:  the default install: tiny.en hears English, base everything else and detects

and prints, per choice: WER on ../shared/media/jfk.flac (language auto), CER on the Japanese test
speech (tests/media_factory.JA_TOPICS, Kokoro voice, auto) and the seconds to transcribe a
~10-minute English talk (Piper voice, auto, models already loaded). Run by hand:
python benchmarks/default_model.py [--minutes 10]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from media_factory import JA_TOPICS, speak_japanese, write_video  # noqa: E402
from pipeline_speed import long_video  # noqa: E402
from scoring import character_error_rate, word_error_rate  # noqa: E402

from chaptan.speech.transcribe import WhisperTranscriber  # noqa: E402

JFK = ROOT.parent / "shared" / "media" / "jfk.flac"
JFK_WORDS = ("And so my fellow Americans, ask not what your country can do for you, ask what you can "
             "do for your country.")
CHOICES = {"base": "base", "tiny.en + base": ""}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        japanese = write_video(Path(tmp) / "japanese.mp4", speak_japanese())
        talk = Path(tmp) / "talk.mp4"
        seconds = long_video(talk, args.minutes)
        print(f"inputs: jfk.flac, {japanese.name}, talk.mp4 ({seconds / 60:.1f} min)", flush=True)
        for label, model in CHOICES.items():
            transcriber = WhisperTranscriber(model)
            transcriber.warm_up()
            jfk = transcriber.transcribe(JFK)
            ja = transcriber.transcribe(japanese)
            start = time.perf_counter()
            long = transcriber.transcribe(talk)
            took = time.perf_counter() - start
            print(f"{label:15s} jfk WER {word_error_rate(JFK_WORDS, jfk.text):.3f} ({jfk.language})  "
                  f"Japanese CER {character_error_rate(''.join(JA_TOPICS), ja.text):.3f} ({ja.language})  "
                  f"10-min English {took:.0f} s ({seconds / took:.1f}x real time, {long.language})",
                  flush=True)


if __name__ == "__main__":
    main()
