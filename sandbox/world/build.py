"""`build_world(config, directory)`: generate a world, deliver its events, write its files.

Steps: open a fresh replica store in-process (frozen clock at T-60 days, ``id_seed`` = seed)
→ plan and run the scenarios (`scenarios.ORDER`) → deliver every event to the company's
handler logic (`delivery.deliver_all`) into a fresh company DB → the app's own rows (usage
records; FM-08's staging rows) → ``manifest.json``, ``snapshot.jsonl``, ``world.json``.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox.bugs import SWITCHES, handler_bugs
from sandbox.telemetry import write_otlp
from sandbox.usersys.models import (
    Account,
    Entitlement,
    Payment,
    UsageRecord,
    create_schema,
    make_engine,
)
from sandbox.world.api import WorldApi
from sandbox.world.bulk import HISTORY_DAYS
from sandbox.world.config import GENERATOR_VERSION, WorldConfig
from sandbox.world.delivery import OUTAGE_DAYS, _Clock, deliver_all, install_clock, world_time
from sandbox.world.recon_truth import recon_none
from sandbox.world.scenarios import ORDER
from sandbox.world.shadow import DELIVERY_SWITCHES, related, shadow_changes
from sandbox.world.snapshot import write_snapshot
from sandbox.world.state import World
from tools.advisor.model import RequestRecord

REPLICA_DB = "replica.sqlite3"
USER_DB = "company.sqlite3"
SHADOW_DB = "shadow.sqlite3"  # the shadow delivery's DB, removed once compared
MANIFEST = "manifest.json"
SNAPSHOT = "snapshot.jsonl"
INFO = "world.json"
CALLS = "stripe-calls.otlp.json"  # the company's calls to Stripe, as its tracing exports them
Obj = dict[str, Any]


class WorldInfo(BaseModel):
    """What `fde sandbox up` needs to serve a built world (never the ground truth)."""

    key: str
    seed: int
    size: str
    bugs: list[str]
    now: int
    platform_account: str
    endpoint_id: str
    endpoint_secret: str
    replica_db: str
    user_db: str
    snapshot_sha256: str
    counts: dict[str, int]
    seconds: float


@contextmanager
def _fast_sqlite(engine) -> None:  # noqa: ANN001 - a build-only connection tweak
    @sa_event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.execute("PRAGMA synchronous=OFF")


def _usage_rows(world: World, session: Session) -> None:
    for row in sorted(world.usage_rows, key=lambda r: (r["reported_at"], r["identifier"])):
        account = session.scalar(select(Account).where(
            Account.stripe_customer_id == row["customer"]))
        if account is None:
            continue
        session.add(UsageRecord(
            account_id=account.id, stripe_subscription_id=row["subscription"],
            meter=row["meter"], quantity=row["quantity"],
            occurred_at=world_time(row["occurred_at"]), identifier=row["identifier"],
            reported_at=world_time(row["reported_at"])))
    session.commit()


def _staging_rows(world: World, session: Session) -> None:
    """FM-08: a staging deploy once wrote test-mode rows (ids unknown to this account)."""
    rng = random.Random(world.config.seed ^ 0x7E57)

    def fake(prefix: str) -> str:
        return prefix + "test" + "".join(rng.choice("abcdefghijklmnop0123456789")
                                         for _ in range(16))

    for i in range(3):
        cus, pi = fake("cus_"), fake("pi_")
        account = Account(stripe_customer_id=cus, email=f"qa+{i}@relay.example",
                          name=f"QA staging {i}", livemode=False)
        session.add(account)
        session.flush()
        session.add(Payment(account_id=account.id, stripe_payment_intent_id=pi,
                            stripe_charge_id=fake("ch_"), status="succeeded", amount=4900,
                            amount_received=4900, amount_refunded=0, currency="usd",
                            payment_method_type="card", feature="data_export",
                            livemode=False))
        session.add(Entitlement(account_id=account.id, feature="data_export", active=True,
                                granted_at=world_time(world.end - (i + 2) * 86400),
                                source_type="payment_intent", source_id=pi))
        world.note("FM-08", cus, "test-mode customer row in the live DB", table="accounts")
        world.note("FM-08", pi, "test-mode payment and entitlement in the live DB",
                   table="payments")
    session.commit()


def _acts_in_delivery(bugs: frozenset[str]) -> bool:
    return bool(handler_bugs(bugs) or set(bugs) & set(DELIVERY_SWITCHES))


def _manifest(world: World, delivered: Any, changed: set[str]) -> Obj:
    """Per switch: ``affected`` logs every decision it bent (with how); ``objects`` are the
    ids whose final company rows it changed. For switches acting in delivery that is what
    differs from the shadow delivery (shadow.py) among the objects the switch touched."""
    switches: dict[str, Obj] = {}
    for bug in sorted(world.config.bugs):
        switch = SWITCHES[bug]
        affected = list(world.notes.get(bug, [])) + list(delivered.bug_hits.get(bug, []))
        section: Obj = {"title": switch.title, "layer": switch.layer,
                        "expected_classes": list(switch.expected_classes)}
        if bug == "FM-04":
            section["window"] = {"t1": world.start + OUTAGE_DAYS[0] * 86400,
                                 "t2": world.start + OUTAGE_DAYS[1] * 86400}
            section["dropped_events"] = sorted(delivered.dropped)
            affected += [{"object_id": o, "how": "events dropped in the outage"}
                         for o in delivered.dropped_objects]
        if bug == "FM-05":
            section["endpoint"] = world.endpoint["id"]
            section["api_version"] = world.endpoint.get("api_version")
            affected += [{"object_id": o, "how": "delivered in the old API version shape"}
                         for o in delivered.rendered_old]
        unique = {json.dumps(a, sort_keys=True): a for a in affected}
        section["affected"] = [unique[k] for k in sorted(unique)]
        touched = {a["object_id"] for a in unique.values() if a.get("object_id")}
        if _acts_in_delivery(frozenset({bug})):
            touched = related(world, touched) & changed
        section["objects"] = sorted(touched)
        section["recon_none"] = recon_none(world, bug, touched)
        switches[bug] = section
    return {"generator_version": GENERATOR_VERSION, "seed": world.config.seed,
            "size": world.config.size, "bugs": sorted(world.config.bugs),
            "window": {"start": world.start, "end": world.end}, "switches": switches}


def _counts(world: World) -> dict[str, int]:
    conn = world.api.store.conn
    counts = dict(conn.execute("SELECT type, count(*) FROM objects GROUP BY type").fetchall())
    counts["event"] = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    counts["delivery_attempt"] = conn.execute("SELECT count(*) FROM deliveries").fetchone()[0]
    return dict(sorted(counts.items()))


def _calls(api: WorldApi) -> list[RequestRecord]:
    """The generator's requests are the company's own calls, on the world's moving clock;
    test helpers stand in for the customer and the bank, not the company's code."""
    return [RequestRecord(request_id=rid, at=at, method=method, path=path, query=query,
                          status=status, idempotency_key=key,
                          account=None if account in (None, api.platform) else account)
            for at, method, path, query, status, rid, key, account in api.call_log
            if path.startswith("/v1/") and "/test_helpers/" not in path]


def build_world(config: WorldConfig, directory: Path) -> WorldInfo:
    """Build into `directory` (replaced if it exists)."""
    started = time.perf_counter()
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    history_days = HISTORY_DAYS if config.spec.history_customers else 0
    # FM-06: the handler answers invoice.created with 500, so Stripe holds drafts 72 h.
    api = WorldApi(directory / REPLICA_DB, seed=config.seed,
                   start=config.start - history_days * 86400,
                   invoice_created_failing="FM-06" in config.bugs)
    world = World(config=config, api=api, rng=random.Random(config.seed))
    user_engine = make_engine(f"sqlite:///{directory / USER_DB}")
    _fast_sqlite(user_engine)
    try:
        for scenario in ORDER:
            scenario.plan(world)
        world.run()
        create_schema(user_engine)
        if world.history is not None:
            with user_engine.begin() as conn:
                world.history.company.write(conn)
        clock = _Clock()
        with Session(user_engine, expire_on_commit=False) as session:
            install_clock(session, clock)
            delivered = deliver_all(world, session, clock)
            clock.now = world_time(world.end)
            _usage_rows(world, session)
            if world.bug("FM-08"):
                _staging_rows(world, session)
            changed = (shadow_changes(world, session, directory / SHADOW_DB, _usage_rows)
                       if _acts_in_delivery(config.bugs) else set())
        manifest = _manifest(world, delivered, changed)
        (directory / MANIFEST).write_text(json.dumps(manifest, sort_keys=True, indent=1) + "\n")
        sha = write_snapshot(directory / SNAPSHOT, api.store, user_engine)
        write_otlp(_calls(api), directory / CALLS)
        info = WorldInfo(
            key=config.key, seed=config.seed, size=config.size, bugs=sorted(config.bugs),
            now=world.end, platform_account=api.platform, endpoint_id=world.endpoint["id"],
            endpoint_secret=world.endpoint["secret"], replica_db=REPLICA_DB, user_db=USER_DB,
            snapshot_sha256=sha, counts=_counts(world),
            seconds=round(time.perf_counter() - started, 2))
        (directory / INFO).write_text(info.model_dump_json(indent=1) + "\n")
        return info
    finally:
        api.close()
        user_engine.dispose()


def load_info(directory: Path) -> WorldInfo | None:
    path = directory / INFO
    if not path.exists():
        return None
    return WorldInfo.model_validate_json(path.read_text())


__all__ = ["CALLS", "INFO", "MANIFEST", "REPLICA_DB", "SNAPSHOT", "USER_DB", "WorldInfo",
           "build_world", "load_info"]
