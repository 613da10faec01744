"""Facts pulled out of a ticket by rules: Stripe ids, amounts, currencies, dates, e-mails,
product words. Runs locally on the raw text (nothing leaves the process)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from agents.models import TicketFacts

__all__ = ["extract_facts"]

_ID = re.compile(r"\b(?:cus|sub|in|pi|ch|re|dp|cs_test|cs_live|cs|evt|price|prod|po|acct|"
                 r"we|ii|seti|pm|cn|txn|mtr)_[A-Za-z0-9]{6,}\b")
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_SYMBOL = {"$": "usd", "€": "eur", "£": "gbp", "¥": "jpy", "R$": "brl"}
_MONEY = re.compile(r"(R\$|[$€£¥])\s?(\d[\d,]*(?:\.\d+)?)|(\d[\d,]*(?:\.\d+)?)\s?"
                    r"(usd|eur|gbp|jpy|brl|mxn|bhd|kwd|krw)\b", re.I)
_PRODUCTS = {
    "billing": ("subscription", "plan", "renewal", "seat", "trial", "upgrade", "downgrade"),
    "invoicing": ("invoice", "credit note", "net terms"),
    "payments": ("charge", "payment", "refund", "card", "paid"),
    "checkout": ("checkout", "order"),
    "connect": ("connected account", "marketplace", "seller", "platform"),
    "lpm": ("sepa", "ach", "boleto", "oxxo", "konbini", "bank transfer", "debit", "voucher"),
    "webhooks": ("webhook", "event", "signature", "endpoint"),
}

# Whole words only: "ach" must not match "reaches" or "attached".
_PRODUCT_WORDS = {p: re.compile(r"\b(?:" + "|".join(map(re.escape, words)) + r")s?\b")
                  for p, words in _PRODUCTS.items()}


def _amount(number: str) -> int | None:
    try:
        value = Decimal(number.replace(",", ""))
    except InvalidOperation:
        return None
    return int(value * 100) if value != value.to_integral_value() else int(value)


def extract_facts(text: str) -> TicketFacts:
    lowered = text.lower()
    amounts: list[int] = []
    currencies: list[str] = []
    for sym, num, num2, code in _MONEY.findall(text):
        value = _amount(num or num2)
        if value is not None:
            amounts.append(value)
        currency = _SYMBOL.get(sym) if sym else code.lower()
        if currency:
            currencies.append(currency)
    return TicketFacts(
        ids=list(dict.fromkeys(_ID.findall(text))),
        amounts=amounts, currencies=list(dict.fromkeys(currencies)),
        dates=_DATE.findall(text), emails=list(dict.fromkeys(_EMAIL.findall(text))),
        products=[p for p, pattern in _PRODUCT_WORDS.items() if pattern.search(lowered)],
    )
