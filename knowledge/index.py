"""The pattern index: dense (Chroma + MiniLM) and lexical (BM25) retrieval fused by RRF.

Two Chroma collections: `<name>` holds the section chunks and their vectors; `<name>_docs`
holds one document per pattern (its BM25 text, metadata and content fingerprint).
`KnowledgeIndex.update(patterns)` is incremental: a pattern is re-embedded only when its
fingerprint changed; removed patterns are deleted. Chroma is the source of truth for what
is indexed (the BM25 side is rebuilt from the documents stored there), so an embedded
store and a Chroma server behave the same.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel

from knowledge.chunking import CHUNKER_VERSION, chunk_pattern, lexical_text
from knowledge.config import KnowledgeSettings
from knowledge.embedder import Embedder, MiniLMEmbedder
from knowledge.fusion import reciprocal_rank_fusion
from knowledge.lexical import LexicalIndex
from knowledge.patterns import Pattern
from knowledge.vectorstore import open_client, open_collection

__all__ = ["IndexReport", "KnowledgeIndex", "Method", "SearchHit", "open_index"]

Method = Literal["fusion", "dense", "bm25"]
_DENSE_CANDIDATES = 80  # chunks fetched from Chroma before grouping by pattern


class IndexReport(BaseModel):
    added: list[str]
    updated: list[str]
    removed: list[str]
    unchanged: int
    seconds: float


class SearchHit(BaseModel):
    id: str
    title: str
    score: float
    products: list[str]
    tags: list[str]
    path: str


class _PatternInfo(BaseModel):
    id: str
    title: str
    products: list[str]
    tags: list[str]
    path: str


def _fingerprint(pattern: Pattern, model_id: str) -> str:
    raw = f"{pattern.content_hash}:{CHUNKER_VERSION}:{model_id}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _metadata(pattern: Pattern, fingerprint: str, section: str) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "pattern_id": pattern.id, "title": pattern.title, "section": section,
        "fingerprint": fingerprint, "path": pattern.path,
        "products": ",".join(pattern.products), "tags": ",".join(pattern.tags),
    }
    # one boolean per product/tag: Chroma `where` filters on scalar metadata
    meta.update({f"p_{p}": True for p in pattern.products})
    meta.update({f"t_{t}": True for t in pattern.tags})
    return meta


class KnowledgeIndex:
    def __init__(self, chunks: Any, docs: Any, embedder: Embedder) -> None:
        self._chunks = chunks
        self._docs = docs
        self._embedder = embedder
        self._lexical: LexicalIndex | None = None
        self._info: dict[str, _PatternInfo] = {}

    # -- writing ---------------------------------------------------------------------------
    def indexed_fingerprints(self) -> dict[str, str]:
        got = self._docs.get(include=["metadatas"])
        return {m["pattern_id"]: m["fingerprint"] for m in got["metadatas"] or []}

    def update(self, patterns: Sequence[Pattern]) -> IndexReport:
        started = time.perf_counter()
        existing = self.indexed_fingerprints()
        wanted = {p.id: (p, _fingerprint(p, self._embedder.model_id)) for p in patterns}
        stale = [pid for pid, fp in existing.items() if pid not in wanted or wanted[pid][1] != fp]
        fresh = [(p, fp) for pid, (p, fp) in wanted.items() if existing.get(pid) != fp]
        if stale:
            self._docs.delete(ids=stale)
        # also clears chunks left by an update that died between the two collections
        redo = sorted(set(stale) | {p.id for p, _ in fresh})
        if redo:
            self._chunks.delete(where={"pattern_id": {"$in": redo}})
        ids: list[str] = []
        docs: list[str] = []
        metas: list[dict[str, Any]] = []
        for pattern, fp in fresh:
            for chunk in chunk_pattern(pattern):
                ids.append(chunk.id)
                docs.append(chunk.text)
                metas.append(_metadata(pattern, fp, chunk.section))
        vectors = self._embedder.embed(docs) if docs else []
        for start in range(0, len(ids), 256):
            end = start + 256
            self._chunks.add(ids=ids[start:end], documents=docs[start:end],
                             metadatas=metas[start:end],
                             embeddings=[v.tolist() for v in vectors[start:end]])
        # The per-pattern document is never a dense candidate; Chroma wants a vector, so it
        # borrows the one of the pattern's title chunk instead of paying for another.
        title_vector = {m["pattern_id"]: v for m, v in zip(metas, vectors, strict=True)
                        if m["section"] == "title"}
        if fresh:
            self._docs.add(ids=[p.id for p, _ in fresh],
                           documents=[lexical_text(p) for p, _ in fresh],
                           metadatas=[_metadata(p, f, "pattern") for p, f in fresh],
                           embeddings=[title_vector[p.id].tolist() for p, _ in fresh])
        self._lexical = None
        return IndexReport(
            added=sorted(p.id for p, _ in fresh if p.id not in existing),
            updated=sorted(p.id for p, _ in fresh if p.id in existing),
            removed=sorted(pid for pid in stale if pid not in wanted),
            unchanged=len(wanted) - len(fresh), seconds=round(time.perf_counter() - started, 3),
        )

    # -- reading ---------------------------------------------------------------------------
    def count(self) -> int:
        return len(self._patterns())

    def _patterns(self) -> dict[str, _PatternInfo]:
        if self._lexical is None:
            got = self._docs.get(include=["documents", "metadatas"])
            pairs = sorted(zip(got["metadatas"] or [], got["documents"] or [], strict=True),
                           key=lambda pair: pair[0]["pattern_id"])
            self._info = {
                m["pattern_id"]: _PatternInfo(
                    id=m["pattern_id"], title=m["title"], path=m["path"],
                    products=[p for p in m["products"].split(",") if p],
                    tags=[t for t in m["tags"].split(",") if t])
                for m, _ in pairs
            }
            self._lexical = LexicalIndex([m["pattern_id"] for m, _ in pairs],
                                         [d for _, d in pairs])
        return self._info

    def _allowed(self, products: Sequence[str], tags: Sequence[str]) -> set[str] | None:
        if not products and not tags:
            return None
        return {pid for pid, info in self._patterns().items()
                if all(p in info.products for p in products) and all(t in info.tags for t in tags)}

    def dense_ranking(self, query: str, *, k: int, products: Sequence[str] = (),
                      tags: Sequence[str] = ()) -> list[tuple[str, float]]:
        vector = self._embedder.embed([query])[0]
        clauses = [{f"p_{p}": True} for p in products] + [{f"t_{t}": True} for t in tags]
        where: dict[str, Any] | None = None
        if clauses:
            where = clauses[0] if len(clauses) == 1 else {"$and": clauses}
        got = self._chunks.query(query_embeddings=[vector.tolist()], n_results=_DENSE_CANDIDATES,
                                 where=where, include=["distances"])
        best: dict[str, float] = {}
        for chunk_id, distance in zip(got["ids"][0], got["distances"][0], strict=True):
            pid = chunk_id.split("#", 1)[0]
            best[pid] = max(best.get(pid, -1.0), 1.0 - float(distance))
        return sorted(best.items(), key=lambda item: (-item[1], item[0]))[:k]

    def bm25_ranking(self, query: str, *, k: int, products: Sequence[str] = (),
                     tags: Sequence[str] = ()) -> list[str]:
        self._patterns()
        assert self._lexical is not None
        return self._lexical.search(query, k=k, allowed=self._allowed(products, tags))

    def search(self, query: str, *, k: int = 5, method: Method = "fusion",
               products: Sequence[str] = (), tags: Sequence[str] = ()) -> list[SearchHit]:
        info = self._patterns()
        depth = max(k, 20)
        if method == "dense":
            ranked = self.dense_ranking(query, k=k, products=products, tags=tags)
        elif method == "bm25":
            ids = self.bm25_ranking(query, k=k, products=products, tags=tags)
            ranked = [(pid, 1.0 / (n + 1)) for n, pid in enumerate(ids)]
        else:
            dense = [pid for pid, _ in self.dense_ranking(query, k=depth, products=products,
                                                          tags=tags)]
            lexical = self.bm25_ranking(query, k=depth, products=products, tags=tags)
            ranked = reciprocal_rank_fusion([dense, lexical])[:k]
        return [SearchHit(id=pid, title=info[pid].title, score=round(score, 6),
                          products=info[pid].products, tags=info[pid].tags, path=info[pid].path)
                for pid, score in ranked if pid in info]


def open_index(settings: KnowledgeSettings, *, embedder: Embedder | None = None) -> KnowledgeIndex:
    embedder = embedder or MiniLMEmbedder(settings.embedding_model_path,
                                          threads=settings.embedding_threads)
    client = open_client(settings)
    name = settings.chroma_collection
    return KnowledgeIndex(open_collection(client, name, embedder),
                          open_collection(client, f"{name}_docs", embedder), embedder)
