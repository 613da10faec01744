"""Test helper: compare a built world's company DB with its replica.

Three views, all keyed by Stripe id:

- field by field through mapping.yaml (`agreement.compare_with_stripe`), the Connect account
  column included, plus Stripe objects with no row (``missing_local``)
- orphans: Stripe ids in mapped key columns that no Stripe object has
- access: active entitlements against what the policy grants from Stripe's final state
  (`access_check.compare_access`), keyed by the entitlement's source id
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from sandbox.usersys.access_check import AccessDiff, compare_access
from sandbox.usersys.agreement import FieldDiff, compare_with_stripe, load_mapping
from sandbox.usersys.models import make_engine
from sandbox.world.build import REPLICA_DB, USER_DB

Obj = dict[str, Any]


@dataclass
class StripeSide:
    objects: list[Obj]
    account: dict[str, str | None]  # object id -> connected account (None = platform)


def stripe_side(world_dir: Path) -> StripeSide:
    conn = sqlite3.connect(world_dir / REPLICA_DB)
    try:
        platform = conn.execute(
            "SELECT account FROM objects WHERE type='webhook_endpoint'").fetchone()[0]
        objects: list[Obj] = []
        account: dict[str, str | None] = {}
        for owner, data in conn.execute("SELECT account, data FROM objects ORDER BY seq"):
            obj = json.loads(data)
            if obj.get("object") == "billing.meter_event":
                obj["id"] = obj["identifier"]  # usage rows are keyed by the identifier
            if "id" in obj:
                objects.append(obj)
                account[obj["id"]] = None if owner == platform else owner
        return StripeSide(objects, account)
    finally:
        conn.close()


def diffs(world_dir: Path, side: StripeSide | None = None) -> list[FieldDiff]:
    side = side or stripe_side(world_dir)
    by_id = {o["id"]: o for o in side.objects}
    engine = make_engine(f"sqlite:///{world_dir / USER_DB}")
    try:
        with Session(engine) as session:
            return compare_with_stripe(session, side.objects, resolve=by_id.get,
                                       account_of=side.account.get)
    finally:
        engine.dispose()


def access_diffs(world_dir: Path, side: StripeSide | None = None) -> list[AccessDiff]:
    side = side or stripe_side(world_dir)
    connected = {oid for oid, acct in side.account.items() if acct}
    engine = make_engine(f"sqlite:///{world_dir / USER_DB}")
    try:
        with Session(engine) as session:
            return compare_access(session, side.objects, connected=connected)
    finally:
        engine.dispose()


def orphans(world_dir: Path, side: StripeSide | None = None) -> set[str]:
    """Stripe ids in mapped key columns that no Stripe object has (rows with nothing behind)."""
    known = {o["id"] for o in (side or stripe_side(world_dir)).objects}
    engine = make_engine(f"sqlite:///{world_dir / USER_DB}")
    found: set[str] = set()
    try:
        with engine.connect() as conn:
            for entity in load_mapping().entities.values():
                if not entity.key or entity.stripe_object in (None, "event"):
                    continue
                for (value,) in conn.execute(text(f"SELECT {entity.key} FROM {entity.table}")):
                    if value and value not in known:
                        found.add(value)
    finally:
        engine.dispose()
    return found


def differing_objects(world_dir: Path) -> dict[str, list[str]]:
    """Every Stripe id on which the company DB and Stripe disagree → what differs."""
    side = stripe_side(world_dir)
    found: dict[str, list[str]] = {}
    for d in diffs(world_dir, side):
        found.setdefault(d.stripe_id, []).append(
            f"{d.entity}.{d.field} {d.kind}: local={d.local!r} stripe={d.stripe!r}")
    for a in access_diffs(world_dir, side):
        found.setdefault(a.source_id, []).append(
            f"entitlement {a.feature} {a.kind} (active rows: {a.local_active})")
    for orphan in orphans(world_dir, side):
        found.setdefault(orphan, []).append("row with no Stripe object")
    return found
