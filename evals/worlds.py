"""Built sandbox worlds as the triage tools see them: a recon snapshot synced from the replica,
the company database through its mapping, the detectors over both, and the pattern index
when one is given (the eval command gives the one `fde knowledge index` built, if any).

Worlds are cached on disk by (seed, bugs, size) — `sandbox.world.serve.built` never builds
the same key twice, and a file lock lets parallel workers share one build. The snapshot is
what the product's own sync fetches from the world's replica served over HTTP (platform and
connected accounts, once per world, cached), so a case costs one recon run, not a server;
delivery evidence is the events' pending_webhooks and the company's processed-event log.
Metadata injections are applied to a per-case copy of the snapshot, never to the shared one.
The ground-truth manifest is never read here.

`meter_summaries` asks for meter event summaries in process, through the sync's own fetcher
(`fetch_meter_usage`), on a copy of the replica store (a request moves the replica's clock),
for tests that build a context without serving the replica.
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from evals.scenario import WorldSpec

__all__ = ["MAPPING_PATH", "WorldCache", "meter_summaries", "snapshot_over_http"]

MAPPING_PATH = Path(__file__).resolve().parents[1] / "sandbox" / "usersys" / "mapping.yaml"


class _InProcessLister:
    """The sync gateway's `Lister` over a replica engine run in process (GETs only)."""

    def __init__(self, api: Any, account: str | None) -> None:
        self.api, self.account = api, account

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.api.request("GET", path, params, account=self.account)

    def list_all(self, resource: str, params: dict[str, Any] | None = None, *,
                 page_size: int = 100) -> Iterator[dict[str, Any]]:
        query = {**(params or {}), "limit": page_size}
        while True:
            page = self.get(resource, query)
            yield from page["data"]
            if not page["has_more"] or not page["data"]:
                return
            query["starting_after"] = page["data"][-1]["id"]


def meter_summaries(replica_db: Path, subscriptions: list[dict[str, Any]], *,
                    now: int) -> list[dict[str, Any]]:
    """What a sync of ``billing.meter_event_summary`` would hold for these subscriptions."""
    from sandbox.world.api import WorldApi
    from tools.recon.sync.meter_usage import fetch_meter_usage, meters_of

    metered = [s for s in subscriptions if meters_of(s)]
    if not metered:
        return []
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "replica.db"
        shutil.copyfile(replica_db, copy)
        api = WorldApi(copy, seed=0, start=now)
        try:
            out = []
            for sub in metered:
                account = sub.get("_account")
                for summary in fetch_meter_usage(_InProcessLister(api, account), sub, now=now):
                    if account:
                        summary["_account"] = account
                    out.append(summary)
            return out
        finally:
            api.engine.close()


def snapshot_over_http(replica_db: Path, target: Path, *, now: int) -> Any:
    """The product's own data path: a copy of the world's replica served over HTTP, synced
    by the gateway (platform, then each connected account), flattened into one `Snapshot`
    (connected objects keep their `_account`) as `snapshot_from_replica` lays it out."""
    from pydantic import SecretStr

    from sandbox.replica.testing import TEST_KEY, running_replica
    from tools.recon.sync import Snapshot, run_sync
    from tools.recon.sync.connect import SnapshotSet, connected_accounts, sync_connected
    from tools.stripe import GatewayConfig, RateLimiterRegistry, StripeGateway

    with tempfile.TemporaryDirectory() as tmp:
        served = Path(tmp) / "served.sqlite3"
        shutil.copyfile(replica_db, served)  # serving moves the store; keep the world's
        with running_replica(served) as replica:
            def gateway(account: str | None = None) -> StripeGateway:
                return StripeGateway(
                    GatewayConfig(api_base=replica.url, api_key=SecretStr(TEST_KEY),
                                  expected_mode="test", rate_limit=1000.0,
                                  stripe_account=account),
                    limiters=RateLimiterRegistry(), sleep=lambda s: None)

            root = Path(tmp) / "sync"
            platform = gateway()
            if not run_sync(platform, Snapshot(root)).complete:
                raise RuntimeError(f"the sync of {replica_db} did not complete")
            sync_connected(gateway, root, connected_accounts(platform))
        synced = SnapshotSet(root)
        snap = Snapshot(target)
        for otype in synced.types():
            frame = synced.frame(otype, include_deleted=True)
            rows = []
            for account, data, deleted in zip(frame["account"].to_list(),
                                              frame["data"].to_list(),
                                              frame["deleted"].to_list(), strict=True):
                obj = json.loads(data)
                if otype != "event" and account:
                    obj["_account"] = account
                if deleted:
                    obj["_deleted"] = True
                rows.append(obj)
            snap.append(otype, rows, version=now, source=0, gen=1)
    with snap.editing() as cp:
        cp.complete = True
        cp.last_sync_completed = now
    return snap


class WorldCache:
    """Built worlds under `root`, shared by processes (file locks)."""

    def __init__(self, root: Path, *, knowledge: Callable[[], Any] | None = None) -> None:
        self.root = root
        # the pattern index, opened once for every case (it loads an embedding model)
        self.knowledge = functools.cache(knowledge) if knowledge is not None else None

    def build(self, spec: WorldSpec) -> tuple[Path, Path]:
        """(world dir, snapshot dir) for the spec's (seed, bugs, size), built if missing."""
        from filelock import FileLock

        from sandbox.world import WorldConfig
        from sandbox.world.build import REPLICA_DB, load_info
        from sandbox.world.serve import built

        seed, bugs, size = spec.world_key
        config = WorldConfig.parse(seed=seed, size=size, bugs=bugs or None)
        self.root.mkdir(parents=True, exist_ok=True)
        snap_dir = self.root / f"snap-{config.key}"
        with FileLock(str(self.root / f"{config.key}.lock")):
            directory = built(config, self.root, log=lambda _: None)
            if not (snap_dir / ".done").exists():
                info = load_info(directory)
                if snap_dir.exists():
                    shutil.rmtree(snap_dir)
                snapshot_over_http(directory / REPLICA_DB, snap_dir, now=info.now)
                (snap_dir / ".done").touch()
        return directory, snap_dir

    def _case_snapshot(self, spec: WorldSpec, snap_dir: Path, case_id: str) -> Path:
        """A copy of the shared snapshot with the spec's metadata injections applied."""
        from tools.recon.sync import Snapshot

        digest = hashlib.sha256(spec.model_dump_json().encode()).hexdigest()[:10]
        target = self.root / "cases" / f"{case_id}-{digest}"
        if (target / ".done").exists():
            return target
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(snap_dir, target)
        snap = Snapshot(target)
        for inj in spec.inject_metadata:
            frame = snap.frame(inj.object_type)
            frame = frame.filter(frame["account"].is_null()).sort(["created", "id"])
            if inj.nth >= frame.height:
                continue
            row = frame.row(inj.nth, named=True)
            obj = json.loads(row["data"])
            obj["metadata"] = {**(obj.get("metadata") or {}), inj.key: inj.value}
            snap.append(inj.object_type, [obj], version=row["version"] + 1, source=0, gen=1)
        (target / ".done").touch()
        return target

    def tool_context(self, spec: WorldSpec, case_id: str) -> Any:
        """A ToolContext over the world: snapshot, company DB, detectors — for one run."""
        from sandbox.world.build import USER_DB, load_info
        from tools.checks import Profile, run_checks
        from tools.checks.sources import build_context
        from tools.envelope import ToolContext
        from tools.recon.adapter import open_user_system
        from tools.recon.mapping import load_mapping
        from tools.recon.sync import Snapshot

        directory, snap_dir = self.build(spec)
        if spec.inject_metadata:
            snap_dir = self._case_snapshot(spec, snap_dir, case_id)
        info = load_info(directory)
        snap = Snapshot(snap_dir)
        mapping = load_mapping(MAPPING_PATH)
        user = open_user_system(f"sqlite:///{directory / USER_DB}", mapping)
        live = spec.engagement.livemode
        name = spec.engagement.name

        def findings() -> list[Any]:
            # delivery evidence a real account has: the events' pending_webhooks and the
            # company's processed-event log (the replica's attempt log is ground truth only)
            ctx = build_context(snapshot=snap, user=user, deliveries=None,
                                profile=Profile(expected_livemode=live), engagement=name,
                                now=info.now if info else None)
            return run_checks(ctx).findings

        return ToolContext(engagement=name, snapshot=snap, user_system=user, mapping=mapping,
                           expected_livemode=live, findings=findings, knowledge=self.knowledge)
