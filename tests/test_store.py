"""The TinyDB store: CRUD, atomic writes under SIGKILL, corrupt files, threads, chapter versions."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from chaptan.store import Job, NotFoundError, StaleVersionError, Store, User

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
from chaptan.store import Job, Store
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

    data = json.loads(path.read_text())  # never a half-written file
    assert len(data["jobs"]) >= last + 1
    assert {j.id for j in Store(path).list_jobs()} >= {f"job-{i}" for i in range(last + 1)}
    assert not list(tmp_path.glob("chaptan.json.corrupt-*"))


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
    data = json.loads(store.path.read_text())
    assert len(data["jobs"]) == threads * per_thread
    jobs = {j.id: j for j in Store(store.path).list_jobs()}
    assert jobs["t19-j24"].owner == "user19" and jobs["t0-j5"].progress == 0.2


def test_old_temp_files_of_interrupted_writes_are_removed(tmp_path: Path) -> None:
    old, fresh = tmp_path / ".chaptan.json.abc.tmp", tmp_path / ".chaptan.json.def.tmp"
    old.write_text("{")
    fresh.write_text("{")
    os.utime(old, (0, 0))
    Store(tmp_path / "chaptan.json")
    assert not old.exists() and fresh.exists()  # a fresh one may be another process's write
