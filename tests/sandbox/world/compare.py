"""Test helper: compare a built world's company DB with its replica through mapping.yaml."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from sandbox.usersys.agreement import FieldDiff, compare_with_stripe, load_mapping
from sandbox.usersys.models import make_engine
from sandbox.world.build import REPLICA_DB, USER_DB

Obj = dict[str, Any]


def stripe_objects(world_dir: Path) -> list[Obj]:
    conn = sqlite3.connect(world_dir / REPLICA_DB)
    try:
        out = []
        for (data,) in conn.execute("SELECT data FROM objects ORDER BY seq"):
            obj = json.loads(data)
            if obj.get("object") == "billing.meter_event":
                obj["id"] = obj["identifier"]  # usage rows are keyed by the identifier
            if "id" in obj:
                out.append(obj)
        return out
    finally:
        conn.close()


def diffs(world_dir: Path) -> list[FieldDiff]:
    objects = stripe_objects(world_dir)
    by_id = {o["id"]: o for o in objects}
    engine = make_engine(f"sqlite:///{world_dir / USER_DB}")
    try:
        with Session(engine) as session:
            return compare_with_stripe(session, objects, resolve=by_id.get)
    finally:
        engine.dispose()


def orphans(world_dir: Path) -> set[str]:
    """Stripe ids in mapped key columns that no Stripe object has (rows with nothing behind)."""
    known = {o["id"] for o in stripe_objects(world_dir)}
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


# Disagreements of a clean world that come from the replica / handler, not from the world:
# a declined PaymentIntent's payment_failed snapshot loses to its created snapshot (same
# second, status rank), a refund that fails later leaves payments.amount_refunded stale, and
# an invoice payment attempt still processing raises attempt_count without an invoice event.
def known_gap(diff: FieldDiff) -> bool:
    if diff.entity == "invoice" and diff.field == "attempt_count":
        return True
    return diff.entity == "payment" and (
        (diff.field == "status" and diff.local == "requires_confirmation"
         and diff.stripe == "requires_payment_method")
        or diff.field == "amount_refunded")
