"""The S3 mirror against a real S3 protocol server (moto) on 127.0.0.1: uploads, outage and retry,
a bucket that lost its objects, restore into an empty data dir, deletion, multipart, and per-owner
keys."""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import socketserver
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("moto.server")
from moto.server import ThreadedMotoServer  # noqa: E402

from chaptan.cli import s3 as s3_cli  # noqa: E402
from chaptan.config import Settings  # noqa: E402
from chaptan.errors import ChaptanError  # noqa: E402
from chaptan.services import build_services  # noqa: E402
from chaptan.storage.artifacts import ArtifactStore  # noqa: E402
from chaptan.storage.s3 import DB_KEY, STATE_TABLE, S3Mirror, make_client, restore_database  # noqa: E402
from chaptan.storage.store import DB_FILE, SHARDS, Job, Store  # noqa: E402
from chaptan.videos import Requester, VideoLibrary, VideoNotFound  # noqa: E402

PREFIX = "chaptan/"
FAST = {"retry_interval": 0.3, "snapshot_delay": 0.1}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until(condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _aws_env(monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1"), ("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")):
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3", "AWS_CONFIG_FILE",
                 "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)


@pytest.fixture(scope="module")
def moto_port() -> Iterator[int]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield port
    server.stop()


@pytest.fixture
def settings(moto_port: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    """A fresh bucket per test: the moto server keeps its buckets for the whole module."""
    _aws_env(monkeypatch, moto_port)
    bucket = f"chaptan-{uuid.uuid4().hex[:10]}"
    make_client().create_bucket(Bucket=bucket)
    return Settings(data_dir=tmp_path / "data", s3_bucket=bucket, s3_prefix=PREFIX)


def _mirror(settings: Settings, store: Store, **tuning) -> S3Mirror:
    options = {**FAST, **tuning}
    return S3Mirror(make_client(max_attempts=1), settings.s3_bucket, settings.s3_prefix, settings.data_dir,
                    store, **options)


def _objects(settings: Settings) -> dict[str, bytes]:
    client = make_client()
    listing = client.list_objects_v2(Bucket=settings.s3_bucket, Prefix=PREFIX).get("Contents", [])
    return {o["Key"][len(PREFIX):]: client.get_object(Bucket=settings.s3_bucket, Key=o["Key"])["Body"].read()
            for o in listing}


def _empty_bucket(settings: Settings) -> None:
    client = make_client()
    for obj in client.list_objects_v2(Bucket=settings.s3_bucket).get("Contents", []):
        client.delete_object(Bucket=settings.s3_bucket, Key=obj["Key"])


def _cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("CHAPTAN_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CHAPTAN_S3_BUCKET", settings.s3_bucket)
    monkeypatch.setenv("CHAPTAN_S3_PREFIX", settings.s3_prefix)


def _wired(settings: Settings, **tuning) -> tuple[Store, S3Mirror, ArtifactStore]:
    store = Store(Path(settings.data_dir) / DB_FILE)
    mirror = _mirror(settings, store, **tuning)
    store.on_change(mirror.schedule_snapshot)
    return store, mirror, ArtifactStore(settings.data_dir, mirror)


def test_round_trip_uploads_artifacts_state_and_database(settings: Settings) -> None:
    # No periodic sweeps after the first: one running at the moment of flush(0) below would read
    # as busy, and only a snapshot that causes another should.
    store, mirror, artifacts = _wired(settings, retry_interval=3600.0)
    mirror.start()
    try:
        store.add_job(Job(id="job1", owner="alice"))
        source = Path(settings.data_dir) / "upload.mp4"
        source.write_bytes(b"video bytes")
        artifacts.put_file("alice", "job1", "source.mp4", source, move=True)
        artifacts.write_text("alice", "job1", "transcript.json", '{"segments": []}')
        assert mirror.flush(10)
        objects = _objects(settings)
        assert objects["users/alice/jobs/job1/source.mp4"] == b"video bytes"
        assert objects["users/alice/jobs/job1/transcript.json"] == b'{"segments": []}'
        state = store.get_doc(STATE_TABLE, "users/alice/jobs/job1/source.mp4")
        assert state is not None and state["state"] == "done" and state["size"] == 11
        assert mirror.pending() == []
        # Recording "done" changed the database; its snapshot must not cause yet another one.
        time.sleep(5 * FAST["snapshot_delay"])
        assert mirror.flush(0)
        snapshot = json.loads(_objects(settings)[DB_KEY])
        assert "job1" in snapshot["jobs"]
        assert snapshot["doc:mirror"]["users/alice/jobs/job1/source.mp4"]["state"] == "done"
    finally:
        mirror.stop()


def test_sweep_reads_the_database_once_however_many_files(settings: Settings,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    store, mirror, artifacts = _wired(settings)
    mirror.start()
    try:
        store.add_job(Job(id="job1", owner="alice"))
        for n in range(30):
            artifacts.write_text("alice", "job1", f"part{n}.txt", f"text {n}")
        assert mirror.flush(10)
    finally:
        mirror.stop()
    artifacts.write_text("alice", "job1", "part7.txt", "changed while the mirror was stopped")
    reads: list[int] = []
    for shard in range(SHARDS):  # the state table's files, each to be read once
        storage = store._shard_table("doc:" + STATE_TABLE, shard).storage
        monkeypatch.setattr(storage, "read", lambda original=storage.read: reads.append(1) or original())
    assert [key for key, _ in mirror.pending()] == ["users/alice/jobs/job1/part7.txt"]
    assert len(reads) == SHARDS


def test_multipart_upload_for_large_files(settings: Settings) -> None:
    store, mirror, artifacts = _wired(settings)
    mirror.start()
    try:
        big = Path(settings.data_dir) / "big.bin"
        payload = os.urandom(20 * 1000 * 1000)
        big.write_bytes(payload)
        artifacts.put_file("alice", "job1", "source.mkv", big)
        assert mirror.flush(30)
    finally:
        mirror.stop()
    key = PREFIX + "users/alice/jobs/job1/source.mkv"
    head = make_client().head_object(Bucket=settings.s3_bucket, Key=key)
    assert head["ContentLength"] == len(payload)
    assert head["ETag"].strip('"').endswith("-3")  # three 8 MiB parts


def test_delete_removes_only_that_jobs_objects(settings: Settings) -> None:
    store, mirror, artifacts = _wired(settings)
    mirror.start()
    try:
        for job in ("job1", "job2"):
            artifacts.write_text("alice", job, "transcript.json", job)
        assert mirror.flush(10)
        artifacts.delete_job("alice", "job1")
        assert mirror.flush(10)
    finally:
        mirror.stop()
    keys = set(_objects(settings))
    assert "users/alice/jobs/job2/transcript.json" in keys
    assert not any(k.startswith("users/alice/jobs/job1/") for k in keys)
    assert store.get_doc(STATE_TABLE, "users/alice/jobs/job1/transcript.json") is None


def test_a_deletion_the_worker_never_ran_is_done_by_sync(settings: Settings) -> None:
    store, mirror, artifacts = _wired(settings)
    artifacts.write_text("alice", "job1", "transcript.json", "x")
    assert mirror.sync().uploaded == ["users/alice/jobs/job1/transcript.json", DB_KEY]
    artifacts.delete_job("alice", "job1")  # no worker running: only recorded
    assert "users/alice/jobs/job1/transcript.json" in _objects(settings)
    fresh = _mirror(settings, Store(Path(settings.data_dir) / DB_FILE))  # as after a restart
    fresh.sync()
    assert set(_objects(settings)) == {DB_KEY}


def test_the_periodic_check_uploads_again_what_the_emptied_bucket_lost(settings: Settings) -> None:
    store, mirror, artifacts = _wired(settings, verify_interval=0.3)
    mirror.start()
    try:
        artifacts.write_text("alice", "job1", "transcript.json", "words")
        artifacts.write_text("bob", "job2", "chapters.json", "[]")
        assert mirror.flush(10)
        everything = {"users/alice/jobs/job1/transcript.json", "users/bob/jobs/job2/chapters.json", DB_KEY}
        assert set(_objects(settings)) == everything
        _empty_bucket(settings)  # as when a bucket is emptied, or replaced by a new one of that name
        _wait_until(lambda: set(_objects(settings)) == everything)
        assert mirror.flush(10)
    finally:
        mirror.stop()
    assert _objects(settings)["users/alice/jobs/job1/transcript.json"] == b"words"
    assert mirror.pending() == [] and mirror.lost() == []


def test_status_checks_the_bucket_and_names_what_it_lacks(
        settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _cli_env(monkeypatch, settings)
    store, mirror, artifacts = _wired(settings)
    artifacts.write_text("alice", "job1", "transcript.json", "words")
    artifacts.write_text("alice", "job1", "chapters.json", "[]")
    mirror.sync()
    assert _run_cli(["s3", "status"]) == 0
    assert "every artifact is mirrored" in capsys.readouterr().out

    _empty_bucket(settings)
    assert _run_cli(["s3", "status"]) == 1
    out = capsys.readouterr().out
    assert "every artifact is mirrored" not in out
    for key in ("users/alice/jobs/job1/transcript.json", "users/alice/jobs/job1/chapters.json", DB_KEY):
        assert key in out
    assert "missing from the bucket" in out


def _start_moto_process(port: int) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def listening() -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0
    _wait_until(listening, timeout=30)
    return process


def _run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    s3_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def test_outage_loses_nothing_and_retry_and_sync_mirror_everything(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    port = _free_port()
    _aws_env(monkeypatch, port)
    data_dir = tmp_path / "data"
    monkeypatch.setenv("CHAPTAN_DATA_DIR", str(data_dir))
    monkeypatch.setenv("CHAPTAN_S3_BUCKET", "outage")
    settings = Settings(data_dir=data_dir, s3_bucket="outage", s3_prefix=PREFIX)
    server = _start_moto_process(port)
    try:
        make_client().create_bucket(Bucket="outage")
        store, mirror, artifacts = _wired(settings)
        mirror.start()
        artifacts.write_text("alice", "job1", "transcript.json", "before")
        assert mirror.flush(10)

        server.terminate()
        server.wait(10)
        artifacts.write_text("alice", "job2", "transcript.json", "during")
        artifacts.write_text("bob", "job3", "transcript.json", "during too")
        _wait_until(lambda: all((store.get_doc(STATE_TABLE, k) or {}).get("attempts")
                                for k in ("users/alice/jobs/job2/transcript.json",
                                          "users/bob/jobs/job3/transcript.json")))
        assert (data_dir / "users/alice/jobs/job2/transcript.json").read_text() == "during"
        assert _run_cli(["s3", "status"]) == 1
        status = capsys.readouterr().out
        assert "users/alice/jobs/job2/transcript.json" in status and "failed attempt" in status

        server = _start_moto_process(port)  # a new server: its bucket is gone, as after data loss
        make_client().create_bucket(Bucket="outage")
        _wait_until(lambda: not mirror.pending())  # the periodic retry
        assert mirror.flush(10)
        assert _run_cli(["s3", "sync"]) == 0  # the bucket's listing shows job1 missing: uploads it
        assert "uploaded  users/alice/jobs/job1/transcript.json" in capsys.readouterr().out
        mirror.stop()
        objects = _objects(settings)
        assert objects["users/alice/jobs/job1/transcript.json"] == b"before"
        assert objects["users/alice/jobs/job2/transcript.json"] == b"during"
        assert objects["users/bob/jobs/job3/transcript.json"] == b"during too"
        assert DB_KEY in objects
        assert _run_cli(["s3", "status"]) == 0
    finally:
        server.terminate()
        server.wait(10)


class _DeadEndpoint(socketserver.ThreadingTCPServer):
    """Reads each request's first line and hangs up without answering, as a dying S3 endpoint does."""
    daemon_threads = True

    def __init__(self) -> None:
        self.requests: list[str] = []
        super().__init__(("127.0.0.1", 0), _HangUp)


class _HangUp(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        self.server.requests.append(self.rfile.readline().decode("latin-1").strip())


def test_a_dead_endpoint_gets_botocores_attempts_only_and_the_upload_stays_pending(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    endpoint = _DeadEndpoint()
    threading.Thread(target=endpoint.serve_forever, daemon=True).start()
    try:
        _aws_env(monkeypatch, endpoint.server_address[1])
        store = Store(tmp_path / DB_FILE)
        # No sweep after the first, which runs at start: the upload is tried once, by botocore alone.
        mirror = S3Mirror(make_client(), "dead", PREFIX, tmp_path, store, retry_interval=3600.0,
                          snapshot_delay=0.1, verify_interval=3600.0)
        artifacts = ArtifactStore(tmp_path, mirror)
        key = "users/alice/jobs/job1/transcript.json"
        mirror.start()
        try:
            assert mirror.flush(15)
            artifacts.write_text("alice", "job1", "transcript.json", "words")
            _wait_until(lambda: (store.get_doc(STATE_TABLE, key) or {}).get("attempts") == 1)
            assert mirror.flush(15)
        finally:
            mirror.stop(timeout=0.1)
        puts = [line for line in endpoint.requests if line.startswith(f"PUT /dead/{PREFIX}{key}")]
        assert len(puts) == 3  # botocore's standard mode, no second loop around it
        assert [k for k, _ in mirror.pending()] == [key]  # kept, for the sweep to try again
        assert (tmp_path / key).read_text() == "words"
    finally:
        endpoint.shutdown()
        endpoint.server_close()


def test_restore_into_an_empty_data_dir_then_fetch_media_lazily(settings: Settings, tmp_path: Path) -> None:
    first = build_services(settings)
    assert first.mirror is not None
    first.start()
    first.store.add_job(Job(id="job1", owner="alice", status="done"))
    first.artifacts.write_text("alice", "job1", "source.mp4", "media")
    first.stop()  # waits for the uploads and the last database snapshot

    fresh = Settings(data_dir=tmp_path / "fresh", s3_bucket=settings.s3_bucket, s3_prefix=PREFIX)
    second = build_services(fresh)
    job = second.store.get_job("job1")
    assert job is not None and job.owner == "alice"
    assert not second.artifacts.exists("alice", "job1", "source.mp4")  # nothing fetched eagerly
    assert second.artifacts.path("alice", "job1", "source.mp4").read_text() == "media"
    assert second.mirror is not None and second.mirror.pending() == []  # the fetched copy is not re-sent


def test_restore_names_each_artifact_the_bucket_lost_and_restores_the_rest(
        settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    store, mirror, artifacts = _wired(settings)
    store.add_job(Job(id="job1", owner="alice", status="done"))
    artifacts.write_text("alice", "job1", "source.mp4", "media")
    artifacts.write_text("alice", "job1", "transcript.json", "words")
    mirror.sync()  # the artifacts and the database, whose record says both are in the bucket
    lost = "users/alice/jobs/job1/transcript.json"
    make_client().delete_object(Bucket=settings.s3_bucket, Key=PREFIX + lost)

    caplog.set_level(logging.WARNING, logger="chaptan.storage.s3")
    fresh = Settings(data_dir=tmp_path / "fresh", s3_bucket=settings.s3_bucket, s3_prefix=PREFIX)
    second = build_services(fresh)
    second.start()
    try:
        def warnings() -> str:
            return "\n".join(r.getMessage() for r in caplog.records if r.name == "chaptan.storage.s3")
        _wait_until(lambda: lost in warnings())
        assert "source.mp4" not in warnings()
        assert second.artifacts.path("alice", "job1", "source.mp4").read_text() == "media"
        with pytest.raises(ChaptanError, match="transcript.json"):
            second.artifacts.path("alice", "job1", "transcript.json")
    finally:
        second.stop()
    _cli_env(monkeypatch, fresh)
    assert _run_cli(["s3", "status"]) == 1
    out = capsys.readouterr().out
    assert f"lost      {lost}" in out and "source.mp4" not in out


def test_restore_refuses_to_start_empty_when_the_bucket_is_unreachable(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _aws_env(monkeypatch, _free_port())
    settings = Settings(data_dir=tmp_path, s3_bucket="any", s3_prefix=PREFIX)
    with pytest.raises(ChaptanError, match="cannot restore the database"):
        restore_database(settings, tmp_path / DB_FILE)
    assert not (tmp_path / DB_FILE).exists()


class _RecordingMirror:
    def __init__(self, inner: S3Mirror):
        self.inner = inner
        self.downloads: list[str] = []

    def upload(self, key: str, path: Path) -> None:
        self.inner.upload(key, path)

    def download(self, key: str, path: Path) -> bool:
        self.downloads.append(key)
        return self.inner.download(key, path)

    def delete_prefix(self, prefix: str) -> None:
        self.inner.delete_prefix(prefix)


def test_object_keys_come_from_the_jobs_owner_not_the_request(settings: Settings) -> None:
    store = Store(Path(settings.data_dir) / DB_FILE)
    recording = _RecordingMirror(_mirror(settings, store))
    artifacts = ArtifactStore(settings.data_dir, recording)
    library = VideoLibrary(settings, store, artifacts)
    store.add_job(Job(id="job1", owner="alice", status="done"))
    transcript = {"language": "en", "duration": 1.0, "segments": [{"start": 0.0, "end": 1.0, "text": "hi"}]}
    artifacts.write_text("alice", "job1", "transcript.json", json.dumps(transcript))
    recording.inner.sync()
    artifacts.local_path("alice", "job1", "transcript.json").unlink()

    with pytest.raises(VideoNotFound):
        library.transcript(library.job(Requester("bob"), "job1"))
    assert recording.downloads == []
    job = library.job(Requester("root", is_admin=True), "job1")
    assert library.transcript(job).segments[0].text == "hi"
    assert recording.downloads == ["users/alice/jobs/job1/transcript.json"]


def test_no_bucket_means_no_mirror_and_no_boto3(tmp_path: Path) -> None:
    code = ("import sys; from pathlib import Path; from chaptan.config import Settings; "
            "from chaptan.services import build_services; "
            f"s = build_services(Settings(data_dir=Path({str(tmp_path)!r}))); "
            "assert s.mirror is None and s.artifacts.mirror is None; assert 'boto3' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[1])
