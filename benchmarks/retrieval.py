"""Retrieval benchmark: dense-only, BM25-only and RRF fusion on the same index, same run.

    .venv/bin/python benchmarks/retrieval.py [--chroma-url URL] [--misses]

Indexes the packaged pattern library into a fresh temporary Chroma directory (or the given
server), runs the queries of knowledge/eval/queries.yaml with each method and prints
recall@5, MRR, p50/p95 latency and the fusion/dense latency ratio. Acceptance: fusion
recall@5 >= 0.9 and p50 < 20 ms.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from knowledge.config import load_knowledge_settings  # noqa: E402
from knowledge.evaluation import evaluate_method, load_queries  # noqa: E402
from knowledge.index import open_index  # noqa: E402
from knowledge.patterns import load_patterns  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chroma-url", default=None, help="use a Chroma server instead")
    parser.add_argument("--misses", action="store_true", help="print the missed queries")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_knowledge_settings(data_dir=Path(tmp), chroma_url=args.chroma_url,
                                           chroma_collection=f"bench_{int(time.time())}")
        patterns = load_patterns(settings.patterns_dir)
        index = open_index(settings)
        report = index.update(patterns)
        queries = load_queries()
        print(f"indexed {len(patterns)} patterns in {report.seconds:.1f}s "
              f"({'server ' + args.chroma_url if args.chroma_url else 'embedded Chroma'}); "
              f"{len(queries)} queries, k=5")
        results = {m: evaluate_method(index, queries, m) for m in ("dense", "bm25", "fusion")}
    print(f"{'method':<8} {'recall@5':>9} {'MRR':>7} {'p50 ms':>8} {'p95 ms':>8}")
    for r in results.values():
        print(f"{r.method:<8} {r.recall_at_k:>9.3f} {r.mrr:>7.3f} {r.p50_ms:>8.2f} "
              f"{r.p95_ms:>8.2f}")
    fusion, dense = results["fusion"], results["dense"]
    print(f"fusion/dense p50 latency ratio: {fusion.p50_ms / dense.p50_ms:.2f}x; "
          f"fusion recall gain over dense: {fusion.recall_at_k - dense.recall_at_k:+.3f}, "
          f"over bm25: {fusion.recall_at_k - results['bm25'].recall_at_k:+.3f}")
    if args.misses:
        for r in results.values():
            for miss in r.misses:
                print(f"[{r.method}] {miss}")
    ok = fusion.recall_at_k >= 0.9 and fusion.p50_ms < 20
    print("acceptance (fusion recall@5 >= 0.9, p50 < 20 ms):", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
