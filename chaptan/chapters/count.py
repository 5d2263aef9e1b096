"""How many chapters: what the boundary curve shows, with the video's length as a prior.

Across creators, chapters get longer as videos do, and their number grows much more slowly than
the videos: in our eval data (Coding Train, CrashCourse, Lex Fridman and other podcasts, short
clips from 60 channels, a Mandarin podcast) it grows with about the 0.18 power of the duration,
from 6-7 chapters in two minutes to about 14 in three hours. That law sets the length of
the windows compared and how many starts a video gets when its curve shows nothing clearer.

The curve decides the rest. Its peaks are read in its own units, drops in cosine similarity
above the curve's median: a peak that stands out clearly is a chapter start however many there
already are, so a two-minute talk with six announced topics gets six chapters; a peak among the
prior's share that rises only a little compared with the strongest peaks is dropped, so a talk
with three sharp changes gets three chapters rather than the five its length suggests.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

# YouTube needs three chapters: 0:00 and two more starts.
MIN_STARTS = 2


@dataclass(frozen=True)
class CountModel:
    # chapters ≈ scale · duration^power, fitted by least squares in log-log space over the eval
    # videos of every channel (benchmarks/chapter_quality.py refits it without the channel scored).
    scale: float = 2.801
    power: float = 0.176
    # A peak this far above the curve's median (in cosine) always becomes a start: the topic
    # changes of scripted test talks rise 0.3-0.4, the strongest peaks of drifting talk 0.15-0.25.
    clear_peak: float = 0.25
    # In a talk with clear peaks, a peak the prior asks for is kept only when it rises at least
    # this share of the mean height of the two strongest. Channel-held-out, the share hardly
    # matters on long videos (within 0.01 from 0 to 0.6) and costs the short clips 0.02 F1@5s at
    # 0.5; below 0.5 scripted three-topic talks keep a stray fourth chapter.
    weak_peak: float = 0.5
    # Starts closer than this share of the expected chapter length compete for one place
    # (channel-held-out, 0.6 over 0.4: segF1 +0.02 on long videos, nothing lost on short clips).
    spacing: float = 0.6

    def expected_count(self, duration: float) -> float:
        return self.scale * max(duration, 1.0) ** self.power

    def expected_gap(self, duration: float) -> float:
        """The usual length of a chapter in a video this long, in seconds."""
        return max(duration, 1.0) / max(self.expected_count(duration), 1.0)

    def min_spacing(self, gap: float) -> float:
        return self.spacing * gap

    def select(self, score: np.ndarray, candidates: list[int], duration: float,
               max_chapters: int = 0) -> list[int]:
        """The chapter starts (indices into `score`) among `candidates`, strongest first."""
        if not candidates:
            return []
        height = score - float(np.median(score))
        strongest = float(np.mean(height[candidates[:2]]))
        # Only a talk with clear changes shows what a weak peak is: in one that drifts, the peaks
        # the prior asks for are all alike and all are kept.
        floor = self.weak_peak * strongest if strongest >= self.clear_peak else 0.0
        prior = max(MIN_STARTS, round(self.expected_count(duration)) - 1)
        picks = [i for rank, i in enumerate(candidates) if height[i] >= self.clear_peak
                 or (rank < prior and height[i] >= floor)]
        # YouTube's minimum comes from the strongest of the rest.
        for i in candidates:
            if len(picks) >= MIN_STARTS:
                break
            if i not in picks:
                picks.append(i)
        if max_chapters:
            picks = sorted(picks, key=lambda i: -score[i])[:max(max_chapters - 1, 0)]
        return picks


@cache
def shipped_count() -> CountModel:
    return CountModel()
