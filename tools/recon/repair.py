"""Repair plans: one proposed repair per discrepancy, with its permission tier.

Repairs are proposals until an engineer approves them. `propose` picks the repair from the
class: rows the user system has wrong or lacks are upserted from Stripe (write tier: it
changes the user's data); gaps are re-delivered (write); everything that needs judgment —
money to give back, access to cut, rows to delete — is marked for an engineer (read: the
tool itself changes nothing; the engineer's follow-up carries its own tier, money for a
refund of a double charge).
"""

from __future__ import annotations

from tools.recon.models import Discrepancy, DiscrepancyClass, ProposedRepair

__all__ = ["propose", "propose_fields"]

C = DiscrepancyClass
_UPSERT = {C.MISSING_LOCAL, C.STALE_STATE, C.STATE_REGRESSION, C.UNAPPLIED_PAYMENT,
           C.AMOUNT_MISMATCH_EXPONENT, C.AMOUNT_MISMATCH_ROUNDING, C.AMOUNT_MISMATCH_OTHER}
_JUDGMENT = {
    C.ENV_MISMATCH: "remove or quarantine the other-mode rows",
    C.ORPHAN_LOCAL: "find where the Stripe id came from; delete or relink the row",
    C.APPLIED_BEFORE_FINAL: "wait for the payment to settle; revoke if it fails",
    C.ORPHAN_APPLICATION: "revoke the access or collect the payment",
    C.REVERSED_AFTER_APPLICATION: "revoke the access or recover the money",
    C.AMOUNT_MISMATCH_FEE_FX: "confirm the settlement currency/fee treatment",
    C.DUPLICATE_REMOTE: "refund the duplicate Stripe object",
    C.DUPLICATE_LOCAL_EFFECT: "deactivate the duplicate local effect",
    C.PAYOUT_BREAK: "investigate the payout's balance transactions",
    C.UNCLASSIFIED: "investigate: no rule explains this difference",
}


def propose(d: Discrepancy) -> ProposedRepair:
    return ProposedRepair.model_validate(propose_fields(
        cls=d.class_, entity=d.entity, stripe_id=d.stripe_id, local_key=d.local_key,
        fields=d.fields, needs_review=d.needs_review, confidence=d.confidence,
        events=len(d.evidence.stripe), fallback=d.id))


def propose_fields(*, cls: str, entity: str, stripe_id: str | None, local_key: str | None,
                   fields: list[str], needs_review: bool, confidence: float | None,
                   events: int, fallback: str) -> dict[str, str]:
    """The repair for one discrepancy, as plain fields (validated in bulk by the caller)."""
    c = C(cls)
    target = local_key or stripe_id or fallback
    if c in _UPSERT and entity not in ("entitlement", "event") and not needs_review:
        verb = "insert" if c is C.MISSING_LOCAL and not local_key else "update"
        return {"kind": "upsert_local", "tier": "write", "target": stripe_id or target,
                "summary": f"{verb} the {entity} row from Stripe {stripe_id}"
                + (f" ({', '.join(fields)})" if fields else "")}
    if c is C.WEBHOOK_GAP:
        return {"kind": "redeliver_event", "tier": "write", "target": target,
                "summary": f"re-deliver the {events} missed event(s) to the endpoint"}
    why = _JUDGMENT.get(c, "review")
    if needs_review:
        why = f"confirm the suggested match (confidence {confidence})"
    return {"kind": "mark_for_engineer", "tier": "money" if c is C.DUPLICATE_REMOTE else "read",
            "target": target, "summary": why}
