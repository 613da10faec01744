"""Why a Stripe invoice differs from the legacy one, decided from their amounts and Stripe's
line items — never guessed: a cause is named only when it accounts for the whole difference
to the minor unit.

    CURRENCY_EXPONENT  the legacy amounts are Stripe's scaled by a power of ten that the
                       currency's exponent explains (JPY billed as if it had cents, BHD as
                       if it had two decimals) — core.money is the one exponent table
    PRORATION          Stripe's proration lines (a mid-period change) vs what legacy billed
    MISSING_USAGE      metered usage one side billed and the other did not (or less of it)
    DISCOUNT           a discount one side applied and the other did not
    TAX_ROUNDING       tax differs by at most one minor unit per taxed line (Stripe rounds per
                       line, many legacy systems round once per invoice)
    UNEXPLAINED        a difference no rule above accounts for (reported, never dropped)

Pre-tax differences are explained first (smallest set of the component causes that adds up
exactly); the tax difference is then what Stripe charged on those components, plus any
rounding left.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from itertools import combinations
from typing import Any

from pydantic import BaseModel

from core.money import exponent
from tools.shadow.legacy import LegacyInvoice

__all__ = ["Cause", "Explanation", "StripeInvoice", "explain", "view_invoice"]


class Cause(StrEnum):
    PRORATION = "PRORATION"
    TAX_ROUNDING = "TAX_ROUNDING"
    CURRENCY_EXPONENT = "CURRENCY_EXPONENT"
    MISSING_USAGE = "MISSING_USAGE"
    DISCOUNT = "DISCOUNT"
    UNEXPLAINED = "UNEXPLAINED"
    UNMATCHED = "UNMATCHED"  # no invoice on the other side for this customer and period


class StripeInvoice(BaseModel):
    """The amounts of one Stripe invoice (or preview) that a comparison needs."""

    id: str
    customer: str
    subscription: str | None
    currency: str
    period_start: int
    period_end: int
    subtotal: int
    discount: int
    tax: int
    total: int
    proration: int
    proration_tax: int
    usage: int
    usage_tax: int
    taxed_lines: int
    lines: int


def _line_tax(line: dict[str, Any]) -> int:
    taxes = line.get("taxes") or line.get("tax_amounts") or []
    return sum(int(t.get("amount") or 0) for t in taxes)


def _is_proration(line: dict[str, Any]) -> bool:
    parent = line.get("parent") or {}
    details = parent.get("invoice_item_details") or parent.get("subscription_item_details") or {}
    return bool(details.get("proration") or line.get("proration"))


def _price_of(line: dict[str, Any]) -> str | None:
    price = ((line.get("pricing") or {}).get("price_details") or {}).get("price") or \
        line.get("price")
    return price.get("id") if isinstance(price, dict) else price


def view_invoice(invoice: dict[str, Any], metered: set[str]) -> StripeInvoice:
    """`metered`: price ids billed from usage (recurring.usage_type ``metered``). The period
    is the service period of the licensed subscription lines (what legacy calls the billing
    period), else of all lines, else the invoice's own."""
    lines = list((invoice.get("lines") or {}).get("data") or [])
    prorations = [ln for ln in lines if _is_proration(ln)]
    usage = [ln for ln in lines if not _is_proration(ln) and _price_of(ln) in metered]
    licensed = [ln for ln in lines if ln not in prorations and ln not in usage
                and (ln.get("parent") or {}).get("type") == "subscription_item_details"]
    spans = [ln["period"] for ln in (licensed or lines) if ln.get("period")]
    start = min((int(p["start"]) for p in spans), default=int(invoice.get("period_start") or 0))
    end = max((int(p["end"]) for p in spans), default=int(invoice.get("period_end") or 0))
    taxes = invoice.get("total_taxes") or []
    tax = sum(int(t.get("amount") or 0) for t in taxes) if taxes else int(invoice.get("tax") or 0)
    sub = ((invoice.get("parent") or {}).get("subscription_details") or {}).get(
        "subscription") or invoice.get("subscription")
    return StripeInvoice(
        id=invoice["id"], customer=invoice["customer"], subscription=sub,
        currency=invoice["currency"], period_start=start, period_end=end,
        subtotal=int(invoice.get("subtotal") or 0),
        discount=sum(int(d.get("amount") or 0)
                     for d in invoice.get("total_discount_amounts") or []),
        tax=tax, total=int(invoice.get("total") or 0),
        proration=sum(int(ln["amount"]) for ln in prorations),
        proration_tax=sum(_line_tax(ln) for ln in prorations),
        usage=sum(int(ln["amount"]) for ln in usage),
        usage_tax=sum(_line_tax(ln) for ln in usage),
        taxed_lines=sum(1 for ln in lines if _line_tax(ln)), lines=len(lines))


class Explanation(BaseModel):
    causes: list[Cause]
    detail: str


def _round(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_HALF_UP))


def _exponent_scaled(legacy: int, stripe: int, currency: str) -> bool:
    """Legacy stored Stripe's amount as if the currency had two decimals."""
    e = exponent(currency)
    if e == 2 or legacy == stripe:
        return False
    if e < 2:
        return legacy == stripe * 10 ** (2 - e)
    factor = 10 ** (e - 2)
    return legacy != 0 and legacy in (stripe // factor, _round(Decimal(stripe) / factor))


def _components(lg: LegacyInvoice, st: StripeInvoice) -> dict[Cause, tuple[int, int]]:
    """Per cause: (its pre-tax share of stripe - legacy, the tax Stripe charged on it)."""
    out: dict[Cause, tuple[int, int]] = {}
    if lg.discount != st.discount:
        rate = Decimal(st.tax) / (st.subtotal - st.discount) if st.subtotal - st.discount else 0
        out[Cause.DISCOUNT] = (lg.discount - st.discount,
                               _round(Decimal(lg.discount - st.discount) * rate))
    if (lg.proration or 0) != st.proration:
        share = st.proration - (lg.proration or 0)
        tax = st.proration_tax if not lg.proration else _round(
            Decimal(st.proration_tax) * share / st.proration) if st.proration else 0
        out[Cause.PRORATION] = (share, tax)
    if (lg.usage or 0) != st.usage:
        share = st.usage - (lg.usage or 0)
        tax = st.usage_tax if not lg.usage else _round(
            Decimal(st.usage_tax) * share / st.usage) if st.usage else 0
        out[Cause.MISSING_USAGE] = (share, tax)
    return out


def _detail(cause: Cause, lg: LegacyInvoice, st: StripeInvoice, share: int) -> str:
    if cause is Cause.PRORATION:
        return (f"Stripe prorates {st.proration:+d} (a mid-period change); legacy "
                + ("itemises no proration" if lg.proration is None else f"{lg.proration:+d}"))
    if cause is Cause.MISSING_USAGE:
        side = "legacy" if share > 0 else "Stripe"
        return (f"metered usage: Stripe {st.usage}, legacy "
                f"{'not itemised' if lg.usage is None else lg.usage} ({side} misses "
                f"{abs(share)})")
    return f"discount: legacy {lg.discount}, Stripe {st.discount}"


def explain(lg: LegacyInvoice, st: StripeInvoice) -> Explanation | None:
    """None when the totals agree; otherwise the causes, or UNEXPLAINED."""
    diff = st.total - lg.total
    if diff == 0:
        return None
    if lg.currency != st.currency:
        return Explanation(causes=[Cause.UNEXPLAINED],
                           detail=f"currency: legacy {lg.currency}, Stripe {st.currency}")
    if _exponent_scaled(lg.total, st.total, st.currency):
        e = exponent(st.currency)
        return Explanation(causes=[Cause.CURRENCY_EXPONENT], detail=(
            f"legacy {lg.total} vs Stripe {st.total} {st.currency.upper()}: {st.currency.upper()} "
            f"has {e} decimals, legacy scaled it as if it had 2"))
    pre = (st.total - st.tax) - (lg.total - lg.tax)
    parts = _components(lg, st)
    chosen: tuple[Cause, ...] | None = () if pre == 0 else None
    for size in range(1, len(parts) + 1):
        if chosen is not None:
            break
        for combo in combinations(parts, size):
            if sum(parts[c][0] for c in combo) == pre:
                chosen = combo
                break
    if chosen is None:
        return Explanation(causes=[Cause.UNEXPLAINED], detail=(
            f"total: legacy {lg.total}, Stripe {st.total} ({diff:+d}); pre-tax {pre:+d} "
            "matches no proration, usage or discount difference"))
    details = [_detail(c, lg, st, parts[c][0]) for c in chosen]
    causes = list(chosen)
    residual = (st.tax - lg.tax) - sum(parts[c][1] for c in chosen)
    if residual:
        if abs(residual) <= max(1, st.taxed_lines) and (st.tax or lg.tax):
            causes.append(Cause.TAX_ROUNDING)
            details.append(f"tax: legacy {lg.tax}, Stripe {st.tax} ({residual:+d} rounding; "
                           f"Stripe rounds each of {st.taxed_lines} taxed lines)")
        else:
            causes.append(Cause.UNEXPLAINED)
            details.append(f"tax: legacy {lg.tax}, Stripe {st.tax} ({residual:+d} beyond "
                           "rounding)")
    return Explanation(causes=causes, detail="; ".join(details))
