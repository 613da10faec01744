"""Build a world and print object counts by type and the seconds it took.

    .venv/bin/python benchmarks/world.py [--size large] [--seed 0] [--bugs none]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sandbox.world.build import build_world
from sandbox.world.config import WorldConfig


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
    for kind, count in info.counts.items():
        print(f"{kind:40} {count:>9}")  # noqa: T201
    print(f"{'total':40} {sum(info.counts.values()):>9}")  # noqa: T201
    print(f"size={config.size} seed={config.seed} seconds={seconds:.1f}")  # noqa: T201


if __name__ == "__main__":
    main()
