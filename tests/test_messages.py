"""Messages as data: every message the code can show has its translations, and a message keeps its
id and parameters from the raise site to the page, through the database too."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

import chaptan
from chaptan.errors import ChaptanError, MediaError
from chaptan.messages import Message, catalog, render
from chaptan.storage.store import Job, Store
from tests.media_factory import text_as_video
from tests.test_library import ALICE, library_on

PACKAGE = Path(chaptan.__file__).parent
TRANSLATED = ("ja", "zh-TW")
# Edges that speak English only: the command line, and the API that scripts parse.
ENGLISH_ONLY = {"cli/pipeline.py", "cli/users.py", "cli/s3.py", "cli/models.py", "cli/worker.py", "ui/api.py"}
# Calls whose first argument is a message id: Message, every ChaptanError class, the notices Gradio
# shows, and the UI's renderers.
UI_CALLS = {"t", "translate", "localized", "localized_table"}
GRADIO_NOTICES = {"Error", "Info", "Warning"}


def _error_classes() -> set[str]:
    import chaptan.chapters.llm  # noqa: F401  (the modules that define ChaptanError subclasses)
    import chaptan.storage.store  # noqa: F401
    import chaptan.videos  # noqa: F401

    found, pending = set(), [ChaptanError]
    while pending:
        cls = pending.pop()
        found.add(cls.__name__)
        pending.extend(cls.__subclasses__())
    return found


def _constants(tree: ast.Module) -> dict[str, list[str]]:
    """Module-level names bound to a text, or to a list, tuple or dict of texts."""
    values: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = node.value
            items = value.values if isinstance(value, ast.Dict) else \
                value.elts if isinstance(value, (ast.List, ast.Tuple)) else [value]
            texts = [i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str)]
            if texts and len(texts) == len(items):
                values[node.targets[0].id] = texts
    return values


def _called(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) \
            and node.func.value.id == "gr" and node.func.attr in GRADIO_NOTICES:
        return f"gr.{node.func.attr}"
    return None


def _ids(node: ast.expr, constants: dict[str, list[str]]) -> list[str]:
    """The message ids an argument can be; none for a value made elsewhere (a Message passed on, a
    job's status), which is checked where it is made."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _ids(node.body, constants) + _ids(node.orelse, constants)
    if isinstance(node, ast.Name):
        return constants.get(node.id, [])
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        return constants.get(node.value.id, [])
    return []


def message_ids() -> tuple[dict[str, set[str]], list[str]]:
    """(message id -> where it is used, for the modules the browser speaks through; call sites that
    build a message id from an f-string or by concatenation, which no catalog can translate)."""
    errors = _error_classes()
    constants: dict[str, list[str]] = {}
    trees = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        trees[path] = ast.parse(path.read_text(encoding="utf-8"))
        constants.update(_constants(trees[path]))
    used: dict[str, set[str]] = {}
    unreadable: list[str] = []
    for path, tree in trees.items():
        module = path.relative_to(PACKAGE).as_posix()
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = _called(node)
            is_message = name == "Message" or name in errors
            if not (is_message or name in UI_CALLS or (name or "").startswith("gr.")):
                continue
            first = node.args[0]
            where = f"{module}:{node.lineno}"
            if isinstance(first, (ast.JoinedStr, ast.BinOp)):
                if is_message or module not in ENGLISH_ONLY:
                    unreadable.append(where)
                continue
            if module in ENGLISH_ONLY:
                continue
            for message_id in _ids(first, constants):
                used.setdefault(message_id, set()).add(where)
    return used, unreadable


def fields(template: str) -> list[tuple[str, str, str]]:
    return sorted((name, conversion or "", spec or "")
                  for _, name, spec, conversion in string.Formatter().parse(template) if name is not None)


def test_every_message_the_code_can_show_has_japanese_and_chinese():
    used, unreadable = message_ids()
    assert not unreadable, f"message ids made from f-strings or concatenation: {unreadable}"
    assert len(used) > 150  # the scan does find the code's messages
    assert "row {row} has no title" in used and "Log out" in used
    assert any(where.startswith("storage/store.py:") for where in used["no job {job_id!r}"])
    missing = {language: sorted(f"{m!r} ({', '.join(sorted(used[m]))})" for m in used
                                if m not in catalog(language))
               for language in TRANSLATED}
    assert missing == {language: [] for language in TRANSLATED}


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_the_fields_of_their_id(language):
    broken = [(key, text) for key, text in catalog(language).items()
              if "{" in key and fields(key) != fields(text)]
    assert broken == []


def test_a_message_is_its_english_text_and_renders_in_other_languages():
    message = Message("row {row} lasts {length:.0f} s; chapters need at least {least:g} s",
                      row=2, length=4.4, least=10.0)
    assert message == "row 2 lasts 4 s; chapters need at least 10 s"
    assert render(message, "ja") == "2 行目は 4 秒です。チャプターは 10 秒以上必要です"
    assert render(message, "zh-TW") == "第 2 列只有 4 秒；每個章節至少需要 10 秒"
    error = ChaptanError("no job {job_id!r}", job_id="j1")
    assert str(error) == "no job 'j1'" and error.message.params == {"job_id": "j1"}
    # A message inside a message is rendered in the same language.
    draft = Message("the saved chapters are a draft that YouTube would refuse ({problems}): "
                    "fix them in the Chapter editor first",
                    problems=[Message("row {row} has no title", row=2), Message("there are no chapters")])
    assert "(row 2 has no title; there are no chapters)" in draft
    assert "2 行目にタイトルがありません; チャプターがありません" in render(draft, "ja")


def test_a_failed_jobs_error_and_warnings_keep_their_ids_in_the_database(tmp_path):
    store = Store(tmp_path / "db.json")
    error = MediaError("{file} has no audio stream, so there is nothing to transcribe", file="talk.mp4")
    warning = Message("{start}-{end} is spoken in {language}, which whisper {model} cannot transcribe, "
                      "so it was left out of the transcript", start="0:30", end="1:00", language="de",
                      model="tiny.en")
    store.add_job(Job(id="j1", owner="ann", status="failed", error=error.message, warnings=(warning,)))
    job = Store(tmp_path / "db.json").get_job("j1")
    assert job.error == "talk.mp4 has no audio stream, so there is nothing to transcribe"
    assert render(job.error, "ja") == "talk.mp4 には音声がないため、文字起こしできません"
    assert render(job.warnings[0], "zh-TW").startswith("0:30–1:00 說的是 de")


def test_an_upload_error_names_the_file_by_its_name_as_a_parameter(tmp_path):
    library = library_on(tmp_path / "data")
    (tmp_path / "gradio" / "5e1b").mkdir(parents=True)
    upload = text_as_video(tmp_path / "gradio" / "5e1b" / "notes.mp4")
    with pytest.raises(MediaError) as raised:
        library.submit(ALICE, upload)
    assert raised.value.message.params["file"] == "notes.mp4"
    assert str(upload.parent) not in str(raised.value)
    assert render(raised.value.message, "ja").startswith("notes.mp4 は動画・音声ファイルとして読めません（")


def test_a_translation_edited_with_a_wrong_field_falls_back_to_english(tmp_path, monkeypatch):
    import chaptan.messages

    folder = tmp_path / "ja" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "chaptan.po").write_text('msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\n'
                                       'msgid "no job {job_id!r}"\nmsgstr "ジョブ {job} はありません"\n\n'
                                       'msgid "there are no chapters"\nmsgstr "チャプターがありません"\n',
                                       encoding="utf-8")
    monkeypatch.setattr(chaptan.messages, "LOCALE_DIR", tmp_path)
    catalog.cache_clear()
    try:
        assert render(Message("no job {job_id!r}", job_id="j1"), "ja") == "no job 'j1'"
        assert render(Message("there are no chapters"), "ja") == "チャプターがありません"
    finally:
        catalog.cache_clear()
