"""Speech on each side of a candidate chapter start, summed over fixed windows of seconds."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def window_sums(starts: np.ndarray, vectors: np.ndarray,
                windows: Iterable[float]) -> list[tuple[np.ndarray, np.ndarray]]:
    """For each window length: the summed rows of `vectors` (one per segment, in the order of the
    ascending `starts`) said in that many seconds before each start, and from it on (the segment at
    the start opens the window after it). Rows keep the dtype of `vectors`."""
    totals = np.vstack([np.zeros((1, vectors.shape[1]), dtype=vectors.dtype), np.cumsum(vectors, axis=0)])
    index = np.arange(len(starts))
    return [(totals[index] - totals[np.searchsorted(starts, starts - window)],
             totals[np.searchsorted(starts, starts + window)] - totals[index]) for window in windows]
