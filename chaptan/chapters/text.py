"""Tokenising transcript text for topic features and titles, for spaced and CJK scripts alike."""

from __future__ import annotations

import re

# Chinese, Japanese and Korean script: these languages write no spaces between words, so we
# compare them by character bigrams instead of words.
_KANA_HAN = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK = re.compile(f"[{_KANA_HAN}\uac00-\ud7af]")
KANA = re.compile("[\u3040-\u30ff]")
# A space between two Japanese or Chinese characters: Whisper's sentence break in those languages
# (Korean spaces its words, so Hangul is not among them).
CJK_SENTENCE_SPACE = re.compile(f"(?<=[{_KANA_HAN}]) +(?=[{_KANA_HAN}])")
SENTENCE_END = tuple(".?!。？！")
_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)
CJK_LANGUAGES = {"zh", "ja", "ko", "yue"}

# Function words and the filler of spoken English, which carry no topic.
STOPWORDS = frozenset("""
a about above after again against all almost also am an and any anything are around as at back be because
been before being below between both but by can can't could did didn't do does doesn't doing don't done down
during each either else even ever every few first for from further get gets getting go goes going gonna got
gotta had has have having he her here here's hers him his how i i'd i'll i'm i've if in into is isn't it it's
its just kind know last let let's like little look lot made make maybe me might more most much must my need
new next no nor not now of off oh ok okay on once one only or other our out over own pretty probably put
quite really right said same say see she should so some something sort still such sure take than that that's
the their them then there there's these they they're thing things think this those though through to too two
um uh under until up us use used using very want wanna was way we we'll we're we've well were what what's
when where which while who why will with won't would yeah yes yet you you'll you're your actually basically
gonna hey hi hmm alright all-right second third fourth fifth sixth finally lastly firstly secondly
thirdly today
""".split())


def is_cjk(text: str, language: str = "") -> bool:
    """Whether to treat the text as unspaced CJK script (by language code, else by the letters)."""
    if language:
        return language.split("-")[0].lower() in CJK_LANGUAGES
    letters = [c for c in text[:2000] if c.isalpha()]
    return bool(letters) and sum(bool(_CJK.match(c)) for c in letters) > len(letters) / 3


def words(text: str) -> list[str]:
    """Lower-cased words of a spaced script, in order."""
    return [w.strip("'’-") for w in _WORD.findall(text.lower()) if w.strip("'’-")]


def stem(word: str) -> str:
    # A light plural fold so "volcanoes", "bees" and "variables" count as their singulars.
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("oes", "ses", "xes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def topic_terms(text: str, cjk: bool) -> list[str]:
    """The terms that say what a stretch of speech is about: content words, or CJK bigrams."""
    if cjk:
        chars = [c for c in text if c.isalnum()]
        return [a + b for a, b in zip(chars, chars[1:]) if _CJK.match(a) or _CJK.match(b)]
    return [stem(w) for w in words(text) if len(w) > 2 and w not in STOPWORDS]
