"""Built sandbox worlds read into a `CheckContext` (tests may read sandbox files; product code
builds contexts through tools/checks/sources.py)."""

from __future__ import annotations

import json
import sqlite3
from functools import cache
from pathlib import Path
from typing import Any

from evals.worlds import meter_summaries
from sandbox.world.build import MANIFEST, REPLICA_DB, USER_DB, build_world, load_info
from sandbox.world.config import WorldConfig
from tools.checks.context import CheckContext, Delivery, Profile
from tools.checks.sources import load_local
from tools.recon.adapter import open_user_system
from tools.recon.mapping import load_mapping

REPO = Path(__file__).resolve().parents[3]
MAPPING = REPO / "sandbox" / "usersys" / "mapping.yaml"

HANDLER_AND_ACCOUNT = ("FM-02,FM-03,FM-04,FM-05,FM-06,FM-07,FM-08,FM-10,FM-11,FM-12,FM-13,"
                       "FM-14,FM-15,FM-16,FM-17,FM-19,FM-22,FM-24,FM-25,FM-26,FM-30,FM-32,"
                       "FM-33,FM-34")


def build(directory: Path, bugs: str | None, seed: int = 11) -> Path:
    if load_info(directory) is None:
        build_world(WorldConfig.parse(seed=seed, size="demo", bugs=bugs), directory)
    return directory


def manifest(directory: Path) -> dict[str, Any]:
    return json.loads((directory / MANIFEST).read_text())


def context(directory: Path, *, export: bool = False) -> CheckContext:
    """The world as a real account shows it: objects, events with their pending_webhooks,
    the company DB through the mapping (its processed-event log included); `export` adds
    the replica's attempt log as if the user had imported a Dashboard export."""
    info = load_info(directory)
    assert info is not None
    conn = sqlite3.connect(directory / REPLICA_DB)
    platform = info.platform_account
    objects: dict[str, list[dict[str, Any]]] = {}
    for account, otype, data in conn.execute("SELECT account, type, data FROM objects"):
        obj = json.loads(data)
        obj["_account"] = None if account == platform else account
        objects.setdefault(otype, []).append(obj)
    events = [json.loads(d) for (d,) in conn.execute(
        "SELECT data FROM events ORDER BY created, seq")]
    deliveries = [Delivery(event_id=e, endpoint_id=ep, account=a, attempt=n, status=s,
                           latency_ms=lat, error=err, at=at)
                  for e, ep, a, n, s, lat, err, at in conn.execute(
                      "SELECT event_id, endpoint_id, account, attempt, status, latency_ms,"
                      " error, at FROM deliveries ORDER BY seq")]
    conn.close()
    # summaries are the replica's answers to requests, not stored rows
    objects["billing.meter_event_summary"] = [
        {**s, "_account": s.get("_account")}
        for s in meter_summaries(directory / REPLICA_DB, objects.get("subscription", []),
                                 now=info.now)]
    user = open_user_system(f"sqlite:///{directory / USER_DB}", load_mapping(MAPPING))
    try:
        local = load_local(user)
    finally:
        user.engine.dispose()
    available = {"stripe", "events", "pending", "local", "processed"} | (
        {"export"} if export else set())
    return CheckContext(now=info.now, profile=Profile(expected_livemode=False), objects=objects,
                        events=events, deliveries=deliveries if export else [], local=local,
                        available=frozenset(available))


@cache
def _cached(directory: str, export: bool) -> CheckContext:
    return context(Path(directory), export=export)


def cached_context(directory: Path, *, export: bool = False) -> CheckContext:
    return _cached(str(directory), export)
