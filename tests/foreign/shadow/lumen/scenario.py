"""Lumen's staging scenario: about five weeks of a photo-hosting business in Stripe.

`drive(client, seed=…, advance_clock=…)` runs it against a fresh Stripe-compatible server
through the official SDK. Nothing is delivered to the app while it runs; the events history
it leaves behind is the corpus. Customers (JP customers pay in JPY, US customers in USD):

    aiko   JP  starter, card; top-up by card (granted); upgrades to pro on day 3;
               renews on day 30 (JPY renewal receipt)
    ben    US  pro with a 14-day trial; top-up by ACH debit while trialing
               (processing, succeeds four days later); trial ends → active, paid
    chika  JP  starter with a 7-day trial and a card that declines: trial ends →
               invoice fails → past_due → dunning retries fail → canceled (closed)
    dana   US  pro, card; top-up by ACH debit that fails four days later (nothing granted)
    emi    JP  studio, card; top-up by card, fully refunded on day 2 (gigabytes taken back);
               renews on day 30
    finn   US  starter, card; switches to a card that declines, so the day-30 renewal
               fails (past_due); fixes the card and pays on day 32 (ok); cancels on day 35
    gus    US  pro, card; top-up charged on a card that is disputed a day later;
               evidence submitted, dispute won (suspended, then not)
    hana   JP  starter, card; top-up disputed a day later; the dispute is accepted (lost):
               stays suspended; renews on day 30

The seed only varies top-up sizes and e-mail addresses; the story (and so the answer key)
is the same for every seed. About 200 events.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import stripe

DAY = 86400

# tier_key → (USD cents, JPY yen) per month
PLAN_PRICES = {"starter": (900, 980), "pro": (2900, 2980), "studio": (9900, 9800)}
TOPUP_SIZES = [50, 100, 200, 500]
# price per GB of a top-up, in minor units
TOPUP_RATE = {"usd": 10, "jpy": 15}


def drive(client: stripe.StripeClient, *, seed: int,
          advance_clock: Callable[[float], Any]) -> None:
    rng = random.Random(seed)
    v1 = client.v1

    # -- catalogue ----------------------------------------------------------------------------
    prices: dict[tuple[str, str], str] = {}
    for tier, (usd, jpy) in PLAN_PRICES.items():
        product = v1.products.create(params={
            "name": f"Lumen {tier.title()}", "metadata": {"tier_key": tier}})
        for currency, amount in (("usd", usd), ("jpy", jpy)):
            price = v1.prices.create(params={
                "product": product.id, "currency": currency, "unit_amount": amount,
                "recurring": {"interval": "month"},
                "lookup_key": f"{tier}_{currency}_monthly"})
            prices[(tier, currency)] = price.id

    def customer(name: str, country: str, card: str) -> str:
        cus = v1.customers.create(params={
            "name": name.title(), "email": f"{name}.{rng.randint(100, 999)}@example.com",
            "address": {"country": country}, "metadata": {"studio_handle": name}})
        pm = v1.payment_methods.attach(card, params={"customer": cus.id})
        v1.customers.update(cus.id, params={
            "invoice_settings": {"default_payment_method": pm.id}})
        return cus.id

    def subscribe(cus: str, tier: str, currency: str, trial_days: int = 0) -> Any:
        params: dict[str, Any] = {"customer": cus,
                                  "items": [{"price": prices[(tier, currency)]}]}
        if trial_days:
            params["trial_period_days"] = trial_days
        return v1.subscriptions.create(params=params)

    def topup(cus: str, currency: str, payment_method: str, types: list[str]) -> Any:
        gb = rng.choice(TOPUP_SIZES)
        return v1.payment_intents.create(params={
            "amount": gb * TOPUP_RATE[currency], "currency": currency, "customer": cus,
            "payment_method": payment_method, "payment_method_types": types,
            "confirm": True, "description": f"Lumen storage top-up {gb} GB",
            "metadata": {"topup_gb": str(gb)}})

    # -- day 0: sign-ups ----------------------------------------------------------------------
    aiko = customer("aiko", "JP", "pm_card_visa")
    ben = customer("ben", "US", "pm_card_mastercard")
    chika = customer("chika", "JP", "pm_card_chargeDeclined")
    dana = customer("dana", "US", "pm_card_visa")
    emi = customer("emi", "JP", "pm_card_visa")
    finn = customer("finn", "US", "pm_card_visa")
    gus = customer("gus", "US", "pm_card_amex")
    hana = customer("hana", "JP", "pm_card_visa")

    aiko_sub = subscribe(aiko, "starter", "jpy")
    subscribe(ben, "pro", "usd", trial_days=14)
    subscribe(chika, "starter", "jpy", trial_days=7)
    subscribe(dana, "pro", "usd")
    subscribe(emi, "studio", "jpy")
    finn_sub = subscribe(finn, "starter", "usd")
    subscribe(gus, "pro", "usd")
    subscribe(hana, "starter", "jpy")

    # -- day 1: storage top-ups ---------------------------------------------------------------
    advance_clock(DAY)
    topup(aiko, "jpy", "pm_card_visa", ["card"])
    topup(ben, "usd", "pm_usBankAccount_succeeds", ["us_bank_account"])
    topup(dana, "usd", "pm_usBankAccount_fails", ["us_bank_account"])
    emi_topup = topup(emi, "jpy", "pm_card_visa", ["card"])
    gus_topup = topup(gus, "usd", "pm_card_createDispute", ["card"])
    hana_topup = topup(hana, "jpy", "pm_card_createDispute", ["card"])

    # -- day 2: a refund; the disputes have arrived -------------------------------------------
    advance_clock(DAY)
    v1.refunds.create(params={"payment_intent": emi_topup.id,
                              "reason": "requested_by_customer"})
    disputes = {d.payment_intent: d.id for d in v1.disputes.list(params={"limit": 20})}
    v1.disputes.update(disputes[gus_topup.id], params={
        "evidence": {"uncategorized_text": "winning_evidence",
                     "product_description": "Lumen storage top-up"}})
    v1.disputes.close(disputes[hana_topup.id])

    # -- day 3: an upgrade, and a card that will decline at renewal ---------------------------
    advance_clock(DAY)
    item = aiko_sub["items"]["data"][0]["id"]
    v1.subscriptions.update(aiko_sub.id, params={
        "items": [{"id": item, "price": prices[("pro", "jpy")]}],
        "proration_behavior": "none"})
    declining = v1.payment_methods.attach("pm_card_chargeDeclined", params={"customer": finn})
    v1.customers.update(finn, params={
        "invoice_settings": {"default_payment_method": declining.id}})

    # -- days 4–30: debits settle, trials end, dunning runs, the month renews ------------------
    for days in (2, 4, 8, 14):
        advance_clock(days * DAY)            # lands on days 5, 9, 17, 31

    # -- day 32: finn fixes the card and pays the failed renewal ------------------------------
    advance_clock(DAY)
    fixed = v1.payment_methods.attach("pm_card_visa", params={"customer": finn})
    v1.customers.update(finn, params={"invoice_settings": {"default_payment_method": fixed.id}})
    open_invoice = v1.subscriptions.retrieve(finn_sub.id).latest_invoice
    v1.invoices.pay(open_invoice, params={"payment_method": fixed.id})

    # -- day 35: finn leaves ------------------------------------------------------------------
    advance_clock(3 * DAY)
    v1.subscriptions.cancel(finn_sub.id)
    advance_clock(DAY)
