"""The interface in the browser's language: English, Japanese or Traditional Chinese.

Every word the interface shows is an entry of the gettext catalogs in chaptan/locale (see
chaptan.messages), keyed by its English text. gr.I18n gets the catalogs' fixed texts for component
labels, choices and fixed text, and the browser's language picks one. Messages made at run time
(progress, job states, notices, errors), table column names and the login page's message go through
`translate` with the request's Accept-Language instead. The core stays English: the CLI and API
scripts read its messages as they are.
"""

from __future__ import annotations

import gradio as gr

from ..messages import LANGUAGES, catalog, render

HEADER = "# Chaptan · チャプたん\nChapters for your videos, made on your own machine."
UPLOAD_INTRO = ("Upload a video or audio file; Chaptan transcribes it and writes YouTube chapters. "
                "You can close this page: the job keeps running and shows up under **My videos**.")
VOICE_NOTE = ("Without an LLM configured, Chaptan answers from the selected video's transcript; "
              "open conversation needs `OPENAI_BASE_URL` or `OPENAI_API_KEY`.")
EMPTY_LIBRARY = "No videos yet. Upload one in the **Upload & chapter** tab."
UPLOAD_EMPTY = "Your video's player, chapters, transcript and downloads appear here once it is processed."
LIBRARY_EMPTY = "Click a video in the list to open it here."
NO_FINISHED_VIDEO = ("No finished video yet. Upload one in the **Upload & chapter** tab: it appears here as "
                     "soon as its chapters are ready.")
NO_VIDEO_CHOSEN = "Choose one of your videos above to watch it here while you ask about it."
NO_VIDEO = "Choose one of your finished videos to edit its chapters."
LOGIN_MESSAGE = ("<b>Chaptan</b> · チャプたん: sign in to chapter your videos. "
                 "After 5 failed attempts, signing in is paused for a while, longer each time.")
# The one draft rule, said wherever the editor shows problems: a draft saves whatever YouTube rules
# it breaks, and only a start that is not a time keeps it from saving.
DRAFT_NOTE = ("⚠️ **Draft**: YouTube would refuse these chapters yet. A draft is saved as it is, "
              "whatever rules it breaks.")
UNREADABLE_NOTE = ("A draft may break any YouTube rule and still be saved, but every start must be a "
                   "time first.")
ASK_PLACEHOLDER = "Ask about one of your videos, e.g. “When do I talk about the budget?” — or just say hello."


def language_of(request: gr.Request | None) -> str:
    """The caller's language for runtime messages: "ja", "zh-TW" or "en"."""
    headers = getattr(request, "headers", None) if request is not None else None
    return language_of_header((headers.get("accept-language") or "") if headers is not None else "")


def language_of_header(header: str) -> str:
    """The language an Accept-Language header asks for, of those we have.

    Languages are tried by preference (q values); the first one we have wins, English included,
    so "en-US,ja;q=0.8" stays English. Simplified Chinese is not offered Traditional."""
    ranked = []
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        try:
            weight = float(params.strip().removeprefix("q=")) if params.strip().startswith("q=") else 1.0
        except ValueError:
            weight = 0.0
        if tag and weight > 0:
            ranked.append((-weight, position, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        primary = tag.split("-")[0]
        if primary == "ja":
            return "ja"
        if primary == "zh" and any(part in ("tw", "hant", "hk", "mo") for part in tag.split("-")[1:]):
            return "zh-TW"
        if primary == "en":
            return "en"
    return "en"


def translate(message: str, language: str) -> str:
    """`message` (a Message, or a fixed text of the catalog) in `language`; English when the catalog
    has no translation."""
    return render(message, language)


def localized(message: str, request: gr.Request | None) -> str:
    """`message` in the language of the person behind `request`."""
    return translate(message, language_of(request))


def localized_table(headers: list[str], rows: list[list], language: str) -> dict:
    """A Dataframe value whose column names are in `language`: gr.I18n reaches component labels
    but not Dataframe headers, so every handler that fills a table sends them with its rows."""
    return {"headers": [translate(header, language) for header in headers], "data": rows}


# gr.I18n gets the catalogs' texts without {fields}: those are filled in on the server, never by gr.I18n.
FIXED_TEXTS = {language: {key: text for key, text in catalog(language).items() if "{" not in key}
               for language in LANGUAGES if language != "en"}
I18N = gr.I18n(en={key: key for key in FIXED_TEXTS["ja"]}, **FIXED_TEXTS)


def t(text: str):
    """The translatable form of `text` (a fixed text of the catalog)."""
    if text not in FIXED_TEXTS["ja"]:
        raise KeyError(f"no translation for {text!r}")
    return I18N(text)
