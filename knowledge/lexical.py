"""BM25 over whole patterns with `bm25s` (Chroma has no local BM25)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from core.text import words

__all__ = ["LexicalIndex", "tokenize"]

# short English stop list; domain words such as "event" or "invoice" stay
_STOP = frozenset(
    "a an and are as at be but by can do does for from has have how i if in into is it its "
    "me my of on or our so that the their them then there these they this to us was we "
    "what when where which while who why will with you your".split()
)


def tokenize(text: str) -> list[str]:
    return words(text, _STOP)


class LexicalIndex:
    def __init__(self, ids: Sequence[str], texts: Sequence[str]) -> None:
        import bm25s

        self.ids = list(ids)
        self._retriever = bm25s.BM25()
        if self.ids:
            self._retriever.index([tokenize(t) for t in texts], show_progress=False)

    def search(self, query: str, *, k: int, allowed: set[str] | None = None) -> list[str]:
        """Pattern ids ranked by BM25, best first; only ids with a positive score."""
        tokens = tokenize(query)
        if not self.ids or not tokens:
            return []
        scores = np.asarray(self._retriever.get_scores(tokens))
        order = np.argsort(-scores, kind="stable")
        ranked = [self.ids[i] for i in order if scores[i] > 0]
        if allowed is not None:
            ranked = [i for i in ranked if i in allowed]
        return ranked[:k]
