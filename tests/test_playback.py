"""Playable copies: an upload browsers cannot play (HEVC in MKV) gets an H.264/AAC copy for the players,
the original stays the job's source; one they can play is left alone."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from gradio_client import handle_file

from chaptan.media import ffmpeg_exe, probe
from chaptan.playback import PLAYBACK_FILE, browser_plays, make_copy
from chaptan.videos import Requester
from tests.app_harness import ALICE, running_app
from tests.media_factory import TOPICS, spoken_video

COPY_TIMEOUT = 300.0


def hevc_mkv(source: Path, dest: Path, size: str = "1280:960") -> Path:
    """`source` re-encoded as browsers cannot play it: HEVC video and Opus audio in Matroska, `size`
    (above 720p by default, so the copy is scaled down)."""
    subprocess.run([ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-y", "-i", str(source),
                    "-vf", f"scale={size}", "-c:v", "libx265", "-preset", "ultrafast", "-x265-params",
                    "log-level=error", "-c:a", "libopus", "-b:a", "48k", str(dest)], check=True)
    return dest


@pytest.fixture(scope="module")
def talk(tmp_path_factory):
    folder = tmp_path_factory.mktemp("playback")
    return spoken_video(folder / "talk.mp4", (TOPICS[0],))


def test_what_browsers_play_is_told_apart_by_container_and_codecs(talk, tmp_path):
    assert browser_plays(probe(talk.path), ".mp4")
    mkv = hevc_mkv(talk.path, tmp_path / "talk.mkv")
    info = probe(mkv)
    assert (info.video_codec, info.audio_codec) == ("hevc", "opus")
    assert not browser_plays(info, ".mkv")


def test_the_copy_is_h264_and_aac_at_most_720p_with_the_whole_duration(talk, tmp_path):
    mkv = hevc_mkv(talk.path, tmp_path / "talk.mkv")
    seen: list[float] = []
    copy = make_copy(mkv, tmp_path / "playback.mp4", probe(mkv).duration, seen.append)
    info = probe(copy)
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert browser_plays(info, copy.suffix)
    assert abs(info.duration - probe(mkv).duration) < 1.5
    assert seen[-1] == 1.0 and seen == sorted(seen)
    import av

    with av.open(str(copy)) as container:
        assert container.streams.video[0].codec_context.height == 720
    assert not list(tmp_path.glob(".*partial*"))  # written aside, renamed into place


def test_an_hevc_mkv_upload_gets_a_playable_copy_and_keeps_its_original(talk, tmp_path):
    mkv = hevc_mkv(talk.path, tmp_path / "lecture.mkv")
    with running_app(tmp_path / "data") as app:
        client = app.client(ALICE)
        job_id, _, youtube = client.predict(handle_file(str(mkv)), "en", "local", 0,
                                            api_name="/chapter_video")
        assert youtube.startswith("0")
        deadline = time.monotonic() + COPY_TIMEOUT
        while json.loads(client.predict(job_id, api_name="/get_video"))["playback"] == "making":
            assert time.monotonic() < deadline, "the playable copy was never made"
            time.sleep(0.5)
        assert json.loads(client.predict(job_id, api_name="/get_video"))["playback"] == "ready"
        job = app.services.store.get_job(job_id)
        library = app.services.library
        shown = library.player_file(job)
        assert shown.name == PLAYBACK_FILE and probe(shown).video_codec == "h264"
        assert probe(library.source(job)).video_codec == "hevc"  # transcription and export use this
        exported = Path(client.predict(job_id, "video", api_name="/export"))
        assert probe(exported).video_codec == "hevc"

        # An MP4 with H.264 and AAC plays as it is: no copy.
        plain = tmp_path / "plain.mp4"
        plain.write_bytes(talk.path.read_bytes())
        job = library.submit(Requester(ALICE[0]), plain, title="plain", generator="local")
        assert job.playback == "" and library.player_file(job) == library.source(job)
