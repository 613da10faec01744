"""Cause attribution on invoice amounts alone (the replica tests cover the fetched shapes)."""

from __future__ import annotations

from tools.shadow.causes import explain, view_invoice
from tools.shadow.legacy import LegacyInvoice

DEC = {"start": 1_796_083_200, "end": 1_798_761_600}


def _line(amount: int, *, proration: bool = False, tax: int = 0, price: str = "price_a"):
    kind = "invoice_item_details" if proration else "subscription_item_details"
    return {"amount": amount, "period": DEC, "parent": {"type": kind, kind: {
        "proration": proration}}, "pricing": {"price_details": {"price": price}},
        "taxes": [{"amount": tax}] if tax else []}


def _invoice(currency: str, lines: list[dict]) -> dict:
    subtotal = sum(ln["amount"] for ln in lines)
    tax = sum(t["amount"] for ln in lines for t in ln["taxes"])
    return {"id": "in_1", "customer": "cus_1", "currency": currency, "subtotal": subtotal,
            "total": subtotal + tax, "total_taxes": [{"amount": tax}] if tax else [],
            "total_discount_amounts": [], "lines": {"data": lines}}


def _legacy(currency: str, subtotal: int, tax: int = 0, **extra) -> LegacyInvoice:
    return LegacyInvoice(customer="cus_1", period_start="2026-12-01", period_end="2026-12-31",
                         currency=currency, subtotal=subtotal, tax=tax, total=subtotal + tax,
                         **extra)


def test_three_decimal_currency_scaled_as_two_decimals():
    stripe = view_invoice(_invoice("bhd", [_line(37_655)]), set())
    assert explain(_legacy("bhd", 3_766), stripe).causes == ["CURRENCY_EXPONENT"]
    assert explain(_legacy("bhd", 3_700), stripe).causes == ["UNEXPLAINED"]
    assert explain(_legacy("bhd", 37_655), stripe) is None


def test_tax_charged_on_a_proration_belongs_to_the_proration():
    # 19 % on each line: 4900 -> 931, proration 1500 -> 285; legacy never prorated.
    stripe = view_invoice(_invoice("usd", [_line(4_900, tax=931),
                                           _line(1_500, proration=True, tax=285)]), set())
    assert explain(_legacy("usd", 4_900, 931), stripe).causes == ["PRORATION"]
    # ...and one cent of per-line rounding on top is named as well.
    assert explain(_legacy("usd", 4_900, 930), stripe).causes == ["PRORATION", "TAX_ROUNDING"]
    # A tax difference far beyond rounding is not explained away.
    assert explain(_legacy("usd", 4_900, 900), stripe).causes == ["PRORATION", "UNEXPLAINED"]


def test_usage_billed_by_legacy_but_not_reported_to_stripe():
    stripe = view_invoice(_invoice("usd", [_line(1_900), _line(300, price="price_m")]),
                          {"price_m"})
    found = explain(_legacy("usd", 2_700, usage=800), stripe)
    assert found is not None and found.causes == ["MISSING_USAGE"]
    assert "Stripe misses 500" in found.detail
