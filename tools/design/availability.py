"""Where each payment method works: currencies, customer countries, recurring use.

Sources (Stripe documentation, read for failure-modes.md FM-35 and FM-17):
  SEPA Direct Debit  https://docs.stripe.com/payments/sepa-debit — EUR only, SEPA countries
  Konbini            https://docs.stripe.com/payments/konbini — JPY, Japan, one-time (also
                     payable on send_invoice invoices; not automatic recurring charges)
  OXXO               https://docs.stripe.com/payments/oxxo — MXN, Mexico, one-time
  Boleto             https://docs.stripe.com/payments/boleto — BRL, Brazil
  ACH Direct Debit   https://docs.stripe.com/payments/ach-direct-debit — USD, US
  Bacs Direct Debit  https://docs.stripe.com/payments/payment-methods/bacs-debit — GBP, UK
  iDEAL / Bancontact https://docs.stripe.com/payments/ideal, /payments/bancontact — EUR
  Bank transfers     https://docs.stripe.com/payments/bank-transfers — customer_balance in
                     USD (US), EUR (SEPA countries), GBP (UK), JPY (JP), MXN (MX)
Availability changes; this table is the single place to re-verify and update.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["METHODS", "SEPA_COUNTRIES", "LOCAL_CURRENCY", "MethodAvailability"]

SEPA_COUNTRIES = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE "
    "IS LI NO CH GB MC SM AD VA".split())


@dataclass(frozen=True)
class MethodAvailability:
    currencies: frozenset[str]
    countries: frozenset[str] | None  # None: anywhere Stripe operates
    automatic_recurring: bool  # can a subscription charge it without the customer acting
    delayed: bool  # success/failure arrives later by webhook


METHODS: dict[str, MethodAvailability] = {
    "card": MethodAvailability(frozenset(), None, True, False),  # empty: every currency
    "sepa_debit": MethodAvailability(frozenset({"eur"}), SEPA_COUNTRIES, True, True),
    "ach_debit": MethodAvailability(frozenset({"usd"}), frozenset({"US"}), True, True),
    "bacs_debit": MethodAvailability(frozenset({"gbp"}), frozenset({"GB"}), True, True),
    "konbini": MethodAvailability(frozenset({"jpy"}), frozenset({"JP"}), False, True),
    "oxxo": MethodAvailability(frozenset({"mxn"}), frozenset({"MX"}), False, True),
    "boleto": MethodAvailability(frozenset({"brl"}), frozenset({"BR"}), False, True),
    "ideal": MethodAvailability(frozenset({"eur"}), frozenset({"NL"}), False, False),
    "bancontact": MethodAvailability(frozenset({"eur"}), frozenset({"BE"}), False, False),
    "customer_balance": MethodAvailability(
        frozenset({"usd", "eur", "gbp", "jpy", "mxn"}),
        SEPA_COUNTRIES | {"US", "JP", "MX"}, False, True),
}

# Each country's own currency, for "customers here pay in a foreign currency" questions.
LOCAL_CURRENCY: dict[str, str] = {
    **{c: "eur" for c in "AT BE CY DE EE ES FI FR GR HR IE IT LT LU LV MT NL PT SI SK".split()},
    "US": "usd", "GB": "gbp", "JP": "jpy", "MX": "mxn", "BR": "brl", "CA": "cad",
    "AU": "aud", "CH": "chf", "SE": "sek", "DK": "dkk", "NO": "nok", "PL": "pln",
    "CZ": "czk", "HU": "huf", "RO": "ron", "BG": "bgn", "IN": "inr", "SG": "sgd",
    "NZ": "nzd", "HK": "hkd", "BH": "bhd",
}
