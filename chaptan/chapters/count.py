"""How many chapters: what the boundary curve shows, with the video's length as a prior.

Across creators, chapters get longer as videos do, and their number grows much more slowly than
the videos: in our eval data (Coding Train, CrashCourse, Lex Fridman and other podcasts, short
clips from 60 channels, a Mandarin podcast) it grows with about the 0.18 power of the duration,
from 6-7 chapters in two minutes to about 14 in three hours. That law sets the length of
the windows compared and how many starts a video gets when its curve shows nothing clearer.

The curve decides the rest. Its peaks are read in its own units, drops in cosine similarity
above the curve's median: a peak that stands out clearly is a chapter start however many there
already are, so a two-minute talk with six announced topics gets six chapters. In a talk with a
clear peak, the starts end where the peaks, strongest first, step down most clearly (the talk's
topic changes, then the drift within a topic) or sink to the curve's median, so a talk with three sharp
changes gets three chapters rather than the seven its length suggests. A talk without a step gets
the prior's count.
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
    # A peak this far above the curve's median (in cosine) always becomes a start, and a talk needs
    # one to have a step: the topic changes of scripted test talks rise 0.3-0.4, the strongest
    # peaks of drifting talk 0.15-0.25.
    clear_peak: float = 0.25
    # A step: a peak at least step_peak high followed by one lower than weak_peak of it; where there
    # are several, the deepest. This replaced a floor at weak_peak of the two strongest peaks, which a
    # single stand-out peak (an ad read, a guest arriving) raised over most of a real talk's changes.
    # Channel-held-out over the eval sets: short clips F1@5s 0.364 -> 0.425, segF1 0.255 -> 0.275;
    # long videos F1@5s 0.157 -> 0.162, segF1 0.231 -> 0.242 (CrashCourse 0.279 -> 0.333 segF1;
    # Dwarkesh Patel, whose creator writes few chapters, 0.250 -> 0.217). Taking the deepest step
    # rather than the first below 0.5, at 0.6: long F1@5s 0.174 -> 0.175 and the short clips
    # unchanged, and the three-topic test talk, whose drift inside a topic stood at 0.52 of its
    # changes and 0.62 of the next peak, no longer gets a fourth chapter.
    step_peak: float = 0.15
    weak_peak: float = 0.6
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
        prior = max(MIN_STARTS, round(self.expected_count(duration)) - 1)
        picks = [i for rank, i in enumerate(candidates) if height[i] >= self.clear_peak
                 or rank < min(prior, self._step(height[candidates]))]
        # YouTube's minimum comes from the strongest of the rest.
        for i in candidates:
            if len(picks) >= MIN_STARTS:
                break
            if i not in picks:
                picks.append(i)
        if max_chapters:
            picks = sorted(picks, key=lambda i: -score[i])[:max(max_chapters - 1, 0)]
        return picks

    def _step(self, heights: np.ndarray) -> int:
        """How many of the peaks (strongest first) stand above the clearest step down in their
        heights: the deepest drop from a peak of step_peak or more to one lower than weak_peak of it
        (the changes of a talk that moves from topic to topic, then the talk within a topic), else
        the first peak at or below the curve's median. Only a talk with a clear peak has steps, and
        the strongest peak alone is no step: one stand-out moment (an ad read, a guest arriving)
        says nothing of the rest. len(heights) when there is no step: a talk that drifts, whose
        peaks the prior counts."""
        if not len(heights) or heights[0] < self.clear_peak:
            return len(heights)
        above = next((k for k in range(1, len(heights)) if heights[k] <= 0), len(heights))
        deepest, cut = self.weak_peak, above
        for k in range(1, above - 1):
            if heights[k] >= self.step_peak and heights[k + 1] / heights[k] < deepest:
                deepest, cut = heights[k + 1] / heights[k], k + 1
        return cut


@cache
def shipped_count() -> CountModel:
    return CountModel()
