"""The local (offline) chapter generator.

A chapter starts where the talk changes topic. For every segment start we compare what is said
in a window before it with what is said in a window after it, two ways: TF-IDF term vectors
(content words, or character bigrams for Chinese and Japanese) and the mean multilingual sentence
embedding (`embedding.py`), so every language gets both. The windows scale with how long a
chapter of a video this long usually is (`count.py`): a two-minute explainer is compared over
seconds, a three-hour interview over minutes. The speaker's own transition wording, questions and
pauses (`cues.py`) add their evidence, each curve and the cues weighted as fitted on creators'
chapters (`CurveWeights`). How many chapters comes from the curve itself: every clear peak
becomes a chapter start however many there are, and the duration only decides how many weaker
peaks fill in where the talk just drifts (`count.py`). The long windows find a change but blur
where it happens, so each start is then placed by the evidence near it: the sentence within a
tenth of a chapter's length whose cues and short-window change, of words and of meaning, are
strongest, settled (in long videos) a segment or two towards the side its neighbouring sentences
clearly belong to. A long video's introduction, a minute or three, gets a chapter of its own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..text import SENTENCE_END, cjk_sentences, is_cjk, reading_terms, runs_on, script_language, topic_terms
from ..transcript import Segment, Transcript, speech
from . import embedding
from .count import CountModel, shipped_count
from .cues import CueModel, shipped_model
from .model import LONG_VIDEO_SECONDS, OPENING_SECONDS, ChapterOptions, Proposal
from .titles import title_for_span
from .windows import window_sums

__all__ = ["CurveWeights", "LocalChapterer", "segment_views", "spoken_segments", "title_for_span"]

# The windows compared on each side of a start, as shares of the expected chapter length. Shorter
# ones place a sharp change to the sentence, longer ones see a slow drift that short ones miss.
WINDOW_SHARES = (0.25, 0.5, 1.0)
# A window shorter than a few sentences or longer than a long chapter only adds noise.
MIN_WINDOW_SECONDS = 8.0
MAX_WINDOW_SECONDS = 600.0
# A three-hour interview says some 20,000 different words; the rarer ones tie few windows together
# and would only make every comparison slower.
MAX_TERMS = 3000
# A start moves to sit a segment with the side it resembles only when the difference in cosine
# is at least this. Swept channel-held-out over the eval sets: moving on any leaning helps the
# podcasts' transcript lines (which often begin mid-sentence) and hurts the short clips' ASR
# segments; 0.1 is the best balance of the two (0.05: short clips F1@5s -0.03, 0.2: podcasts -0.04).
CLEAR_LEANING = 0.1
# Placing a start: the sentences within this share of the expected chapter length (at most
# PLACE_MAX_SECONDS) compete, by the cue model's log-odds and the change over PLACE_WINDOW_SECONDS
# of speech on each side, each in units of its own spread over the video. Swept channel-held-out
# over the eval sets (share 0.1 or 0.2, window 15 or 30 s, cue weight 0 to 1): long videos F1@5s
# 0.143 -> 0.158 (interviews most: Lex Fridman 0.096 -> 0.130), short clips 0.329 -> 0.371. The
# change is read in both views, words and meaning, as the boundary curves read it: long videos
# F1@5s 0.175 -> 0.185 (CrashCourse 0.298 -> 0.317, Lex Fridman 0.155 -> 0.172; Axios and Y
# Combinator, 13 videos, 0.02 lower), short clips unchanged, where the meaning alone placed them.
# Weighing words at 1.5 or 2, or a window of 45 s, gave the same 0.184-0.185.
PLACE_SHARE = 0.1
PLACE_MAX_SECONDS = 60.0
PLACE_WINDOW_SECONDS = 30.0
# Settling after placing helps where a chapter is minutes long (podcast transcript lines often
# begin mid-sentence) and costs the short clips 0.04 F1@5s: where starts are placed over fewer
# than SETTLE_FROM_SECONDS, a sentence moves only when it leans this clearly (short clips F1@5s
# 0.371 not settled, 0.327 at 0.1, 0.361 at 0.3, 0.378 at 0.5). At 0.3 the last sentence of a
# scripted talk's topic, which leans some 0.35 to its own topic, still goes with it.
SETTLE_FROM_SECONDS = 10.0
CLEAR_LEANING_SHORT = 0.3
# A long video's introduction (model.OPENING_SECONDS) ends at the strongest point after
# OPENING_FROM_SECONDS, where it stands at least OPENING_PEAK above the curve's median. Channel-held-
# out: long videos F1@5s 0.185 -> 0.190, segF1 0.258 -> 0.268 (Lex Fridman 0.283 -> 0.317; Dwarkesh
# Patel, whose first chapters are a quarter of an hour long, 0.228 -> 0.206); no height limit or
# one of 0 gave the same, 0.1 less (0.262).
OPENING_FROM_SECONDS = 20.0
OPENING_PEAK = 0.05

Embedder = Callable[[Sequence[str]], np.ndarray]
# A segment's TF-IDF row and its sentence embedding (`segment_views`).
Views = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class CurveWeights:
    """How much each dissimilarity curve and the cue model count in the boundary score.

    `curves` has one weight per window of WINDOW_SHARES, each for TF-IDF then for the embedding, and
    sums to 1, so the score stays in cosine units that the count model's peak heights are read in;
    `cue` is what one unit of the cue model's log-odds adds. They are a logistic regression's
    coefficients on the eval videos' chapter starts (benchmarks/fit_weights.py), scaled to that sum.
    Fitted without each channel in turn, the fits agree: the shortest windows place a change best and
    weigh most, terms more than meaning at every window, and the cues a quarter of what we had
    set by hand (0.15), which had outvoted a clear change of words. Against an equal mix with cues at
    0.15, channel-held-out (benchmarks/chapter_quality.py): long videos F1@5s 0.162 -> 0.174, segF1
    0.242 -> 0.257 (Lex Fridman 0.250 -> 0.281 segF1), short clips F1@5s 0.425 -> 0.434, segF1
    0.275 -> 0.287."""

    curves: tuple[float, ...] = (0.254, 0.178, 0.198, 0.126, 0.143, 0.101)
    cue: float = 0.045

    def combine(self, curves: np.ndarray, cues: np.ndarray) -> np.ndarray:
        """The boundary score from `curves` (one row per window and view, as `LocalChapterer.curves`
        gives them) and the cue model's log-odds."""
        return np.asarray(self.curves) @ curves + self.cue * (cues - cues.mean())


class LocalChapterer:
    name = "local"

    def __init__(self, cues: CueModel | None = None, count: CountModel | None = None,
                 embed: Embedder | None = None, weights: CurveWeights | None = None) -> None:
        self.cues = cues or shipped_model()
        self.count = count or shipped_count()
        self.embed = embed or embedding.embed_texts
        self.weights = weights or CurveWeights()

    def warm_up(self) -> None:
        """Load the embedding model ahead of time (the pipeline calls this while transcribing)."""
        embedding.warm_up()

    def propose(self, transcript: Transcript, options: ChapterOptions) -> list[Proposal]:
        starts, texts = spoken_segments(transcript)
        duration = transcript.duration
        if len(texts) < 2 or duration <= 0:
            return [Proposal(0.0)]
        score, views, cues = self.boundary_scores(transcript, starts, texts)
        gap = self.count.expected_gap(duration)
        min_gap = max(self.count.min_spacing(gap), options.min_chapter_seconds)
        candidates = _peaks(starts, score, min_gap, duration)
        picks = self.count.select(score, candidates, duration, options.max_chapters)
        picks = sorted(set(_place(picks, starts, views, cues, gap)))
        picks = _with_opening(picks, starts, score, duration)
        return [Proposal(0.0)] + [Proposal(float(starts[i]), "", float(score[i])) for i in picks]

    def boundary_scores(self, transcript: Transcript, starts: np.ndarray,
                        texts: list[str]) -> tuple[np.ndarray, Views, np.ndarray]:
        """How much a chapter seems to start at each segment, the segments' two views, and the
        cue model's log-odds at each."""
        views = segment_views(texts, np.asarray(self.embed(texts), dtype=np.float32), transcript.language)
        cues = self.cues.score(texts, pauses_before(transcript))
        return self.weights.combine(self.curves(transcript, starts, views), cues), views, cues

    def curves(self, transcript: Transcript, starts: np.ndarray, views: Views) -> np.ndarray:
        """How much the speech changes at each segment start: one row per window of WINDOW_SHARES
        and view (TF-IDF, then the embeddings), each a drop in cosine similarity above the row's
        median, 0 where a row has no evidence."""
        gap = self.count.expected_gap(transcript.duration)
        # The rows are not scaled to unit spread: a sharp change of words must outweigh the learned
        # cues, which are only hints, while gradual drift leaves them room to decide.
        windows = [min(max(share * gap, MIN_WINDOW_SECONDS), MAX_WINDOW_SECONDS) for share in WINDOW_SHARES]
        sums = [window_sums(starts, view, windows) for view in views]
        rows = []
        for w, window in enumerate(windows):
            # Where a side has less than half a window of speech (the first and last moments of
            # the video), the comparison is between a few words: no evidence either way.
            full = (starts - starts[0] >= window / 2) & (transcript.duration - starts >= window / 2)
            for view_sums in sums:
                before, after = view_sums[w]
                curve = -_cosines(before, after)
                # A side where no sentence starts (one long sentence runs through the whole window)
                # or none shares a term is no evidence either: not "the same topic".
                known = full & _nonzero(before) & _nonzero(after)
                centre = float(np.median(curve[known])) if known.any() else float(np.median(curve))
                rows.append(np.where(known, curve - centre, 0.0))
        return np.array(rows)


def segment_views(texts: list[str], vectors: np.ndarray, language: str) -> Views:
    """Each segment seen two ways: by its words (TF-IDF rows: content words, or character bigrams
    for Chinese and Japanese, and for Japanese the bigrams of how its nouns sound too) and by its
    meaning (the sentence embeddings `vectors`)."""
    sample = " ".join(texts[:50])
    japanese = (language or script_language(sample)).split("-")[0].lower() == "ja"
    return _tfidf(texts, is_cjk(sample, language), japanese), vectors


def spoken_segments(transcript: Transcript) -> tuple[np.ndarray, list[str]]:
    """The starts and texts of the spoken sentences: the candidate chapter starts
    (benchmarks/fit_weights.py labels the same list, so its features line up with ours)."""
    units = _sentences(transcript)
    return np.array([u.start for u in units], dtype=np.float64), [u.text for u in units]


def pauses_before(transcript: Transcript) -> np.ndarray:
    """Seconds of silence before each spoken sentence (0 for the first, and where captions run on)."""
    units = _sentences(transcript)
    if not units:
        return np.zeros(0)
    starts = np.array([u.start for u in units], dtype=np.float64)
    ends = np.array([u.end for u in units], dtype=np.float64)
    return np.maximum(np.r_[0.0, starts[1:] - ends[:-1]], 0.0)


@lru_cache(maxsize=4)
def _sentences(transcript: Transcript) -> tuple[Segment, ...]:
    """The transcript's segments with words, each cut where a sentence ends inside it. Whisper runs
    sentences together in one segment, and in Japanese and Chinese often writes no 。 at all, only a
    space between them, or nothing at all after a polite ending: "…のがコツです 二つ目は富士山の話です"
    and "…ごろです早めに準備すると…" each hold the start of a new sentence, which a chapter start
    must be able to take. With word timings a piece starts at its first
    word; without them, at its share of the segment's characters."""
    units: list[Segment] = []
    for segment in speech(transcript):
        text = segment.text.strip()
        words = segment.words
        if words:
            cuts = [i for i in range(1, len(words)) if _sentence_break(words[i - 1].text, words[i].text)]
            for a, b in zip([0] + cuts, cuts + [len(words)]):
                piece = words[a:b]
                piece_text = "".join(w.text for w in piece).strip()
                if piece_text:
                    units.append(Segment(piece[0].start, piece[-1].end, piece_text, piece))
            continue
        span = max(segment.end - segment.start, 0.0)
        for offset, piece in cjk_sentences(text):
            start = segment.start + span * offset / len(text)
            end = segment.start + span * (offset + len(piece)) / len(text)
            units.append(Segment(start, end, piece))
    return tuple(units)


def _sentence_break(word: str, following: str) -> bool:
    """Whether a sentence ends between two of Whisper's words."""
    return word.rstrip().endswith(SENTENCE_END) or runs_on(word, following)


def _tfidf(texts: list[str], cjk: bool, japanese: bool = False) -> np.ndarray:
    """Per-segment TF-IDF rows over the terms that occur in at least two segments (a term said
    once cannot tie two windows together), the MAX_TERMS most widespread of them at most."""
    terms = [Counter(topic_terms(t, cjk) + (reading_terms(t) if japanese else [])) for t in texts]
    df = Counter(term for counts in terms for term in counts)
    shared = sorted((t for t, n in df.items() if n >= 2), key=lambda t: (-df[t], t))[:MAX_TERMS]
    vocab = {term: i for i, term in enumerate(shared)}
    matrix = np.zeros((len(texts), max(len(vocab), 1)), dtype=np.float32)
    for row, counts in enumerate(terms):
        for term, n in counts.items():
            if term in vocab:
                matrix[row, vocab[term]] = n * np.log(len(texts) / df[term])
    return matrix


def _nonzero(rows: np.ndarray) -> np.ndarray:
    return np.abs(rows).sum(axis=1) > 0


def _cosines(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Row by row cosine of the speech before and after each start (1 where a side is empty)."""
    norms = np.linalg.norm(before, axis=1) * np.linalg.norm(after, axis=1)
    return np.where(norms > 0, (before * after).sum(axis=1) / np.maximum(norms, 1e-12), 1.0)


def _peaks(starts: np.ndarray, score: np.ndarray, min_gap: float, duration: float) -> list[int]:
    """Candidate starts, strongest first: each the highest point within `min_gap` s around it,
    and at least `min_gap` s from 0:00 and half of it from the end."""
    chosen: list[int] = []
    for i in np.argsort(-score, kind="stable"):
        t = starts[i]
        if t < min_gap or duration - t < min_gap / 2:
            continue
        if all(abs(t - starts[j]) >= min_gap for j in chosen):
            chosen.append(int(i))
    return chosen


def _place(picks: list[int], starts: np.ndarray, views: Views, cues: np.ndarray,
           gap: float) -> list[int]:
    """Each picked start moved to the sentence near it where a chapter most clearly begins."""
    radius = min(PLACE_SHARE * gap, PLACE_MAX_SECONDS)
    evidence = _standardised(cues)
    for view in views:
        before, after = window_sums(starts, view, [PLACE_WINDOW_SECONDS])[0]
        evidence += _standardised(-_cosines(before, after))
    vectors = views[1]
    placed = []
    for i in picks:
        near = np.flatnonzero(np.abs(starts - starts[i]) <= radius)
        j = int(near[np.argmax(evidence[near])])
        lean = CLEAR_LEANING if radius >= SETTLE_FROM_SECONDS else CLEAR_LEANING_SHORT
        placed.append(_settle(j, starts, vectors, gap, lean))
    return placed


def _with_opening(picks: list[int], starts: np.ndarray, score: np.ndarray, duration: float) -> list[int]:
    """The picks, with the end of a long video's introduction among them where none ends it: the
    peaks keep a chapter's usual length from 0:00, minutes in a long video, and pass over it."""
    if duration < LONG_VIDEO_SECONDS or any(starts[i] <= OPENING_SECONDS for i in picks):
        return picks
    near = np.flatnonzero((starts >= OPENING_FROM_SECONDS) & (starts <= OPENING_SECONDS))
    if not len(near):
        return picks
    end = int(near[np.argmax(score[near])])
    if score[end] - float(np.median(score)) < OPENING_PEAK:
        return picks
    return sorted(picks + [end])


def _standardised(values: np.ndarray) -> np.ndarray:
    spread = float(values.std())
    return (values - float(np.median(values))) / spread if spread > 0 else np.zeros_like(values)


def _settle(index: int, starts: np.ndarray, vectors: np.ndarray, span: float, clear: float,
            moves: int = 2) -> int:
    """Move a start by a segment or two so that each segment next to it sits with the side it
    clearly resembles: a transition sentence ("football is played on every planet") often echoes
    both topics, and the peak of the curves can land a sentence late."""
    for _ in range(moves):
        if index > 1 and _leaning(index - 1, index, starts, vectors, span) > clear:
            index -= 1
        elif index + 1 < len(starts) and _leaning(index, index, starts, vectors, span) < -clear:
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
