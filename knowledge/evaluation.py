"""Retrieval evaluation: recall@k, MRR and latency of each method over the query set in
knowledge/eval/queries.yaml (used by benchmarks/retrieval.py and the tests)."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import yaml
from pydantic import BaseModel

from core.errors import ConfigError
from knowledge.index import KnowledgeIndex, Method

__all__ = ["QUERIES_PATH", "EvalQuery", "MethodResult", "evaluate_method", "load_queries"]

QUERIES_PATH = Path(__file__).resolve().parent / "eval" / "queries.yaml"


class EvalQuery(BaseModel):
    q: str
    expected: list[str]


class MethodResult(BaseModel):
    method: str
    queries: int
    recall_at_k: float
    mrr: float
    p50_ms: float
    p95_ms: float
    misses: list[str]


def load_queries(path: Path = QUERIES_PATH) -> list[EvalQuery]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return [EvalQuery.model_validate(q) for q in data["queries"]]
    except (OSError, KeyError, TypeError, ValueError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot load eval queries from {path}: {exc}",
                          hint="see knowledge/eval/queries.yaml for the format") from None


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def evaluate_method(index: KnowledgeIndex, queries: list[EvalQuery], method: Method, *,
                    k: int = 5, warmup: int = 3) -> MethodResult:
    for q in queries[:warmup]:
        index.search(q.q, k=k, method=method)
    recalls, ranks, latencies, misses = [], [], [], []
    for q in queries:
        started = time.perf_counter()
        hits = [h.id for h in index.search(q.q, k=k, method=method)]
        latencies.append((time.perf_counter() - started) * 1000)
        found = [e for e in q.expected if e in hits]
        recalls.append(len(found) / len(q.expected))
        first = next((n for n, h in enumerate(hits, 1) if h in q.expected), None)
        ranks.append(1.0 / first if first else 0.0)
        if len(found) < len(q.expected):
            misses.append(f"{q.q!r}: expected {q.expected}, got {hits}")
    return MethodResult(
        method=method, queries=len(queries), recall_at_k=statistics.fmean(recalls),
        mrr=statistics.fmean(ranks), p50_ms=statistics.median(latencies),
        p95_ms=_percentile(latencies, 95), misses=misses)
