"""Test helper: build a sandbox world, sync its replica over HTTP (platform and connected
accounts), reconcile it against the company DB, and score the run against the manifest.

Only tests read the manifest; the engine sees the snapshot and the company DB alone.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from sandbox.bugs import SWITCHES
from sandbox.replica.testing import TEST_KEY, running_replica
from sandbox.world.build import MANIFEST, REPLICA_DB, USER_DB, build_world
from sandbox.world.config import WorldConfig
from tools.recon.adapter import open_user_system
from tools.recon.engine import ReconOptions
from tools.recon.mapping import load_mapping
from tools.recon.models import Discrepancy, DiscrepancyClass, ReconRun
from tools.recon.run import run_recon
from tools.recon.sync import Snapshot, run_sync
from tools.recon.sync.connect import SnapshotSet, connected_accounts, sync_connected
from tools.stripe import GatewayConfig, RateLimiterRegistry, StripeGateway

MAPPING = Path(__file__).resolve().parents[3] / "sandbox" / "usersys" / "mapping.yaml"
RECON_CLASSES = {c.value for c in DiscrepancyClass}
SEED = 11
SIZE = "tiny"  # every fate and payment path once: enough per switch, and fast


def reconciled_world(directory: Path, bugs: str | None) -> tuple[Path, ReconRun]:
    """(world dir, run) for a demo world with ``bugs`` on."""
    world = directory / "world"
    build_world(WorldConfig.parse(seed=SEED, size=SIZE, bugs=bugs), world)
    served = directory / "served.sqlite3"
    shutil.copy(world / REPLICA_DB, served)  # serving writes to the store; keep the world's
    snap_root = directory / "snapshot"
    with running_replica(served) as replica:
        def gateway(account: str | None = None) -> StripeGateway:
            return StripeGateway(
                GatewayConfig(api_base=replica.url, api_key=SecretStr(TEST_KEY),
                              expected_mode="test", rate_limit=1000.0, stripe_account=account),
                limiters=RateLimiterRegistry(), sleep=lambda s: None)

        platform = gateway()
        assert run_sync(platform, Snapshot(snap_root)).complete
        reports = sync_connected(gateway, snap_root, connected_accounts(platform))
        assert all(r.complete for r in reports.values())
    mapping = load_mapping(MAPPING)
    user = open_user_system(f"sqlite:///{world / USER_DB}", mapping)
    run = run_recon(snapshot=SnapshotSet(snap_root), user=user, mapping=mapping)
    user.engine.dispose()
    return world, run


@dataclass
class Score:
    reported: int
    attributed: int  # reported discrepancies that are an injected defect with a right class
    affected: int
    found: int  # affected objects reported with a right class
    false_positives: list[Discrepancy]
    missed: list[str]  # object or event ids

    @property
    def precision(self) -> float:
        return self.attributed / self.reported if self.reported else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.affected if self.affected else 1.0


def _events(world: Path) -> dict[str, tuple[int, str]]:
    conn = sqlite3.connect(world / REPLICA_DB)
    try:
        return {eid: (created, json.loads(data)["type"])
                for eid, created, data in conn.execute("SELECT id, created, data FROM events")}
    finally:
        conn.close()


def _event_objects(world: Path, event_ids: set[str]) -> dict[str, str]:
    conn = sqlite3.connect(world / REPLICA_DB)
    try:
        rows = conn.execute("SELECT id, json_extract(data, '$.data.object.id') FROM events")
        return {eid: oid for eid, oid in rows if eid in event_ids and oid}
    finally:
        conn.close()


def _gap_covers(d: Discrepancy, event: tuple[int, str] | None) -> bool:
    if d.class_ != DiscrepancyClass.WEBHOOK_GAP or event is None:
        return False
    values = d.stripe_values
    lo, hi, types = values.get("from"), values.get("to"), str(values.get("types") or "")
    return (isinstance(lo, int) and isinstance(hi, int) and lo <= event[0] <= hi
            and event[1] in types.split(","))


def score(world: Path, run: ReconRun, fm: str) -> Score:
    """Scored against what the switch really leaves behind: its ``objects`` (every id on
    which the company DB and Stripe end up disagreeing, shadow-checked by the generator)
    less its ``recon_none`` (differences no reconciliation class applies to), and, for
    switches that keep events from being processed (WEBHOOK_GAP), those events (``event_id``
    of ``affected``, FM-04's ``dropped_events``).

    Precision: reported discrepancies in one of the switch's classes that name one of those
    objects or events, or whose gap window covers one of those events. Recall: each object
    named by such a discrepancy; each event covered by a gap or its object reported."""
    section = json.loads((world / MANIFEST).read_text())["switches"].get(fm, {})
    expected = set(SWITCHES[fm].expected_classes)
    silent = {e["object_id"] for e in section.get("recon_none", [])}
    objects = set(section.get("objects", [])) - silent
    event_ids: set[str] = set()
    if "WEBHOOK_GAP" in expected:  # elsewhere affected events were processed, just wrongly
        event_ids = {e["event_id"] for e in section.get("affected", []) if e.get("event_id")}
        event_ids |= set(section.get("dropped_events", []))
    events = _events(world)
    # an event in the last grace seconds may still be in flight: not yet a gap, by design
    in_flight = json.loads((world / MANIFEST).read_text())["window"]["end"] \
        - ReconOptions().gap_grace_seconds
    event_ids = {e for e in event_ids if e in events and events[e][0] < in_flight}
    event_objects = _event_objects(world, event_ids)

    def names(d: Discrepancy) -> set[str]:
        return {d.stripe_id or "", d.local_key or "", *d.evidence.stripe}

    def covers_object(d: Discrepancy, oid: str) -> bool:
        return d.class_.value in expected and oid in names(d)

    def covers_event(d: Discrepancy, eid: str) -> bool:
        if d.class_.value not in expected:
            return False
        return (eid in names(d) or _gap_covers(d, events.get(eid))
                or (event_objects.get(eid) or "") in names(d) - {""})

    attributed = [d for d in run.discrepancies if d.class_.value in expected and (
        names(d) & (objects | event_ids) or any(covers_event(d, e) for e in event_ids))]
    chosen = {d.id for d in attributed}
    missed = sorted(o for o in objects if not any(covers_object(d, o) for d in run.discrepancies))
    missed += sorted(e for e in event_ids
                     if not any(covers_event(d, e) for d in run.discrepancies))
    affected = len(objects) + len(event_ids)
    return Score(reported=len(run.discrepancies), attributed=len(attributed),
                 affected=affected, found=affected - len(missed),
                 false_positives=[d for d in run.discrepancies if d.id not in chosen],
                 missed=missed)
