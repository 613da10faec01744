"""Build a world and print object counts by type, seconds and objects/s, next to a baseline
measured in the same run: raw `Store.bulk_insert` of as many plain dicts into a fresh store
(the ratio is the generator's own overhead over SQLite's insert floor).

    .venv/bin/python benchmarks/world.py [--size large] [--seed 0] [--bugs none]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from sandbox.replica.store import Store
from sandbox.world.build import build_world
from sandbox.world.config import WorldConfig


def baseline(n: int, directory: Path) -> float:
    """Seconds to `bulk_insert` `n` small Stripe-like dicts (half objects, half events)."""
    rows = [{"id": f"ch_{i:024d}", "object": "charge", "created": 1_700_000_000 + i,
             "amount": i, "currency": "usd", "customer": f"cus_{i % 997:014d}",
             "metadata": {"n": str(i)}} if i % 2 else
            {"id": f"evt_{i:024d}", "object": "event", "type": "charge.succeeded",
             "created": 1_700_000_000 + i, "data": {"object": {"id": f"ch_{i:024d}"}}}
            for i in range(n)]
    store = Store(directory / "baseline.sqlite3")
    try:
        started = time.perf_counter()
        store.bulk_insert(rows, account="acct_baseline")
        return time.perf_counter() - started
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="large")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bugs", default=None)
    args = parser.parse_args()
    config = WorldConfig.parse(seed=args.seed, size=args.size, bugs=args.bugs)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        info = build_world(config, Path(tmp) / "world")
        seconds = time.perf_counter() - started
        total = sum(info.counts.values())
        floor = baseline(total, Path(tmp))
    for kind, count in info.counts.items():
        print(f"{kind:40} {count:>9}")  # noqa: T201
    print(f"{'total':40} {total:>9}")  # noqa: T201
    print(f"size={config.size} seed={config.seed} seconds={seconds:.1f} "  # noqa: T201
          f"objects/s={total / seconds:,.0f}")
    print(f"baseline: bulk_insert of {total} plain dicts {floor:.1f}s "  # noqa: T201
          f"({total / floor:,.0f}/s); generator/baseline = {seconds / floor:.1f}x")
    # Timings on a shared machine scale with its load: report it next to them.
    print("load average (1/5/15 min): "  # noqa: T201
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
