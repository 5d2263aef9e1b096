"""Word and character error rates, for tests and benchmarks that hold a transcript to spoken text."""

from __future__ import annotations

import re
import unicodedata


def edit_distance(reference: list[str], hypothesis: list[str]) -> int:
    """Levenshtein distance between two token lists (one row of the table at a time)."""
    row = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, start=1):
        previous, row[0] = row[0], i
        for j, hyp in enumerate(hypothesis, start=1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (ref != hyp))
    return row[-1]


def _plain(text: str) -> str:
    # NFKC folds full-width digits and letters, so "１１" and "11" compare equal.
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"[^\w\s']", " ", text)


def word_error_rate(reference: str, hypothesis: str) -> float:
    """Over lower-cased words without punctuation (Whisper's punctuation and casing are not errors)."""
    ref = _plain(reference).split()
    return edit_distance(ref, _plain(hypothesis).split()) / max(1, len(ref))


def character_error_rate(reference: str, hypothesis: str) -> float:
    """Over characters without spaces or punctuation: how Japanese and Chinese are scored."""
    def characters(text: str) -> list[str]:
        return list("".join(_plain(text).replace("'", " ").split()))

    ref = characters(reference)
    return edit_distance(ref, characters(hypothesis)) / max(1, len(ref))
