"""Index and search. Tests taking `backend` run twice: against the embedded Chroma built
with the network blocked, and against a Chroma server started for the session (slow)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from knowledge.config import KnowledgeSettings, load_knowledge_settings
from knowledge.embedder import Embedder, MiniLMEmbedder
from knowledge.evaluation import evaluate_method, load_queries
from knowledge.fusion import reciprocal_rank_fusion
from knowledge.index import KnowledgeIndex, open_index
from knowledge.lexical import tokenize
from knowledge.patterns import Pattern, load_patterns
from tests.knowledge.conftest import CachingEmbedder, socket_guard


def test_offline_build_from_fresh_directory(offline_build: dict[str, object],
                                            patterns: list[Pattern]) -> None:
    """Model load, indexing and search all happened inside the socket guard."""
    assert offline_build["attempts"] == []
    report = offline_build["report"]
    assert len(report.added) == len(patterns) and report.unchanged == 0
    assert offline_build["hits"][0].id == "webhook-signature-raw-body"
    assert (Path(offline_build["data_dir"]) / "chroma").is_dir()


def test_embedder_matches_protocol_and_normalises(embedder: CachingEmbedder) -> None:
    assert isinstance(embedder.inner, Embedder)
    vectors = embedder.inner.embed(["refund failed after success", "a refund that bounced",
                                    "konbini voucher in japan"])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    sims = vectors @ vectors.T
    assert sims[0, 1] > sims[0, 2]
    # batching and length-sorting do not change a text's vector
    single = embedder.inner.embed(["konbini voucher in japan"])[0]
    assert np.allclose(single, vectors[2], atol=1e-5)


def test_search_finds_the_right_pattern(backend: tuple[KnowledgeSettings, KnowledgeIndex]) -> None:
    _, index = backend
    hits = index.search("customer charged twice after our create call timed out", k=5)
    assert "idempotency-keys" in [h.id for h in hits][:3]
    assert len(hits) == 5 and hits[0].title and hits[0].path.endswith(".md")


@pytest.mark.parametrize("method", ["dense", "bm25", "fusion"])
def test_each_method_returns_results(backend: tuple[KnowledgeSettings, KnowledgeIndex],
                                     method: str) -> None:
    _, index = backend
    hits = index.search("OXXO voucher expired and stock still reserved", k=5, method=method)
    assert "vouchers-oxxo-boleto-konbini" in [h.id for h in hits]


def test_product_and_tag_filters(backend: tuple[KnowledgeSettings, KnowledgeIndex]) -> None:
    _, index = backend
    for method in ("fusion", "dense", "bm25"):
        hits = index.search("who pays fees and disputes", k=10, method=method,
                            products=["connect"])
        assert hits and all("connect" in h.products for h in hits), method
        tagged = index.search("retries", k=10, method=method, tags=["webhooks"])
        assert tagged and all("webhooks" in h.tags for h in tagged), method
    assert index.search("anything", products=["connect"], tags=["no-such-tag"]) == []


def test_fusion_reaches_recall_target(backend: tuple[KnowledgeSettings, KnowledgeIndex]) -> None:
    _, index = backend
    queries = load_queries()
    assert len(queries) >= 60
    result = evaluate_method(index, queries, "fusion", warmup=0)
    assert result.recall_at_k >= 0.9, result.misses
    assert result.mrr >= 0.8


def test_incremental_reindex_by_content_hash(tmp_path: Path, patterns: list[Pattern],
                                             embedder: CachingEmbedder) -> None:
    library = tmp_path / "patterns"
    library.mkdir()
    for p in patterns[:4]:
        shutil.copy(p.path, library)
    settings = load_knowledge_settings(data_dir=tmp_path / "data", chroma_url=None,
                                       patterns_dir=library)
    index = open_index(settings, embedder=embedder)
    first = index.update(load_patterns(library))
    assert len(first.added) == 4
    again = index.update(load_patterns(library))
    assert (again.added, again.updated, again.removed, again.unchanged) == ([], [], [], 4)

    changed, removed = sorted(library.glob("*.md"))[:2]
    changed.write_text(changed.read_text() + "\nOne more line about lock_timeout.\n")
    removed.unlink()
    before = len(embedder.requests)
    report = index.update(load_patterns(library))
    assert report.updated == [changed.stem] and report.removed == [removed.stem]
    assert report.unchanged == 2 and not report.added
    # only the changed pattern's chunks went to the embedder
    title = next(p.title for p in load_patterns(library) if p.id == changed.stem)
    sent = [t for request in embedder.requests[before:] for t in request]
    assert sent and all(t.startswith(title) for t in sent)
    assert removed.stem not in {h.id for h in index.search("webhook", k=10)}

    # a new process sees the same index (persistent directory)
    reopened = open_index(settings, embedder=embedder)
    assert reopened.count() == 3
    assert reopened.update(load_patterns(library)).unchanged == 3


def test_real_embedder_loads_without_network() -> None:
    with socket_guard() as attempts:
        vector = MiniLMEmbedder(threads=1).embed(["hello"])
    assert attempts == [] and vector.shape == (1, 384)


def test_rrf_and_tokenizer() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["b", "c", "d"]])
    assert [doc for doc, _ in fused] == ["b", "c", "a", "d"]
    assert tokenize("Stripe-Account header on invoice.created webhooks") == [
        "stripe", "account", "header", "invoice", "created", "webhook"]
