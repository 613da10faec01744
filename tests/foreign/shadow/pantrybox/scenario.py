"""Three and a half weeks of Pantry Box on a Stripe-compatible server.

`drive(client, seed=..., advance_clock=...)` uses the official SDK against a fresh server
(the sandbox replica); the events it leaves behind are the corpus a shadow run replays.
The seed only changes names and e-mail addresses: the story is always the same.

    day 0  catalogue (duo / family / family_plus, weekly, GBP and EUR; Price
           metadata.plan = plan code); households:
           A  GB  duo GBP, 7-day trial, card            trial -> active, renews weekly
           B  IE  family EUR, card                      active, cancelled on day 20 -> ended
           D  GB  family GBP, 7-day trial               card swapped for a declining one on
                                                        day 1: trial end fails -> arrears,
                                                        retries fail -> ended (Stripe cancels)
           E  IE  duo EUR, card                         declining card from day 8: renewal on
                                                        day 14 fails -> arrears; good card and
                                                        invoice paid on day 16 -> active
           I  GB  duo GBP through Checkout (mode subscription, not a gift)
    day 2  F (GB, no subscription) buys a gift box by card (GBP, paid at once);
           G (guest, DE) buys a gift box by SEPA debit that succeeds 5 days later
    day 3  F changes e-mail and moves to Ireland (customer.updated)
    day 4  F's gift is refunded in full
    day 6  C  DE family_plus EUR, card                  active (3 boxes per invoice)
    day 9  G buys a second gift by SEPA debit that fails 5 days later
    day 10 H (guest, IE) buys a gift by card; the charge is disputed a day later
    day 16 A's latest renewal is partly refunded (10.00), two minutes later another 5.00
    day 20 B cancels
    day 23 every household changes e-mail to a mistyped address and fixes it 2 minutes
           later (the fix is its last event)
    day 24 end (weekly renewals on days 7, 14, 21 for A/B/D/E/I and 13, 20 for C)
"""

from __future__ import annotations

import random

import stripe

DAY = 86_400

PLAN_PRICES = {  # plan -> {currency: weekly unit_amount in minor units}
    "duo": {"gbp": 3999, "eur": 4599},
    "family": {"gbp": 5999, "eur": 6899},
    "family_plus": {"gbp": 7999, "eur": 9199},
}
GIFT_PRICES = {"gbp": 3500, "eur": 3900}
FIRST_NAMES = ["Aoife", "Bram", "Clara", "Dev", "Erin", "Finn", "Greta", "Hana", "Ines",
               "Jonas", "Kit", "Lena", "Mo", "Niamh", "Oskar", "Priya"]


def _complete_checkout(client: stripe.StripeClient, session_id: str, payment_method: str,
                       name: str) -> None:
    """Play the buyer on the hosted Checkout page (the replica's test helper)."""
    client.raw_request("post", f"/_replica/test_helpers/checkout/sessions/{session_id}/complete",
                       payment_method=payment_method, name=name)


def drive(client: stripe.StripeClient, *, seed: int, advance_clock) -> None:
    rng = random.Random(seed)
    names = rng.sample(FIRST_NAMES, 9)
    emails = [f"{n.lower()}.{rng.randint(100, 999)}@example.com" for n in names]
    a, b, c, d, e, f, g, h, i = range(9)

    # -- catalogue -------------------------------------------------------------------------
    prices: dict[tuple[str, str], str] = {}
    for plan, amounts in PLAN_PRICES.items():
        product = client.v1.products.create(params={
            "name": f"Pantry Box {plan.replace('_', ' ').title()}", "metadata": {"plan": plan}})
        for currency, amount in amounts.items():
            price = client.v1.prices.create(params={
                "product": product.id, "currency": currency, "unit_amount": amount,
                "recurring": {"interval": "week"}, "metadata": {"plan": plan}})
            prices[plan, currency] = price.id
    gift_product = client.v1.products.create(params={"name": "Pantry Box gift box"})
    gift_prices = {
        currency: client.v1.prices.create(params={
            "product": gift_product.id, "currency": currency, "unit_amount": amount}).id
        for currency, amount in GIFT_PRICES.items()}

    def household(n: int, country: str) -> str:
        return client.v1.customers.create(params={
            "name": names[n], "email": emails[n], "address": {"country": country},
            "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"}}).id

    def subscribe(customer: str, plan: str, currency: str, trial_days: int = 0) -> str:
        params: dict = {"customer": customer, "items": [{"price": prices[plan, currency]}]}
        if trial_days:
            params["trial_period_days"] = trial_days
        return client.v1.subscriptions.create(params=params).id

    def switch_card(customer: str, pm: str) -> None:
        attached = client.v1.payment_methods.attach(pm, params={"customer": customer})
        client.v1.customers.update(customer, params={
            "invoice_settings": {"default_payment_method": attached.id}})

    def gift(currency: str, pm: str, buyer: int, customer: str | None = None) -> str:
        params: dict = {
            "mode": "payment", "success_url": "https://pantrybox.example/gift/thanks",
            "line_items": [{"price": gift_prices[currency], "quantity": 1}],
            "metadata": {"kind": "gift", "recipient": f"friend of {names[buyer]}"}}
        if pm.startswith("pm_sepa"):
            params["payment_method_types"] = ["sepa_debit"]
        if customer:
            params["customer"] = customer
        else:
            params["customer_email"] = emails[buyer]
        session = client.v1.checkout.sessions.create(params=params)
        _complete_checkout(client, session.id, pm, names[buyer])
        return session.id

    def days(n: int) -> None:
        for _ in range(n):
            advance_clock(DAY)

    # -- day 0 -----------------------------------------------------------------------------
    cus = {n: household(n, country) for n, country in
           ((a, "GB"), (b, "IE"), (d, "GB"), (e, "IE"), (f, "GB"))}
    subscribe(cus[a], "duo", "gbp", trial_days=7)
    sub_b = subscribe(cus[b], "family", "eur")
    subscribe(cus[d], "family", "gbp", trial_days=7)
    subscribe(cus[e], "duo", "eur")
    checkout = client.v1.checkout.sessions.create(params={
        "mode": "subscription", "customer_email": emails[i],
        "success_url": "https://pantrybox.example/welcome",
        "line_items": [{"price": prices["duo", "gbp"], "quantity": 1}],
        "metadata": {"channel": "web"}})
    _complete_checkout(client, checkout.id, "pm_card_visa", names[i])

    days(1)  # day 1
    switch_card(cus[d], "pm_card_chargeDeclined")
    days(1)  # day 2
    gift_f = gift("gbp", "pm_card_visa", f, customer=cus[f])
    gift("eur", "pm_sepaDebit_succeeds", g)
    days(1)  # day 3
    client.v1.customers.update(cus[f], params={
        "email": f"{names[f].lower()}.new@example.com", "address": {"country": "IE"}})
    days(1)  # day 4
    pi_f = client.v1.checkout.sessions.retrieve(gift_f).payment_intent
    client.v1.refunds.create(params={"payment_intent": pi_f, "reason": "requested_by_customer"})
    days(2)  # day 6
    cus[c] = household(c, "DE")
    subscribe(cus[c], "family_plus", "eur")
    days(2)  # day 8
    switch_card(cus[e], "pm_card_chargeDeclined")
    days(1)  # day 9
    gift("eur", "pm_sepaDebit_fails", g)
    days(1)  # day 10
    gift("eur", "pm_card_createDispute", h)
    days(6)  # day 16
    switch_card(cus[e], "pm_card_visa")
    open_e = client.v1.invoices.list(params={"customer": cus[e], "status": "open"}).data
    for invoice in open_e:
        client.v1.invoices.pay(invoice.id)
    paid_a = [inv for inv in client.v1.invoices.list(params={
        "customer": cus[a], "status": "paid"}).data if inv.amount_paid > 0]
    latest_a = max(paid_a, key=lambda inv: inv.created)
    pi_a = client.v1.invoice_payments.list(params={"invoice": latest_a.id}).data[0]
    pi_a = pi_a.payment.payment_intent
    # Support refunds 10.00 for a damaged box, then 5.00 more two minutes later.
    client.v1.refunds.create(params={"payment_intent": pi_a, "amount": 1000})
    advance_clock(120)
    client.v1.refunds.create(params={"payment_intent": pi_a, "amount": 500})
    days(4)  # day 20
    client.v1.subscriptions.cancel(sub_b)
    days(3)  # day 23
    # The new account page goes live: every household re-enters its e-mail, mistypes the
    # domain, and fixes it two minutes later. Each fix is the customer.updated that must
    # win, and the last event of its household.
    cus[i] = client.v1.checkout.sessions.retrieve(checkout.id).customer
    for n in (a, b, c, d, e, f, i):
        local, _, _ = emails[n].partition("@")
        client.v1.customers.update(cus[n], params={"email": f"{local}@pantrybox.exmaple"})
        advance_clock(120)
        client.v1.customers.update(cus[n], params={"email": f"{local}@pantrybox.example"})
        advance_clock(120)
    days(1)  # day 24
