"""Text rules shared by chapters, chat and speech: which script a text is in, words and their
stems, stopwords, sentence ends, and how many tokens a text costs an LLM."""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterable, Iterator
from functools import cache

# Japanese and Chinese write no spaces between words, so we compare them by character bigrams.
# Kana: hiragana, katakana and half-width katakana; Han: the unified ideographs, extension A and
# the compatibility ideographs.
_HIRAGANA_CHARS = "\u3040-\u309f"
_KANA = _HIRAGANA_CHARS + "\u30a0-\u30ff\uff66-\uff9f"
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_UNSPACED = _KANA + _HAN
# Korean spaces its words, but is still written in its own script (jamo and syllables).
_HANGUL = "\u1100-\u11ff\uac00-\ud7af"
_CJK = re.compile(f"[{_UNSPACED}{_HANGUL}]")
KANA = re.compile(f"[{_KANA}]")
# Hiragana alone writes Japanese grammar (です, ました, から, とても), which every topic shares.
_HIRAGANA = re.compile(f"[{_HIRAGANA_CHARS}]")
HAN = re.compile(f"[{_HAN}]")
# A space between two Japanese or Chinese characters: Whisper's sentence break in those languages
# (Korean spaces its words, so Hangul is not among them).
CJK_SENTENCE_SPACE = re.compile(f"(?<=[{_UNSPACED}]) +(?=[{_UNSPACED}])")
# Latin marks end a sentence only before a space (3.5 and [12:34] stay whole); CJK full-width marks
# end it where they stand.
# Whisper often writes Japanese without 。 and runs sentences on: "…三月十五日ごろです早めに準備すると…".
# A polite sentence ending straight before a kanji, katakana, digit or Latin letter ends a sentence
# there; before hiragana the sentence goes on (ですが, ますので, ですね, ましたけど).
_POLITE_END = "|".join(f"(?<={end})" for end in ("です", "ます", "ました", "でした", "ましょう", "ません"))
_JAPANESE_RUN_ON = re.compile(f"(?:{_POLITE_END})(?=[{_KANA[len(_HIRAGANA_CHARS):]}{_HAN}0-9A-Za-z０-９])")
_LATIN_SENTENCE_END = ".?!"
_CJK_SENTENCE_END = "。？！"
SENTENCE_END = tuple(_LATIN_SENTENCE_END + _CJK_SENTENCE_END)
CLAUSE_END = tuple(",;:、，；")
_SENTENCE_BREAK = re.compile(f"(?<=[{re.escape(_LATIN_SENTENCE_END)}])\\s+|(?<=[{_CJK_SENTENCE_END}])|\n+")
_WORD = re.compile(r"[^\W\d_][\w'’-]*", re.UNICODE)
# Index terms: a run of unspaced CJK script, or a run of any other word characters (digits too).
_TERM = re.compile(f"[{_UNSPACED}]+|[^\\W{_UNSPACED}]+")
_UNSPACED_CHAR = re.compile(f"[{_UNSPACED}]")
CJK_LANGUAGES = {"zh", "ja", "ko", "yue"}
# Characters per token for ASCII text: BPE tokenizers average about four in English.
CHARS_PER_TOKEN = 4

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
    """The terms that say what a stretch of speech is about: content words, or CJK bigrams, except
    those of two hiragana, which are Japanese grammar rather than topic (です, から)."""
    if cjk:
        chars = [c for c in text if c.isalnum()]
        return [a + b for a, b in zip(chars, chars[1:])
                if (_CJK.match(a) or _CJK.match(b)) and not (_HIRAGANA.match(a) and _HIRAGANA.match(b))]
    return [stem(w) for w in words(text) if len(w) > 2 and w not in STOPWORDS]


_READING_LOCK = threading.Lock()


@cache
def _openjtalk():
    import pyopenjtalk

    return pyopenjtalk


def reading_terms(text: str) -> list[str]:
    """Bigrams of how a Japanese text's nouns sound, in katakana, each marked with "~" so it never
    meets a bigram of the written characters. Whisper writes a Japanese word by its sound as often as
    by its characters (富士山 as 藤さん, 申告 as 新国): the readings (フジサン, シンコク) still tie them.
    A run of nouns is read as one (藤 + さん); numbers are left out, as the written bigrams keep them."""
    with _READING_LOCK:
        nodes = _openjtalk().run_frontend(text)
    terms: list[str] = []
    run = ""
    for node in nodes + [{"pos": ""}]:
        if node["pos"] == "名詞" and node["pos_group1"] != "数":
            run += node["read"]
            continue
        terms.extend("~" + run[i:i + 2] for i in range(len(run) - 1))
        run = ""
    return terms


def cjk_sentences(text: str) -> list[tuple[int, str]]:
    """The sentences of a Japanese or Chinese text that Whisper ran together, each with its offset:
    cut at a space between two characters of those scripts (Whisper's sentence break there) and
    after a Japanese polite ending that runs straight into the next sentence."""
    cuts = sorted({m.start() for m in _JAPANESE_RUN_ON.finditer(text)}
                  | {m.end() for m in CJK_SENTENCE_SPACE.finditer(text)})
    pieces = [(a, text[a:b]) for a, b in zip([0] + cuts, cuts + [len(text)])]
    return [(a + len(p) - len(p.lstrip()), p.strip()) for a, p in pieces if p.strip()]


def runs_on(word: str, following: str) -> bool:
    """Whether a sentence ends between two of Whisper's Japanese or Chinese words that it wrote
    without an end mark: a space between them, or a polite ending run straight into the next."""
    tail = word.strip()[-4:]
    head = following.lstrip()[:1]
    if following.startswith(" ") and CJK_SENTENCE_SPACE.search(tail[-1:] + following):
        return True
    return any(m.start() == len(tail) for m in _JAPANESE_RUN_ON.finditer(tail + head))


def search_terms(text: str, stopwords: frozenset[str] = STOPWORDS) -> list[str]:
    """The terms to index and look up `text` by, for mixed scripts: character bigrams of each
    Japanese or Chinese run (a lone character as itself), and the other words stemmed (numbers
    kept) unless they are stopwords. Bigrams match most two-kanji words and need no dictionary."""
    out: list[str] = []
    for run in _TERM.findall(text.lower()):
        if _UNSPACED_CHAR.match(run):
            out.extend([run] if len(run) == 1 else [run[i:i + 2] for i in range(len(run) - 1)])
        elif run not in stopwords:
            out.append(stem(run))
    return out


def script_language(text: str) -> str:
    """'ja' when the text has kana, 'zh' when it has Han characters only, else 'en'. Scripts are
    all that a short text reliably shows; Latin-script languages are not told apart."""
    if KANA.search(text):
        return "ja"
    return "zh" if HAN.search(text) else "en"


def split_sentences(pieces: Iterable[str]) -> Iterator[str]:
    """Whole sentences out of a stream of text pieces, each as soon as its end has arrived: at
    . ! ? before a space, right after a CJK full stop, or at a line break."""
    buffer = ""
    for piece in pieces:
        buffer += piece
        *done, buffer = _SENTENCE_BREAK.split(buffer)
        yield from (s.strip() for s in done if s.strip())
    if buffer.strip():
        yield buffer.strip()


def estimate_tokens(text: str) -> int:
    """What an LLM's tokenizer makes of `text`, estimated without one: a token per four ASCII
    characters, and a token per character of anything else (Japanese and Chinese cost one to two a
    character, other scripts somewhat less), rounded up. Deterministic, needs no vocabulary file,
    and errs over rather than under, so a budget it fills is not overrun."""
    wide = sum(1 for ch in text if ord(ch) > 127)
    return wide + math.ceil((len(text) - wide) / CHARS_PER_TOKEN)
