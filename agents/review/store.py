"""A keyword (BM25) pattern index with the `KnowledgeIndex.search` shape: the fallback
when the vector index was not built, and the shared fake for tests."""

from __future__ import annotations

from collections.abc import Sequence

from knowledge.index import SearchHit
from knowledge.lexical import LexicalIndex
from knowledge.patterns import Pattern

__all__ = ["LexicalPatternIndex"]


class LexicalPatternIndex:
    def __init__(self, patterns: Sequence[Pattern]) -> None:
        self._by_id = {p.id: p for p in patterns}
        texts = [f"{p.title}\n" + "\n".join(p.sections.values()) for p in patterns]
        self._index = LexicalIndex([p.id for p in patterns], texts)

    def search(self, query: str, *, k: int = 5, **_: object) -> list[SearchHit]:
        ids = self._index.search(query, k=k)
        return [SearchHit(id=i, title=self._by_id[i].title, score=round(1.0 / (n + 1), 6),
                          products=self._by_id[i].products, tags=self._by_id[i].tags,
                          path=self._by_id[i].path) for n, i in enumerate(ids)]
