"""Test-only bridge from a built sandbox world to the recon inputs the agents' tools read.

The product syncs a snapshot over HTTP (`fde recon sync`); here the replica store of a built
world is copied straight into a `Snapshot` (same rows, no server), so a per-switch triage
test costs one world build plus one recon run. The manifest is never read here.
"""

from __future__ import annotations

from pathlib import Path

from evals.worlds import deliveries, snapshot_from_replica
from sandbox.world import WorldConfig
from sandbox.world.build import REPLICA_DB, USER_DB
from tests.conftest import REPO
from tools.recon.sync import Snapshot

MAPPING_PATH = REPO / "sandbox" / "usersys" / "mapping.yaml"


def build(tmp: Path, bugs: str, *, seed: int = 7, size: str = "demo"
          ) -> tuple[Path, Snapshot, str]:
    """(world dir, snapshot, company DB URL), built under `tmp` unless already there.

    `tmp` may be shared by several xdist workers: a file lock per world makes the first
    worker build it and the others wait and reuse it (read-only from then on)."""
    from filelock import FileLock

    from sandbox.world.build import load_info
    from sandbox.world.serve import built

    config = WorldConfig.parse(seed=seed, size=size, bugs=bugs or None)
    tmp.mkdir(parents=True, exist_ok=True)
    snap_dir = tmp / f"snap-{config.key}"
    with FileLock(str(tmp / f"{config.key}.lock")):
        directory = built(config, tmp, log=lambda _: None)
        if not (snap_dir / ".done").exists():
            info = load_info(directory)
            if snap_dir.exists():
                import shutil

                shutil.rmtree(snap_dir)
            snapshot_from_replica(directory / REPLICA_DB, snap_dir, now=info.now)
            (snap_dir / ".done").touch()
    return directory, Snapshot(snap_dir), f"sqlite:///{directory / USER_DB}"


def tool_context(tmp: Path, bugs: str, *, engagement: str = "acme", seed: int = 7,
                 size: str = "demo"):
    """A ToolContext over a built world (see `build`): snapshot, company DB, detectors."""
    from sandbox.world.build import load_info
    from tools.checks import Profile, run_checks
    from tools.checks.sources import build_context
    from tools.envelope import ToolContext
    from tools.recon.adapter import open_user_system
    from tools.recon.mapping import load_mapping

    directory, snap, url = build(tmp, bugs, seed=seed, size=size)
    info = load_info(directory)
    mapping = load_mapping(MAPPING_PATH)
    user = open_user_system(url, mapping)
    live = "FM-08" in bugs

    def findings() -> list:
        ctx = build_context(snapshot=snap, user=user, deliveries=deliveries(
            directory / REPLICA_DB), profile=Profile(expected_livemode=live),
            engagement=engagement, now=info.now if info else None)
        return run_checks(ctx).findings

    return ToolContext(engagement=engagement, snapshot=snap, user_system=user, mapping=mapping,
                       expected_livemode=live, findings=findings)
