"""The video library's handling of uploads, below the app."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from chaptan.config import Settings
from chaptan.errors import MediaError
from chaptan.storage.artifacts import ArtifactStore
from chaptan.storage.store import Store
from chaptan.videos import UPLOAD_LOCKS, Requester, VideoLibrary
from tests.media_factory import talk_video

ALICE, BOB = Requester("alice"), Requester("bob")


def library_on(data: Path, artifacts: ArtifactStore | None = None) -> VideoLibrary:
    settings = Settings(data_dir=data, models_dir=data.parent / "models")
    return VideoLibrary(settings, Store(data / "chaptan.json"), artifacts or ArtifactStore(data))


def test_the_same_upload_submitted_twice_makes_two_jobs(tmp_path: Path, tmp_path_factory) -> None:
    """Gradio keeps identical uploads at one path, and the first submission moves the file away:
    two tabs, or a script running two generators on one file, must still both get their job."""
    library = library_on(tmp_path / "data")
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


class SlowDisk(ArtifactStore):
    """Takes the file named `slow` only when told to: a multi-GB upload moving to another disk."""

    def __init__(self, root: Path, slow: str):
        super().__init__(root)
        self.slow, self.taking, self.release = slow, threading.Event(), threading.Event()

    def put_file(self, owner, job_id, name, src, *, move=False):
        if Path(src).name == self.slow:
            self.taking.set()
            assert self.release.wait(120)
        return super().put_file(owner, job_id, name, src, move=move)


def test_a_slow_upload_does_not_hold_up_other_submissions(tmp_path: Path, tmp_path_factory) -> None:
    disk = SlowDisk(tmp_path / "data", slow="big.mp4")
    library = library_on(tmp_path / "data", disk)
    talk = talk_video(tmp_path_factory).path
    big = tmp_path / "gradio" / "aa" / "big.mp4"
    # A folder whose path takes another lock than the big one's (the same lock would rightly wait).
    small = next(path for n in range(UPLOAD_LOCKS + 1)
                 if library.upload_lock(path := tmp_path / "gradio" / f"b{n}" / "small.mp4")
                 is not library.upload_lock(big))
    for upload in (big, small):
        upload.parent.mkdir(parents=True)
        shutil.copyfile(talk, upload)
    jobs = {}

    def submit(who, upload):
        jobs[upload.name] = library.submit(who, upload, generator="local")

    slow = threading.Thread(target=submit, args=(ALICE, big))
    slow.start()
    try:
        assert disk.taking.wait(120)
        quick = threading.Thread(target=submit, args=(BOB, small))
        quick.start()
        quick.join(120)
        assert "small.mp4" in jobs and slow.is_alive(), "the small upload waited for the big one"
    finally:
        disk.release.set()
        slow.join(120)
    assert library.source(jobs["big.mp4"]).read_bytes() == library.source(jobs["small.mp4"]).read_bytes()
