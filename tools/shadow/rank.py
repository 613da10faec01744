"""Which mismatches a person reads first: ranked by impact, one per cause before any repeat.

    1. money    a mismatch with an amount (the difference, in minor units), or one whose
                invariant is about money (amounts, fulfilment, refunds); larger first,
                compared within a currency by `core.money` (no float, no FX)
    2. access   what a customer may use (entitlements, subscription and payment status)
    3. the rest (HTTP answers, other fields), invariant breaks before plain differences

Ten repeats of one ordering bug would hide an amount bug; so the top list takes the best
mismatch of each distinct cause (kind, invariant, event type, entity and field, whatever
the fault or the row), in impact order, and only then the runners-up.
"""

from __future__ import annotations

from core.money import UnknownCurrency, exponent
from tools.shadow.models import Mismatch

__all__ = ["cause_of", "rank", "top"]

MONEY = frozenset({"amounts_exact", "one_fulfilment", "refunded_value_revoked",
                   "billing_matches_legacy"})
ACCESS = frozenset({"entitlement_follows_subscription", "nothing_granted_while_processing",
                    "status_follows_stripe", "connect_scope"})
_KIND = {"invariant": 0, "billing": 0, "state": 1, "http_status": 2, "http_body": 3}
_ACCESS_WORDS = ("status", "state", "active", "entitle", "access", "grant", "plan", "quota",
                 "suspend", "tier")


def _major(m: Mismatch) -> float:
    """The amount in major units, to order amounts across currencies by size only (never
    summed or converted: it only decides which line is read first)."""
    if m.amount_minor is None or not m.currency:
        return 0.0
    try:
        return m.amount_minor / 10 ** exponent(m.currency)
    except UnknownCurrency:  # an unknown currency: its minor units as they are
        return float(m.amount_minor)


def _field(m: Mismatch) -> str:
    # "entity key field: primary …" -> "entity field"
    head = m.detail.split(":", 1)[0].split()
    return f"{head[0]}.{head[-1]}" if m.kind == "state" and len(head) >= 3 else ""


def tier(m: Mismatch) -> int:
    if m.amount_minor or m.invariant in MONEY:
        return 0
    if m.invariant in ACCESS or (m.kind == "state" and any(
            w in _field(m).split(".")[-1].lower() for w in _ACCESS_WORDS)):
        return 1
    return 2


def cause_of(m: Mismatch) -> tuple[str, ...]:
    return (m.kind, m.invariant, m.event_type or "", _field(m), ", ".join(m.causes))


def rank(mismatches: list[Mismatch]) -> list[Mismatch]:
    """Every mismatch, highest impact first (see the module docstring)."""
    return sorted(mismatches, key=lambda m: (tier(m), -_major(m), _KIND.get(m.kind, 4),
                                             m.fault is not None, m.event_type or ""))


def top(mismatches: list[Mismatch], n: int) -> list[Mismatch]:
    """The `n` to read first: the best of each distinct cause, then repeats."""
    ranked = rank(mismatches)
    seen: set[tuple[str, ...]] = set()
    firsts, repeats = [], []
    for m in ranked:
        (repeats if cause_of(m) in seen else firsts).append(m)
        seen.add(cause_of(m))
    return (firsts + repeats)[:n]
