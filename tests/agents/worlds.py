"""Test-only bridge from a built sandbox world to the recon inputs the agents' tools read.

The product syncs a snapshot over HTTP (`fde recon sync`); here the replica store of a built
world is copied straight into a `Snapshot` (same rows, no server) by the evals' world cache,
so a per-switch triage test costs one world build plus one recon run. The manifest is never
read here.
"""

from __future__ import annotations

from pathlib import Path

from evals.scenario import Engagement, WorldSpec
from evals.worlds import WorldCache
from sandbox.world.build import USER_DB
from tests.conftest import REPO
from tools.recon.sync import Snapshot

MAPPING_PATH = REPO / "sandbox" / "usersys" / "mapping.yaml"


def _spec(bugs: str, seed: int, size: str, engagement: str = "acme") -> WorldSpec:
    return WorldSpec(seed=seed, size=size, bugs=[b for b in bugs.split(",") if b],
                     engagement=Engagement(name=engagement, livemode="FM-08" in bugs))


def build(tmp: Path, bugs: str, *, seed: int = 7, size: str = "demo"
          ) -> tuple[Path, Snapshot, str]:
    """(world dir, snapshot, company DB URL), built under `tmp` unless already there.

    `tmp` may be shared by several xdist workers: a file lock per world makes the first
    worker build it and the others wait and reuse it (read-only from then on)."""
    directory, snap_dir = WorldCache(tmp).build(_spec(bugs, seed, size))
    return directory, Snapshot(snap_dir), f"sqlite:///{directory / USER_DB}"


def tool_context(tmp: Path, bugs: str, *, engagement: str = "acme", seed: int = 7,
                 size: str = "demo"):
    """A ToolContext over a built world (see `build`): snapshot, company DB, detectors; the
    engagement is declared live when the world carries FM-08."""
    return WorldCache(tmp).tool_context(_spec(bugs, seed, size, engagement), engagement)
