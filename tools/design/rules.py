"""Deterministic design rules: requirements in, cited recommendations, risks and open
questions out. A payment method that contradicts the currencies or countries is never
designed around: it becomes an open question instead (FM-35).

Citations name requirement fields the way an engineer reads them back from the intake:
``countries[DE] + payment_methods[sepa_debit]``, ``pricing_model=usage_based``.
"""

from __future__ import annotations

from pathlib import Path

from core.money import exponent
from tools.design.availability import LOCAL_CURRENCY, METHODS, SEPA_COUNTRIES
from tools.design.draft import DesignDraft, OpenQuestion, RecKind, Recommendation, Risk
from tools.design.requirements import Requirements

__all__ = ["BLUEPRINT_EXAMPLES", "draft_design", "eligible_methods"]

BLUEPRINT_EXAMPLES = Path(__file__).resolve().parents[1] / "blueprints" / "examples"
HIGH_EVENT_VOLUME = 100_000  # payments + invoices a month: webhooks need a queue
_DEBITS = ("sepa_debit", "us_bank_account", "bacs_debit")
_VOUCHERS = ("konbini", "oxxo", "boleto")


class _Draft:
    """Collects items; the same recommendation from two rules keeps both citations."""

    def __init__(self) -> None:
        self.recs: dict[tuple[str, str], Recommendation] = {}
        self.risks: list[Risk] = []
        self.questions: list[OpenQuestion] = []

    def add(self, kind: RecKind, ref: str, reason: str, *because: str,
            example: str | None = None) -> None:
        found = self.recs.get((kind, ref))
        if found is None:
            self.recs[(kind, ref)] = Recommendation(kind=kind, ref=ref, reason=reason,
                                                    because=list(dict.fromkeys(because)),
                                                    example=example)
        else:
            found.because = list(dict.fromkeys([*found.because, *because]))

    def risk(self, text: str, *because: str) -> None:
        self.risks.append(Risk(text=text, because=list(because)))

    def ask(self, question: str, *because: str, options: list[str] | None = None) -> None:
        self.questions.append(OpenQuestion(question=question, because=list(because),
                                           options=options or []))


def eligible_methods(req: Requirements) -> list[str]:
    """Payment methods usable with at least one listed currency in one listed country."""
    out = []
    for m in req.payment_methods:
        avail = METHODS.get(m)
        if avail is None:  # unknown to the table: an open question, never a choice
            continue
        currency_ok = not avail.currencies or bool(avail.currencies & set(req.currencies))
        country_ok = avail.countries is None or bool(avail.countries & set(req.countries))
        if currency_ok and country_ok:
            out.append(m)
    return out


def _example(kind: str, currency: str | None = None) -> str | None:
    names = [f"{kind}.yaml"]
    if kind == "custom_logic" and currency:
        names = [f"custom_minimum_commit_{currency}.yaml"]
    for name in names:
        if (BLUEPRINT_EXAMPLES / name).is_file():
            return name
    return None


def _cadence(req: Requirements) -> list[str]:
    return [f"billing_cadence[{c}]" for c in req.billing_cadence if c != "one_time"]


def _where(req: Requirements, method: str) -> list[str]:
    """``countries[X]`` for the listed countries where `method` works (all if anywhere)."""
    allowed = METHODS[method].countries
    return [f"countries[{c}]" for c in req.countries if allowed is None or c in allowed]


def _contradictions(req: Requirements, d: _Draft) -> None:
    for m in req.payment_methods:
        avail = METHODS.get(m)
        if avail is None:
            d.ask(f"{m} is not in the payment-method capability table: is it available to "
                  f"this account and to customers in {', '.join(req.countries)}, and in "
                  f"{', '.join(req.currencies)}? Check Stripe's page for it before relying "
                  "on it.", f"payment_methods[{m}]",
                  options=[f"confirm {m} on Stripe's docs and add it to the table",
                           f"drop {m}"])
            continue
        if avail.currencies and not avail.currencies & set(req.currencies):
            d.ask(f"{m} is only available in {', '.join(sorted(avail.currencies))}, but the "
                  f"intake lists {', '.join(req.currencies)}: add that currency or drop {m}?",
                  f"payment_methods[{m}]", *(f"currencies[{c}]" for c in req.currencies),
                  options=[f"add {'/'.join(sorted(avail.currencies))} prices", f"drop {m}"])
        if avail.countries is not None and not avail.countries & set(req.countries):
            d.ask(f"{m} is not offered to customers in {', '.join(req.countries)}: which "
                  "customers is it meant for?",
                  f"payment_methods[{m}]", *(f"countries[{c}]" for c in req.countries),
                  options=["add the country it serves", f"drop {m}"])
    for country in req.countries:
        local = LOCAL_CURRENCY.get(country)
        if local and local not in req.currencies:
            d.ask(f"Customers in {country} would pay in {', '.join(req.currencies)}, not their "
                  f"own {local}: price in {local} too, or accept the FX cost and lower "
                  "conversion?", f"countries[{country}]",
                  *(f"currencies[{c}]" for c in req.currencies),
                  options=[f"add {local} prices (currency_options)", "keep foreign currency"])


def _billing(req: Requirements, d: _Draft, methods: list[str]) -> None:
    pricing = f"pricing_model={req.pricing_model}"
    if req.recurring:
        d.add("product", "Billing", "Customers, Products, Prices and Subscriptions carry the "
              "recurring revenue", *_cadence(req), pricing)
        d.add("object", "Subscription", "one per customer plan", *_cadence(req))
        d.add("blueprint", "catalog", "Products and Prices kept as code with lookup keys",
              pricing, *_cadence(req), example=_example("catalog"))
        d.add("pattern", "catalog-sync-lookup-keys", "one catalogue in test and live", pricing)
        d.add("pattern", "entitlements-from-subscription-status",
              "access follows the subscription's status", *_cadence(req))
        d.add("pattern", "webhook-idempotent-processing",
              "subscription state arrives by webhook, with duplicates", *_cadence(req))
    if req.pricing_model == "per_seat":
        d.add("object", "SubscriptionItem.quantity", "seats are the item quantity", pricing)
        d.add("pattern", "seat-quantity-sync", "seat counts sync without update storms", pricing)
        d.add("pattern", "proration-policies", "seat changes mid-period prorate", pricing)
    if "plan_changes" in req.pricing_extras:
        d.add("pattern", "proration-policies", "plan changes mid-period prorate",
              "pricing_extras[plan_changes]")
    if req.pricing_model in ("usage_based", "hybrid"):
        d.add("product", "Billing meters", "usage is reported as meter events", pricing)
        d.add("object", "Meter + metered Price", "usage priced per unit per period", pricing)
        d.add("blueprint", "metering", "meter, metered price and usage reporting", pricing,
              example=_example("metering"))
        d.add("pattern", "usage-meter-events-idempotent", "usage reported exactly once", pricing)
        d.add("pattern", "usage-late-events-period-close", "late usage near period close",
              pricing)
        if req.volumes.usage_events_per_day:
            per_second = req.volumes.usage_events_per_day // 86_400
            d.risk(f"{req.volumes.usage_events_per_day} usage events a day (~{per_second}/s on "
                   "average, more at peaks): aggregate before sending and stay under the "
                   "meter event rate limits", pricing,
                   f"volumes.usage_events_per_day={req.volumes.usage_events_per_day}")
    if "minimum_commit" in req.pricing_extras:
        d.add("blueprint", "custom_logic", "minimum commitment true-up computed per period",
              "pricing_extras[minimum_commit]", pricing,
              example=_example("custom_logic", req.currencies[0]))
    if "trial" in req.pricing_extras:
        d.add("pattern", "trial-without-payment-method", "what happens when a trial ends",
              "pricing_extras[trial]")
    automatic = [m for m in methods if METHODS[m].automatic_recurring]
    if req.recurring and automatic:
        d.add("blueprint", "dunning", "retries and the end state of unpaid subscriptions",
              *_cadence(req), *(f"payment_methods[{m}]" for m in automatic),
              example=_example("dunning"))
        d.add("pattern", "dunning-end-states", "what unpaid means for access", *_cadence(req),
              *(f"payment_methods[{m}]" for m in automatic))


def _invoicing(req: Requirements, d: _Draft) -> None:
    inv = req.invoicing
    if inv.send_invoices or inv.net_terms_days:
        cause = ["invoicing.send_invoices"] if inv.send_invoices else []
        if inv.net_terms_days:
            cause.append(f"invoicing.net_terms_days={inv.net_terms_days}")
        d.add("product", "Invoicing", "invoices the customer pays on terms", *cause)
        d.add("object", "Invoice (collection_method=send_invoice, days_until_due)",
              "payment on terms instead of an automatic charge", *cause)
        d.add("blueprint", "invoicing", "send_invoice workflow with terms and reminders",
              *cause, example=_example("invoicing"))
        d.add("pattern", "invoicing-net-terms", "invoices that stay open for weeks", *cause)
    if inv.credit_notes:
        d.add("pattern", "credit-notes-adjustments", "adjust finalised invoices",
              "invoicing.credit_notes")
    if inv.tax == "stripe_tax":
        d.add("product", "Stripe Tax", "automatic_tax on subscriptions, invoices and Checkout",
              "invoicing.tax=stripe_tax")
    if inv.tax != "none":
        d.add("pattern", "tax-calculation", "one tax engine and matching rounding",
              f"invoicing.tax={inv.tax}")
    if inv.collect_tax_ids:
        d.add("object", "Customer tax IDs", "VAT ids for reverse charge on B2B invoices",
              "invoicing.collect_tax_ids")


def _payments(req: Requirements, d: _Draft, methods: list[str]) -> None:
    if req.signup == "self_serve":
        d.add("product", "Checkout", "hosted sign-up and payment", "signup=self_serve")
        d.add("blueprint", "checkout", "Checkout sessions per country and currency",
              "signup=self_serve", example=_example("checkout"))
        d.add("pattern", "checkout-fulfil-from-webhooks", "fulfil from events, not redirects",
              "signup=self_serve")
    for m in methods:
        cite = [*_where(req, m), f"payment_methods[{m}]"]
        if METHODS[m].delayed:
            d.add("pattern", "webhook-idempotent-processing",
                  "delayed outcomes arrive by webhook, with duplicates", *cite)
            if req.signup == "self_serve":
                d.add("pattern", "checkout-per-country-async-methods",
                      "async methods complete after the session", *cite, "signup=self_serve")
            d.risk(f"{m} succeeds or fails days after confirmation: grant value only on "
                   "success and handle the late failure", *cite)
        if m in _DEBITS:
            d.add("pattern", "sepa-ach-mandates-delayed-failure",
                  "mandates, processing state and late failures", *cite)
        if m in _VOUCHERS:
            d.add("pattern", "vouchers-oxxo-boleto-konbini", "voucher expiry and late payment",
                  *cite)
            if req.recurring and not req.invoicing.send_invoices:
                d.ask(f"{m} cannot be charged automatically for recurring billing: send "
                      "invoices for those customers, or offer it for one-time payments only?",
                      f"payment_methods[{m}]", *_cadence(req),
                      options=["collection_method=send_invoice", "one-time only"])
        if m == "customer_balance":
            d.add("pattern", "bank-transfers-cash-balance", "transfers land in a cash balance",
                  *cite)
    sca = [c for c in req.countries if c in SEPA_COUNTRIES]
    if req.recurring and "card" in methods and sca:
        d.add("pattern", "sca-off-session-recovery",
              "renewals off-session may need authentication (SCA)",
              *(f"countries[{c}]" for c in sca), "payment_methods[card]", *_cadence(req))
    odd = [c for c in req.currencies if exponent(c) != 2]
    if odd:
        d.add("pattern", "currency-minor-units", "amounts in the currency's own minor unit",
              *(f"currencies[{c}]" for c in odd))
    if len(req.currencies) > 1:
        d.add("object", "Price.currency_options", "one price, several currencies",
              *(f"currencies[{c}]" for c in req.currencies))
        d.add("pattern", "multi-currency-pricing", "local presentment per currency",
              *(f"currencies[{c}]" for c in req.currencies))
    if req.volumes.payments_per_month + req.volumes.invoices_per_month >= HIGH_EVENT_VOLUME:
        d.add("pattern", "webhook-queue-then-process", "answer 2xx fast, process from a queue",
              f"volumes.payments_per_month={req.volumes.payments_per_month}")


def _platform(req: Requirements, d: _Draft, methods: list[str]) -> None:
    if req.connect is not None:
        c = req.connect
        ct = f"connect.charge_type={c.charge_type}"
        d.add("product", "Connect", "sellers onboarded as connected accounts", ct,
              f"connect.connected_accounts={c.connected_accounts}")
        d.add("object", "Account + Account Links (onboarding)", "KYC by Stripe-hosted flows",
              f"connect.connected_accounts={c.connected_accounts}")
        d.add("pattern", "connect-charge-types", "who is merchant of record and liable", ct)
        d.add("pattern", "connect-webhooks-event-account", "route events by event.account",
              f"connect.connected_accounts={c.connected_accounts}")
        d.add("pattern", "payouts-reconciliation", "payouts to sellers reconciled",
              f"connect.payouts={c.payouts}")
        if c.charge_type == "direct":
            d.add("pattern", "connect-stripe-account-header", "every call in the seller's "
                  "context", ct)
        elif "card" in methods:
            d.add("pattern", "disputes-handling", "the platform bears disputes on its charges",
                  ct, "payment_methods[card]")
        if c.charge_type != "direct":
            d.add("object", "application_fee_amount / transfer_data",
                  "the platform's commission", ct)
    for system in req.existing_systems:
        cite = f"existing_systems[{system.name}].migrate_from"
        if system.kind == "billing" and system.migrate_from:
            d.add("pattern", "migration-parallel-run", "compare legacy and Stripe invoices",
                  cite)
            d.add("pattern", "migration-cutover-double-billing-guard", "no period billed twice",
                  cite)
    if req.revenue_recognition == "stripe":
        d.add("product", "Revenue Recognition", "recognition schedules from Billing data",
              "revenue_recognition=stripe")
    elif req.revenue_recognition == "external":
        erps = [f"existing_systems[{s.name}]" for s in req.existing_systems
                if s.kind in ("erp", "accounting")]
        d.add("pattern", "revenue-exports", "books built from balance transactions",
              "revenue_recognition=external", *erps)


def draft_design(req: Requirements) -> DesignDraft:
    d = _Draft()
    _contradictions(req, d)
    methods = eligible_methods(req)
    _billing(req, d, methods)
    _invoicing(req, d)
    _payments(req, d, methods)
    _platform(req, d, methods)
    return DesignDraft(requirements=req.name, recommendations=list(d.recs.values()),
                       risks=d.risks, open_questions=d.questions)
