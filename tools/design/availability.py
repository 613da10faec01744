"""Where each payment method works, for design drafts: a view of the one capability table
(`tools/stripe/payment_methods.py`, which cites Stripe's page per method) plus each country's
own currency."""

from __future__ import annotations

from dataclasses import dataclass

from tools.stripe.payment_methods import CAPABILITIES, SEPA_COUNTRIES

__all__ = ["METHODS", "SEPA_COUNTRIES", "LOCAL_CURRENCY", "MethodAvailability"]


@dataclass(frozen=True)
class MethodAvailability:
    currencies: frozenset[str]  # empty: every currency
    countries: frozenset[str] | None  # customers' countries; None: anywhere Stripe operates
    automatic_recurring: bool  # can a subscription charge it without the customer acting
    delayed: bool  # success/failure arrives later by webhook


METHODS: dict[str, MethodAvailability] = {
    name: MethodAvailability(rules.currencies or frozenset(), rules.customer_countries,
                             rules.off_session, rules.delayed)
    for name, rules in CAPABILITIES.items()}

# Each country's own currency, for "customers here pay in a foreign currency" questions.
LOCAL_CURRENCY: dict[str, str] = {
    **{c: "eur" for c in "AT BE CY DE EE ES FI FR GR HR IE IT LT LU LV MT NL PT SI SK".split()},
    "US": "usd", "GB": "gbp", "JP": "jpy", "MX": "mxn", "BR": "brl", "CA": "cad",
    "AU": "aud", "CH": "chf", "SE": "sek", "DK": "dkk", "NO": "nok", "PL": "pln",
    "CZ": "czk", "HU": "huf", "RO": "ron", "BG": "bgn", "IN": "inr", "SG": "sgd",
    "NZ": "nzd", "HK": "hkd", "BH": "bhd",
}
