"""Which of a switch's differing objects reconciliation cannot (or must not) report.

A switch's ``objects`` are every id on which the company DB and Stripe disagree. Two kinds
of difference carry no reconciliation class, and the manifest says so per object
(``recon_none``) instead of leaving the scorer to guess:

- meter events (usage records keyed by their identifier): Stripe has no list endpoint for
  them, so no snapshot holds them;
- FM-32 purchases whose disputes were all won: the company's policy revokes access on any
  dispute, but the funds were reinstated, so value and money agree — a policy difference,
  not a break.
"""

from __future__ import annotations

from typing import Any

from sandbox.world.state import World

_METER = "meter event: Stripe has no list endpoint for meter events, no snapshot holds them"
_WON = ("dispute won: funds reinstated, value and money agree (the company's policy revokes "
        "access on any dispute; a policy difference, not a reconciliation break)")


def _meter_identifiers(world: World) -> set[str]:
    store = world.api.store
    found = {row["identifier"] for row in world.usage_rows}
    for account in [world.api.platform, *world.accounts]:
        found.update(e.get("identifier") for e in store.iter_type(account, "billing.meter_event"))
    return found


def _won_only(world: World) -> set[str]:
    store = world.api.store
    statuses: dict[str, set[str]] = {}
    for account in [world.api.platform, *world.accounts]:
        for dispute in store.iter_type(account, "dispute"):
            pi = dispute.get("payment_intent")
            pi = pi.get("id") if isinstance(pi, dict) else pi
            if pi:
                statuses.setdefault(pi, set()).add(str(dispute.get("status")))
    return {pi for pi, seen in statuses.items() if seen == {"won"}}


def recon_none(world: World, bug: str, objects: set[str]) -> list[dict[str, Any]]:
    """``[{object_id, why}]`` for the ids in `objects` no reconciliation class applies to."""
    meters = _meter_identifiers(world)
    won = _won_only(world) if bug == "FM-32" else set()
    out = []
    for oid in sorted(objects):
        if oid in meters:
            out.append({"object_id": oid, "why": _METER})
        elif oid in won:
            out.append({"object_id": oid, "why": _WON})
    return out


__all__ = ["recon_none"]
