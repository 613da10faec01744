"""OrbitDesk: a seat-based help-desk SaaS, its Stripe history and its own SQLite rows.

    key = build(api_base=..., api_key=..., db_url="sqlite:////tmp/orbit.db", seed=7,
                plant=True, server="replica")

The Stripe side is made through the official SDK on a fresh Stripe-compatible server. The
database side is what OrbitDesk's webhook handler would have written after processing every
event correctly (their status words, their time formats, minor units), read back from the
final Stripe objects and the account's event list. With ``plant=True`` the story also holds
the failures OrbitDesk really has, and the returned key lists each resulting difference.

On ``server="replica"`` the generator moves the replica's clock (``/_replica/clock``) so that
bank debits settle, disputes arrive and subscriptions renew. localstripe has no clock, no
prices, no disputes, no bank debits, no Connect accounts, no finalize/void of hand-made
invoices, and emits no ``customer.subscription.updated``: there the subset it supports is
built and the key says what was left out.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import stripe
from sqlalchemy.engine import make_url

SYSTEM = "orbitdesk"
SCHEMA = Path(__file__).with_name("schema.sql")

# slug -> (display name, seat price in USD cents, entitlements on the Product)
PLANS: dict[str, tuple[str, int, list[str]]] = {
    "team": ("Team", 1200, ["email_channels", "macros"]),
    "business": ("Business", 2400, ["macros", "sla_4h", "api_access"]),
    "enterprise_lite": ("Enterprise Lite", 4500, ["sla_1h", "api_access", "sso", "audit_log"]),
}
# Seat prices per currency (minor units). MXN prices end in .90 pesos.
SEAT_PRICE: dict[tuple[str, str], int] = {
    ("team", "usd"): 1200, ("team", "mxn"): 25990, ("team", "brl"): 6490,
    ("business", "usd"): 2400, ("business", "mxn"): 47990, ("business", "brl"): 12990,
    ("enterprise_lite", "usd"): 4500, ("enterprise_lite", "mxn"): 89990,
    ("enterprise_lite", "brl"): 23990,
}
# AI reply credit packs: credits -> price per currency (minor units)
PACKS: dict[int, dict[str, int]] = {
    500: {"usd": 1900, "mxn": 29990, "brl": 9990},
    2000: {"usd": 6900, "mxn": 109990, "brl": 35990},
}
PHASE = {"trialing": "TRIAL", "active": "CURRENT", "past_due": "OVERDUE", "unpaid": "OVERDUE",
         "canceled": "STOPPED", "incomplete_expired": "STOPPED", "incomplete": "SETUP"}
INVOICE_STATUS = {"open": "awaiting", "paid": "paid", "void": "voided",
                  "uncollectible": "writeoff"}
# Event types OrbitDesk's handler acts on; every other type is logged as 'skipped'.
HANDLED = frozenset({
    "customer.updated",
    "customer.subscription.created", "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.finalized", "invoice.paid", "invoice.payment_succeeded", "invoice.payment_failed",
    "invoice.voided", "invoice.marked_uncollectible",
    "payment_intent.succeeded", "payment_intent.processing", "payment_intent.requires_action",
    "payment_intent.payment_failed", "payment_intent.canceled",
    "charge.refunded", "charge.dispute.closed",
})
COMPANY_WORDS = ["Lumen", "Cactus", "Pampa", "Brisa", "Nopal", "Tidewater", "Ocelot", "Maré",
                 "Copper", "Saguaro", "Jacaranda", "Bluebonnet", "Ipê", "Quetzal", "Mesa",
                 "Pecan", "Arara", "Volcán", "Lagoa", "Prairie", "Cenote", "Guava", "Mistral",
                 "Sertão", "Pinyon", "Cobalt", "Cerrado", "Agave", "Tupelo", "Bayou", "Orca",
                 "Yucca", "Caatinga", "Ridge", "Sierra", "Zócalo", "Fable", "Juniper"]
COMPANY_KINDS = ["Dental", "Logistics", "Realty", "Labs", "Outfitters", "Clinic", "Foods",
                 "Travel", "Legal", "Studio", "Energy", "Health", "Motors", "Supply"]


def _d(obj: Any) -> dict[str, Any]:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def sql_ts(epoch: int) -> str:
    """Their SQL datetime text: 'YYYY-MM-DD HH:MM:SS', meant as UTC."""
    return datetime.fromtimestamp(int(epoch), tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def iso_ts(epoch: int) -> str:
    """Their ISO-8601 text without zone, UTC."""
    return datetime.fromtimestamp(int(epoch), tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")


def mxn_legacy_cents(amount: int) -> int:
    """The MXN path of their old money helper: pesos as a float, then back to centavos."""
    return int(amount / 100 * 100)


# ---------------------------------------------------------------------------------------
@dataclass
class WS:
    role: str
    ws_id: str
    name: str
    email: str
    plan: str | None = None
    currency: str = "usd"
    seats: int = 0
    tier: str = "free"
    created_ts: int = 0
    cus: str | None = None
    pm: str | None = None
    subs: list[str] = field(default_factory=list)
    archived_at: str | None = None
    archived_epoch: int | None = None
    account: str | None = None  # ENV plant: the other account holding `cus`


@dataclass
class Purchase:
    purchase_id: str
    ws: WS
    credits: int
    amount: int
    currency: str
    method: str
    pi: str | None = None
    invoice: str | None = None
    extra_pis: list[str] = field(default_factory=list)
    disputed: bool = False


class Billing:
    """OrbitDesk's Stripe calls, for the replica (current API) or localstripe (older API)."""

    def __init__(self, api_base: str, api_key: str, server: str) -> None:
        if server not in ("replica", "localstripe"):
            raise ValueError(f"unknown server {server!r}")
        self.server = server
        self.base = api_base.rstrip("/")
        self.c = stripe.StripeClient(api_key, base_addresses={"api": self.base},
                                     max_network_retries=0)
        # the replica's admin writes (its clock) take the same key as its API
        self.http = httpx.Client(base_url=self.base, timeout=60,
                                 headers={"Authorization": f"Bearer {api_key}"})
        self.products: dict[str, str] = {}       # slug -> prod id
        self.slug_of_product: dict[str, str] = {}
        self.prices: dict[tuple[str, str], str] = {}
        self.mine: set[str] = set()              # ids this build made (localstripe filter)

    @property
    def replica(self) -> bool:
        return self.server == "replica"

    # -- clock ---------------------------------------------------------------------------
    def now(self) -> int:
        if self.replica:
            r = self.http.get("/_replica/clock")
            r.raise_for_status()
            return int(r.json()["now"])
        return int(time.time())

    def advance(self, seconds: int, *, real_pause: float = 0.0) -> None:
        """Move the replica's clock; localstripe only waits `real_pause` real seconds."""
        if self.replica:
            r = self.http.post("/_replica/clock", json={"advance": seconds})
            r.raise_for_status()
        elif real_pause:
            time.sleep(real_pause)

    # -- catalogue -----------------------------------------------------------------------
    def catalog(self) -> None:
        for slug, (name, _usd, feats) in PLANS.items():
            p = self.c.v1.products.create(params={
                "name": f"OrbitDesk {name}",
                "metadata": {"slug": slug, "entitlements": json.dumps(feats)}})
            self.products[slug] = p.id
            self.slug_of_product[p.id] = slug
            self.mine.add(p.id)

    def price(self, slug: str, cur: str) -> str:
        key = (slug, cur)
        if key not in self.prices:
            amount = SEAT_PRICE[key]
            if self.replica:
                p = self.c.v1.prices.create(params={
                    "product": self.products[slug], "currency": cur, "unit_amount": amount,
                    "recurring": {"interval": "month"}, "metadata": {"slug": slug}})
            else:  # localstripe knows Plans only
                p = self.c.v1.plans.create(params={
                    "product": self.products[slug], "currency": cur, "amount": amount,
                    "interval": "month"})
            self.prices[key] = p.id
            self.mine.add(p.id)
        return self.prices[key]

    # -- customers and payment methods ----------------------------------------------------
    _MAGIC = {"visa": "pm_card_visa", "decline": "pm_card_chargeDeclined",
              "dispute": "pm_card_createDispute", "3ds": "pm_card_authenticationRequired",
              "ach_ok": "pm_usBankAccount_succeeds", "ach_fail": "pm_usBankAccount_fails"}
    _LS_CARDS = {"decline": "4000000000000341", "3ds": "4000002500003155"}

    def attach(self, cus: str, kind: str) -> str:
        if self.replica or kind == "visa":
            pm = self.c.v1.payment_methods.attach(self._MAGIC[kind], params={"customer": cus})
        else:
            made = self.c.v1.payment_methods.create(params={"type": "card", "card": {
                "number": self._LS_CARDS[kind], "exp_month": 12, "exp_year": 2031,
                "cvc": "123"}})
            pm = self.c.v1.payment_methods.attach(made.id, params={"customer": cus})
        return pm.id

    def customer(self, ws: WS, pm_kind: str = "visa") -> None:
        cus = self.c.v1.customers.create(params={
            "name": ws.name, "email": ws.email, "metadata": {"ws_id": ws.ws_id}})
        ws.cus = cus.id
        self.mine.add(cus.id)
        ws.pm = self.attach(cus.id, pm_kind)
        self.set_default_pm(ws, ws.pm)

    def set_default_pm(self, ws: WS, pm: str) -> None:
        self.c.v1.customers.update(ws.cus, params={
            "invoice_settings": {"default_payment_method": pm}})

    # -- subscriptions -------------------------------------------------------------------
    def subscribe(self, ws: WS, *, trial_days: int | None = None) -> str:
        pid = self.price(ws.plan, ws.currency)
        item = {"price": pid} if self.replica else {"plan": pid}
        item["quantity"] = ws.seats
        params: dict[str, Any] = {"customer": ws.cus, "items": [item],
                                  "metadata": {"ws_id": ws.ws_id}}
        if trial_days:
            params["trial_period_days"] = trial_days
        sub = self.c.v1.subscriptions.create(params=params)
        ws.subs.append(sub.id)
        self.mine.add(sub.id)
        return sub.id

    def sub(self, sub_id: str) -> dict[str, Any]:
        return _d(self.c.v1.subscriptions.retrieve(sub_id))

    def set_seats(self, sub_id: str, seats: int) -> None:
        item = self.sub(sub_id)["items"]["data"][0]["id"]
        params: dict[str, Any] = {"items": [{"id": item, "quantity": seats}]}
        if self.replica:
            params["proration_behavior"] = "none"
        else:
            params["prorate"] = False
        self.c.v1.subscriptions.update(sub_id, params=params)

    def cancel(self, sub_id: str) -> None:
        self.c.v1.subscriptions.cancel(sub_id)

    # -- credit purchases ----------------------------------------------------------------
    def _meta(self, p: Purchase) -> dict[str, str]:
        return {"purpose": "credits", "credits": str(p.credits), "purchase_id": p.purchase_id,
                "ws_id": p.ws.ws_id}

    def pay_credits(self, p: Purchase) -> str:
        """One checkout attempt for purchase `p`; returns the PaymentIntent id."""
        base = {"amount": p.amount, "currency": p.currency, "customer": p.ws.cus,
                "metadata": self._meta(p)}
        m = p.method
        if m == "card":
            pi = self.c.v1.payment_intents.create(params={
                **base, "payment_method": p.ws.pm, "confirm": True, "off_session": True})
        elif m == "decline":
            pm = self.attach(p.ws.cus, "decline")
            pi = self.c.v1.payment_intents.create(params={**base, "payment_method": pm})
            try:
                self.c.v1.payment_intents.confirm(
                    pi.id, params={"off_session": True} if self.replica else {})
            except stripe.CardError:
                pass
        elif m == "abandon":
            pi = self.c.v1.payment_intents.create(params=base)
            self.c.v1.payment_intents.cancel(pi.id)
        elif m == "dispute":
            pm = self.attach(p.ws.cus, "dispute")
            pi = self.c.v1.payment_intents.create(params={
                **base, "payment_method": pm, "confirm": True, "off_session": True})
        elif m in ("ach_ok", "ach_fail"):
            pm = self.attach(p.ws.cus, m)
            pi = self.c.v1.payment_intents.create(params={
                **base, "payment_method": pm, "payment_method_types": ["us_bank_account"],
                "confirm": True, "mandate_data": {"customer_acceptance": {"type": "offline"}}})
        elif m == "oxxo":
            pi = self.c.v1.payment_intents.create(params={
                **base, "payment_method": "pm_oxxo", "payment_method_types": ["oxxo"],
                "confirm": True})
        elif m == "3ds":
            pm = self.attach(p.ws.cus, "3ds")
            pi = self.c.v1.payment_intents.create(params={
                **base, "payment_method": pm, "confirm": True})
        else:
            raise ValueError(m)
        self.mine.add(pi.id)
        return pi.id

    def invoice_credits(self, p: Purchase) -> tuple[str, str]:
        """Credits billed through a one-off invoice, paid by the default card."""
        self.c.v1.invoice_items.create(params={
            "customer": p.ws.cus, "amount": p.amount, "currency": p.currency,
            "description": f"AI reply credits x{p.credits}"})
        inv = self.c.v1.invoices.create(params={
            "customer": p.ws.cus, "collection_method": "charge_automatically",
            "pending_invoice_items_behavior": "include", "metadata": self._meta(p)})
        self.c.v1.invoices.finalize_invoice(inv.id)
        self.c.v1.invoices.pay(inv.id)
        pays = self.c.v1.invoice_payments.list(params={"invoice": inv.id}).data
        pi = pays[0].payment.payment_intent
        pi = pi if isinstance(pi, str) else pi.id
        self.mine.update((inv.id, pi))
        return inv.id, pi

    def pi(self, pi_id: str) -> dict[str, Any]:
        return _d(self.c.v1.payment_intents.retrieve(pi_id))

    def charge_of(self, pi: dict[str, Any]) -> dict[str, Any] | None:
        ch = pi.get("latest_charge")
        if not ch:
            return None
        return _d(self.c.v1.charges.retrieve(ch if isinstance(ch, str) else ch["id"]))

    def disputes_of(self, pi_id: str) -> list[dict[str, Any]]:
        try:
            found = self.c.v1.disputes.list(params={"payment_intent": pi_id}).data
        except stripe.InvalidRequestError:
            found = [x for x in self.c.v1.disputes.list(params={"limit": 100}).data
                     if x.payment_intent == pi_id]
        return [_d(x) for x in found]

    def invoices_of(self, cus: str) -> list[dict[str, Any]]:
        return [_d(i) for i in self.c.v1.invoices.list(
            params={"customer": cus, "limit": 100}).auto_paging_iter()]

    def events(self, since: int) -> list[dict[str, Any]]:
        out = [_d(e) for e in self.c.v1.events.list(
            params={"limit": 100, "created": {"gte": since}}).auto_paging_iter()]
        if not self.replica:  # localstripe's store is shared: keep this build's events only
            out = [e for e in out if _relates(e, self.mine)]
        return out


def _obj(e: dict[str, Any]) -> dict[str, Any]:
    return e["data"]["object"]


def _relates(e: dict[str, Any], ids: set[str]) -> bool:
    o = _obj(e)
    refs = [o.get("id"), o.get("customer"), o.get("payment_intent"), o.get("invoice"),
            o.get("product"), o.get("subscription")]
    return any(isinstance(r, str) and r in ids for r in refs)


def _sub_of_invoice(inv: dict[str, Any]) -> str | None:
    parent = inv.get("parent") or {}
    details = parent.get("subscription_details") or {}
    sub = details.get("subscription") or inv.get("subscription")
    return sub if isinstance(sub, str) else (sub or {}).get("id")


def _item(sub: dict[str, Any]) -> dict[str, Any]:
    return sub["items"]["data"][0]


def _price_product(item: dict[str, Any]) -> str:
    price = item.get("price") or item.get("plan")
    prod = price["product"]
    return prod if isinstance(prod, str) else prod["id"]


def _wait(pred, what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise RuntimeError(f"replica did not reach: {what}")
        time.sleep(0.5)


# ---------------------------------------------------------------------------------------
class World:
    def __init__(self, bill: Billing, seed: int, plant: bool) -> None:
        self.b = bill
        self.seed = seed
        self.plant = plant
        self.rng = random.Random(seed)                 # the base story
        self.prng = random.Random(seed * 1_000_003 + 17)  # plant-only choices
        self.hrng = random.Random(seed * 7919 + 5)     # webhook processing delays
        self.ws: dict[str, WS] = {}                    # role -> WS
        self.order: list[WS] = []
        self.purchases: dict[str, Purchase] = {}       # role tag -> purchase
        self.gaps: list[dict[str, Any]] = []
        self.marks: dict[str, Any] = {}
        names = [f"{w} {k}" for w in COMPANY_WORDS for k in COMPANY_KINDS]
        self.rng.shuffle(names)
        self._names = iter(names)

    # -- workspaces ----------------------------------------------------------------------
    def new_ws(self, role: str, rng: random.Random, *, plan: str | None = None,
               currency: str | None = None, seats: int | None = None,
               seat_choices: list[int] | None = None) -> WS:
        name = next(self._names)
        ws_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        slug = name.lower().replace(" ", "-")
        for a, b in (("é", "e"), ("ã", "a"), ("á", "a"), ("ó", "o"), ("ê", "e")):
            slug = slug.replace(a, b)
        ws = WS(role=role, ws_id=ws_id, name=name, email=f"billing@{slug}.example")
        ws.plan = plan or rng.choice(list(PLANS))
        ws.currency = currency or rng.choice(["usd", "mxn", "brl"])
        ws.seats = seats or (rng.choice(seat_choices) if seat_choices else rng.randint(2, 15))
        ws.created_ts = -rng.randint(20, 400) * 86400 - rng.randint(0, 86399)  # rel. to T0
        self.ws[role] = ws
        self.order.append(ws)
        return ws

    def paid(self, ws: WS, pm_kind: str = "visa") -> WS:
        self.b.customer(ws, pm_kind)
        ws.tier = "paid"
        return ws

    def purchase(self, tag: str, ws: WS, method: str, rng: random.Random,
                 credits: int = 500) -> Purchase:
        p = Purchase(purchase_id=f"CP-{rng.getrandbits(32):08X}", ws=ws, credits=credits,
                     amount=PACKS[credits][ws.currency], currency=ws.currency, method=method)
        self.purchases[tag] = p
        return p

    def buy(self, tag: str, ws: WS, method: str, rng: random.Random,
            credits: int = 500) -> Purchase:
        p = self.purchase(tag, ws, method, rng, credits)
        p.pi = self.b.pay_credits(p)
        return p

    def pause(self, seconds: int, *, gap_next: bool = False, gap_done: bool = False) -> None:
        """Quiet time between phases. The replica moves its clock; localstripe has none, so
        around a webhook gap (plant only) real seconds pass to keep the window clean."""
        real = 3.2 if (self.plant and gap_next) else 1.1 if (self.plant and gap_done) else 0
        self.b.advance(seconds, real_pause=real)

    def new_card(self, ws: WS) -> None:
        """The customer replaced their card in the portal (no local consequence)."""
        ws.pm = self.b.attach(ws.cus, "visa")
        self.b.set_default_pm(ws, ws.pm)

    def gap(self, label: str, actions: list) -> None:
        """Run `actions` while OrbitDesk's webhook endpoint is down (plant only)."""
        t1 = self.b.now()
        self.b.advance(300, real_pause=1.1)
        for i, act in enumerate(actions):
            if i:
                self.b.advance(self.prng.randint(1200, 2400), real_pause=1.1)
            act()
        self.b.advance(600, real_pause=1.1)
        t2 = self.b.now()
        self.gaps.append({"label": label, "from": t1, "to": t2})

    # -- the story -----------------------------------------------------------------------
    def story(self) -> None:
        b, rng, prng, rep = self.b, self.rng, self.prng, self.b.replica
        self.t_start = b.now() - 1
        b.catalog()

        # Free-tier workspaces: the majority, never touch Stripe (one archived long ago).
        for i in range(14):
            self.new_ws(f"free_{i}", rng)
        old = self.ws["free_13"]
        old.archived_epoch = self.t_start - rng.randint(1, 19) * 86400  # made >= 20 days ago
        old.archived_at = sql_ts(old.archived_epoch)

        # Paying workspaces (both worlds).
        card_usd = self.paid(self.new_ws("card_usd", rng, currency="usd"))
        card_mxn = self.paid(self.new_ws("card_mxn", rng, plan="team", currency="mxn",
                                         seat_choices=[2, 4, 8]))
        declined = self.paid(self.new_ws("declined", rng, currency="brl"))
        trial = self.paid(self.new_ws("trial", rng, currency="usd"))
        seats = self.paid(self.new_ws("seats", rng, currency="usd", seat_choices=[3, 4, 5]))
        canceled = self.paid(self.new_ws("canceled", rng, currency="mxn"))
        incomplete = self.paid(self.new_ws("incomplete", rng, currency="usd"), "decline")
        dunning = self.paid(self.new_ws("dunning", rng, currency="brl"))
        invoiced = self.paid(self.new_ws("invoiced", rng, plan="enterprise_lite",
                                         currency="usd"))
        abandoned = self.paid(self.new_ws("abandoned", rng, currency="mxn"))
        archived = self.paid(self.new_ws("archived", rng, currency="usd"))
        for ws in (card_usd, card_mxn, declined, seats, canceled, incomplete, dunning,
                   invoiced, abandoned, archived):
            b.subscribe(ws)
        b.subscribe(trial, trial_days=45)

        P: dict[str, WS] = {}
        if self.plant:
            for role, cur in (("cancel_lost", None), ("seats_lost", None),
                              ("regress_seats", None), ("regress_cancel", None),
                              ("abf_1", "usd"), ("abf_2", "mxn"), ("refund_kept", None),
                              ("dispute_kept", None), ("debit_failed", "usd"),
                              ("paid_unseen", "usd"), ("dup_ledger", None),
                              ("double_charge_1", None), ("double_charge_2", None),
                              ("sub_missing", None), ("gap_a1", None), ("gap_a2", None),
                              ("gap_b1", None), ("gap_b2", None)):
                if not rep and role == "debit_failed":
                    continue
                ws = self.paid(self.new_ws(role, prng, currency=cur,
                                           seat_choices=[3, 4] if "seats" in role else None))
                b.subscribe(ws)
                P[role] = ws
            if rep:
                P["env_1"] = self.new_ws("env_1", prng)
                P["env_2"] = self.new_ws("env_2", prng)
            paying = sum(1 for ws in self.order if ws.tier == "paid") + len(
                [r for r in P if r.startswith("env")])
            for i in range(paying - 14 + 3):  # free workspaces stay the majority
                self.new_ws(f"free_p{i}", prng)

        # Credit purchases at T0.
        self.buy("card_usd", card_usd, "card", rng)
        self.buy("card_mxn", card_mxn, "card", rng)
        self.buy("declined", declined, "decline", rng)
        self.buy("seats", seats, "ach_ok" if rep else "card", rng)
        self.buy("dunning", dunning, "card", rng)
        self.buy("abandoned", abandoned, "abandon", rng)
        if self.plant:
            self.buy("refund_kept", P["refund_kept"], "card", prng)
            self.buy("dispute_kept", P["dispute_kept"], "dispute" if rep else "card", prng)
            if rep:
                self.buy("debit_failed", P["debit_failed"], "ach_fail", prng)
            self.buy("paid_unseen", P["paid_unseen"], "ach_ok" if rep else "card", prng)
            self.buy("dup_ledger", P["dup_ledger"], "card", prng)
            for tag in ("double_charge_1", "double_charge_2"):
                p = self.buy(tag, P[tag], "card", prng)
                b.advance(25, real_pause=0)
                p.extra_pis.append(b.pay_credits(p))  # checkout retried, no idempotency key
        # The dunning workspace's card starts failing.
        b.set_default_pm(dunning, b.attach(dunning.cus, "decline"))

        if self.plant and rep:  # two seat changes ten minutes apart
            sid = P["regress_seats"].subs[0]
            s0 = P["regress_seats"].seats
            b.advance(600)
            b.set_seats(sid, s0 + 2)
            self.marks["regress_seats_a"] = s0 + 2
            b.advance(600)
            b.set_seats(sid, s0 + 5)
            self.marks["regress_seats_b"] = s0 + 5
        b.set_seats(seats.subs[0], seats.seats + 2)
        self.pause(3600, gap_next=True)

        if self.plant:
            self.gap("A", [lambda: b.set_seats(P["gap_a1"].subs[0], P["gap_a1"].seats + 3),
                           lambda: self.new_card(P["gap_a2"]),
                           lambda: b.cancel(P["gap_a2"].subs[0])])
            self.pause(3600, gap_done=True)

        # Five days later: debits settle, the dispute arrives, the incomplete sub expires.
        if rep:
            b.advance(5 * 86400)
            waits = [p for p in self.purchases.values() if p.method in ("ach_ok", "ach_fail")]
            _wait(lambda: all(b.pi(p.pi)["status"] != "processing" for p in waits),
                  "bank debits settled")
            _wait(lambda: b.sub(incomplete.subs[0])["status"] == "incomplete_expired",
                  "incomplete subscription expired")
            if self.plant:
                pd = self.purchases["dispute_kept"]
                _wait(lambda: bool(b.disputes_of(pd.pi)), "dispute opened")
                for dsp in b.disputes_of(pd.pi):
                    b.c.v1.disputes.close(dsp["id"])
                pd.disputed = True

        # T2: refunds, cancellations, seat changes.
        b.c.v1.refunds.create(params={"payment_intent": self.purchases["dunning"].pi})
        if self.plant:
            b.c.v1.refunds.create(params={"payment_intent": self.purchases["refund_kept"].pi})
            if not rep:
                b.c.v1.refunds.create(
                    params={"payment_intent": self.purchases["dispute_kept"].pi})
        b.advance(60, real_pause=1.1)  # the workspace is archived, then its sub canceled
        archived.archived_epoch = b.now()
        archived.archived_at = sql_ts(archived.archived_epoch)
        b.cancel(archived.subs[0])
        b.cancel(canceled.subs[0])
        if self.plant:
            b.cancel(P["cancel_lost"].subs[0])
            b.cancel(P["regress_cancel"].subs[0])
            if not rep:
                b.cancel(P["regress_seats"].subs[0])
            b.set_seats(P["seats_lost"].subs[0], P["seats_lost"].seats + 3)
        self.pause(3600, gap_next=True)

        if self.plant:
            self.gap("B", [lambda: self.new_card(P["gap_b1"]),
                           lambda: b.cancel(P["gap_b2"].subs[0]),
                           lambda: b.set_seats(P["gap_b1"].subs[0], P["gap_b1"].seats + 2)])
            self.pause(3600, gap_done=True)

        # A month on: renewals (the dunning workspace goes past_due).
        if rep:
            renewing = [ws.subs[0] for ws in self.order
                        if ws.subs and b.sub(ws.subs[0])["status"] == "active"]
            b.advance(28 * 86400)

            def renewed() -> bool:
                if b.sub(dunning.subs[0])["status"] != "past_due":
                    return False
                for sid in renewing:
                    invs = [_d(i) for i in b.c.v1.invoices.list(
                        params={"subscription": sid, "limit": 10}).data]
                    if len(invs) < 2 or any(i["status"] == "draft" for i in invs):
                        return False
                return True
            _wait(renewed, "subscriptions renewed", timeout=180)

        # T3: purchases still pending at the end.
        self.buy("invoiced_pending", invoiced, "ach_ok" if rep else "3ds", rng)
        if rep:
            p = self.purchase("invoiced_billed", invoiced, "invoice", rng, credits=2000)
            p.invoice, p.pi = b.invoice_credits(p)
        if self.plant:
            self.buy("abf_1", P["abf_1"], "ach_ok" if rep else "3ds", prng)
            self.buy("abf_2", P["abf_2"], "oxxo" if rep else "3ds", prng)
            if rep:
                self.marks["deleted_draft"] = self._deleted_draft(invoiced)
                acct = b.c.v1.accounts.create(params={
                    "type": "custom", "country": "US", "email": "stripe-test@orbitdesk.example",
                    "capabilities": {"card_payments": {"requested": True},
                                     "transfers": {"requested": True}}})
                for role in ("env_1", "env_2"):
                    ws = P[role]
                    cus = b.c.v1.customers.create(
                        params={"name": ws.name, "email": ws.email,
                                "metadata": {"ws_id": ws.ws_id}},
                        options={"stripe_account": acct.id})
                    ws.cus, ws.account, ws.tier = cus.id, acct.id, "paid"
        self.t_end = b.now()

    def _deleted_draft(self, ws: WS) -> dict[str, Any]:
        """A seat true-up draft that finance deleted; returns what the mirror saw of it."""
        b = self.b
        amount = 2 * SEAT_PRICE[(ws.plan, ws.currency)]
        ii = b.c.v1.invoice_items.create(params={
            "customer": ws.cus, "amount": amount, "currency": ws.currency,
            "description": "Seat true-up (2 seats)"})
        inv = b.c.v1.invoices.create(params={
            "customer": ws.cus, "pending_invoice_items_behavior": "include",
            "metadata": {"kind": "seat_true_up", "sub_key": ws.subs[0]}})
        seen = _d(inv)
        b.c.v1.invoices.delete(inv.id)
        try:
            b.c.v1.invoice_items.delete(ii.id)
        except stripe.StripeError:
            pass
        return seen


# ---------------------------------------------------------------------------------------
class Rows:
    """OrbitDesk's tables, derived from the final Stripe state as their handler would."""

    def __init__(self, world: World) -> None:
        self.w = world
        b = world.b
        self.cus_ws: dict[str, WS] = {ws.cus: ws for ws in world.order if ws.cus}
        self.sub_ws: dict[str, WS] = {s: ws for ws in world.order for s in ws.subs}
        t0 = world.t_start
        for ws in world.order:
            ws.created_ts += t0
        # the list is newest first; reversed + stable sort keeps same-second events in order
        self.events = sorted(reversed(b.events(world.t_start)), key=lambda e: e["created"])
        self.until = max([e["created"] for e in self.events] + [world.t_end])
        # hook_log: every event of the account, in processing order
        self.hooks: list[dict[str, Any]] = []
        lo, hi = (1, 20) if b.replica else (0, 1)
        for e in self.events:
            o = _obj(e)
            ws = self._ws_of_obj(o)
            outcome = "handled" if e["type"] in HANDLED else "skipped"
            if ws and ws.archived_epoch and e["created"] >= ws.archived_epoch:
                outcome = "skipped"  # their handler ignores archived workspaces
            self.hooks.append({"evt": e["id"], "kind": e["type"],
                               "at": e["created"] + world.hrng.randint(lo, hi),
                               "outcome": outcome, "_e": e})
        self.subs: dict[str, dict[str, Any]] = {s: b.sub(s) for s in self.sub_ws}
        self.sub_rows: dict[str, dict[str, Any]] = {}
        self.inv_rows: list[dict[str, Any]] = []
        self.purchase_rows: dict[str, dict[str, Any]] = {}
        self.ledger: list[dict[str, Any]] = []
        self.features: list[dict[str, Any]] = []
        self.stripe_invoices: dict[str, dict[str, Any]] = {}
        self.pis: dict[str, dict[str, Any]] = {}

    # -- event helpers -------------------------------------------------------------------
    def _ws_of_obj(self, o: dict[str, Any]) -> WS | None:
        cus = o.get("customer")
        if o.get("object") == "customer":
            cus = o.get("id")
        return self.cus_ws.get(cus) if isinstance(cus, str) else None

    def hooks_for(self, obj_id: str, kinds: tuple[str, ...] | None = None,
                  *, ref: str = "id") -> list[dict[str, Any]]:
        out = []
        for h in self.hooks:
            o = _obj(h["_e"])
            val = o.get(ref)
            val = val if isinstance(val, str) else (val or {}).get("id")
            if val == obj_id and (kinds is None or h["kind"] in kinds):
                out.append(h)
        return out

    def first_at(self, obj_id: str, kinds: tuple[str, ...], *, ref: str = "id",
                 default: int | None = None) -> int:
        hs = [h for h in self.hooks_for(obj_id, kinds, ref=ref) if h["outcome"] == "handled"]
        if hs:
            return min(h["at"] for h in hs)
        if default is None:
            raise LookupError(f"no {kinds} event for {obj_id}")
        return default

    # -- derivation ----------------------------------------------------------------------
    def derive(self) -> None:
        w, b = self.w, self.w.b
        for ws in w.order:
            if not ws.subs:
                continue
            for sid in ws.subs:
                self._sub_row(ws, sid)
            for inv in b.invoices_of(ws.cus):
                self.stripe_invoices[inv["id"]] = inv
                if inv["status"] == "draft" or not _sub_of_invoice(inv):
                    continue  # only subscription invoices, once finalized
                self.inv_rows.append(self._inv_row(ws, inv))
        for p in w.purchases.values():
            self._purchase(p)

    def _sub_row(self, ws: WS, sid: str) -> None:
        sub = self.subs[sid]
        item = _item(sub)
        slug = self.w.b.slug_of_product[_price_product(item)]
        hooks = self.hooks_for(sid, ("customer.subscription.created",
                                     "customer.subscription.updated",
                                     "customer.subscription.deleted"))
        status = sub["status"]
        seats = item["quantity"]
        period_end = item.get("current_period_end") or sub.get("current_period_end")
        if ws.archived_epoch:  # frozen when archived: what the handler knew then
            before = [h for h in hooks if h["_e"]["created"] < ws.archived_epoch]
            last = _obj(before[-1]["_e"])
            status, seats = last["status"], _item(last)["quantity"]
            period_end = _item(last).get("current_period_end") or last.get("current_period_end")
        row = {"ws_id": ws.ws_id, "sub_key": sid, "plan_slug": slug, "seats": seats,
               "phase": PHASE[status], "period_end": sql_ts(period_end), "last_sync": None,
               "_created": sub["created"]}
        self.sub_rows[sid] = row
        # Features: granted when the subscription first became live, revoked when it ended.
        live_at = self.live_since(sid)
        if live_at is None:
            return
        ents = PLANS[slug][2]
        if row["phase"] == "STOPPED":
            ended = [h for h in hooks if h["outcome"] == "handled"
                     and _obj(h["_e"])["status"] in ("canceled", "incomplete_expired")]
            on, since = 0, ended[0]["at"]
        else:
            on, since = 1, live_at
        for f in ents:
            self.features.append({"ws_id": ws.ws_id, "feature": f, "on": on, "since": since})

    def live_since(self, sid: str) -> int | None:
        """When the handler first saw the subscription live (features granted then)."""
        live = [h["at"] for h in self.hooks_for(sid, ("customer.subscription.created",
                                                      "customer.subscription.updated"))
                if h["outcome"] == "handled"
                and _obj(h["_e"])["status"] in ("trialing", "active", "past_due")]
        return min(live) if live else None

    def _inv_row(self, ws: WS, inv: dict[str, Any]) -> dict[str, Any]:
        st = inv.get("status_transitions") or {}
        stamps = [inv["created"], st.get("finalized_at"), st.get("paid_at")]
        return {"inv_no": inv.get("number"), "stripe_inv": inv["id"], "ws_id": ws.ws_id,
                "amount_due_cents": inv["amount_due"], "amount_paid_cents": inv["amount_paid"],
                "currency": inv["currency"].lower(), "status": INVOICE_STATUS[inv["status"]],
                "changed_at": iso_ts(max(s for s in stamps if s))}

    def _purchase(self, p: Purchase) -> None:
        b = self.w.b
        pi = self.pis[p.pi] = b.pi(p.pi)
        for extra in p.extra_pis:
            self.pis[extra] = b.pi(extra)
        status = pi["status"]
        reversed_at = None
        if status == "succeeded":
            state = "complete"
            charge = b.charge_of(pi)
            if charge and charge.get("refunded"):
                state = "reversed"
                reversed_at = self.first_at(charge["id"], ("charge.refunded",),
                                            default=charge["created"] + 2)
            if p.disputed and any(d["status"] == "lost" for d in b.disputes_of(p.pi)):
                state = "reversed"
                reversed_at = self.first_at(p.pi, ("charge.dispute.closed",),
                                            ref="payment_intent")
        elif status in ("processing", "requires_action", "requires_confirmation",
                        "requires_capture"):
            state = "processing"
        else:  # requires_payment_method, canceled
            state = "declined"
        row = {"purchase_id": p.purchase_id, "ws_id": p.ws.ws_id, "payment_ref": p.pi,
               "credits": p.credits, "amount_cents": pi["amount"],
               "currency": pi["currency"].lower(), "state": state,
               "invoice_ref": p.invoice if (p.invoice and state in ("complete", "reversed"))
               else None}
        self.purchase_rows[p.purchase_id] = row
        if state in ("complete", "reversed"):
            if p.invoice:
                granted = self.first_at(p.invoice, ("invoice.paid",))
            else:
                granted = self.first_at(p.pi, ("payment_intent.succeeded",),
                                        default=pi["created"] + 2)
            self.ledger.append({"ws_id": p.ws.ws_id, "delta": p.credits, "reason": "purchase",
                                "created_ts": granted, "_p": p.purchase_id})
            if state == "reversed":
                self.ledger.append({"ws_id": p.ws.ws_id, "delta": -p.credits,
                                    "reason": "reversal", "created_ts": reversed_at,
                                    "_p": p.purchase_id})

    # -- finishing -----------------------------------------------------------------------
    def finish(self) -> None:
        """last_sync from the handled log; ids in the order the app would have made them."""
        self.hooks.sort(key=lambda h: (h["at"], h["_e"]["created"]))
        for i, h in enumerate(self.hooks, 1):
            h["id"] = i
        for sid, row in self.sub_rows.items():
            ws = self.sub_ws[sid]
            done = [h["at"] for h in self.hooks_for(sid, ("customer.subscription.created",
                                                          "customer.subscription.updated",
                                                          "customer.subscription.deleted"))
                    if h["outcome"] == "handled"
                    and not (ws.archived_epoch and h["_e"]["created"] >= ws.archived_epoch)]
            row["last_sync"] = sql_ts(max(done) if done else row["_created"])
        ordered = sorted(self.sub_rows.values(), key=lambda r: r["_created"])
        for i, row in enumerate(ordered, 1):
            row["id"] = i
        self.ledger.sort(key=lambda r: r["created_ts"])
        for i, row in enumerate(self.ledger, 1):
            row["entry_id"] = i

    def write(self, db_url: str) -> None:
        url = make_url(db_url)
        if not url.drivername.startswith("sqlite"):
            raise ValueError("OrbitDesk runs on SQLite; got " + db_url)
        con = sqlite3.connect(url.database)
        try:
            con.executescript(SCHEMA.read_text())
            con.executemany("INSERT INTO plan_catalog VALUES (?,?,?)",
                            [(s, n, usd) for s, (n, usd, _f) in PLANS.items()])
            con.executemany(
                "INSERT INTO workspace VALUES (?,?,?,?,?,?,?)",
                [(ws.ws_id, ws.name, ws.email, ws.cus, ws.tier, ws.created_ts, ws.archived_at)
                 for ws in self.w.order])
            con.executemany(
                "INSERT INTO seat_subscription VALUES (?,?,?,?,?,?,?,?)",
                [(r["id"], r["ws_id"], r["sub_key"], r["plan_slug"], r["seats"], r["phase"],
                  r["period_end"], r["last_sync"])
                 for r in sorted(self.sub_rows.values(), key=lambda r: r["id"])])
            con.executemany(
                "INSERT INTO invoice_mirror VALUES (?,?,?,?,?,?,?,?)",
                [(r["inv_no"], r["stripe_inv"], r["ws_id"], r["amount_due_cents"],
                  r["amount_paid_cents"], r["currency"], r["status"], r["changed_at"])
                 for r in sorted(self.inv_rows, key=lambda r: r["changed_at"])])
            con.executemany(
                "INSERT INTO credit_purchases VALUES (?,?,?,?,?,?,?,?)",
                [(r["purchase_id"], r["ws_id"], r["payment_ref"], r["credits"],
                  r["amount_cents"], r["currency"], r["state"], r["invoice_ref"])
                 for r in self.purchase_rows.values()])
            con.executemany(
                "INSERT INTO credit_ledger VALUES (?,?,?,?,?)",
                [(r["entry_id"], r["ws_id"], r["delta"], r["reason"], r["created_ts"])
                 for r in self.ledger])
            con.executemany(
                'INSERT INTO ws_features (ws_id, feature, "on", since) VALUES (?,?,?,?)',
                [(r["ws_id"], r["feature"], r["on"], r["since"]) for r in self.features])
            con.executemany(
                "INSERT INTO hook_log VALUES (?,?,?,?,?)",
                [(h["id"], h["evt"], h["kind"], h["at"], h["outcome"]) for h in self.hooks])
            con.commit()
        finally:
            con.close()


# ---------------------------------------------------------------------------------------
class Planter:
    """Turns the correct rows into what OrbitDesk really has, and writes the key."""

    def __init__(self, world: World, rows: Rows) -> None:
        self.w, self.r = world, rows
        self.entries: list[dict[str, Any]] = []
        self.rep = world.b.replica

    def add(self, cls: str, stripe_id: str | None, obj: str, table: str, key: Any,
            why: str, **extra: Any) -> None:
        self.entries.append({"class": cls, "stripe_id": stripe_id, "stripe_object": obj,
                             "local": {"table": table, "key": key}, "why": why, **extra})

    # helpers on rows
    def crash(self, hooks: list[dict[str, Any]]) -> None:
        for h in hooks:
            h["outcome"] = "crashed"

    def drop(self, hooks: list[dict[str, Any]]) -> None:
        ids = {id(h) for h in hooks}
        self.r.hooks[:] = [h for h in self.r.hooks if id(h) not in ids]

    def redeliver(self, h: dict[str, Any], at: int) -> dict[str, Any]:
        again = {**h, "at": at, "outcome": "handled"}
        self.r.hooks.append(again)
        return again

    def later(self, rng: random.Random, lo: int, hi: int) -> int:
        """A retry delay; on localstripe (no clock, phases seconds apart) one second."""
        return rng.randint(lo, hi) if self.rep else 1

    def ledger_of(self, purchase_id: str) -> list[dict[str, Any]]:
        return [x for x in self.r.ledger if x.get("_p") == purchase_id]

    def features_off(self, ws: WS) -> None:
        self.r.features[:] = [f for f in self.r.features if f["ws_id"] != ws.ws_id]

    def sub_hooks(self, sid: str, kinds=("customer.subscription.created",
                                         "customer.subscription.updated",
                                         "customer.subscription.deleted")):
        return self.r.hooks_for(sid, kinds)

    def plant(self) -> None:
        w, r = self.w, self.r
        W, Pu = w.ws, w.purchases
        rng = random.Random(w.seed * 31 + 7)

        # STALE_STATE: customer.subscription.deleted crashed; still CURRENT, features on.
        ws = W["cancel_lost"]
        sid = ws.subs[0]
        self.crash(self.sub_hooks(sid, ("customer.subscription.deleted",)))
        before = r.subs[sid]
        r.sub_rows[sid]["phase"] = "CURRENT"
        for f in PLANS[r.sub_rows[sid]["plan_slug"]][2]:
            for row in r.features:
                if row["ws_id"] == ws.ws_id and row["feature"] == f:
                    row["on"] = 1
                    row["since"] = self.r.live_since(sid)
        self.add("STALE_STATE", sid, "subscription", "seat_subscription", sid,
                 "customer.subscription.deleted crashed in the handler (hook_log outcome "
                 "'crashed', never retried): Stripe canceled, row still CURRENT with its "
                 "features on", stripe_status=before["status"], local_phase="CURRENT")

        # STALE_STATE: seat change lost.
        ws = W["seats_lost"]
        sid = ws.subs[0]
        self.crash(self.sub_hooks(sid, ("customer.subscription.updated",))[-1:]
                   if self.rep else [])
        r.sub_rows[sid]["seats"] = ws.seats
        self.add("STALE_STATE", sid, "subscription", "seat_subscription", sid,
                 "seat change "
                 + ("(customer.subscription.updated crashed)" if self.rep else
                    "(localstripe emits no customer.subscription.updated)")
                 + " never reached the row: local seats are the old count",
                 stripe_seats=ws.seats + 3, local_seats=ws.seats)

        # STATE_REGRESSION 1: seats (replica) / cancel (localstripe).
        ws = W["regress_seats"]
        sid = ws.subs[0]
        if self.rep:
            ups = self.sub_hooks(sid, ("customer.subscription.updated",))
            a = [h for h in ups if _item(_obj(h["_e"]))["quantity"] == w.marks["regress_seats_a"]]
            bb = [h for h in ups if _item(_obj(h["_e"]))["quantity"] == w.marks["regress_seats_b"]]
            old, new = a[-1], bb[-1]
            again = self.redeliver(old, new["at"] + self.later(rng, 240, 600))
            r.sub_rows[sid]["seats"] = w.marks["regress_seats_a"]
            self.add("STATE_REGRESSION", sid, "subscription", "seat_subscription", sid,
                     f"older customer.subscription.updated ({old['evt']}, seats "
                     f"{w.marks['regress_seats_a']}) was redelivered after a timeout and "
                     f"handled after the newer one ({new['evt']}, seats "
                     f"{w.marks['regress_seats_b']}): seats moved backwards",
                     stripe_seats=w.marks["regress_seats_b"],
                     local_seats=w.marks["regress_seats_a"], events=[old["evt"], new["evt"]])
        else:
            self._regress_cancel(ws, rng)

        # STATE_REGRESSION 2: an old 'active' snapshot applied after the deletion.
        self._regress_cancel(W["regress_cancel"], rng)

        # APPLIED_BEFORE_FINAL: credits granted on processing / requires_action.
        for tag in ("abf_1", "abf_2"):
            p = Pu[tag]
            pi = r.pis[p.pi]
            kinds = ("payment_intent.processing", "payment_intent.requires_action")
            at = r.first_at(p.pi, kinds, default=pi["created"] + 3)
            row = {"ws_id": p.ws.ws_id, "delta": p.credits, "reason": "purchase",
                   "created_ts": at, "_p": p.purchase_id}
            r.ledger.append(row)
            self.add("APPLIED_BEFORE_FINAL", p.pi, "payment_intent", "credit_ledger", row,
                     f"credits granted when the PaymentIntent was {pi['status']} "
                     f"({p.method}); payment not final",
                     related={"table": "credit_purchases", "key": p.purchase_id},
                     stripe_status=pi["status"])

        # REVERSED_AFTER_APPLICATION (+ STALE_STATE of the purchase row).
        rev = [("refund_kept", "charge.refunded", "refund")]
        rev.append(("dispute_kept", "charge.dispute.closed", "dispute lost") if self.rep
                   else ("dispute_kept", "charge.refunded", "refund"))
        for tag, kind, what in rev:
            p = Pu[tag]
            ref = "payment_intent"  # both the charge and the dispute name the PaymentIntent
            self.crash(r.hooks_for(p.pi, (kind,), ref=ref))
            prow = r.purchase_rows[p.purchase_id]
            prow["state"] = "complete"
            rev_rows = [x for x in self.ledger_of(p.purchase_id) if x["delta"] < 0]
            r.ledger[:] = [x for x in r.ledger if x not in rev_rows]
            grant = [x for x in self.ledger_of(p.purchase_id) if x["delta"] > 0][0]
            self.add("STALE_STATE", p.pi, "payment_intent", "credit_purchases", p.purchase_id,
                     f"{kind} " + ("crashed in the handler" if r.hooks_for(
                         p.pi, (kind,), ref=ref) else "not emitted by the server / lost")
                     + f": purchase still 'complete' after the {what}",
                     stripe_state="reversed", local_state="complete")
            self.add("REVERSED_AFTER_APPLICATION", p.pi, "payment_intent", "credit_ledger",
                     grant, f"{what} after the credits were granted; no reversal entry, "
                     "credits still spendable",
                     related={"table": "credit_purchases", "key": p.purchase_id})
        if self.rep:
            p = Pu["debit_failed"]
            pi = r.pis[p.pi]
            self.crash(r.hooks_for(p.pi, ("payment_intent.payment_failed",)))
            at = r.first_at(p.pi, ("payment_intent.processing",), default=pi["created"] + 3)
            r.purchase_rows[p.purchase_id]["state"] = "processing"
            grant = {"ws_id": p.ws.ws_id, "delta": p.credits, "reason": "purchase",
                     "created_ts": at, "_p": p.purchase_id}
            r.ledger.append(grant)
            self.add("STALE_STATE", p.pi, "payment_intent", "credit_purchases", p.purchase_id,
                     "ACH debit failed four days later; payment_intent.payment_failed "
                     "crashed: purchase still 'processing'",
                     stripe_status=pi["status"], local_state="processing")
            self.add("REVERSED_AFTER_APPLICATION", p.pi, "payment_intent", "credit_ledger",
                     grant, "credits granted on payment_intent.processing, then the bank "
                     "debit failed; credits never revoked",
                     related={"table": "credit_purchases", "key": p.purchase_id})

        # UNAPPLIED_PAYMENT: invoice.paid lost (one crashed, one never delivered).
        for role, how in (("card_usd", "crashed"), ("abandoned", "lost")):
            ws = W[role]
            invs = sorted((i for i in r.stripe_invoices.values()
                           if i["customer"] == ws.cus and i["status"] == "paid"
                           and _sub_of_invoice(i) and i["amount_paid"] > 0),
                          key=lambda i: i["created"])
            inv = invs[-1]
            hs = r.hooks_for(inv["id"], ("invoice.paid", "invoice.payment_succeeded"))
            kinds = " and ".join(sorted({h["kind"] for h in hs}))
            self.crash(hs) if how == "crashed" else self.drop(hs)
            row = next(x for x in r.inv_rows if x["stripe_inv"] == inv["id"])
            st = inv.get("status_transitions") or {}
            row.update(status="awaiting", amount_paid_cents=0, changed_at=iso_ts(
                max(s for s in (inv["created"], st.get("finalized_at")) if s)))
            self.add("UNAPPLIED_PAYMENT", inv["id"], "invoice", "invoice_mirror", inv["id"],
                     kinds + (" crashed in the handler" if how == "crashed" else
                                        " never delivered (endpoint 5xx, retries exhausted)")
                     + ": paid in Stripe, mirror still 'awaiting' with nothing paid",
                     amount_paid=inv["amount_paid"])
        p = Pu["paid_unseen"]
        self.drop(r.hooks_for(p.pi, ("payment_intent.succeeded",)))
        r.purchase_rows[p.purchase_id]["state"] = "processing"
        r.ledger[:] = [x for x in r.ledger if x.get("_p") != p.purchase_id]
        self.add("STALE_STATE", p.pi, "payment_intent", "credit_purchases", p.purchase_id,
                 "payment_intent.succeeded never delivered: purchase row still 'processing'",
                 stripe_status="succeeded", local_state="processing")
        self.add("UNAPPLIED_PAYMENT", p.pi, "payment_intent", "credit_ledger", None,
                 "money received (" + ("ACH debit settled" if self.rep else "card")
                 + ") but no credits granted",
                 related={"table": "credit_purchases", "key": p.purchase_id},
                 amount=p.amount, currency=p.currency)

        # DUPLICATE_LOCAL_EFFECT: payment_intent.succeeded handled twice.
        for tag in ("dup_ledger", "card_usd"):
            p = Pu[tag]
            h = r.hooks_for(p.pi, ("payment_intent.succeeded",))[0]
            again = self.redeliver(h, h["at"] + self.later(rng, 30, 45))
            extra = {"ws_id": p.ws.ws_id, "delta": p.credits, "reason": "purchase",
                     "created_ts": again["at"], "_p": p.purchase_id}
            r.ledger.append(extra)
            self.add("DUPLICATE_LOCAL_EFFECT", p.pi, "payment_intent", "credit_ledger", extra,
                     f"{h['evt']} timed out at Stripe, was retried and handled twice: two "
                     "ledger rows for one purchase",
                     related={"table": "credit_purchases", "key": p.purchase_id})

        # DUPLICATE_REMOTE: the checkout was retried without an idempotency key.
        for tag in ("double_charge_1", "double_charge_2"):
            p = Pu[tag]
            self.add("DUPLICATE_REMOTE", p.extra_pis[0], "payment_intent", "credit_purchases",
                     p.purchase_id, "checkout retried without an idempotency key: a second "
                     "PaymentIntent for the same purchase_id succeeded; the customer paid "
                     "twice for one credit pack", duplicate_of=p.pi)

        # AMOUNT_MISMATCH.rounding: the MXN path of their old money helper.
        ws = W["card_mxn"]
        inv = sorted((i for i in r.stripe_invoices.values() if i["customer"] == ws.cus
                      and i["status"] == "paid" and i["amount_due"] > 0),
                     key=lambda i: i["created"])[0]
        row = next(x for x in r.inv_rows if x["stripe_inv"] == inv["id"])
        local = mxn_legacy_cents(inv["amount_due"])
        if local == inv["amount_due"]:
            local -= 1
        row["amount_due_cents"] = row["amount_paid_cents"] = local
        self.add("AMOUNT_MISMATCH.rounding", inv["id"], "invoice", "invoice_mirror", inv["id"],
                 "MXN amount went through pesos as a float and was truncated back to "
                 "centavos: one centavo short", stripe_amount=inv["amount_due"],
                 local_amount=local)
        p = Pu["card_mxn"]
        prow = r.purchase_rows[p.purchase_id]
        local = mxn_legacy_cents(p.amount)
        if local == p.amount:
            local -= 1
        prow["amount_cents"] = local
        self.add("AMOUNT_MISMATCH.rounding", p.pi, "payment_intent", "credit_purchases",
                 p.purchase_id, "MXN credit pack price truncated through a float: one "
                 "centavo short", stripe_amount=p.amount, local_amount=local)

        # ORPHAN_LOCAL + ORPHAN_APPLICATION: a purchase row with no PaymentIntent at all.
        ws = W["seats"]
        fake_pi = "pi_" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
                                             "0123456789") for _ in range(24 if self.rep else 14))
        pid = f"CP-{rng.getrandbits(32):08X}"
        r.purchase_rows[pid] = {"purchase_id": pid, "ws_id": ws.ws_id, "payment_ref": fake_pi,
                                "credits": 2000, "amount_cents": PACKS[2000][ws.currency],
                                "currency": ws.currency, "state": "complete",
                                "invoice_ref": None}
        grant = {"ws_id": ws.ws_id, "delta": 2000, "reason": "purchase",
                 "created_ts": w.t_start + (w.t_end - w.t_start) // 3 + rng.randint(0, 60),
                 "_p": pid}
        r.ledger.append(grant)
        self.add("ORPHAN_LOCAL", fake_pi, "payment_intent", "credit_purchases", pid,
                 "purchase row written by a support script with a made-up payment_ref; no "
                 "such PaymentIntent exists")
        self.add("ORPHAN_APPLICATION", fake_pi, "payment_intent", "credit_ledger", grant,
                 "2000 credits granted for that purchase with no payment behind it",
                 related={"table": "credit_purchases", "key": pid})

        # ORPHAN_APPLICATION: declined purchase, credits granted optimistically at checkout.
        p = Pu["declined"]
        pi = r.pis[p.pi]
        grant = {"ws_id": p.ws.ws_id, "delta": p.credits, "reason": "purchase",
                 "created_ts": pi["created"] + 1, "_p": p.purchase_id}
        r.ledger.append(grant)
        self.add("ORPHAN_APPLICATION", p.pi, "payment_intent", "credit_ledger", grant,
                 "the checkout page granted credits before confirmation; the card was "
                 "declined and nothing was charged (purchase row correctly 'declined')",
                 related={"table": "credit_purchases", "key": p.purchase_id},
                 stripe_status=pi["status"])

        # ORPHAN_LOCAL: an invoice_mirror row for an invoice that does not exist.
        ws = W["invoiced"]
        if self.rep:
            seen = w.marks["deleted_draft"]
            r.inv_rows.append({
                "inv_no": seen.get("number"), "stripe_inv": seen["id"], "ws_id": ws.ws_id,
                "amount_due_cents": seen["amount_due"], "amount_paid_cents": 0,
                "currency": seen["currency"], "status": "awaiting",
                "changed_at": iso_ts(seen["created"])})
            self.add("ORPHAN_LOCAL", seen["id"], "invoice", "invoice_mirror", seen["id"],
                     "a hotfix mirrored a seat true-up draft from invoice.created; finance "
                     "then deleted the draft (invoice.deleted skipped): the id no longer "
                     "exists")
        else:
            fake = "in_" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvw"
                                              "xyz0123456789") for _ in range(14))
            amount = 2 * SEAT_PRICE[(ws.plan, ws.currency)]
            r.inv_rows.append({
                "inv_no": None, "stripe_inv": fake, "ws_id": ws.ws_id,
                "amount_due_cents": amount, "amount_paid_cents": 0, "currency": ws.currency,
                "status": "awaiting", "changed_at": iso_ts(w.t_start + 7200)})
            self.add("ORPHAN_LOCAL", fake, "invoice", "invoice_mirror", fake,
                     "row restored from an old backup points at an invoice id that does "
                     "not exist on this account")

        # MISSING_LOCAL: customer.subscription.created crashed; later updates no-op.
        for role in (["sub_missing"] + (["trial"] if not self.rep else [])):
            ws = W[role]
            sid = ws.subs[0]
            self.crash(self.sub_hooks(sid, ("customer.subscription.created",)))
            del r.sub_rows[sid]
            self.features_off(ws)
            self.add("MISSING_LOCAL", sid, "subscription", "seat_subscription", None,
                     "customer.subscription.created crashed; later subscription events "
                     "found no row to update: no seat_subscription row, no features")
        if self.rep:  # the trial's zero-amount invoice never mirrored
            ws = W["trial"]
            inv = next(i for i in r.stripe_invoices.values() if i["customer"] == ws.cus)
            self.crash(r.hooks_for(inv["id"], ("invoice.finalized",)))
            r.inv_rows[:] = [x for x in r.inv_rows if x["stripe_inv"] != inv["id"]]
            self.add("MISSING_LOCAL", inv["id"], "invoice", "invoice_mirror", None,
                     "invoice.finalized crashed on the zero-amount trial invoice; "
                     "invoice.paid found no row to update")

        # STALE_STATE x2 on the replica: the incomplete subscription expired unnoticed.
        if self.rep:
            ws = W["incomplete"]
            sid = ws.subs[0]
            hs = [h for h in self.sub_hooks(sid) if _obj(h["_e"])["status"] in
                  ("incomplete_expired", "canceled")]
            self.crash(hs)
            r.sub_rows[sid]["phase"] = "SETUP"
            self.add("STALE_STATE", sid, "subscription", "seat_subscription", sid,
                     "expiry of the incomplete subscription (customer.subscription.updated "
                     "→ incomplete_expired) crashed: still SETUP",
                     stripe_status="incomplete_expired", local_phase="SETUP")
            inv = next(i for i in r.stripe_invoices.values()
                       if i["customer"] == ws.cus and i["status"] == "void")
            self.crash(r.hooks_for(inv["id"], ("invoice.voided",)))
            row = next(x for x in r.inv_rows if x["stripe_inv"] == inv["id"])
            row["status"] = "awaiting"
            self.add("STALE_STATE", inv["id"], "invoice", "invoice_mirror", inv["id"],
                     "invoice.voided crashed: the expired subscription's first invoice is "
                     "void in Stripe, still 'awaiting' locally",
                     stripe_status="void", local_status="awaiting")

        # ENV_MISMATCH: customer ids from the other account (replica only).
        if self.rep:
            for role in ("env_1", "env_2"):
                ws = W[role]
                self.add("ENV_MISMATCH", ws.cus, "customer", "workspace", ws.ws_id,
                         "a contractor's migration ran with the test key and wrote a "
                         "customer id from the other account into a production workspace "
                         f"(the customer exists only in {ws.account}, standing in for the "
                         "test-mode account: the replica serves one mode)",
                         other_account=ws.account)

        # WEBHOOK_GAP: endpoint down; every event in the window unprocessed.
        for g in w.gaps:
            in_gap = [h for h in r.hooks if g["from"] <= h["_e"]["created"] <= g["to"]]
            self.drop(in_gap)
            roles = {"A": ("gap_a1", "gap_a2"), "B": ("gap_b1", "gap_b2")}[g["label"]]
            self.add("WEBHOOK_GAP", None, "event", "hook_log", None,
                     f"endpoint down (gap {g['label']}): {len(in_gap)} events in Stripe, "
                     "hook_log silent for the window",
                     window={"from": g["from"], "to": g["to"]},
                     events=[h["evt"] for h in in_gap])
            seat_ws, cancel_ws = W[roles[0]], W[roles[1]]
            sid = seat_ws.subs[0]
            r.sub_rows[sid]["seats"] = seat_ws.seats
            self.add("STALE_STATE", sid, "subscription", "seat_subscription", sid,
                     f"seat change made during webhook gap {g['label']}: local seats old",
                     stripe_seats=r.subs[sid]["items"]["data"][0]["quantity"],
                     local_seats=seat_ws.seats)
            sid = cancel_ws.subs[0]
            r.sub_rows[sid]["phase"] = "CURRENT"
            for row in r.features:
                if row["ws_id"] == cancel_ws.ws_id:
                    row["on"] = 1
                    row["since"] = r.live_since(sid)
            self.add("STALE_STATE", sid, "subscription", "seat_subscription", sid,
                     f"canceled during webhook gap {g['label']}: still CURRENT, features on",
                     stripe_status="canceled", local_phase="CURRENT")

    def _regress_cancel(self, ws: WS, rng: random.Random) -> None:
        r = self.r
        sid = ws.subs[0]
        hs = self.sub_hooks(sid)
        deleted = [h for h in hs if h["kind"] == "customer.subscription.deleted"][-1]
        older = [h for h in hs if h["kind"] != "customer.subscription.deleted"
                 and _obj(h["_e"])["status"] == "active"][-1]
        self.redeliver(older, deleted["at"] + self.later(rng, 180, 900))
        r.sub_rows[sid]["phase"] = PHASE[_obj(older["_e"])["status"]]
        r.sub_rows[sid]["seats"] = _item(_obj(older["_e"]))["quantity"]
        self.add("STATE_REGRESSION", sid, "subscription", "seat_subscription", sid,
                 f"{older['kind']} {older['evt']} (status active) was redelivered after "
                 f"customer.subscription.deleted {deleted['evt']} had been handled: phase "
                 "went STOPPED → CURRENT (features stay off: only created/deleted touch them)",
                 stripe_status="canceled", local_phase="CURRENT",
                 events=[older["evt"], deleted["evt"]])

    def resolve(self) -> list[dict[str, Any]]:
        for e in self.entries:
            loc = e["local"]
            if isinstance(loc["key"], dict):  # a ledger row: its entry_id is known now
                loc["key"] = str(loc["key"]["entry_id"])
            elif loc["key"] is not None:
                loc["key"] = str(loc["key"])
        return self.entries


NOT_PLANTED_ALWAYS = [
    {"class": "AMOUNT_MISMATCH.exponent",
     "why": "OrbitDesk bills only USD, MXN and BRL, all two-decimal currencies; there is no "
            "zero- or three-decimal currency to scale wrongly"},
    {"class": "AMOUNT_MISMATCH.other",
     "why": "amounts are copied from Stripe's objects; their one known amount bug is the MXN "
            "float rounding (planted as AMOUNT_MISMATCH.rounding)"},
]
NOT_PLANTED_LOCALSTRIPE = [
    {"class": "ENV_MISMATCH",
     "why": "localstripe has one store for every sk_ key and no Connect accounts "
            "(POST /v1/accounts is 404): an id from another account/mode cannot exist, so "
            "the contractor's test ids could only be made up, i.e. ORPHAN_LOCAL"},
]
LOCALSTRIPE_LIMITS = [
    "no Prices (Plans used instead); no clock, so no renewals, past_due or expiry",
    "no disputes: the second REVERSED_AFTER_APPLICATION is a refund",
    "no us_bank_account / OXXO: pending purchases are 3-D Secure cards in requires_action",
    "no failed bank debit after grant (REVERSED via debit failure is replica-only)",
    "no customer.subscription.updated events: STATE_REGRESSION uses an old "
    "customer.subscription.created snapshot applied after the deletion",
    "no finalize/void/delete of hand-made invoices: no invoice-billed credits, the orphan "
    "invoice row carries a made-up id, no voided invoice, no zero-amount trial invoice",
    "trial_period_days leaves the subscription 'incomplete' (never 'trialing') and no "
    "zero-amount invoice is made",
    "no charge.refunded, invoice.finalized or customer.subscription.updated events: clean "
    "rows still hold the state the objects show, as a handler told of it would have written",
    "store shared by every build in the session: events are filtered to this build's ids "
    "(key 'since'/'until' bound them in time)",
]


def build(*, api_base: str, api_key: str, db_url: str, seed: int, plant: bool,
          server: str) -> dict:
    """Make OrbitDesk's Stripe history and database; return the answer key."""
    bill = Billing(api_base, api_key, server)
    try:
        world = World(bill, seed, plant)
        world.story()
        rows = Rows(world)
        rows.derive()
        planter = Planter(world, rows)
        if plant:
            planter.plant()
        rows.finish()
        rows.write(db_url)
        key: dict[str, Any] = {
            "system": SYSTEM, "server": server, "seed": seed, "plant": plant,
            "since": world.t_start, "until": rows.until,
            "planted": planter.resolve() if plant else [],
            "not_planted": NOT_PLANTED_ALWAYS
            + (NOT_PLANTED_LOCALSTRIPE if server == "localstripe" else []),
            "ignored": [{"table": "workspace", "key": ws.ws_id,
                         "why": "archived workspace (archived_at set): its rows froze at "
                                "archive time and must be ignored"}
                        for ws in world.order if ws.archived_at],
        }
        if server == "localstripe":
            key["server_limits"] = LOCALSTRIPE_LIMITS
        return key
    finally:
        bill.http.close()
