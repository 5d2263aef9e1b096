"""The TinyDB store: CRUD, atomic writes under SIGKILL, corrupt files, threads, chapter versions."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from chaptan.errors import ChaptanError
from chaptan.storage.store import (
    MAX_CHAPTERS_PER_VERSION,
    MAX_VERSIONS_PER_VIDEO,
    SHARDS,
    Job,
    JobStatus,
    NotFoundError,
    StaleVersionError,
    Store,
    User,
)
from tests.disk_faults import remount, tmpfs

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "chaptan.json")


def test_users_crud(store: Store) -> None:
    store.add_user(User("ann", "hash-a", email="ann@example.com"))
    store.add_user(User("bob", "hash-b", is_admin=True))
    assert store.get_user("ann") == User("ann", "hash-a", email="ann@example.com",
                                         created=store.get_user("ann").created)
    assert store.get_user("nobody") is None
    assert [u.name for u in store.list_users()] == ["ann", "bob"]

    updated = store.update_user("ann", disabled=True)
    assert updated.disabled and store.get_user("ann").disabled

    store.remove_user("ann")
    assert store.get_user("ann") is None
    with pytest.raises(NotFoundError):
        store.remove_user("ann")
    with pytest.raises(NotFoundError):
        store.update_user("ann", email="x")


def test_duplicate_user_refused(store: Store) -> None:
    store.add_user(User("ann", "h"))
    with pytest.raises(Exception, match="already exists"):
        store.add_user(User("ann", "other"))


def test_jobs_crud_and_order(store: Store) -> None:
    store.add_job(Job("j1", "ann", title="first", created=100.0))
    store.add_job(Job("j2", "bob", created=200.0))
    store.add_job(Job("j3", "ann", created=300.0))
    assert [j.id for j in store.list_jobs()] == ["j3", "j2", "j1"]
    assert [j.id for j in store.list_jobs(owner="ann")] == ["j3", "j1"]

    job = store.update_job("j1", status="running", progress=0.25, warnings=["no speech in the first minute"])
    assert job.warnings == ("no speech in the first minute",)
    assert store.get_job("j1") == job
    assert job.updated > 100.0

    with pytest.raises(ValueError):
        store.update_job("j1", status="exploded")
    with pytest.raises(TypeError):
        store.update_job("j1", colour="red")

    store.delete_job("j1")
    assert store.get_job("j1") is None
    with pytest.raises(NotFoundError):
        store.update_job("j1", progress=1.0)


def test_records_survive_reopening(tmp_path: Path) -> None:
    Store(tmp_path / "db.json").add_job(Job("j1", "ann", warnings=("w",)))
    assert Store(tmp_path / "db.json").get_job("j1").warnings == ("w",)


def test_chapter_versions_and_stale_save(store: Store) -> None:
    store.add_job(Job("j1", "ann"))
    assert store.latest_chapter_version("j1") is None
    assert store.add_chapter_version("j1", [{"start": 0, "title": "Intro"}], "pipeline", None) == 1
    # Two editors open version 1; the first save wins, the second is told who saved.
    assert store.add_chapter_version("j1", [{"start": 0, "title": "Hello"}], "ann", base_version=1) == 2
    with pytest.raises(StaleVersionError, match=r"saved by ann at .* \(version 2\) after you opened them"):
        store.add_chapter_version("j1", [{"start": 0, "title": "Hi"}], "bob", base_version=1)

    versions = store.list_chapter_versions("j1")
    assert [(v.number, v.author) for v in versions] == [(1, "pipeline"), (2, "ann")]
    assert store.latest_chapter_version("j1").chapters == [{"start": 0, "title": "Hello"}]

    store.delete_job("j1")
    assert store.list_chapter_versions("j1") == []


def test_first_editor_save_checks_against_zero(store: Store) -> None:
    store.add_job(Job("j1", "ann"))
    assert store.add_chapter_version("j1", [], "ann", base_version=0) == 1
    with pytest.raises(StaleVersionError):
        store.add_chapter_version("j1", [], "bob", base_version=0)
    with pytest.raises(NotFoundError):
        store.add_chapter_version("missing", [], "ann", None)


def test_docs(store: Store) -> None:
    assert store.get_doc("memory", "ann") is None
    store.put_doc("memory", "ann", {"facts": ["likes cats"]})
    store.put_doc("memory", "ann", {"summary": "short"})
    assert store.get_doc("memory", "ann") == {"summary": "short"}  # replaced, not merged
    store.put_doc("other", "ann", {"x": 1})
    store.delete_doc("memory", "ann")
    store.delete_doc("memory", "ann")
    assert store.get_doc("memory", "ann") is None
    assert store.get_doc("other", "ann") == {"x": 1}


def test_on_change_called_after_each_write(store: Store) -> None:
    seen: list[int] = []
    store.on_change(lambda: seen.append(len(store.list_jobs())))  # the lock is free: it can read
    store.on_change(lambda: 1 / 0)  # a broken listener does not break writes
    store.add_job(Job("j1", "ann"))
    store.update_job("j1", progress=0.5)
    store.get_job("j1")
    assert seen == [1, 1]


def test_corrupt_file_is_kept_aside_and_backup_restored(tmp_path: Path) -> None:
    path = tmp_path / "chaptan.json"
    store = Store(path)
    store.add_user(User("ann", "h"))
    store.add_user(User("bob", "h"))  # the backup now holds the state with ann only
    path.write_text('{"users": {"ann": ', encoding="utf-8")

    reopened = Store(path)
    assert [u.name for u in reopened.list_users()] == ["ann"]
    corrupt = list(tmp_path.glob("chaptan.json.corrupt-*"))
    assert len(corrupt) == 1 and corrupt[0].read_text() == '{"users": {"ann": '


def test_corrupt_file_without_backup_starts_empty(tmp_path: Path) -> None:
    path = tmp_path / "chaptan.json"
    path.write_bytes(b"\x00\xff garbage")
    assert Store(path).list_users() == []
    assert list(tmp_path.glob("chaptan.json.corrupt-*"))


_WRITER = """
import sys
from chaptan.storage.store import Job, Store
store = Store(sys.argv[1])
for i in range(100000):
    store.add_job(Job(f"job-{i}", "ann", title="x" * 2000))
    print(i, flush=True)
"""


def test_sigkill_during_writes_leaves_a_valid_database(tmp_path: Path) -> None:
    path = tmp_path / "chaptan.json"
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    try:
        last = -1
        for line in writer.stdout:
            last = int(line)
            if last >= 30:  # the file is ~60 kB by now, so a kill very likely lands mid-write
                break
        os.kill(writer.pid, signal.SIGKILL)
    finally:
        writer.wait()
    assert writer.returncode == -signal.SIGKILL

    jobs = _table_on_disk(tmp_path, "jobs")  # never a half-written file
    assert len(jobs) >= last + 1
    assert {j.id for j in Store(path).list_jobs()} >= {f"job-{i}" for i in range(last + 1)}
    assert not list(tmp_path.glob("*.corrupt-*"))


def test_concurrent_writers_lose_nothing(store: Store) -> None:
    threads, per_thread = 20, 25
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def write(t: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                store.add_job(Job(f"t{t}-j{i}", f"user{t}", progress=i / per_thread))
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=write, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors
    assert len(_table_on_disk(store.path.parent, "jobs")) == threads * per_thread
    jobs = {j.id: j for j in Store(store.path).list_jobs()}
    assert jobs["t19-j24"].owner == "user19" and jobs["t0-j5"].progress == 0.2


def test_old_temp_files_of_interrupted_writes_are_removed(tmp_path: Path) -> None:
    old, fresh = tmp_path / ".chaptan.json.abc.tmp", tmp_path / ".chaptan.json.def.tmp"
    old.write_text("{")
    fresh.write_text("{")
    os.utime(old, (0, 0))
    Store(tmp_path / "chaptan.json")
    assert not old.exists() and fresh.exists()  # a fresh one may be another process's write


def _files(tmp_path: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in tmp_path.glob("*.json")}


def _table_on_disk(folder: Path, table: str) -> dict:
    """The table's rows, read from its shard files as they are (each must be whole JSON)."""
    rows: dict = {}
    for shard in folder.glob(f"chaptan.{table.replace(':', '-')}.*.json"):
        rows.update(json.loads(shard.read_text())[table])
    return rows


def test_each_table_is_written_to_its_own_files(store: Store, tmp_path: Path) -> None:
    store.add_user(User("ann", "h"))
    for n in range(40):
        store.add_job(Job(f"job{n}", "ann"))
    store.put_doc("memory", "ann", {"messages": []})
    store.put_doc("mirror", "users/ann/jobs/job1/source.mp4", {"state": "done"})
    before = _files(tmp_path)
    assert len([n for n in before if n.startswith("chaptan.jobs.")]) == SHARDS  # 40 jobs fill them all
    assert {n.split(".")[1] for n in before} == {"json", "jobs", "doc-memory", "doc-mirror"}
    store.update_job("job1", status="running")
    after = _files(tmp_path)
    changed = [name for name in before if after[name] != before[name]]
    assert len(changed) == 1 and changed[0].startswith("chaptan.jobs.")  # one shard, nothing else
    assert "job1" in json.loads((tmp_path / changed[0]).read_text())["jobs"]
    assert [p.name for p in store.files()][0] == "chaptan.json"
    snapshot = json.loads(store.snapshot())  # the S3 mirror's one object, all tables in it
    assert set(snapshot) == {"users", "jobs", "doc:memory", "doc:mirror"}
    assert len(snapshot["jobs"]) == 40 and snapshot["jobs"]["job1"]["status"] == "running"


def test_progress_stays_in_memory_until_the_next_state_change(store: Store, tmp_path: Path) -> None:
    store.add_job(Job("j1", "ann"))
    store.update_job("j1", status="running", stage="starting", progress=0.0)
    written = _files(tmp_path)
    store.set_progress("j1", 0.4, "transcribing", 12.0)
    assert _files(tmp_path) == written
    job = store.get_job("j1")
    assert (job.progress, job.stage, job.eta_seconds) == (0.4, "transcribing", 12.0)
    assert store.list_jobs()[0] == job
    assert Store(store.path).get_job("j1").stage == "starting"  # another process sees the file

    store.update_job("j1", duration=60.0)  # any write of the job takes the progress along
    assert Store(store.path).get_job("j1").progress == 0.4
    store.update_job("j1", status="failed", error="boom")
    assert Store(store.path).get_job("j1").stage == "transcribing"  # where it failed
    store.add_job(Job("j2", "ann", status="done", progress=1.0))
    store.update_job("j2", status="running")
    store.delete_job("j2")
    with pytest.raises(NotFoundError):
        store.set_progress("j2", 0.5, "transcribing", None)


def test_job_status_is_an_enum_of_the_same_words(store: Store, tmp_path: Path) -> None:
    store.add_job(Job("j1", "ann", status="done"))
    job = store.get_job("j1")
    assert job.status is JobStatus.DONE and job.status == "done" and f"{job.status}" == "done"
    assert _table_on_disk(tmp_path, "jobs")["j1"]["status"] == "done"
    assert json.dumps({"status": job.status}) == '{"status": "done"}'
    assert job.ended and not job.active


_SINGLE_FILE = {  # a database as the single-file layout wrote it, every table in chaptan.json
    "users": {"ann": {"name": "ann", "password_hash": "h", "is_admin": True, "email": "", "disabled": False,
                      "created": 1.0}},
    "jobs": {"j1": {"id": "j1", "owner": "ann", "title": "talk", "status": "done", "progress": 1.0,
                    "stage": "done", "created": 2.0, "updated": 3.0, "warnings": ["w"], "attempts": 1}},
    "chapter_versions": {"j1": {"versions": [{"number": 1, "created": 3.0, "author": "chaptan (local)",
                                              "chapters": [{"start": 0, "title": "Intro"}]}]}},
    "doc:memory": {"ann": {"messages": [{"role": "user", "content": "my PIN is 4711"}]}},
    "doc:mirror": {"users/ann/jobs/j1/source.mp4": {"state": "done", "size": 5}},
}


def _check_single_file_data(store: Store) -> None:
    assert [u.name for u in store.list_users()] == ["ann"]
    job = store.get_job("j1")
    assert (job.title, job.status, job.warnings) == ("talk", "done", ("w",))
    assert store.latest_chapter_version("j1").chapters == [{"start": 0, "title": "Intro"}]
    assert store.get_doc("memory", "ann")["messages"][0]["content"] == "my PIN is 4711"
    assert store.all_docs("mirror") == {"users/ann/jobs/j1/source.mp4": {"state": "done", "size": 5}}


def test_a_single_file_database_is_split_on_open(tmp_path: Path) -> None:
    path = tmp_path / "chaptan.json"
    path.write_text(json.dumps(_SINGLE_FILE), encoding="utf-8")
    store = Store(path)
    _check_single_file_data(store)
    assert set(json.loads(path.read_text())) == {"users"}
    assert _table_on_disk(tmp_path, "jobs") == _SINGLE_FILE["jobs"]
    assert len(list(tmp_path.glob("chaptan.jobs.*.json"))) == SHARDS
    assert json.loads((tmp_path / "chaptan.json.bak").read_text()) == _SINGLE_FILE  # the old file, kept
    store.add_job(Job("j2", "ann"))
    _check_single_file_data(Store(path))  # opening again changes nothing
    assert Store(path).get_job("j2") is not None


def test_a_split_interrupted_half_way_is_finished_without_loss(tmp_path: Path) -> None:
    # A crash after the jobs' files were written but before chaptan.json lost its tables.
    done, crashed = tmp_path / "done", tmp_path / "crashed"
    for folder in (done, crashed):
        folder.mkdir()
        (folder / "chaptan.json").write_text(json.dumps(_SINGLE_FILE), encoding="utf-8")
    Store(done / "chaptan.json")
    for shard in done.glob("chaptan.jobs.*.json"):
        shutil.copy2(shard, crashed / shard.name)
    path = crashed / "chaptan.json"
    _check_single_file_data(Store(path))
    assert set(json.loads(path.read_text())) == {"users"}


def test_chapters_per_version_are_limited(store: Store) -> None:
    store.add_job(Job("j1", "ann"))
    too_many = [{"start": i, "title": f"c{i}"} for i in range(MAX_CHAPTERS_PER_VERSION + 1)]
    with pytest.raises(ChaptanError, match="at most 500 chapters; this list has 501"):
        store.add_chapter_version("j1", too_many, "ann", None)
    assert store.list_chapter_versions("j1") == []
    assert store.add_chapter_version("j1", too_many[:-1], "ann", None) == 1


def test_versions_past_the_limit_are_pruned_keeping_the_first_and_the_pipelines(store: Store) -> None:
    store.add_job(Job("j1", "ann"))
    store.add_chapter_version("j1", [{"start": 0, "title": "first"}], "chaptan (local)", None)
    for n in range(2, 121):
        author = "chaptan (llm)" if n == 10 else "ann"
        assert store.add_chapter_version("j1", [{"start": 0, "title": f"v{n}"}], author, n - 1) == n
    versions = store.list_chapter_versions("j1")
    assert len(versions) == MAX_VERSIONS_PER_VIDEO
    numbers = [v.number for v in versions]
    assert numbers[:2] == [1, 10] and numbers[2:] == list(range(23, 121))
    assert store.add_chapter_version("j1", [], "ann", 120) == 121  # numbers go on


def test_reads_work_on_a_read_only_data_folder(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "data", "8m") as data:
        store = Store(data / "chaptan.json")
        store.add_user(User("ann", "h"))
        store.add_job(Job("j1", "ann"))
        remount(data, "ro")
        try:
            reopened = Store(data / "chaptan.json")  # as the `users` CLI opens it
            for reader in (store, reopened):
                assert reader.get_user("ann").password_hash == "h"
                assert [j.id for j in reader.list_jobs("ann")] == ["j1"]
                assert reader.get_doc("memory", "ann") is None
            with pytest.raises(OSError):
                store.update_job("j1", status="running")
        finally:
            remount(data, "rw")
        store.update_job("j1", status="running")
        assert Store(data / "chaptan.json").get_job("j1").status == "running"


def test_a_write_by_another_store_is_seen_by_reads_of_this_one(tmp_path: Path) -> None:
    # Each Store keeps the parsed files of its reads; the `users` CLI writes with a Store of its own.
    app, cli = Store(tmp_path / "chaptan.json"), Store(tmp_path / "chaptan.json")
    app.add_user(User("ann", "h"))
    assert app.get_user("ann").disabled is False
    cli.update_user("ann", disabled=True)
    assert app.get_user("ann").disabled is True
    cli.put_doc("memory", "ann", {"messages": ["a"]})
    app.get_doc("memory", "ann")["messages"].append("changed by a caller")
    assert app.get_doc("memory", "ann") == {"messages": ["a"]}
