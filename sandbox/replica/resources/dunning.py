"""Dunning: when to retry a failed invoice payment, and what happens when retries run out.

Stripe's retry schedule and end states are account settings (Dashboard → Billing →
Revenue recovery). The replica's defaults: retry 3, 5 and 7 days after the first failure,
then cancel the subscription and leave the invoice open. A subscription can choose
otherwise through metadata (the replica's stand-in for the account setting):

    replica_dunning_retry_days   "3,5,7"   days after the first failed attempt
    replica_dunning_end          canceled | unpaid | past_due
    replica_dunning_invoice_end  open | uncollectible

Only automatic collection is retried, and never the first invoice of a subscription (it
stays ``incomplete`` until paid or expired, as on Stripe).
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.replica.context import Ctx
from sandbox.replica.registry import Obj
from sandbox.replica.resources.billing_periods import DAY

RETRY_DAYS = (3, 5, 7)
END_STATES = ("canceled", "unpaid", "past_due")


@dataclass(frozen=True)
class Step:
    retry_at: int | None  # next attempt (None: no more automatic attempts)
    exhausted: bool  # retries ran out: apply the end state
    end_state: str = "canceled"
    invoice_end: str = "open"


def retry_days(sub: Obj | None) -> tuple[int, ...]:
    raw = ((sub or {}).get("metadata") or {}).get("replica_dunning_retry_days")
    if not raw:
        return RETRY_DAYS
    try:
        return tuple(int(part) for part in str(raw).split(",") if part.strip())
    except ValueError:
        return RETRY_DAYS


def end_state(sub: Obj | None) -> str:
    value = ((sub or {}).get("metadata") or {}).get("replica_dunning_end")
    return value if value in END_STATES else "canceled"


def next_step(ctx: Ctx, invoice: Obj, sub: Obj | None) -> Step:
    """Called after attempt number ``invoice.attempt_count`` failed."""
    if invoice["collection_method"] != "charge_automatically":
        return Step(None, False)
    if invoice["billing_reason"] == "subscription_create" or (
            sub is None and not invoice.get("auto_advance")):
        return Step(None, False)
    first = invoice.get("_first_failed_at")
    if first is None:
        first = invoice["_first_failed_at"] = ctx.now()
    schedule = retry_days(sub)
    done = invoice["attempt_count"] - 1  # retries already made
    invoice_end = ((sub or {}).get("metadata") or {}).get("replica_dunning_invoice_end")
    invoice_end = "uncollectible" if invoice_end == "uncollectible" else "open"
    if done < len(schedule):
        return Step(max(ctx.now(), first + schedule[done] * DAY), False)
    return Step(None, True, end_state(sub), invoice_end)
