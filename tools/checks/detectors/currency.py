"""Amounts stored with the wrong currency exponent (zero- and three-decimal currencies)."""

from __future__ import annotations

from collections.abc import Iterator

from core.money import THREE_DECIMAL, ZERO_DECIMAL
from tools.checks.context import CheckContext
from tools.checks.declare import check
from tools.checks.model import Check, Finding

# canonical entity -> (Stripe object type, money fields compared with the same name)
_MONEY = {
    "payment": ("payment_intent", ("amount", "amount_received")),
    "invoice": ("invoice", ("subtotal", "total", "amount_due", "amount_paid",
                            "amount_remaining")),
    "refund": ("refund", ("amount",)),
    "dispute": ("dispute", ("amount",)),
    "order": ("checkout.session", ("amount_total",)),
}


def _scaled(ctx: CheckContext, currencies: frozenset[str], factor: int
            ) -> Iterator[tuple[str, dict, list[str]]]:
    for entity, (otype, fields) in _MONEY.items():
        for row, obj in ctx.iter_local_with_stripe(entity, otype):
            currency = str(obj.get("currency") or "").lower()
            if currency not in currencies:
                continue
            wrong = [f for f in fields
                     if isinstance(obj.get(f), int) and row.get(f) is not None
                     and row[f] != obj[f] and row[f] == obj[f] // factor]
            if wrong:
                yield obj["id"], row, wrong


def _finding(c: Check, oid: str, row: dict, wrong: list[str], what: str) -> Finding:
    return c.finding(oid, [oid, row.get("local_key")],
                     f"{oid}: {', '.join(wrong)} stored as {what} of Stripe's amount",
                     details={"fields": ",".join(wrong)})


@check("currency.minor_units_table", "FM-11", "Zero-decimal amounts divided by 100",
       severity="critical", products=("Payments", "Billing", "Invoicing", "LPM"),
       patterns=("currency-minor-units",), discrepancy_class="AMOUNT_MISMATCH.exponent",
       fix="Rewrite the affected amounts from Stripe (JPY, KRW, ... have no minor unit).",
       systemic_fix="""One currency-exponent table for every conversion; no hard-coded ×100
       or ÷100.""")
def zero_decimal(ctx: CheckContext, c: Check) -> Iterator[Finding]:
    for oid, row, wrong in _scaled(ctx, ZERO_DECIMAL, 100):
        yield _finding(c, oid, row, wrong, "1/100")


@check("currency.three_decimal_rounding", "FM-12", "Three-decimal amounts treated as "
       "two-decimal", severity="high", products=("Payments", "Billing", "Invoicing"),
       patterns=("currency-minor-units",), discrepancy_class="AMOUNT_MISMATCH.exponent",
       fix="Rewrite the affected amounts from Stripe (BHD, KWD, ... have three decimals).",
       systemic_fix="""Convert through the currency-exponent table (3 for BHD, JOD, KWD, OMR,
       TND) and round three-decimal amounts to a multiple of 10 where required.""")
def three_decimal(ctx: CheckContext, c: Check) -> Iterator[Finding]:
    for oid, row, wrong in _scaled(ctx, THREE_DECIMAL, 10):
        yield _finding(c, oid, row, wrong, "1/10")


CHECKS = [zero_decimal, three_decimal]
