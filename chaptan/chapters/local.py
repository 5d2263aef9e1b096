"""The local (offline) chapter generator: topic shifts from pauses and word overlap."""

from __future__ import annotations

import re
from collections import Counter

from ..transcript import Transcript
from .model import ChapterOptions, Proposal

_WORD = re.compile(r"[A-Za-z][A-Za-z'-]{3,}")


class LocalChapterer:
    name = "local"

    def warm_up(self) -> None:
        """Nothing to load yet."""

    def propose(self, transcript: Transcript, options: ChapterOptions) -> list[Proposal]:
        # First version: one start every ~90 s at the longest pause near each mark.
        segments = transcript.segments
        proposals = [Proposal(0.0)]
        step = 90.0
        mark = step
        for prev, seg in zip(segments, segments[1:]):
            if seg.start >= mark:
                proposals.append(Proposal(seg.start, "", seg.start - prev.end))
                mark = seg.start + step
        return proposals


def title_for_span(transcript: Transcript, start: float, end: float) -> str:
    text = " ".join(s.text for s in transcript.segments if start <= s.start < end)
    words = Counter(w.lower() for w in _WORD.findall(text))
    top = [w for w, _ in words.most_common(3)]
    return " ".join(top).capitalize()[:70] or text.strip()[:70]
