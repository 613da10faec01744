"""Stripe's payment-method rules in one table: who can offer a method, to whom, in which
currencies, for what kind of payment, and what it needs from the customer.

Every row cites the Stripe page it was read from ("Payment method properties", "Business
locations", "Product support" on each method's page). Blueprints, design drafts and checks
read only this table (a test enforces it), so a rule is corrected once, here. Availability
changes: re-read the cited page when a row is in doubt.

``None`` in a set means "not restricted by this table" (for ``account_countries``: most
countries where Stripe operates). ``refunds=None`` means the cited page was not verified on
that point here: treat it as unknown, not as yes.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CAPABILITIES", "CheckoutMode", "MethodRules", "SEPA_COUNTRIES", "UnknownMethod",
           "canonical_name", "capability", "checkout_problems", "method_names",
           "methods_where"]

CheckoutMode = str  # "payment" | "subscription" | "setup", as Checkout names them

SEPA_COUNTRIES = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE "
    "IS LI NO CH GB MC SM AD VA".split())
_ALL_MODES = frozenset({"payment", "subscription", "setup"})


class UnknownMethod(ValueError):
    """A payment method type the table does not know."""


@dataclass(frozen=True)
class MethodRules:
    method: str  # Stripe's payment_method_types value
    currencies: frozenset[str] | None  # presentment currencies; None: any Stripe currency
    customer_countries: frozenset[str] | None  # where its payers are
    account_countries: frozenset[str] | None  # where the Stripe account must be
    subscriptions: bool  # Stripe Billing can collect subscription invoices with it
    off_session: bool  # later payments are charged without the customer acting
    setup_for_later: bool  # can be saved (SetupIntent / Checkout setup mode)
    checkout_modes: frozenset[CheckoutMode]
    delayed: bool  # success or failure arrives after confirmation, by webhook
    refunds: bool | None
    customer_data: tuple[str, ...]  # what the customer must give beyond the payment itself
    source: str
    aliases: tuple[str, ...] = ()  # names people use that Stripe does not
    family: str = ""  # Stripe's grouping: card, wallet, bank_debit, bank_redirect, voucher, ...


_ROWS = (
    MethodRules("card", None, None, None, True, True, True, _ALL_MODES, False, True, (),
                "https://docs.stripe.com/payments/cards", family="card"),
    MethodRules("link", None, None, None, True, True, True, _ALL_MODES, False, True, (),
                "https://docs.stripe.com/payments/link", family="wallet"),
    MethodRules("sepa_debit", frozenset({"eur"}), SEPA_COUNTRIES, None, True, True, True,
                _ALL_MODES, True, True, ("name", "email", "IBAN mandate"),
                "https://docs.stripe.com/payments/sepa-debit", family="bank_debit"),
    MethodRules("us_bank_account", frozenset({"usd"}), frozenset({"US"}), frozenset({"US"}),
                True, True, True, _ALL_MODES, True, True, ("name", "email", "ACH mandate"),
                "https://docs.stripe.com/payments/ach-direct-debit",
                aliases=("ach_debit", "ach"), family="bank_debit"),
    MethodRules("bacs_debit", frozenset({"gbp"}), frozenset({"GB"}), frozenset({"GB"}), True,
                True, True, _ALL_MODES, True, True, ("name", "email", "address", "mandate"),
                "https://docs.stripe.com/payments/payment-methods/bacs-debit", family="bank_debit"),
    MethodRules("au_becs_debit", frozenset({"aud"}), frozenset({"AU"}), frozenset({"AU"}),
                True, True, True, _ALL_MODES, True, True, ("name", "email", "mandate"),
                "https://docs.stripe.com/payments/au-becs-debit", family="bank_debit"),
    MethodRules("konbini", frozenset({"jpy"}), frozenset({"JP"}), frozenset({"JP"}), False,
                False, False, frozenset({"payment"}), True, None, ("name", "email"),
                "https://docs.stripe.com/payments/konbini/accept-a-payment", family="voucher"),
    MethodRules("oxxo", frozenset({"mxn"}), frozenset({"MX"}), frozenset({"MX"}), False, False,
                False, frozenset({"payment"}), True, False, ("name", "email"),
                "https://docs.stripe.com/payments/oxxo", family="voucher"),
    MethodRules("boleto", frozenset({"brl"}), frozenset({"BR"}), frozenset({"BR"}), True,
                False, False, frozenset({"payment", "subscription"}), True, False,
                ("name", "email", "address", "tax_id (CPF or CNPJ)"),
                "https://docs.stripe.com/payments/boleto", family="voucher"),
    MethodRules("pix", frozenset({"brl"}), frozenset({"BR"}), frozenset({"BR"}), False, False,
                False, frozenset({"payment"}), True, True, (),
                "https://docs.stripe.com/payments/pix", family="real_time"),
    MethodRules("upi", frozenset({"inr"}), frozenset({"IN"}), frozenset({"IN"}), False, False,
                False, frozenset({"payment"}), True, True, (),
                "https://docs.stripe.com/payments/upi", family="real_time"),
    MethodRules("ideal", frozenset({"eur"}), frozenset({"NL"}), None, True, False, True,
                _ALL_MODES, False, True, ("name",),
                "https://docs.stripe.com/payments/ideal", family="bank_redirect"),
    MethodRules("bancontact", frozenset({"eur"}), frozenset({"BE"}), None, True, False, True,
                _ALL_MODES, False, True, ("name",),
                "https://docs.stripe.com/payments/bancontact", family="bank_redirect"),
    MethodRules("customer_balance", frozenset({"usd", "eur", "gbp", "jpy", "mxn"}),
                SEPA_COUNTRIES | {"US", "JP", "MX"}, SEPA_COUNTRIES | {"US", "JP", "MX"}, True,
                False, False, frozenset({"payment"}), True, True, (),
                "https://docs.stripe.com/payments/bank-transfers",
                aliases=("bank_transfer",), family="bank_transfer"),
)
CAPABILITIES: dict[str, MethodRules] = {r.method: r for r in _ROWS}
_ALIASES = {alias: r.method for r in _ROWS for alias in r.aliases}


def methods_where(**wanted: object) -> frozenset[str]:
    """Method names whose rules have every given value, e.g. ``family="voucher"``."""
    return frozenset(r.method for r in _ROWS
                     if all(getattr(r, k) == v for k, v in wanted.items()))


def canonical_name(method: str) -> str:
    """Stripe's name for a method people also call otherwise (ach_debit → us_bank_account);
    an unknown name comes back as it is."""
    name = method.strip().lower()
    return _ALIASES.get(name, name)


def method_names() -> list[str]:
    return sorted(CAPABILITIES)


def capability(method: str) -> MethodRules:
    """The row for a Stripe payment method type; an alias or unknown name is refused with
    the name Stripe uses, when there is one."""
    found = CAPABILITIES.get(method)
    if found is not None:
        return found
    if method in _ALIASES:
        raise UnknownMethod(f"{method!r} is not a Stripe payment method type: Stripe calls it "
                            f"{_ALIASES[method]!r}")
    raise UnknownMethod(f"unknown payment method type {method!r} (known: "
                        f"{', '.join(method_names())})")


def checkout_problems(method: str, *, mode: CheckoutMode, currency: str,
                      country: str | None = None,
                      account_country: str | None = None) -> list[str]:
    """Why Stripe would refuse `method` in a Checkout Session with this mode, currency and
    customer country (and account country, when known); empty when it would not."""
    rules = capability(method)
    problems = []
    if rules.currencies is not None and currency.lower() not in rules.currencies:
        problems.append(f"{method} cannot be used with currency {currency.lower()} (only "
                        f"{', '.join(sorted(rules.currencies))})")
    if mode not in rules.checkout_modes:
        problems.append(f"{method} cannot be used in Checkout {mode} mode (only "
                        f"{', '.join(sorted(rules.checkout_modes))})")
    if country and rules.customer_countries is not None \
            and country.upper() not in rules.customer_countries:
        problems.append(f"{method} is not offered to customers in {country.upper()}")
    if account_country and rules.account_countries is not None \
            and account_country.upper() not in rules.account_countries:
        problems.append(f"{method} needs a Stripe account in "
                        f"{', '.join(sorted(rules.account_countries))}")
    return problems
