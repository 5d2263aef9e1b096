"""README.md stays true: every environment variable the code reads is documented, and the Python
client example runs as written against the real app."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.app_harness import ALICE, running_app
from tests.media_factory import TOPICS, spoken_video

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
# Reads of os.environ in any of its spellings, and config.py's _env/_env_int/_env_bool helpers.
ENV_READS = [
    re.compile(r"""os\.environ\.get\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']"""),
    re.compile(r"""os\.getenv\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']"""),
    re.compile(r"""os\.environ\[\s*["']([A-Za-z_][A-Za-z0-9_]*)["']\s*\](?!\s*=[^=])"""),
    re.compile(r"""\b_env(?:_int|_bool)?\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']"""),
]
# The operating system's own variables, read only to extend them, are not settings to document.
NOT_SETTINGS = {"PATH"}


def variables_read() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for source in [ROOT / "app.py", *sorted((ROOT / "chaptan").rglob("*.py"))]:
        text = source.read_text(encoding="utf-8")
        for pattern in ENV_READS:
            for name in pattern.findall(text):
                found.setdefault(name, set()).add(str(source.relative_to(ROOT)))
    return {name: files for name, files in found.items() if name not in NOT_SETTINGS}


def test_every_environment_variable_the_code_reads_is_in_the_readme():
    found = variables_read()
    # The scan must see the settings it is meant to guard, or it proves nothing.
    assert {"CHAPTAN_DATA_DIR", "OPENAI_API_KEY", "EMAIL_USE_TLS", "HF_HUB_OFFLINE"} <= found.keys()
    readme = README.read_text(encoding="utf-8")
    missing = {name: sorted(files) for name, files in found.items() if not re.search(rf"\b{name}\b", readme)}
    assert not missing, f"read by the code but not documented in README.md: {missing}"


def readme_python_example() -> str:
    match = re.search(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert match, "README.md has no ```python example"
    return match.group(1)


def test_readme_client_example_runs_against_the_app(tmp_path):
    code = readme_python_example()
    # The example as a reader copies it: the default address, a user's login and their video file.
    for placeholder in ('"http://127.0.0.1:7860"', '"talk.mp4"', "auth=("):
        assert placeholder in code, f"the README example no longer has {placeholder}"
    media = spoken_video(tmp_path / "talk.mp4", (TOPICS[0].split(". ")[0] + ".",))
    with running_app(tmp_path / "data") as app:
        code = code.replace('"http://127.0.0.1:7860"', repr(app.url))
        code = code.replace('"talk.mp4"', repr(str(media.path)))
        code = re.sub(r"auth=\([^)]*\)", f"auth={ALICE!r}", code, count=1)
        namespace: dict = {}
        exec(compile(code, "README.md example", "exec"), namespace)
    chapters = json.loads(namespace["chapters_json"])["chapters"]
    assert chapters and chapters[0]["start"] == 0 and chapters[0]["title"]
    assert namespace["youtube_text"].startswith("00:00 ")
    assert Path(namespace["srt_path"]).read_text(encoding="utf-8").startswith("1\n")
    assert namespace["new_version"] == 2
    assert namespace["video"]["status"] == "done"
