"""The voice chat's API through the running app: spoken and typed turns, memory, isolation."""

from __future__ import annotations

import wave

import numpy as np
from gradio_client import handle_file

from chaptan.speech.tts import default_voice
from chaptan.videos import Requester
from tests.app_harness import ALICE, BOB, add_finished_job, running_app
from tests.media_factory import FOOTBALL, PASTA, SOLAR, TOPICS, spoken_video

STARTS = (0.5, 40.0, 80.0)


def transcript() -> dict:
    segments = []
    for start, paragraph in zip(STARTS, (PASTA, SOLAR, FOOTBALL)):
        for i, sentence in enumerate(s for s in paragraph.split(". ") if s):
            segments.append({"start": start + 4.0 * i, "end": start + 4.0 * i + 3.5, "text": sentence + "."})
    return {"language": "en", "duration": 120.0, "segments": segments}


CHAPTERS = [{"start": 0.0, "end": 40.0, "title": "Cooking pasta"},
            {"start": 40.0, "end": 80.0, "title": "The solar system"},
            {"start": 80.0, "end": 120.0, "title": "Football"}]


def say(path, text: str) -> str:
    voice = default_voice(deterministic=True)  # the same question every run
    samples = np.asarray(voice.synthesize(text))
    if samples.dtype != np.int16:
        samples = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(voice.sample_rate)
        out.writeframes(samples.tobytes())
    return str(path)


def read_wav(path: str) -> np.ndarray:
    with wave.open(path) as audio:
        return np.frombuffer(audio.readframes(audio.getnframes()), dtype=np.int16)


def test_voice_turns_memory_and_isolation(tmp_path):
    media = spoken_video(tmp_path / "talk.mp4", TOPICS[:1])
    data = tmp_path / "data"
    with running_app(data) as app:
        job_id = add_finished_job(app.services, "alice", media.path, transcript(), CHAPTERS)
        alice = app.client(ALICE)
        question = say(tmp_path / "q.wav", "Which planet has icy rings?")
        heard, reply, audio = alice.predict(handle_file(question), "", job_id, "", api_name="/voice_turn")
        assert "ring" in heard.lower()
        assert "Saturn" in reply
        saturn = next(s for s in transcript()["segments"] if "Saturn" in s["text"])
        minutes, seconds = divmod(int(saturn["start"]), 60)
        assert f"[{minutes:02d}:{seconds:02d}]" in reply
        samples = read_wav(audio)
        assert samples.size > 8000 and np.abs(samples).max() > 1000
        _, typed_reply, _ = alice.predict(None, "How long should the spaghetti cook?", job_id, "",
                                          api_name="/voice_turn")
        assert "minute" in typed_reply.lower() or "al dente" in typed_reply.lower()
        # Bob can neither use Alice's video nor see what she asked.
        bob = app.client(BOB)
        try:
            bob.predict(None, "What is in this video?", job_id, "", api_name="/voice_turn")
            raise AssertionError("bob used alice's video")
        except Exception as exc:  # noqa: BLE001 - any refusal will do, checked by message
            assert "no video" in str(exc)
        assert bob.predict(api_name="/clear_memory").startswith("Memory: 0 messages")
    stored = app.services.store.get_doc("memory", "alice")
    assert stored and "Saturn" in str(stored)
    with running_app(data) as again:
        # Memory survives the restart; clearing it empties it.
        memory = again.services.assistant.memory(Requester("alice"))
        assert "Saturn" in str(memory.history())
        note = again.client(ALICE).predict(api_name="/clear_memory")
        assert note.startswith("Memory: 0 messages")
        assert memory.history() == []
