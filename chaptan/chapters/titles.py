"""Chapter titles: the short noun phrase that says what a stretch of a talk is about.

A creator's chapter title names the chapter's subject ("Drawing the circles", 「味噌汁の作り方」,
「融资困境」): a phrase that the chapter says more than once and the rest of the video hardly says.
We take candidate phrases from the chapter's own words — runs of content words in English and
other spaced scripts, noun compounds (with the の or 的 that ties two nouns) in Japanese and
Chinese, found by SudachiPy and jieba — and rank them by how often the chapter says them times how
rare their words are in the rest of the video. The opening minutes of a long video are its
introduction, which is what most creators call them; a short video's first chapter is already a
topic, named by its phrase (after "Introduction:" when it opens with a greeting).
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Collection, Iterator
from functools import cache, lru_cache

import numpy as np

from ..text import KANA, STOPWORDS, is_cjk, stem, words
from ..transcript import Transcript, speech
from .model import LONG_VIDEO_SECONDS, OPENING_SECONDS

TITLE_CHARS = 60
# What creators call the opening, per language; and the words that open a talk with a greeting.
INTRODUCTION = {"en": "Introduction", "ja": "はじめに", "zh": "开场"}
_GREETING = re.compile(
    r"\b(hello|hi|hey|welcome|good (morning|afternoon|evening)|today|in this (video|episode|lesson)|"
    r"this (video|episode|lesson))\b|こんにちは|こんばんは|おはよう|皆さん|みなさん|今日は|今回は|ようこそ|"
    r"大家好|欢迎|歡迎|今天|本期|这期|這期", re.IGNORECASE)
# How far into a chapter we look for the greeting: an introduction opens with it.
GREETING_SEGMENTS = 6

# How many phrases, ranked by counts and rarity, are weighed by meaning too, and how much meaning
# counts against the counts' share of the best. Rarity counts by its square root: at full weight a
# word the whole video keeps saying ("Bumble" in an interview about Bumble) could never name a
# chapter, though creators' titles often do. On the true chapters of the eval videos (12 a channel,
# benchmarks/title_quality.py), rarity at full weight and meaning at 1 gave titleF1 0.115 on long
# videos and 0.155 on short clips; the square root and meaning at 2 give 0.132 and 0.191 (meaning
# at 3 or 5: the same on long videos, less on short clips).
CANDIDATES = 20
RARITY_POWER = 0.5
MEANING_WEIGHT = 2.0
TEXT_CHARS = 4000
# A second phrase joins the title ("Bread and yeast") only when the chapter says it this often.
SECOND_PHRASE_COUNT = 3

# The particles that tie two nouns into one phrase (「味噌汁の作り方」): never a phrase's first or last word.
_PARTICLES = frozenset({"の", "的"})

# A pronoun or verb with its auxiliary ("you've", "they'd") is never a topic.
_CONTRACTIONS = ("'ve", "'re", "'ll", "'d", "n't", "'m")

_lock = threading.Lock()


def title_for_span(transcript: Transcript, start: float, end: float, avoid: Collection[str] = ()) -> str:
    """A short title for the speech in [start, end), other than the titles in `avoid` (its
    neighbours' titles: a chapter added or split off in the editor must not copy them)."""
    inside = [s.text.strip() for s in speech(transcript) if start <= s.start < end]
    if not inside:
        return ""
    cjk = is_cjk(" ".join(inside[:20]), transcript.language)
    language = _language(transcript.language, inside, cjk)
    taken = {t.casefold() for t in avoid}
    introduction = INTRODUCTION.get(language, INTRODUCTION["en"])
    first = start <= _first_start(transcript)
    # A long video's short first chapter is its introduction (model.OPENING_SECONDS): Lex Fridman
    # titles 64 of 75 first chapters "Introduction", The Coding Train 22 of 54, where the topic
    # phrase we wrote matched almost none of them. A longer first chapter (a podcast's first
    # conversation) is a topic.
    opening = first and transcript.duration >= LONG_VIDEO_SECONDS and end - start <= OPENING_SECONDS
    if opening and introduction.casefold() not in taken:
        return introduction
    greeting = first and _GREETING.search(" ".join(inside[:GREETING_SEGMENTS]))
    intro = introduction if opening or greeting else ""
    counts, surface = _phrases(tuple(inside), language)
    frequency = _segment_frequency(transcript, language)
    for phrase in _best_phrases(counts, surface, frequency, language, " ".join(inside)):
        title = f"{intro}: {phrase}" if intro and phrase else intro or phrase
        if title.casefold() not in taken:
            return title
    return ""


def _first_start(transcript: Transcript) -> float:
    return next((s.start for s in speech(transcript)), 0.0)


def _language(code: str, texts: list[str], cjk: bool) -> str:
    base = (code or "").split("-")[0].lower()
    if not cjk:
        return base if base and base not in ("ja", "zh") else "en"
    if base in ("ja", "zh"):
        return base
    # No language code: kana means Japanese.
    sample = "".join(texts[:20])
    return "ja" if KANA.search(sample) else "zh"


Key = tuple[str, ...]


@lru_cache(maxsize=64)
def _phrases(texts: tuple[str, ...], language: str) -> tuple[Counter[Key], dict[Key, Counter[str]]]:
    """Candidate phrases of the texts: how often each is said, and how it is written."""
    counts: Counter[Key] = Counter()
    surface: dict[Key, Counter[str]] = {}
    for text in texts:
        for run in _runs(text, language):
            joiner = "" if language in ("ja", "zh") else " "
            for size in (1, 2, 3):
                for i in range(len(run) - size + 1):
                    piece = run[i:i + size]
                    if piece[0][0] in _PARTICLES or piece[-1][0] in _PARTICLES:
                        continue
                    key = tuple(base for _, base in piece)
                    if language in ("ja", "zh") and len("".join(key)) < 2:
                        continue
                    counts[key] += 1
                    surface.setdefault(key, Counter())[joiner.join(w for w, _ in piece)] += 1
    return counts, surface


def _runs(text: str, language: str) -> list[list[tuple[str, str]]]:
    """Runs of content words (surface form, base form) that a title could be made of."""
    if language == "ja":
        return _japanese_runs(text)
    if language == "zh":
        return _chinese_runs(text)
    runs: list[list[tuple[str, str]]] = []
    for chunk in re.split(r"[.,;:!?()\"“”]", text):
        run: list[tuple[str, str]] = []
        for token in chunk.split() + [""]:
            # Whisper writes "it’s" as often as "it's": one stopword.
            word = [w.replace("’", "'") for w in words(token)]
            if (word and len(word[0]) > 2 and word[0] not in STOPWORDS and not word[0].endswith("ly")
                    and not word[0].endswith(_CONTRACTIONS)):
                run.append((token.strip("\"'“”"), stem(word[0])))
                continue
            if run:
                runs.append(run)
            run = []
    return runs


@cache
def _sudachi():
    from sudachipy import Dictionary

    return Dictionary().tokenizer()


def _japanese_runs(text: str) -> list[list[tuple[str, str]]]:
    """Noun compounds, with の joining two of them (「味噌汁の作り方」)."""
    with _lock:
        morphemes = [(m.surface(), m.part_of_speech()) for m in _sudachi().tokenize(text)]
    keep: list[bool] = []
    for i, (surface, pos) in enumerate(morphemes):
        after_noun = bool(keep) and keep[-1]
        noun = pos[0] == "名詞" and pos[1] != "数詞" and pos[2] != "副詞可能"
        suffix = pos[0] == "接尾辞" and pos[1] == "名詞的" and after_noun
        next_is_noun = i + 1 < len(morphemes) and morphemes[i + 1][1][0] == "名詞"
        linking = surface == "の" and after_noun and next_is_noun
        keep.append(noun or suffix or linking)
    return _runs_of([m for m, _ in morphemes], keep)


@cache
def _jieba():
    import jieba
    import jieba.posseg

    jieba.setLogLevel(60)
    return jieba.posseg


_CHINESE_NOUN = ("n", "nr", "ns", "nt", "nz", "vn", "eng", "an")
# Nouns that talk is full of and that name no topic ("time", "question", "thing", "way").
_CHINESE_FILLER = frozenset("时候 時候 问题 問題 东西 東西 事情 时间 時間 地方 方面 情况 情況 感觉 "
                            "感覺 意思 样子 樣子 部分 方式 过程 過程 人们 人們 大家 事儿 事兒".split())


def _chinese_runs(text: str) -> list[list[tuple[str, str]]]:
    """Noun compounds (「融资困境」), with 的 joining two of them."""
    with _lock:
        tokens = [(t.word, t.flag) for t in _jieba().cut(text)]
    keep: list[bool] = []
    for i, (word, flag) in enumerate(tokens):
        after_noun = bool(keep) and keep[-1]
        noun = flag in _CHINESE_NOUN and (len(word) > 1 or after_noun) and word not in _CHINESE_FILLER
        linking = word == "的" and after_noun and i + 1 < len(tokens) and tokens[i + 1][1] in _CHINESE_NOUN
        keep.append(noun or linking)
    return _runs_of([w for w, _ in tokens], keep)


def _runs_of(tokens: list[str], keep: list[bool]) -> list[list[tuple[str, str]]]:
    """The runs of kept tokens (each its own base form), without a particle at either end."""
    runs: list[list[tuple[str, str]]] = []
    run: list[tuple[str, str]] = []
    for token, kept in zip(tokens + [""], keep + [False]):
        if kept:
            run.append((token, token))
            continue
        while run and run[-1][0] in _PARTICLES:
            run.pop()
        while run and run[0][0] in _PARTICLES:
            run.pop(0)
        if run:
            runs.append(run)
        run = []
    return runs


def _by_meaning(ranked: list[Key], weight, surface: dict[Key, Counter[str]], text: str) -> list[Key]:
    """Re-rank candidate phrases by how well they sum up the chapter's meaning as well as by their
    counts: "Promise.all" over "four" in a chapter about promises."""
    from .embedding import embed_texts

    phrases = [surface[k].most_common(1)[0][0] for k in ranked]
    # Apart: a batch is padded to its longest text, and the chapter's text is 200 times a phrase.
    closeness = embed_texts(phrases) @ embed_texts([text[:TEXT_CHARS]])[0]
    weights = np.array([weight(k) for k in ranked])
    combined = weights / max(weights.max(), 1e-9) + MEANING_WEIGHT * (closeness - closeness.mean())
    return [ranked[i] for i in np.argsort(-combined, kind="stable")]


@lru_cache(maxsize=4)
def _segment_frequency(transcript: Transcript, language: str) -> tuple[Counter[str], int]:
    """In how many segments each candidate word occurs, and how many segments there are."""
    df: Counter[str] = Counter()
    texts = [s.text.strip() for s in speech(transcript)]
    for text in texts:
        df.update({base for run in _runs(text, language) for _, base in run})
    return df, max(len(texts), 1)


def _best_phrases(counts: Counter[Key], surface: dict[Key, Counter[str]],
                  frequency: tuple[Counter[str], int], language: str, text: str) -> Iterator[str]:
    """Titles from the best phrase down: the best, with a second one beside it when the chapter
    says that often too, then each further phrase alone."""
    if not counts:
        return
    df, total = frequency
    particles = _PARTICLES

    def weight(key: Key) -> float:
        content = [w for w in key if w not in particles] or list(key)
        rarity = sum(np.log(total / df.get(w, 1)) for w in content) / len(content)
        return counts[key] * rarity ** RARITY_POWER * len(content) ** 0.5

    ranked = sorted(counts, key=lambda k: (-weight(k), k))[:CANDIDATES]
    if MEANING_WEIGHT:
        ranked = _by_meaning(ranked, weight, surface, text)
    best = ranked[0]
    title = surface[best].most_common(1)[0][0]
    second = next((k for k in ranked[1:] if not set(k) & set(best) - particles), None)
    if second is not None and counts[second] >= SECOND_PHRASE_COUNT:
        extra = surface[second].most_common(1)[0][0]
        # Chinese titles set their phrases apart with a space (「番茄炒蛋 家常做法」): joined by 和, the
        # title on true spans scored 0.051 titleF1 on 12 Mandarin episodes, by a space 0.063.
        joined = {"ja": f"{title}と{extra}", "zh": f"{title} {extra}"}.get(language, f"{title} and {extra}")
        if len(joined) <= TITLE_CHARS:
            title = joined
    yield _capitalised(title)
    for key in ranked[1:]:
        yield _capitalised(surface[key].most_common(1)[0][0])


def _capitalised(title: str) -> str:
    return title[:1].upper() + title[1:]
