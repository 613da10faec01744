"""What the delivery-side switches changed in the company DB, for the manifest.

Handler-layer switches, FM-04 (outage), FM-05 (old API version) and FM-25 (go-live
backfill cut short) act while events are
delivered. Whether a bent decision still shows at the end depends on what came after it (an
overwritten snapshot may be overwritten again by a newer one), so the generator delivers
the same events a second time into a shadow DB, with a correct handler, no outage and the
current API version, and compares the two DBs the way the company DB is compared with
Stripe: the mapped rows' compared fields and accounts (`agreement.local_view`) and the
active entitlements. A switch's ``objects`` are the differing ids among those it touched
(its hits, dropped and re-rendered objects), widened to the rows those touch: a charge's,
refund's or dispute's PaymentIntent, a PaymentIntent's Checkout Sessions, a customer's
usage records.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sandbox.bugs import handler_bugs
from sandbox.usersys.agreement import local_view
from sandbox.usersys.models import Entitlement, create_schema, make_engine
from sandbox.world.state import World

Obj = dict[str, Any]
# history/account switches that act in delivery
DELIVERY_SWITCHES = ("FM-04", "FM-05", "FM-25")


def snapshot(session: Session) -> dict[Any, Any]:
    """The company DB as the Stripe comparison sees it."""
    view: dict[Any, Any] = {key[1]: values for key, values in local_view(session).items()}
    active = Counter(session.execute(
        select(Entitlement.source_id, Entitlement.feature).where(Entitlement.active)).all())
    for (source, feature), n in active.items():
        view[("entitlement", source, feature)] = n
    return view


def changed_ids(real: dict[Any, Any], shadow: dict[Any, Any]) -> set[str]:
    """Stripe ids whose rows or entitlements differ between the two snapshots."""
    out: set[str] = set()
    for key in set(real) | set(shadow):
        if real.get(key) != shadow.get(key):
            out.add(key[1] if isinstance(key, tuple) else key)
    return out


def related(world: World, ids: Iterable[str]) -> set[str]:
    """`ids` plus the company rows they feed (see the module docstring)."""
    store = world.api.store
    out = set(ids)
    accounts = [world.api.platform, *world.accounts]
    by_id: dict[str, Obj] = {}
    for account in accounts:
        for kind in ("charge", "refund", "dispute", "checkout.session"):
            for obj in store.iter_type(account, kind):
                by_id[obj["id"]] = obj
    sessions: dict[str, list[str]] = {}
    for obj in by_id.values():
        if obj.get("object") == "checkout.session" and obj.get("payment_intent"):
            sessions.setdefault(obj["payment_intent"], []).append(obj["id"])
    for oid in list(out):
        pi = (by_id.get(oid) or {}).get("payment_intent")
        if isinstance(pi, dict):
            pi = pi.get("id")
        if pi and not oid.startswith("cs_"):
            out.add(pi)
    for oid in list(out):
        out.update(sessions.get(oid, []))
    customers = {oid for oid in out if oid.startswith("cus_")}
    out.update(row["identifier"] for row in world.usage_rows if row["customer"] in customers)
    return out




def shadow_changes(world: World, real: Session, path: Any,
                   app_rows: Callable[[World, Session], None]) -> set[str]:
    """Deliver again into a shadow DB at `path` (removed after) with a correct handler and
    no delivery-side switch; the ids whose rows differ from the real DB's."""
    from sandbox.world.delivery import _Clock, deliver_all, install_clock, world_time

    engine = make_engine(f"sqlite:///{path}")
    try:
        create_schema(engine)
        clock = _Clock()
        with Session(engine, expire_on_commit=False) as session:
            install_clock(session, clock)
            off = set(DELIVERY_SWITCHES) | set(handler_bugs(world.config.bugs))
            deliver_all(world, session, clock, bugs=frozenset(world.config.bugs) - off,
                        record=False)
            clock.now = world_time(world.end)
            app_rows(world, session)
            return changed_ids(snapshot(real), snapshot(session))
    finally:
        engine.dispose()
        Path(path).unlink(missing_ok=True)


__all__ = ["DELIVERY_SWITCHES", "changed_ids", "related", "shadow_changes", "snapshot"]
