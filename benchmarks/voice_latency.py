"""Voice assistant latency on this machine: from the end of a 5-second spoken question to the first
audio chunk of the reply, through the local pipeline (Whisper hearing the question, offline
retrieval answering it, Piper speaking the first sentence).

    python benchmarks/voice_latency.py [--runs 20] [--language ja] [--during-job MEDIA]

Models load once before timing starts, as in the running app; each run then does what a turn
does. The video asked about is the three-topic talk of tests/media_factory.py, as a transcript;
with --language ja, its Japanese version (JA_TOPICS), asked in Japanese and answered by the Kokoro
voice. With --during-job, MEDIA is transcribed again and again on another thread by the same
models while the questions are asked: a question that comes in during the app's running job.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from chaptan.chapters.model import Chapter  # noqa: E402
from chaptan.chat import Assistant  # noqa: E402
from chaptan.config import Settings  # noqa: E402
from chaptan.speech.transcribe import WhisperTranscriber  # noqa: E402
from chaptan.speech.tts import VoiceRegistry  # noqa: E402
from chaptan.storage.artifacts import ArtifactStore  # noqa: E402
from chaptan.storage.store import Job, Store  # noqa: E402
from chaptan.transcript import Segment, Transcript  # noqa: E402
from chaptan.videos import TRANSCRIPT_FILE, Requester, VideoLibrary  # noqa: E402
from tests.media_factory import FOOTBALL, JA_TOPICS, PASTA, SOLAR  # noqa: E402

QUESTION_SECONDS = 5.0
USER = Requester("bench")
JOB_ID = "benchvideo1"
# (question, a word the right passage holds): the check that each timed answer is also correct.
QUESTIONS = (
    ("Which planet in the solar system has beautiful icy rings around it?", "Saturn"),
    ("How long does a football match last from the start to the end?", "ninety"),
    ("How much salt should I add to the water for the spaghetti?", "salt"),
    ("What do astronomers use to study the planets and their moons?", "telescopes"),
    ("What can the referee show to a player after a foul?", "yellow"),
)
QUESTIONS_JA = (
    ("土星には何がありますか？", "輪"),
    ("お湯に何を入れますか？", "塩"),
    ("一番大きな惑星はどれですか？", "木星"),
    ("サッカーの選手は何人ですか？", "十一人"),
    ("麺がくっつかないようにどうしますか？", "混ぜて"),
)
TITLES = {"en": ("Cooking pasta", "The solar system", "Football"), "ja": ("パスタ", "太陽系", "サッカー")}


def build_library(data_dir: Path, settings: Settings, language: str = "en") -> VideoLibrary:
    store = Store(data_dir / "chaptan.json")
    library = VideoLibrary(settings, store, ArtifactStore(data_dir))
    segments, chapters, now = [], [], 0.5
    paragraphs = JA_TOPICS if language == "ja" else (PASTA, SOLAR, FOOTBALL)
    for title, paragraph in zip(TITLES[language], paragraphs):
        chapters.append(Chapter(now, 0.0, title).to_dict())
        for sentence in re.split(r"(?<=[.。])\s*", paragraph):
            if not sentence:
                continue
            # About as long as it takes to say: 0.4 s a word, or 0.15 s a Japanese character.
            end = now + (0.15 * len(sentence) if language == "ja" else 0.4 * len(sentence.split()))
            segments.append(Segment(now, end, sentence))
            now = end + 0.3
        now += 2.0
    transcript = Transcript(language, now, tuple(segments))
    store.add_job(Job(JOB_ID, USER.name, title="Three topics", status="done", language=language,
                      duration=now))
    library.artifacts.write_text(USER.name, JOB_ID, TRANSCRIPT_FILE, json.dumps(transcript.to_dict()))
    store.add_chapter_version(JOB_ID, chapters, "bench", None)
    return library


def write_question(path: Path, voices: VoiceRegistry, text: str, language: str = "en") -> Path:
    """The question spoken by the bundled voice of `language` in a clip of exactly QUESTION_SECONDS."""
    voice = voices.for_language(language)
    speech = np.asarray(voice.synthesize(text), dtype=np.int16)
    length = int(QUESTION_SECONDS * voice.sample_rate)
    if speech.shape[0] > length:
        raise SystemExit(f"question too long for {QUESTION_SECONDS} s: {text!r}")
    clip = np.concatenate([speech, np.zeros(length - speech.shape[0], dtype=np.int16)])
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(voice.sample_rate)
        out.writeframes(clip.tobytes())
    return path


def one_turn(assistant: Assistant, question: Path) -> tuple[float, float, float, str]:
    """Seconds from the end of the question to its words and to the first reply audio, the CPU
    seconds this process spent on the way there, and the reply. The CPU figure shows how much of
    the wall time is waiting for cores shared with other work."""
    start, cpu_start = time.perf_counter(), time.process_time()
    heard = assistant.hear(question)
    hearing = time.perf_counter() - start
    reply = assistant.stream_reply(USER, heard, JOB_ID)
    pieces: list[str] = []

    def recorded():
        for piece in reply:
            pieces.append(piece)
            yield piece

    audio = assistant.speak_sentences(recorded())
    first = next(audio)
    first_audio, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    assert first[1].size > 0
    audio.close()
    for _ in reply:  # let the reply finish, so memory is written as in a real turn
        pass
    return hearing, first_audio, cpu, "".join(pieces)


class BackgroundJob:
    """Transcribes `media` again and again on another thread until stopped, as a job would."""

    def __init__(self, whisper: WhisperTranscriber, media: Path):
        self.stopping, self.passes = threading.Event(), 0
        self.thread = threading.Thread(target=self._run, args=(whisper, media), daemon=True)
        self.thread.start()

    def _run(self, whisper: WhisperTranscriber, media: Path) -> None:
        def progress(fraction: float, stage: str) -> None:
            if self.stopping.is_set():
                raise InterruptedError

        while not self.stopping.is_set():
            try:
                whisper.transcribe(media, progress=progress)
                self.passes += 1
            except InterruptedError:
                return

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join()


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--language", choices=("en", "ja"), default="en")
    parser.add_argument("--during-job", type=Path, metavar="MEDIA",
                        help="ask while this file is being transcribed by the same models")
    args = parser.parse_args()
    questions = QUESTIONS_JA if args.language == "ja" else QUESTIONS
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        settings = Settings(data_dir=data_dir, models_dir=data_dir / "models", whisper_model="")
        voices = VoiceRegistry(settings.models_dir)
        whisper = WhisperTranscriber(settings=settings, device="cpu")
        library = build_library(data_dir, settings, args.language)
        assistant = Assistant(settings, library.store, library, whisper, voices)
        clips = [(write_question(data_dir / f"q{i}.wav", voices, text, args.language), word)
                 for i, (text, word) in enumerate(questions)]
        print(f"{whisper.device_description}; voice {voices.for_language(args.language).name}; "
              f"{os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.1f}")
        one_turn(assistant, clips[0][0])  # warm-up: the first inference pays for lazy initialisation
        job = BackgroundJob(whisper, args.during_job) if args.during_job else None
        if job is not None:
            time.sleep(5)  # past the job's model loads and first decode
        firsts, hearings, cpus, correct = [], [], [], 0
        for run in range(args.runs):
            clip, word = clips[run % len(clips)]
            hearing, first_audio, cpu, reply = one_turn(assistant, clip)
            cpus.append(cpu)
            hearings.append(hearing)
            firsts.append(first_audio)
            correct += word.lower() in reply.lower()
        if job is not None:
            job.stop()
            print(f"during a job on {args.during_job.name}: {job.passes} whole passes finished meanwhile")
        print(f"runs: {args.runs}, answers holding the expected fact: {correct}/{args.runs}")
        print(f"speech to text: P50 {percentile(hearings, 50):.3f} s  P95 {percentile(hearings, 95):.3f} s")
        print(f"end of question -> first reply audio: P50 {percentile(firsts, 50):.3f} s  "
              f"P95 {percentile(firsts, 95):.3f} s  (target P50 <= 1.5 s)")
        print(f"CPU time to first reply audio (all threads): P50 {percentile(cpus, 50):.3f} s")
        print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
