"""The demo company: "Relay Analytics", a B2B SaaS (per-seat plans, a tiered enterprise plan,
a metered API add-on) with a marketplace side on Connect (partners sell listings).

Static data only: where its customers are, what they pay with, what it sells and for how
much in each currency. Amounts are minor units of the currency (`core.money` exponents:
JPY 0, BHD 3, others 2).
"""

from __future__ import annotations

from dataclasses import dataclass

# Payment-method kinds the scenarios know (test PMs of `payment_method_catalog`).
CARD = "pm_card_visa"
DECLINE = "pm_card_chargeDeclined"
REFUND_FAIL = "pm_card_refundFail"
DISPUTE = "pm_card_createDispute"
SEPA_OK, SEPA_FAIL = "pm_sepaDebit_succeeds", "pm_sepaDebit_fails"
ACH_OK, ACH_FAIL = "pm_usBankAccount_succeeds", "pm_usBankAccount_fails"
VOUCHERS = {"oxxo": "pm_oxxo", "boleto": "pm_boleto", "konbini": "pm_konbini"}
BANK_TRANSFER = "pm_customerBalance"


@dataclass(frozen=True)
class Place:
    country: str
    currency: str
    city: str
    domain: str
    debit: str | None = None  # the bank debit used there (sepa/ach)
    voucher: str | None = None  # the cash voucher used there
    bank_transfer: bool = False  # customer_balance bank transfers offered


PLACES: tuple[Place, ...] = (
    Place("US", "usd", "Austin", "example.com", debit="ach", bank_transfer=True),
    Place("DE", "eur", "Berlin", "example.de", debit="sepa", bank_transfer=True),
    Place("FR", "eur", "Lyon", "example.fr", debit="sepa"),
    Place("NL", "eur", "Utrecht", "example.nl", debit="sepa"),
    Place("GB", "gbp", "Leeds", "example.co.uk", bank_transfer=True),
    Place("JP", "jpy", "Osaka", "example.jp", voucher="konbini", bank_transfer=True),
    Place("BR", "brl", "Curitiba", "example.com.br", voucher="boleto"),
    Place("MX", "mxn", "Monterrey", "example.com.mx", voucher="oxxo", bank_transfer=True),
    Place("BH", "bhd", "Manama", "example.bh"),
    Place("CA", "usd", "Toronto", "example.ca"),
)
CURRENCIES = tuple(sorted({p.currency for p in PLACES}))

# Minor units of each currency per 100 US cents (a fixed, round price list).
_RATE = {"usd": 100, "eur": 100, "gbp": 80, "jpy": 150, "brl": 500, "mxn": 1700, "bhd": 380}


def local_amount(usd_cents: int, currency: str) -> int:
    """A price list amount: `usd_cents` converted with the fixed rate (integers only)."""
    return usd_cents * _RATE[currency] // 100


@dataclass(frozen=True)
class Plan:
    key: str  # lookup key stem: f"{key}_{currency}"
    product: str
    kind: str  # flat | per_seat | tiered | metered | one_time
    usd_cents: int


PLANS: tuple[Plan, ...] = (
    Plan("starter_monthly", "Relay Starter", "flat", 2900),
    Plan("team_monthly", "Relay Team", "per_seat", 1200),
    Plan("enterprise_monthly", "Relay Enterprise", "tiered", 1000),
    Plan("api_calls", "Relay API calls", "metered", 0),
    Plan("onboarding", "Onboarding package", "one_time", 49900),
    Plan("data_export", "Data export credits", "one_time", 9900),
)
METER_EVENT = "relay_api_calls"
FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia",
         "Tim", "Margaret", "Linus", "Hedy", "John", "Sophie", "Yukihiro", "Guido", "Anita")
COMPANY = ("Labs", "Systems", "Works", "Logistics", "Health", "Retail", "Foods", "Studio")
PARTNERS = (("Northwind Listings", "US", "usd"), ("Kestrel Market", "GB", "gbp"))

__all__ = ["CURRENCIES", "PARTNERS", "PLACES", "PLANS", "Place", "Plan", "local_amount"]
