"""Payments: duplicate charges, refunds that fail later, disputes the app never saw."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from tools.checks.context import CheckContext
from tools.checks.declare import check
from tools.checks.model import Check, Finding

_DOUBLE_CHARGE_WINDOW = 600


@check("ops.idempotency_key_on_writes", "FM-07", "Same order charged twice",
       severity="critical", products=("Payments", "Billing"),
       patterns=("idempotency-keys",), discrepancy_class="DUPLICATE_REMOTE",
       needs=frozenset({"stripe"}),
       fix="Refund the duplicate PaymentIntent (money tier: needs approval).",
       systemic_fix="""Send an Idempotency-Key derived from the order on every create/confirm,
       identical across retries.""")
def double_charge(ctx: CheckContext, c: Check) -> Iterator[Finding]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for pi in ctx.of("payment_intent"):
        order = (pi.get("metadata") or {}).get("order_id")
        if order and pi.get("status") in ("succeeded", "processing", "requires_capture"):
            groups[(pi.get("_account"), pi.get("customer"), pi.get("amount"),
                    pi.get("currency"), order)].append(pi)
    for key, pis in groups.items():
        pis.sort(key=lambda p: p.get("created") or 0)
        if len(pis) > 1 and pis[-1]["created"] - pis[0]["created"] <= _DOUBLE_CHARGE_WINDOW:
            yield c.finding(f"order:{key[4]}:{key[0]}", [p["id"] for p in pis],
                            f"order {key[4]} has {len(pis)} successful PaymentIntents of "
                            f"{key[2]} {key[3]} created "
                            f"{pis[-1]['created'] - pis[0]['created']} s apart.",
                            details={"order_id": key[4], "count": len(pis)})


@check("payments.refund_failure_handled", "FM-24", "Failed refund still counted as refunded",
       severity="high", products=("Payments", "LPM", "Billing"),
       patterns=("refunds-async-failure",), discrepancy_class="REVERSED_AFTER_APPLICATION",
       fix="Mark the refund failed locally and re-open the customer's case.",
       systemic_fix="""Handle refund.updated / refund.failed / charge.refund.updated; a refund
       is only final on succeeded.""")
def refund_failed(ctx: CheckContext, c: Check) -> Iterator[Finding]:
    for row, refund in ctx.iter_local_with_stripe("refund", "refund"):
        if refund.get("status") == "failed" and ctx.words(
                "refund", "status", row.get("status")) & {"succeeded", "pending"}:
            yield c.finding(refund["id"], [refund["id"], refund.get("charge"),
                                           row.get("local_key")],
                            f"refund {refund['id']} failed in Stripe "
                            f"({refund.get('failure_reason') or 'no reason'}) but is "
                            f"{row.get('status')!r} locally.")


@check("payments.dispute_events_handled", "FM-32", "Dispute not reflected locally",
       severity="high", products=("Payments", "Billing", "Connect"),
       patterns=("disputes-handling",), discrepancy_class="REVERSED_AFTER_APPLICATION",
       needs=frozenset({"stripe", "events", "local"}),
       needs_any=frozenset({"pending", "processed", "export"}),
       fix="""Record the dispute, book the withdrawal, review the disputed purchase's access
       and answer before evidence_details.due_by.""",
       systemic_fix="""Handle charge.dispute.* (created, updated, funds_withdrawn, closed) and
       keep a dispute queue with deadlines.""")
def dispute_missing(ctx: CheckContext, c: Check) -> Iterator[Finding]:
    for dispute in ctx.of("dispute"):
        delivered = [e for e in ctx.events_for(dispute["id"]) if ctx.delivered(e["id"])]
        if not delivered:
            continue  # never reached the app: a delivery gap, reported elsewhere
        row = ctx.row("dispute", dispute["id"])
        if not ctx.same("dispute", "status", row, dispute.get("status")):
            local = "no dispute row" if row is None else f"status {row.get('status')!r}"
            yield c.finding(dispute["id"], [dispute["id"], dispute.get("charge"),
                                            delivered[-1]["id"]],
                            f"dispute {dispute['id']} is {dispute.get('status')!r} in Stripe; "
                            f"locally {local} although {len(delivered)} dispute events were "
                            "delivered.", details={"status": dispute.get("status")})


CHECKS = [double_charge, refund_failed, dispute_missing]
