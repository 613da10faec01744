"""Stripe's test payment methods and what each one does later (the replica's `_outcome`).

A PaymentMethod carries a private ``_outcome`` that the payment flows read; it is decided
when the PM is made: from a magic id (``pm_card_visa``), a test token (``tok_visa``), a
test card number, a test IBAN / US bank account, or a voucher's billing email.

    magic id / token                        outcome           what happens
    pm_card_visa, pm_card_mastercard,       succeed           charge succeeds at once
      pm_card_amex, pm_card_visa_debit
    pm_card_chargeDeclined                  decline           402 card_declined/generic_decline
    pm_card_chargeDeclinedInsufficientFunds insufficient      402 card_declined/insufficient_funds
    pm_card_chargeDeclinedExpiredCard       expired           402 expired_card
    pm_card_authenticationRequired          authenticate      requires_action on session; off
                                                              session: 402 authentication_required
                                                              (invoice payments: requires_action)
    pm_card_refundFail                      refund_fail       charge succeeds; its refunds succeed,
                                                              then fail a day later
    pm_card_createDispute                   dispute           charge succeeds; a dispute arrives
                                                              a day later
    pm_sepaDebit_succeeds / _fails          debit_succeed /   processing, then succeeded / failed
                                            debit_fail        5 days later (IBANs DE89…3000 /
                                                              DE62…3001)
    pm_usBankAccount_succeeds / _fails      debit_succeed /   processing, then 4 days later
                                            debit_fail        (accounts 000123456789 / 000111111113)
    pm_oxxo, pm_boleto, pm_konbini          voucher           requires_action until paid (test
                                                              helper) or expired (default 3 days)
      billing email *succeed_immediately@*  voucher_pays      paid 3 minutes after confirmation
      billing email *expire_immediately@*   voucher_expires   expires 1 minute after confirmation
    pm_customerBalance                      cash              paid from the customer's cash balance
"""

from __future__ import annotations

import hashlib
from typing import Any

Obj = dict[str, Any]

# Cards: last4, brand, funding, outcome (country US unless said otherwise).
_CARDS: dict[str, tuple[str, str, str, str]] = {
    "visa": ("4242", "visa", "credit", "succeed"),
    "visa_debit": ("5556", "visa", "debit", "succeed"),
    "mastercard": ("4444", "mastercard", "credit", "succeed"),
    "amex": ("8431", "amex", "credit", "succeed"),
    "chargeDeclined": ("0002", "visa", "credit", "decline"),
    "chargeDeclinedInsufficientFunds": ("9995", "visa", "credit", "insufficient"),
    "chargeDeclinedExpiredCard": ("0069", "visa", "credit", "expired"),
    "authenticationRequired": ("3184", "visa", "credit", "authenticate"),
    "threeDSecure2Required": ("3220", "visa", "credit", "authenticate"),
    "refundFail": ("5126", "visa", "credit", "refund_fail"),
    "createDispute": ("0259", "visa", "credit", "dispute"),
}
_CARD_NUMBERS: dict[str, str] = {
    "4242424242424242": "visa",
    "4000056655665556": "visa_debit",
    "5555555555554444": "mastercard",
    "378282246310005": "amex",
    "4000000000000002": "chargeDeclined",
    "4000000000009995": "chargeDeclinedInsufficientFunds",
    "4000000000000069": "chargeDeclinedExpiredCard",
    "4000002760003184": "authenticationRequired",
    "4000002500003155": "authenticationRequired",
    "4000000000003220": "threeDSecure2Required",
    "4000000000005126": "refundFail",
    "4000000000000259": "createDispute",
}
_IBANS = {"DE89370400440532013000": "debit_succeed", "DE62370400440532013001": "debit_fail",
          "AT611904300234573201": "debit_succeed", "AT861904300235473202": "debit_fail"}
_US_ACCOUNTS = {"000123456789": "debit_succeed", "000111111113": "debit_fail",
                "000222222227": "debit_fail"}

DEBITS = frozenset({"sepa_debit", "us_bank_account"})
VOUCHERS = frozenset({"oxxo", "boleto", "konbini"})
TYPES = frozenset({"card", "customer_balance"}) | DEBITS | VOUCHERS
# Currencies each non-card type accepts (cards take any known currency).
CURRENCIES: dict[str, frozenset[str]] = {
    "sepa_debit": frozenset({"eur"}),
    "us_bank_account": frozenset({"usd"}),
    "oxxo": frozenset({"mxn"}),
    "boleto": frozenset({"brl"}),
    "konbini": frozenset({"jpy"}),
    "customer_balance": frozenset({"eur", "gbp", "jpy", "mxn", "usd"}),
}


def fingerprint(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def card_details(name: str, *, exp_month: int = 12, exp_year: int = 2034) -> tuple[Obj, str]:
    last4, brand, funding, outcome = _CARDS[name]
    card = {
        "brand": brand,
        "checks": {"address_line1_check": None, "address_postal_code_check": None,
                   "cvc_check": "pass"},
        "country": "US", "display_brand": brand, "exp_month": exp_month, "exp_year": exp_year,
        "fingerprint": fingerprint("card", name), "funding": funding, "generated_from": None,
        "last4": last4, "networks": {"available": [brand], "preferred": None},
        "three_d_secure_usage": {"supported": True}, "wallet": None,
        "regulated_status": "unregulated",
    }
    return card, outcome


def card_from_number(number: str, exp_month: int, exp_year: int) -> tuple[Obj, str]:
    number = number.replace(" ", "")
    name = _CARD_NUMBERS.get(number)
    if name:
        return card_details(name, exp_month=exp_month, exp_year=exp_year)
    card, _ = card_details("visa", exp_month=exp_month, exp_year=exp_year)
    brand = {"4": "visa", "5": "mastercard", "3": "amex"}.get(number[:1], "unknown")
    card.update(brand=brand, display_brand=brand, last4=number[-4:],
                fingerprint=fingerprint("card", number), networks={"available": [brand],
                                                                    "preferred": None})
    return card, "succeed"


def card_for_token(token: str) -> tuple[Obj, str] | None:
    name = token.removeprefix("tok_")
    return card_details(name) if name in _CARDS else None


def sepa_details(iban: str) -> tuple[Obj, str]:
    iban = iban.replace(" ", "").upper()
    details = {"bank_code": iban[4:12], "branch_code": "", "country": iban[:2],
               "fingerprint": fingerprint("iban", iban), "generated_from": None,
               "last4": iban[-4:]}
    return details, _IBANS.get(iban, "debit_succeed")


def us_bank_details(routing: str, account: str, holder_type: str = "individual",
                    account_type: str = "checking") -> tuple[Obj, str]:
    details = {"account_holder_type": holder_type, "account_type": account_type,
               "bank_name": "STRIPE TEST BANK", "financial_connections_account": None,
               "fingerprint": fingerprint("ach", routing, account), "last4": account[-4:],
               "networks": {"preferred": "ach", "supported": ["ach"]},
               "routing_number": routing, "status_details": {}}
    return details, _US_ACCOUNTS.get(account, "debit_succeed")


def voucher_outcome(email: str | None) -> str:
    local = (email or "").partition("@")[0]
    if "succeed_immediately" in local:
        return "voucher_pays"
    if "expire_immediately" in local:
        return "voucher_expires"
    return "voucher"


def magic(pm_id: str) -> tuple[str, Obj, str, Obj] | None:
    """(type, type details, outcome, billing_details overrides) for a test PM id, else None."""
    if pm_id.startswith("pm_card_"):
        found = card_for_token("tok_" + pm_id.removeprefix("pm_card_"))
        return ("card", found[0], found[1], {}) if found else None
    if pm_id in ("pm_sepaDebit_succeeds", "pm_sepaDebit_fails"):
        iban = "DE89370400440532013000" if pm_id.endswith("succeeds") else "DE62370400440532013001"
        details, outcome = sepa_details(iban)
        return "sepa_debit", details, outcome, {"name": "Jenny Rosen",
                                                "email": "jenny@example.com"}
    if pm_id in ("pm_usBankAccount_succeeds", "pm_usBankAccount_fails"):
        account = "000123456789" if pm_id.endswith("succeeds") else "000111111113"
        details, outcome = us_bank_details("110000000", account)
        return "us_bank_account", details, outcome, {"name": "Jenny Rosen"}
    if pm_id == "pm_oxxo":
        return "oxxo", {}, "voucher", {"name": "Jenny Rosen", "email": "jenny@example.com"}
    if pm_id == "pm_boleto":
        return "boleto", {"tax_id": "000.000.000-00"}, "voucher", {
            "name": "Jenny Rosen", "email": "jenny@example.com"}
    if pm_id == "pm_konbini":
        return "konbini", {}, "voucher", {"name": "Jenny Rosen", "email": "jenny@example.com"}
    if pm_id == "pm_customerBalance":
        return "customer_balance", {}, "cash", {}
    return None
