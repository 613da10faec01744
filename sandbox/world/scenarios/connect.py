"""The marketplace side: two connected accounts (partners selling listings) with their own
customers, a price, direct card payments (one refunded) and a subscription each — objects
that live in the connected account, whose events carry ``account``."""

from __future__ import annotations

from sandbox.world import company
from sandbox.world.company import PARTNERS, PLACES, local_amount
from sandbox.world.config import DAY
from sandbox.world.scenarios.customers import make_customer
from sandbox.world.scenarios.lifecycle import _attach
from sandbox.world.scenarios.payments import _pay
from sandbox.world.scenarios.reversals import _refund
from sandbox.world.state import CustomerRef, World


def _subscribe(world: World, ref: CustomerRef, price: str) -> None:
    _attach(world, ref, company.CARD)
    world.customer_post(ref, "/v1/subscriptions", {
        "customer": ref.id, "items": [{"price": price}],
        "metadata": {"partner_listing": "featured"}})


def _sale(world: World, ref: CustomerRef, order: str, refund: bool) -> None:
    pi = _pay(world, ref, company.CARD, order, usd_cents=2500, feature="listing")
    if pi and refund:
        world.at(world.api.now() + DAY, _refund, world, ref, pi["id"], False)


def plan(world: World) -> None:
    api = world.api
    per_account = world.config.spec.connect_customers
    for n, (name, country, currency) in enumerate(PARTNERS):
        acct = api.post("/v1/accounts", {
            "type": "express", "country": country, "email": f"ops{n}@partner.example",
            "default_currency": currency, "business_profile": {"name": name},
            "capabilities": {"card_payments": {"requested": True},
                             "transfers": {"requested": True}}})
        world.accounts.append(acct["id"])
        product = api.post("/v1/products", {"name": f"{name} featured listing"},
                           account=acct["id"])
        price = api.post("/v1/prices", {
            "product": product["id"], "currency": currency,
            "unit_amount": local_amount(1500, currency), "recurring": {"interval": "month"},
            "lookup_key": f"listing_monthly_{currency}"}, account=acct["id"])
        place = next(p for p in PLACES if p.country == country)
        for i in range(per_account):
            ref = make_customer(world, 10_000 * (n + 1) + i, place, account=acct["id"],
                                prefix=f"p{n}")
            world.at(world.day(2, 40), _subscribe, world, ref, price["id"])
            world.at(world.day(2, 55), _sale, world, ref, f"mkt{n}_{i:06d}", i % 3 == 1)
