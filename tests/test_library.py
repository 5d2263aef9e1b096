"""The video library's handling of uploads, below the app."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from chaptan.config import Settings
from chaptan.errors import MediaError
from chaptan.storage import ArtifactStore
from chaptan.store import Store
from chaptan.videos import Requester, VideoLibrary
from tests.media_factory import talk_video

ALICE, BOB = Requester("alice"), Requester("bob")


def test_the_same_upload_submitted_twice_makes_two_jobs(tmp_path: Path, tmp_path_factory) -> None:
    """Gradio keeps identical uploads at one path, and the first submission moves the file away:
    two tabs, or a script running two generators on one file, must still both get their job."""
    data = tmp_path / "data"
    settings = Settings(data_dir=data, models_dir=tmp_path / "models")
    library = VideoLibrary(settings, Store(data / "chaptan.json"), ArtifactStore(data))
    upload = tmp_path / "gradio" / "3f2a9c" / "talk.mp4"
    upload.parent.mkdir(parents=True)
    shutil.copyfile(talk_video(tmp_path_factory).path, upload)
    original = upload.read_bytes()

    first = library.submit(ALICE, upload, generator="local")
    assert not upload.exists()  # moved out of the served cache, not copied
    second = library.submit(BOB, upload, generator="local")
    for job in (first, second):
        assert library.source(job).read_bytes() == original
        assert job.title == "talk" and job.duration > 90
    assert library.source(first) != library.source(second)

    library.delete(ALICE, first.id)
    library.delete(BOB, second.id)
    with pytest.raises(MediaError, match=r"^no such file: talk\.mp4$"):
        library.submit(ALICE, upload)
