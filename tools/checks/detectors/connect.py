"""Connect: connected-account events applied as platform rows."""

from __future__ import annotations

from collections.abc import Iterator

from tools.checks.context import CheckContext
from tools.checks.declare import check
from tools.checks.model import Check, Finding

_ENTITIES = (("customer", "customer"), ("subscription", "subscription"),
             ("payment", "payment_intent"), ("order", "checkout.session"),
             ("invoice", "invoice"))


@check("connect.event_account_routing", "FM-22", "Connected-account objects stored as "
       "platform rows", severity="critical", products=("Connect", "Payments", "Billing"),
       patterns=("connect-webhooks-event-account", "connect-stripe-account-header"),
       discrepancy_class="ORPHAN_APPLICATION",
       fix="""Set the rows' account column from the Stripe object's account and revoke the
       platform entitlements granted from connected-account purchases.""",
       systemic_fix="""Route Connect events by event.account, use it for re-fetches
       (Stripe-Account) and store it with every row.""")
def account_lost(ctx: CheckContext, c: Check) -> Iterator[Finding]:
    flagged: set[str] = set()
    for entity, otype in _ENTITIES:
        for row, obj in ctx.iter_local_with_stripe(entity, otype):
            if obj.get("_account") and not row.get("account"):
                flagged.add(obj["id"])
                yield c.finding(obj["id"], [obj["id"], obj["_account"], row.get("local_key")],
                                f"{otype} {obj['id']} lives in connected account "
                                f"{obj['_account']} but is stored as a platform row.",
                                details={"account": obj["_account"]})
    for ent in ctx.rows("entitlement"):
        obj = ctx.get(ent.get("source_id"))
        if ent.get("active") and obj is not None and obj.get("_account") and (
                obj["id"] not in flagged):
            yield c.finding(f"entitlement:{ent.get('local_key')}",
                            [obj["id"], obj["_account"], ent.get("local_key")],
                            f"platform entitlement {ent.get('feature')!r} granted from "
                            f"{obj['id']} of connected account {obj['_account']}.")


CHECKS = [account_lost]
