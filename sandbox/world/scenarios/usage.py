"""Metered usage: the company's app counts API calls per metered subscription and reports
one meter event per day (identifier ``usage_{sub}_{day}``). The app's own rows
(`usage_records`) are kept in `World.usage_rows` for the company DB. FM-30 (history layer):
the sender retried some reports with a fresh identifier, so Stripe counted them twice."""

from __future__ import annotations

from sandbox.world.company import METER_EVENT
from sandbox.world.config import DAY
from sandbox.world.scenarios import lifecycle
from sandbox.world.state import CustomerRef, World

RESEND_EVERY = 7  # FM-30: one report in this many went out twice


def _report(world: World, ref: CustomerRef, day: int, quantity: int) -> None:
    sub_id = next((s for r, s in world.metered if r.id == ref.id), None)
    if sub_id is None:
        return
    sub = world.api.get(sub_id, account=ref.account)
    if sub["status"] not in ("active", "trialing", "past_due"):
        return
    occurred = world.api.now() - 600
    identifier = f"usage_{sub_id}_{day:02d}"
    payload = {"stripe_customer_id": ref.id, "value": str(quantity)}
    world.api.post("/v1/billing/meter_events", {
        "event_name": METER_EVENT, "payload": payload, "identifier": identifier,
        "timestamp": occurred}, account=ref.account)
    world.usage_rows.append({"customer": ref.id, "subscription": sub_id, "meter": METER_EVENT,
                             "quantity": quantity, "occurred_at": occurred,
                             "identifier": identifier, "reported_at": world.api.now()})
    if world.bug("FM-30") and day % RESEND_EVERY == 3:
        again = identifier + "_retry"
        world.api.post("/v1/billing/meter_events", {
            "event_name": METER_EVENT, "payload": payload, "identifier": again,
            "timestamp": occurred}, account=ref.account)
        world.note("FM-30", again, "usage resent with a new identifier",
                   usage_record=identifier, identifiers=[identifier, again])


def plan(world: World) -> None:
    days = world.config.spec.usage_days
    fates = lifecycle.FATES
    for ref in world.customers:
        if fates[ref.index % len(fates)] != "active_metered":
            continue
        for day in range(60 - days, 60):
            quantity = 50 + world.rng.randrange(950)
            world.at(world.start + day * DAY + 12 * 3600, _report, world, ref, day, quantity)
