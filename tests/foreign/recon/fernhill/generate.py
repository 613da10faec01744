"""Fernhill Languages: build the company's Stripe history and its own database.

    from tests.foreign.recon.fernhill.generate import build
    key = build(api_base=replica.url, api_key=TEST_KEY, db_url=pg_url, seed=7, plant=True,
                server="replica")

On the replica the story runs on the replica's clock: 72 days from Monday 2026-01-05
(catalogue, sign-ups with 7-day trials, renewals, dunning, cancellations, pauses, one-off
invoices, course packs by card / SEPA / 3-D Secure, refunds, gift cards sold by a partner).
Every event Stripe emits is delivered, in order, to Fernhill's webhook handler
(`fernhill.WebhookHandler`), which writes the rows and its log. With `plant=True` the same
story also carries Fernhill's real incidents (lost deliveries during deploys, retries,
races, buggy releases, hand edits, a double-click, a dispute nobody handled ...) and the
answer key lists every difference they leave, derived from the database at the end.

localstripe has no clock, no Prices, no trials and a thin event stream, so there the
company's rows come from their nightly `resync` job and the incidents are a smaller set
(see `LocalstripeStory`); the key's `not_planted` says what could not be built and why.
"""

from __future__ import annotations

import datetime as dt
import heapq
import json
import random
import time
import unicodedata
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import stripe
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection

from tests.foreign.recon.fernhill import fernhill as fh

Obj = dict[str, Any]
SYSTEM = "fernhill"

T0 = 1767571200                       # 2026-01-05T00:00:00Z, a Monday
DAY = 86400
HOUR = 3600
MIN = 60


def at(d: float, h: float = 0, m: float = 0) -> int:
    return int(T0 + d * DAY + h * HOUR + m * MIN)


T_END = at(72, 9)                     # 2026-03-18T09:00:00Z

COUNTRIES: dict[str, Obj] = {
    "IE": {"ccy": "EUR", "tz": "Europe/Dublin", "locale": "en-IE",
           "mail": ["gmail.com", "eircom.net", "outlook.ie"],
           "names": ["Aoife Byrne", "Ciarán Walsh", "Niamh Kelly", "Seán Murphy", "Orla Doyle",
                     "Darragh Nolan", "Róisín Quinn", "Eoin Brennan", "Saoirse Lynch",
                     "Cathal Daly"]},
    "GB": {"ccy": "GBP", "tz": "Europe/London", "locale": "en-GB",
           "mail": ["gmail.com", "btinternet.com", "outlook.com"],
           "names": ["Oliver Hughes", "Amelia Clarke", "Harry Patel", "Isla Morgan",
                     "George Evans", "Freya Shaw", "Arthur Bennett", "Poppy Ward",
                     "Jack Robinson", "Evie Wright", "Thomas Hall", "Grace Turner"]},
    "FR": {"ccy": "EUR", "tz": "Europe/Paris", "locale": "fr-FR",
           "mail": ["orange.fr", "free.fr", "gmail.com"],
           "names": ["Camille Laurent", "Julien Moreau", "Léa Fontaine", "Hugo Girard",
                     "Chloé Lambert", "Théo Rousseau", "Manon Petit", "Louis Mercier",
                     "Inès Bonnet"]},
    "DE": {"ccy": "EUR", "tz": "Europe/Berlin", "locale": "de-DE",
           "mail": ["gmx.de", "web.de", "posteo.de"],
           "names": ["Lena Schubert", "Jonas Becker", "Mia Hartmann", "Felix Wagner",
                     "Hannah Krüger", "Lukas Vogel", "Emma Neumann", "Paul Schäfer",
                     "Sophie Brandt"]},
    "ES": {"ccy": "EUR", "tz": "Europe/Madrid", "locale": "es-ES",
           "mail": ["gmail.com", "telefonica.net"],
           "names": ["Lucía Ortega", "Pablo Navarro", "Marta Iglesias", "Diego Campos",
                     "Elena Rubio", "Javier Molina", "Carmen Vidal", "Álvaro Serrano"]},
    "JP": {"ccy": "JPY", "tz": "Asia/Tokyo", "locale": "ja-JP",
           "mail": ["yahoo.co.jp", "gmail.com", "docomo.ne.jp"],
           "names": ["Haruto Sato", "Yui Tanaka", "Sota Suzuki", "Aoi Watanabe",
                     "Ren Kobayashi", "Hina Yamamoto", "Kaito Ito", "Mei Nakamura",
                     "Riku Kato", "Sakura Yoshida", "Daiki Yamada", "Nanami Sasaki",
                     "Takumi Matsumoto", "Yuna Inoue"]},
}

MANDATE = {"customer_acceptance": {"type": "online", "online": {
    "ip_address": "203.0.113.24", "user_agent": "Mozilla/5.0 (Fernhill checkout)"}}}


def ascii_fold(value: str) -> str:
    return unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()


def d(obj: Any) -> Obj:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def iso_local(ts: float, tz: str) -> str:
    """members.joined: ISO-8601 in the member's own zone, e.g. 2026-03-04T10:15:00+01:00."""
    return dt.datetime.fromtimestamp(int(ts), zoneinfo.ZoneInfo(tz)).isoformat()


# -- people --------------------------------------------------------------------------------
@dataclass
class Person:
    role: str
    country: str
    name: str
    email: str
    joined: int
    member_id: int | None = None
    customer: str | None = None
    sub: str | None = None
    subs: list[str] = field(default_factory=list)

    @property
    def ccy(self) -> str:
        return COUNTRIES[self.country]["ccy"]

    @property
    def tz(self) -> str:
        return COUNTRIES[self.country]["tz"]


class Cast:
    """Seeded names and e-mail addresses, unique across the world."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.pools = {c: rng.sample(v["names"], len(v["names"])) for c, v in COUNTRIES.items()}
        self.used: set[str] = set()

    def person(self, role: str, country: str, joined: int) -> Person:
        name = self.pools[country].pop()
        first, last = ascii_fold(name).lower().split(" ", 1)
        host = self.rng.choice(COUNTRIES[country]["mail"])
        style = self.rng.choice(["{f}.{l}", "{f}{l}", "{f}.{l}{n}", "{l}.{f}"])
        email = style.format(f=first, l=last.replace(" ", ""), n=self.rng.randrange(2, 99))
        email = f"{email}@{host}"
        while email in self.used:
            email = f"{first}.{last}{self.rng.randrange(100, 999)}@{host}"
        self.used.add(email)
        return Person(role, country, name, email, joined)


# -- the replica's clock -------------------------------------------------------------------
class ReplicaClock:
    def __init__(self, api_base: str, api_key: str) -> None:
        # the replica's admin writes take the same key as its API
        self.http = httpx.Client(base_url=api_base, timeout=120,
                                 headers={"Authorization": f"Bearer {api_key}"})

    def now(self) -> int:
        answer = self.http.get("/_replica/clock")
        answer.raise_for_status()
        return int(answer.json()["now"])

    def set(self, ts: int) -> None:
        self.http.post("/_replica/clock", json={"set": ts, "freeze": True}).raise_for_status()

    def advance_to(self, ts: int) -> None:
        now = self.now()
        if ts > now:
            self.http.post("/_replica/clock", json={"advance": ts - now}).raise_for_status()

    def close(self) -> None:
        self.http.close()


# -- the webhook endpoint: deliveries, incidents -------------------------------------------
def list_events(client: stripe.StripeClient, since: int) -> list[Obj]:
    """GET /v1/events?created[gte]=since, newest first, as plain JSON (the handler reads
    the raw webhook body, not SDK objects)."""
    found: list[Obj] = []
    after: str | None = None
    while True:
        params: Obj = {"limit": 100, "created": {"gte": since}}
        if after:
            params["starting_after"] = after
        page = json.loads(client.raw_request("get", "/v1/events", **params).body)
        found.extend(page["data"])
        if not page.get("has_more") or not page["data"]:
            return found
        after = page["data"][-1]["id"]


@dataclass(order=True)
class Delivery:
    at: float
    seq: int
    event: Obj = field(compare=False)
    opts: Obj = field(compare=False, default_factory=dict)


@dataclass
class Rule:
    """An incident on the delivery path: which events, and what deliveries they get."""

    name: str
    match: Callable[[Obj], bool]
    plan: Callable[[Obj, float], list[tuple[float, Obj]]]
    hits: list[str] = field(default_factory=list)


RETRY_OFFSETS = [0, 5 * MIN, 35 * MIN, 2 * HOUR + 35 * MIN, 7 * HOUR + 35 * MIN,
                 17 * HOUR + 35 * MIN]


class Endpoint:
    """Fernhill's /hooks/stripe as Stripe reaches it: every event, in order, ~1-3 s late."""

    def __init__(self, client: stripe.StripeClient, handler: fh.WebhookHandler,
                 rng: random.Random) -> None:
        self.client = client
        self.handler = handler
        self.rng = rng
        self.seen: set[str] = set()
        self.queue: list[Delivery] = []
        self.seq = 0
        self.last_at = 0.0
        self.watermark = 0
        self.rules: list[Rule] = []
        self.gaps: list[tuple[float, float]] = []
        self.dropped: list[Obj] = []
        self.events: list[Obj] = []

    def fetch(self) -> None:
        listed = list_events(self.client, self.watermark)
        listed.reverse()                               # oldest first
        for event in listed:
            if event["id"] in self.seen:
                continue
            self.seen.add(event["id"])
            self.events.append(event)
            self._schedule(event)
        if listed:
            self.watermark = max(e["created"] for e in listed)

    def _schedule(self, event: Obj) -> None:
        first = max(event["created"] + self.rng.uniform(0.8, 3.2), self.last_at + 0.05)
        self.last_at = first
        plan: list[tuple[float, Obj]] = [(first, {})]
        for rule in self.rules:
            if rule.match(event):
                plan = rule.plan(event, first)
                rule.hits.append(event["id"])
                break
        for when, opts in plan:
            self.seq += 1
            heapq.heappush(self.queue, Delivery(when, self.seq, event, opts))

    def run_until(self, ts: float) -> None:
        self.fetch()
        while self.queue and self.queue[0].at <= ts:
            delivery = heapq.heappop(self.queue)
            if any(start <= delivery.at < end for start, end in self.gaps):
                self.dropped.append(delivery.event)
                continue
            self.handler.deliver(delivery.event, delivery.at, **delivery.opts)


# -- the story on the replica --------------------------------------------------------------
@dataclass
class Action:
    ts: int
    seq: int
    label: str
    run: Callable[[], None]


class ReplicaStory:
    """72 days of Fernhill on the replica; see the module docstring."""

    def __init__(self, client: stripe.StripeClient, conn: Connection, api_base: str,
                 api_key: str, seed: int, plant: bool) -> None:
        self.client = client
        self.conn = conn
        self.seed = seed
        self.plant = plant
        self.rng = random.Random(f"fernhill:{seed}")
        self.clock = ReplicaClock(api_base, api_key)
        self.release = fh.Release()
        self.handler = fh.WebhookHandler(conn, self.release, packs=self._packs_live)
        self.endpoint = Endpoint(client, self.handler, random.Random(f"fernhill:wire:{seed}"))
        self.cast = Cast(random.Random(f"fernhill:cast:{seed}"))
        self.actions: list[Action] = []
        self.people: dict[str, Person] = {}
        self.prices: dict[tuple[str, str, str], str] = {}
        self.packs: dict[str, str] = {}          # label -> pi id
        self.extra: dict[str, Any] = {}          # ids the key needs
        self.pack_launch: dict[str, float] = {}

    # -- scheduling
    def on(self, ts: int, label: str, run: Callable[[], None]) -> None:
        self.actions.append(Action(ts, len(self.actions), label, run))

    def _packs_live(self, when: float) -> list[str]:
        return [code for code in fh.PACKS if when >= self.pack_launch.get(code, 0)]

    # -- app code: members, customers, subscriptions, checkout
    def add_member(self, person: Person, *, closed: bool = False) -> int:
        member_id = self.conn.execute(text(
            "INSERT INTO members (email, display_name, stripe_ref, joined, closed) "
            "VALUES (:e, :n, NULL, :j, :c) RETURNING id"),
            {"e": person.email, "n": person.name, "j": iso_local(person.joined, person.tz),
             "c": closed}).scalar()
        person.member_id = member_id
        return member_id

    def make_customer(self, person: Person, pm: str | None = "pm_card_visa") -> str:
        params: Obj = {"email": person.email, "name": person.name,
                       "preferred_locales": [COUNTRIES[person.country]["locale"]],
                       "address": {"country": person.country},
                       "metadata": {"fernhill_member_id": str(person.member_id)}}
        if pm:
            params["payment_method"] = pm
            params["invoice_settings"] = {"default_payment_method": pm}
        customer = self.client.v1.customers.create(params=params)
        person.customer = customer.id
        self.conn.execute(text("UPDATE members SET stripe_ref = :c WHERE id = :m"),
                          {"c": customer.id, "m": person.member_id})
        return customer.id

    def set_card(self, person: Person, pm: str) -> None:
        attached = self.client.v1.payment_methods.attach(pm, params={"customer": person.customer})
        self.client.v1.customers.update(person.customer, params={
            "invoice_settings": {"default_payment_method": attached.id}})

    def subscribe(self, person: Person, plan: str, interval: str = "month", *,
                  trial: bool = True, incomplete: bool = False,
                  pause_without_card: bool = False) -> str:
        params: Obj = {"customer": person.customer,
                       "items": [{"price": self.prices[(plan, interval, person.ccy)]}],
                       "metadata": {"fernhill_member_id": str(person.member_id)}}
        if trial:
            params["trial_period_days"] = 7
        if pause_without_card:
            params["trial_settings"] = {"end_behavior": {"missing_payment_method": "pause"}}
        if incomplete:
            params["payment_behavior"] = "default_incomplete"
        sub = self.client.v1.subscriptions.create(params=params)
        person.sub = sub.id
        person.subs.append(sub.id)
        return sub.id

    def signup(self, person: Person, plan: str, interval: str = "month", *,
               pm: str | None = "pm_card_visa", **kw: Any) -> None:
        if person.member_id is None:
            self.add_member(person)
        self.make_customer(person, pm)
        self.subscribe(person, plan, interval, **kw)

    def buy_pack(self, person: Person, code: str, *, method: str = "card",
                 voucher: str | None = None, label: str | None = None) -> str:
        ccy = person.ccy
        amount = fh.to_minor(fh.PACKS[code]["price"][ccy], ccy)
        types = ["sepa_debit"] if method.startswith("sepa") else ["card"]
        pi = self.client.v1.payment_intents.create(params={
            "amount": amount, "currency": ccy.lower(), "customer": person.customer,
            "payment_method_types": types, "description": fh.PACKS[code]["name"],
            "metadata": {"kind": "course_pack", "pack_code": code,
                         "fernhill_member_id": str(person.member_id)}})
        if voucher:
            self.client.v1.payment_intents.update(pi.id, params={
                "amount": amount * 80 // 100, "metadata": {"voucher": voucher}})
        pm = {"card": "pm_card_visa", "sepa_ok": "pm_sepaDebit_succeeds",
              "sepa_fail": "pm_sepaDebit_fails", "3ds": "pm_card_authenticationRequired",
              "declined": "pm_card_chargeDeclined", "dispute": "pm_card_createDispute"}[method]
        confirm: Obj = {"payment_method": pm}
        if method.startswith("sepa"):
            confirm["mandate_data"] = MANDATE
        try:
            self.client.v1.payment_intents.confirm(pi.id, params=confirm)
        except stripe.CardError:
            pass                                    # the checkout shows "card declined"
        if label:
            self.packs[label] = pi.id
        return pi.id

    def gift_card(self, amount_eur: int, buyer: str) -> None:
        self.client.v1.payment_intents.create(params={
            "amount": amount_eur * 100, "currency": "eur", "payment_method": "pm_card_visa",
            "payment_method_types": ["card"], "confirm": True, "receipt_email": buyer,
            "description": f"Fernhill gift card {amount_eur} EUR",
            "metadata": {"kind": "gift_card", "partner": "GiftLoop",
                         "card_code": f"GL-{self.rng.randrange(10**7, 10**8)}"}})

    def one_off_invoice(self, person: Person, amount: int, description: str,
                        then: str | None = None) -> str:
        inv = self.client.v1.invoices.create(params={
            "customer": person.customer, "collection_method": "send_invoice",
            "days_until_due": 14, "auto_advance": False, "currency": person.ccy.lower()})
        self.client.v1.invoice_items.create(params={
            "customer": person.customer, "invoice": inv.id, "amount": amount,
            "currency": person.ccy.lower(), "description": description})
        if then == "delete":
            return inv.id
        self.client.v1.invoices.finalize_invoice(inv.id)
        if then == "void":
            self.client.v1.invoices.void_invoice(inv.id)
        elif then == "uncollectible":
            self.client.v1.invoices.mark_uncollectible(inv.id)
        elif then == "pay":
            self.client.v1.invoices.pay(inv.id, params={"payment_method": "pm_card_visa"})
        return inv.id

    def latest_open_invoice(self, person: Person) -> str:
        sub = d(self.client.v1.subscriptions.retrieve(person.sub))
        return sub["latest_invoice"]

    def recover(self, person: Person) -> None:
        """Member replaces the failing card and pays the open invoice on the hosted page."""
        self.set_card(person, "pm_card_visa")
        self.client.v1.invoices.pay(self.latest_open_invoice(person))

    # -- the story
    def cast_people(self) -> None:
        rng = random.Random(f"fernhill:story:{self.seed}")
        eu = ["IE", "FR", "DE", "ES"]

        def old_join() -> int:
            return at(-rng.randrange(40, 1400), rng.randrange(7, 22), rng.randrange(60))

        def role(name: str, country: str, joined: int | None = None) -> Person:
            person = self.cast.person(name, country, joined or 0)
            self.people[name] = person
            return person

        # pre-existing members (joined over the last four years)
        for i in range(10):
            role(f"free{i}", rng.choice(["IE", "IE", "GB", "FR", "DE", "ES", "JP"]), old_join())
        role("closed_free", rng.choice(eu), old_join())
        for name, country in [("m1", "IE"), ("m3", "GB"), ("m7", "ES"),
                              ("m11", rng.choice(eu)), ("m13", "IE"), ("c2", "GB"),
                              ("c3", "DE")]:
            role(name, country, old_join())
        # members who sign up during the story (joined is set when they do)
        for name, country in [("m2", "JP"), ("m4", "FR"), ("m5", "DE"), ("m6", "GB"),
                              ("m8", "IE"), ("m9", "JP"), ("m10", "DE"), ("m12", "GB"),
                              ("m14", rng.choice(eu)), ("g1", "JP"), ("g3", "JP"),
                              ("r1", "ES"), ("r2", "FR"), ("free_new0", rng.choice(eu)),
                              ("free_new1", "JP"), ("free_new2", "GB")]:
            role(name, country)
        self.jitter = {name: rng.randrange(0, 35) for name in self.people}

    def plan_story(self) -> None:  # noqa: C901 - a story is a long list
        P = self.people
        j = self.jitter

        def t(name: str, dd: float, hh: float, mm: float = 0) -> int:
            return at(dd, hh, mm + j[name])

        # ---- day 0: catalogue (Products with Prices in EUR / GBP / JPY)
        self.on(at(0, 7), "catalogue", self.create_catalogue)

        # ---- pre-existing rows (the app's members table before the story starts)
        def seed_members() -> None:
            olds = sorted((p for p in P.values() if p.joined), key=lambda p: p.joined)
            for person in olds:
                self.add_member(person, closed=person.role == "closed_free")
        self.on(at(0, 7, 30), "members before 2026", seed_members)

        def new_signup(name: str, ts: int, plan: str | None, interval: str = "month",
                       **kw: Any) -> None:
            person = P[name]

            def run() -> None:
                person.joined = ts
                self.add_member(person)
                if plan:
                    self.make_customer(person, kw.pop("pm", "pm_card_visa"))
                    self.subscribe(person, plan, interval, **kw)
            self.on(ts, f"{name} signs up", run)

        def start_paying(name: str, ts: int, plan: str, interval: str = "month",
                         **kw: Any) -> None:
            person = P[name]

            def run() -> None:
                self.make_customer(person, kw.pop("pm", "pm_card_visa"))
                self.subscribe(person, plan, interval, **kw)
            self.on(ts, f"{name} starts paying", run)

        def later(name: str, ts: int, label: str, fn: Callable[[Person], Any]) -> None:
            self.on(ts, f"{name}: {label}", lambda: fn(P[name]))

        cancel = lambda p: self.client.v1.subscriptions.cancel(p.sub)  # noqa: E731
        decline = lambda p: self.set_card(p, "pm_card_chargeDeclined")  # noqa: E731

        # ---- memberships
        start_paying("m1", t("m1", 0, 10), "starter")
        start_paying("c2", t("c2", 1, 12), "starter")
        start_paying("m3", t("m3", 2, 15), "plus")
        start_paying("m13", t("m13", 2, 10, 30), "plus")
        start_paying("m7", t("m7", 3, 17), "plus", "year")
        start_paying("c3", t("c3", 3, 9), "plus", "year")
        new_signup("m2", t("m2", 4, 11), "plus")
        start_paying("m11", t("m11", 5, 8, 30), "plus")
        new_signup("m4", t("m4", 6, 12), "tutor_pro")
        new_signup("g3", t("g3", 8, 3, 30), "tutor_pro")
        new_signup("m14", t("m14", 8, 13), "starter")
        new_signup("m12", t("m12", 10, 9, 30), "starter")
        later("m12", t("m12", 15, 9), "card replaced by a failing one", decline)
        new_signup("free_new0", t("free_new0", 12, 19), None)
        new_signup("m5", t("m5", 16, 10), "plus")
        new_signup("m6", t("m6", 18, 14), "tutor_pro")
        later("c2", t("c2", 20, 10), "cancels", cancel)
        new_signup("m10", t("m10", 20, 18), "starter", pm=None, pause_without_card=True)

        def close_c2(p: Person) -> None:     # account closed: Stripe customer deleted too
            self.client.v1.customers.delete(p.customer)
            self.conn.execute(text("UPDATE members SET closed = true WHERE id = :m"),
                              {"m": p.member_id})
        later("c2", t("c2", 21, 10), "closes account", close_c2)
        later("m13", t("m13", 25, 11), "cancels", cancel)
        later("m11", t("m11", 30, 19), "cancels", cancel)
        later("c3", t("c3", 33, 15), "cancels", cancel)

        def close(p: Person) -> None:
            self.conn.execute(text("UPDATE members SET closed = true WHERE id = :m"),
                              {"m": p.member_id})
        later("c3", t("c3", 34, 9), "closes account", close)

        def upgrade(p: Person) -> None:
            sub = d(self.client.v1.subscriptions.retrieve(p.sub))
            self.client.v1.subscriptions.update(p.sub, params={
                "items": [{"id": sub["items"]["data"][0]["id"],
                           "price": self.prices[("plus", "month", p.ccy)]}],
                "proration_behavior": "always_invoice"})
        later("m14", t("m14", 35, 15), "upgrades starter -> plus", upgrade)
        new_signup("g1", t("g1", 39, 2, 10), "plus")
        later("g1", t("g1", 42, 2), "card replaced by a failing one", decline)
        new_signup("free_new1", t("free_new1", 41, 4), None)

        def rejoin_3ds(p: Person) -> None:  # returning member: no trial, card needs 3-D Secure
            self.set_card(p, "pm_card_authenticationRequired")
            self.subscribe(p, "plus", trial=False, incomplete=True)
        later("m13", t("m13", 45, 16), "rejoins (3-D Secure never completed)", rejoin_3ds)
        g1_fail = t("g1", 46, 3, 10)              # trial end + 1 h: first charge declines
        new_signup("r2", t("r2", 47, 14), "starter")
        later("r2", t("r2", 50, 9), "card replaced by a failing one", decline)
        g1_pay = g1_fail + 3 * DAY + HOUR         # after the 72 h retry failed too
        later("g1", g1_pay, "updates card, pays the overdue invoice", self.recover)
        new_signup("r1", t("r1", 52, 12), "starter")
        r2_fail = t("r2", 54, 15)
        later("r2", r2_fail + 20 * MIN, "updates card, pays the overdue invoice", self.recover)
        new_signup("free_new2", t("free_new2", 57, 20), None)
        new_signup("m9", t("m9", 60, 2, 5), "starter")
        later("m9", t("m9", 63, 8), "card replaced by a failing one", decline)
        m9_fail = t("m9", 67, 3, 5)
        later("g3", m9_fail - 10 * MIN, "cancels in the portal", cancel)
        new_signup("m8", t("m8", 68, 16), "starter")

        def rejoin_pending(p: Person) -> None:
            self.set_card(p, "pm_card_authenticationRequired")
            self.subscribe(p, "plus", trial=False, incomplete=True)
        later("m11", t("m11", 71, 20), "rejoins (3-D Secure pending)", rejoin_pending)

        # ---- one-off invoices from support (replacement workbooks)
        later("m1", t("m1", 12, 14), "workbook invoice (later voided)",
              lambda p: self.extra.__setitem__("void_inv", self.one_off_invoice(
                  p, fh.to_minor("15.00", p.ccy), "Replacement workbook")))
        later("m1", t("m1", 28, 10), "voids the workbook invoice",
              lambda p: self.client.v1.invoices.void_invoice(self.extra["void_inv"]))
        later("m6", t("m6", 29, 11), "workbook invoice (never paid)",
              lambda p: self.extra.__setitem__("bad_inv", self.one_off_invoice(
                  p, fh.to_minor("12.00", p.ccy), "Replacement workbook + postage")))
        later("m6", t("m6", 62, 11), "support writes it off",
              lambda p: self.client.v1.invoices.mark_uncollectible(self.extra["bad_inv"]))
        later("m3", t("m3", 30, 16), "workbook invoice (paid by card)",
              lambda p: self.one_off_invoice(p, fh.to_minor("12.00", p.ccy),
                                             "Replacement workbook", then="pay"))

        # ---- course packs (Fernhill's checkout) and gift cards (partner integration)
        def pack(name: str, ts: int, code: str, label: str, **kw: Any) -> None:
            self.on(ts, f"{name} buys {code} ({label})",
                    lambda: self.buy_pack(P[name], code, label=label, **kw))
        pack("m1", t("m1", 14, 11), "BUSINESS_EN", "p1")
        pack("m12", t("m12", 14, 16), "JLPT_N3", "p8", method="3ds")
        later("m12", t("m12", 15, 9, 40), "cancels the unfinished order",
              lambda p: self.client.v1.payment_intents.cancel(self.packs["p8"]))
        pack("m4", t("m4", 19, 10), "BUSINESS_EN", "p5", method="sepa_ok")
        pack("m3", t("m3", 21, 15), "BUSINESS_EN", "p4")
        later("m3", t("m3", 24, 12), "support refunds the pack in full",
              lambda p: self.client.v1.refunds.create(params={
                  "payment_intent": self.packs["p4"], "reason": "requested_by_customer"}))
        pack("m6", t("m6", 26, 17), "BUSINESS_EN", "p9", method="declined")
        self.pack_launch["DELE_B2"] = at(33, 9) if not self.plant else at(33, 18)
        pack("m14", t("m14", 33, 11), "DELE_B2", "p7", method="3ds")
        pack("m5", t("m5", 36, 10), "DELE_B2", "p3")
        later("m5", t("m5", 37, 9), "support refunds 10.00 (one module missing)",
              lambda p: self.client.v1.refunds.create(params={
                  "payment_intent": self.packs["p3"], "amount": fh.to_minor("10.00", p.ccy)}))
        pack("m2", t("m2", 40, 13), "JLPT_N3", "p2")
        pack("m7", t("m7", 61, 10), "DELE_B2", "p6", method="sepa_fail")
        pack("m8", t("m8", 69, 9, 30), "BUSINESS_EN", "p10", method="sepa_ok")
        pack("m4", t("m4", 70, 11), "JLPT_N3", "p11", method="sepa_ok")
        self.on(at(11, 12, 25), "gift card", lambda: self.gift_card(25, "gifts@example.com"))
        self.on(at(29, 14, 5), "gift card", lambda: self.gift_card(50, "anna.k@example.com"))
        self.on(at(57, 10, 40), "gift card", lambda: self.gift_card(25, "office@example.org"))

        self.times = {"g1_fail": g1_fail, "g1_pay": g1_pay, "r2_fail": r2_fail,
                      "m9_fail": m9_fail, "r1_trial_end": t("r1", 59, 12)}
        if self.plant:
            self.plan_incidents()

    def create_catalogue(self) -> None:
        for code, plan in fh.PLANS.items():
            product = self.client.v1.products.create(params={
                "name": plan["name"], "metadata": {"plan_code": code}})
            for interval in ("month", "year"):
                for ccy, major in plan[interval].items():
                    price = self.client.v1.prices.create(params={
                        "product": product.id, "currency": ccy.lower(),
                        "unit_amount": fh.to_minor(major, ccy),
                        "recurring": {"interval": interval},
                        "lookup_key": fh.lookup_key(code, interval, ccy),
                        "nickname": f"{plan['name']} {interval}ly {ccy}",
                        "metadata": {"plan_code": code, "features": plan["features"]}})
                    self.prices[(code, interval, ccy)] = price.id

    # -- incidents (plant=True) ------------------------------------------------------------
    def plan_incidents(self) -> None:  # noqa: C901
        P = self.people
        T = self.times
        ep = self.endpoint
        j = self.jitter

        def sub_of(name: str) -> Callable[[], str | None]:
            return lambda: P[name].sub

        def is_obj(event: Obj, kind: str, obj_id: str | None) -> bool:
            return event["type"] == kind and event["data"]["object"].get("id") == obj_id

        # deploy windows: the new release acknowledged webhooks, its worker never ran them
        gap1 = (T["g1_pay"] - 15 * MIN, T["g1_pay"] + 25 * MIN)
        gap2 = (T["m9_fail"] - 25 * MIN, T["m9_fail"] + 20 * MIN)
        ep.gaps.extend([gap1, gap2])
        self.extra["gaps"] = [gap1, gap2]

        # buggy releases
        self.release.bugs["float_rounddown"] = [(at(22, 0), at(29, 0))]
        self.release.bugs["legacy_two_decimals"] = [(at(38, 0), at(45, 0))]
        self.release.bugs["copy_drafts"] = [(at(64, 0), at(65, 0))]
        self.release.bugs["grant_on_processing"] = [(at(60, 0), T_END + DAY)]

        # P1: payment_intent.created took 31 s (lock wait); Stripe retried; both inserted
        ep.rules.append(Rule(
            "raced payment_intent.created",
            lambda e: is_obj(e, "payment_intent.created", self.packs.get("p1")),
            lambda e, first: [(first, {}),
                              (first + 0.01, {"race": True, "logged_at": first + 31.0})]))
        # m3's renewal: invoice.paid retried while the first attempt still ran: 2 payments
        ep.rules.append(Rule(
            "raced invoice.paid",
            lambda e: (e["type"] == "invoice.paid"
                       and e["data"]["object"].get("customer") == P["m3"].customer
                       and at(40, 0) <= e["created"] < at(41, 0)),
            lambda e, first: [(first, {}),
                              (first + 0.01, {"race": True, "logged_at": first + 30.0})]))
        # m4's renewal: state committed, payment insert deadlocked; the retry saw 'settled'
        ep.rules.append(Rule(
            "invoice.paid crashed after the state update",
            lambda e: (e["type"] == "invoice.paid"
                       and e["data"]["object"].get("customer") == P["m4"].customer
                       and at(44, 0) <= e["created"] < at(45, 0)),
            lambda e, first: [(first, {"crash_after_state": True}),
                              (first + 5 * MIN, {})]))
        # P4's refund: the charge.refunded branch crashed on every attempt
        ep.rules.append(Rule(
            "charge.refunded always failing",
            lambda e: (e["type"] == "charge.refunded"
                       and e["data"]["object"].get("payment_intent") == self.packs.get("p4")),
            lambda e, first: [(first + off, {"fail": "KeyError: 'refunds'"})
                              for off in RETRY_OFFSETS]))
        # r1: trial_will_end failed (e-mail template bug) for days, an engineer re-sent it
        resend_at = T["r1_trial_end"] + 22 * HOUR
        ep.rules.append(Rule(
            "trial_will_end failed, re-sent by hand after the trial ended",
            lambda e: is_obj(e, "customer.subscription.trial_will_end", sub_of("r1")()),
            lambda e, first: [(first + off, {"fail": "TemplateNotFound: trial_ending.html"})
                              for off in RETRY_OFFSETS[:4]] + [(resend_at, {})]))
        # r2: the past_due update timed out (applied anyway); Stripe's retry landed after
        # the member had already paid
        ep.rules.append(Rule(
            "past_due update retried after recovery",
            lambda e: (is_obj(e, "customer.subscription.updated", sub_of("r2")())
                       and e["data"]["object"].get("status") == "past_due"),
            lambda e, first: [(first, {}), (first + 65 * MIN, {})]))

        # hand edits and app bugs, scheduled on the story's clock
        def support_grant(p: Person) -> None:  # support unlocked classes while 3DS hung
            for feature in fh.PLANS["plus"]["features"].split(","):
                self.handler.grant(p.member_id, feature, self.clock.now())
        self.on(at(45, 16, 30 + j["m13"]), "support grants m13 access by hand",
                lambda: support_grant(P["m13"]))

        def success_page_grant() -> None:  # old checkout: return URL granted the pack
            self.handler.grant(P["m12"].member_id, "pack:JLPT_N3", self.clock.now())
        self.on(at(14, 16, 3 + j["m12"]), "checkout return page grants the pack",
                success_page_grant)

        # Stripe-side: double-clicks, vouchers, a dispute, deleted drafts, the test account
        def double_click(name: str, code: str, label: str) -> None:
            first = self.buy_pack(P[name], code)
            second = self.buy_pack(P[name], code)
            self.extra[label] = [first, second]
        self.on(at(31, 19, j["m6"]), "m6 double-clicks Pay",
                lambda: double_click("m6", "JLPT_N3", "dbl1"))
        self.on(at(53, 21, j["m7"]), "m7 double-clicks Pay",
                lambda: double_click("m7", "BUSINESS_EN", "dbl2"))
        self.on(at(47, 12, j["m1"]), "m1 buys with voucher SPRING20",
                lambda: self.buy_pack(P["m1"], "JLPT_N3", voucher="SPRING20", label="v1"))
        self.on(at(58, 18, j["m5"]), "m5 buys with voucher SPRING20",
                lambda: self.buy_pack(P["m5"], "BUSINESS_EN", voucher="SPRING20",
                                      label="v2"))
        self.on(at(56, 19, j["m4"]), "m4 buys DELE_B2 (disputed a day later)",
                lambda: self.buy_pack(P["m4"], "DELE_B2", method="dispute", label="disp"))

        def drafts(name: str, label: str) -> None:
            self.extra[label] = self.one_off_invoice(
                P[name], fh.to_minor("9.00", P[name].ccy), "Exam registration fee",
                then="delete")
        self.on(at(64, 10, j["m3"]), "support drafts an invoice for m3",
                lambda: drafts("m3", "draft1"))
        self.on(at(64, 11, 30 + j["m5"]), "support drafts an invoice for m5",
                lambda: drafts("m5", "draft2"))

        def delete_drafts() -> None:
            for label in ("draft1", "draft2"):
                self.client.v1.invoices.delete(self.extra[label])
        self.on(at(64, 16), "support deletes both drafts", delete_drafts)
        self.on(at(30, 10, 50), "QA copies ids from the test account", self.qa_rows)

    def qa_rows(self) -> None:
        """An engineer set up a staff test member against the TEST account (a separate
        Stripe account: the replica's connected account stands in for it) and pasted its
        ids into the live database."""
        acct = self.client.v1.accounts.create(params={
            "type": "standard", "country": "IE", "email": "billing-test@fernhill-languages.ie",
            "business_profile": {"name": "Fernhill Languages (test)"}})
        opts = {"stripe_account": acct.id}
        product = self.client.v1.products.create(params={"name": "Fernhill Plus"}, options=opts)
        price = self.client.v1.prices.create(params={
            "product": product.id, "currency": "eur", "unit_amount": 1990,
            "recurring": {"interval": "month"},
            "metadata": {"plan_code": "plus", "features": fh.PLANS["plus"]["features"]}},
            options=opts)
        customer = self.client.v1.customers.create(params={
            "email": "qa@fernhill-languages.ie", "name": "QA Fernhill",
            "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"}}, options=opts)
        sub = d(self.client.v1.subscriptions.create(params={
            "customer": customer.id, "items": [{"price": price.id}]}, options=opts))
        now = self.clock.now() + 10 * MIN
        member_id = self.conn.execute(text(
            "INSERT INTO members (email, display_name, stripe_ref, joined, closed) "
            "VALUES ('qa@fernhill-languages.ie', 'QA Fernhill', :c, :j, false) RETURNING id"),
            {"c": customer.id, "j": "2023-09-12T09:30:00+01:00"}).scalar()
        membership_id = self.conn.execute(text(
            "INSERT INTO memberships (member_id, stripe_subscription, plan_code, state, "
            "renews_on, updated) VALUES (:m, :s, 'plus', 'live', :r, :u) RETURNING id"),
            {"m": member_id, "s": sub["id"], "r": fh.day(fh.sub_period_end(sub)),
             "u": fh.iso_z(now)}).scalar()
        self.extra["qa"] = {"account": acct.id, "customer": customer.id, "sub": sub["id"],
                            "member_id": member_id, "membership_id": membership_id}

    # -- running ---------------------------------------------------------------------------
    def run(self) -> Obj:
        self.cast_people()
        self.clock.set(at(0, 6))
        self.plan_story()
        for action in sorted(self.actions, key=lambda a: (a.ts, a.seq)):
            self.clock.advance_to(action.ts)
            self.endpoint.run_until(action.ts)
            action.run()
            self.endpoint.run_until(action.ts)
        self.clock.advance_to(T_END)
        self.endpoint.run_until(T_END)
        self.clock.close()
        return self.answer_key()

    # -- the answer key --------------------------------------------------------------------
    def q(self, sql: str, **params: Any) -> list[Any]:
        return list(self.conn.execute(text(sql), params))

    def one(self, sql: str, **params: Any) -> Any:
        rows = self.q(sql, **params)
        if len(rows) != 1:
            raise AssertionError(f"expected one row for {sql} {params}, got {rows}")
        return rows[0][0]

    def access_rows(self, member_id: int, features: list[str]) -> str:
        rows = self.q("SELECT id FROM course_access WHERE member_id = :m "
                      "AND feature = ANY(:f) AND revoked_at IS NULL ORDER BY id",
                      m=member_id, f=features)
        if not rows:
            raise AssertionError(f"no active access rows for member {member_id} {features}")
        return ",".join(str(r[0]) for r in rows)

    def answer_key(self) -> Obj:
        key: Obj = {"system": SYSTEM, "server": "replica", "seed": self.seed,
                    "world": {"from": fh.iso_z(at(0, 6)), "to": fh.iso_z(T_END),
                              "events": len(self.endpoint.events)},
                    "planted": [], "not_planted": []}
        if not self.plant:
            return key
        P = self.people
        X = self.extra
        planted: list[Obj] = key["planted"]

        def add(cls: str, stripe_id: str | None, obj: str, table: str | None,
                row: str | int | None, why: str, **more: Any) -> None:
            entry = {"class": cls, "stripe_id": stripe_id, "stripe_object": obj,
                     "local": {"table": table, "key": None if row is None else str(row)},
                     "why": why}
            entry.update(more)
            planted.append(entry)

        def membership(person: Person, sub: str | None = None) -> int:
            return self.one("SELECT id FROM memberships WHERE stripe_subscription = :s",
                            s=sub or person.sub)

        def bill(invoice: str) -> int:
            return self.one("SELECT id FROM bills WHERE stripe_invoice = :i", i=invoice)

        def plan_features(plan: str) -> list[str]:
            return fh.PLANS[plan]["features"].split(",")

        # -- the two deploy windows
        for n, (start, end) in enumerate(X["gaps"], 1):
            inside = [e for e in self.endpoint.events if start <= e["created"] < end]
            add("WEBHOOK_GAP", inside[0]["id"] if inside else None, "event",
                "stripe_events_seen", None,
                f"deploy #{n}: the new release answered 200 to every webhook but its queue "
                "worker never started; no event in the window was processed or logged",
                window={"from": fh.iso_z(start), "to": fh.iso_z(end)},
                events=[e["id"] for e in inside])
        g1 = P["g1"]
        g1_inv = self.latest_open_invoice(g1)
        add("UNAPPLIED_PAYMENT", g1_inv, "invoice", "bills", bill(g1_inv),
            "invoice paid in Stripe during deploy #1 (member updated the card and paid the "
            "overdue invoice); invoice.paid lost: bill still 'due', no bill_payments row")
        add("STALE_STATE", g1.sub, "subscription", "memberships", membership(g1),
            "subscription back to active during deploy #1; the update was lost: membership "
            "still 'grace'")
        m9 = P["m9"]
        m9_inv = self.latest_open_invoice(m9)
        add("MISSING_LOCAL", m9_inv, "invoice", "bills", None,
            "renewal invoice finalized (and its charge declined) during deploy #2; "
            "invoice.finalized lost, later payment_failed events found no bill: no bills row")
        add("STALE_STATE", m9.sub, "subscription", "memberships", membership(m9),
            "subscription went past_due during deploy #2; membership still 'live' "
            "(should be 'grace')")
        g3 = P["g3"]
        add("STALE_STATE", g3.sub, "subscription", "memberships", membership(g3),
            "member cancelled in the portal during deploy #2; customer.subscription.deleted "
            "lost: membership still 'live' (should be 'lapsed')")
        add("ORPHAN_APPLICATION", g3.sub, "subscription", "course_access",
            self.access_rows(g3.member_id, plan_features("tutor_pro")),
            "tutor_pro features still granted after the subscription was cancelled (the "
            "cancellation was lost in deploy #2): nothing paid for the time since")

        # -- retries, races, late and repeated deliveries
        r1, r2 = P["r1"], P["r2"]
        add("STATE_REGRESSION", r1.sub, "subscription", "memberships", membership(r1),
            "customer.subscription.trial_will_end (trialing snapshot) failed for days and "
            "was re-sent by hand after the trial had ended and the 'live' update was "
            "applied: membership back to 'trialling', renews_on back to the trial end")
        add("STATE_REGRESSION", r2.sub, "subscription", "memberships", membership(r2),
            "the past_due update timed out (but was applied) and Stripe's retry arrived "
            "after the member had paid and the 'live' update was applied: membership back "
            "to 'grace'")
        p1_rows = self.q("SELECT id FROM pack_orders WHERE stripe_payment = :p ORDER BY id",
                         p=self.packs["p1"])
        assert len(p1_rows) == 2, p1_rows
        add("DUPLICATE_LOCAL_EFFECT", self.packs["p1"], "payment_intent", "pack_orders",
            p1_rows[1][0],
            "payment_intent.created handled twice concurrently (first attempt blocked 31 s "
            f"on a lock, Stripe retried): second pack_orders row (first is {p1_rows[0][0]})")
        m3_inv = self.one("SELECT b.stripe_invoice FROM bills b JOIN bill_payments p ON "
                          "p.bill_id = b.id WHERE b.member_id = :m GROUP BY b.stripe_invoice "
                          "HAVING count(*) = 2", m=P["m3"].member_id)
        pays = self.q("SELECT p.id FROM bill_payments p JOIN bills b ON b.id = p.bill_id "
                      "WHERE b.stripe_invoice = :i ORDER BY p.id", i=m3_inv)
        add("DUPLICATE_LOCAL_EFFECT", m3_inv, "invoice", "bill_payments", pays[1][0],
            "invoice.paid retried while the first attempt was still running: the renewal "
            f"was applied twice (bill_payments {pays[0][0]} and {pays[1][0]} on bill "
            f"{bill(m3_inv)})", bill=str(bill(m3_inv)))
        m4_inv = self.one("SELECT b.stripe_invoice FROM bills b LEFT JOIN bill_payments p ON "
                          "p.bill_id = b.id WHERE b.member_id = :m AND b.state = 'settled' "
                          "AND b.total > 0 GROUP BY b.stripe_invoice HAVING count(p.id) = 0",
                          m=P["m4"].member_id)
        add("UNAPPLIED_PAYMENT", m4_inv, "invoice", "bills", bill(m4_inv),
            "invoice.paid: the state update committed, the bill_payments insert deadlocked "
            "(logged error); Stripe's retry found the bill 'settled' and was ignored: no "
            "payment applied")
        p4 = self.packs["p4"]
        add("STALE_STATE", p4, "payment_intent", "pack_orders",
            self.one("SELECT id FROM pack_orders WHERE stripe_payment = :p", p=p4),
            "pack refunded in full by support; every charge.refunded delivery crashed: "
            "order still 'paid' (should be 'refunded')")
        add("REVERSED_AFTER_APPLICATION", p4, "payment_intent", "course_access",
            self.access_rows(P["m3"].member_id, ["pack:BUSINESS_EN"]),
            "the refund was never applied, so pack:BUSINESS_EN was never revoked")

        # -- buggy releases
        for hit in self.handler.bug_hits:
            current = self.one(f"SELECT {'total' if hit.table == 'bills' else 'price'} "
                               f"FROM {hit.table} WHERE id = :i", i=hit.row_id)
            if Decimal(current) == hit.correct:
                continue
            sub = "exponent" if hit.bug == "legacy_two_decimals" else "rounding"
            obj = "invoice" if hit.table == "bills" else "payment_intent"
            why = ("release 2026.02.1 wrote the amount with the ported Rails two-decimals "
                   f"helper: {hit.correct} {hit.ccy} stored as {hit.written}"
                   if sub == "exponent" else
                   "hotfix 2026.01.3 converted with float division + ROUND_DOWN: "
                   f"{hit.correct} {hit.ccy} stored as {hit.written}")
            add(f"AMOUNT_MISMATCH.{sub}", hit.stripe_id, obj, hit.table, hit.row_id, why)
        for label in ("v1", "v2"):
            pi = self.packs[label]
            add("AMOUNT_MISMATCH.other", pi, "payment_intent", "pack_orders",
                self.one("SELECT id FROM pack_orders WHERE stripe_payment = :p", p=pi),
                "voucher SPRING20 lowered the PaymentIntent's amount after the order row was "
                "written at list price; the handler never updates price")
        for label, person in (("p10", P["m8"]), ("p11", P["m4"])):
            pi = self.packs[label]
            code = self.one("SELECT pack_code FROM pack_orders WHERE stripe_payment = :p", p=pi)
            add("APPLIED_BEFORE_FINAL", pi, "payment_intent", "course_access",
                self.access_rows(person.member_id, [f"pack:{code}"]),
                "release 2026.03.1 grants packs on payment_intent.processing: SEPA debit "
                "still processing, access already granted")
        p6 = self.packs["p6"]
        add("REVERSED_AFTER_APPLICATION", p6, "payment_intent", "course_access",
            self.access_rows(P["m7"].member_id, ["pack:DELE_B2"]),
            "granted while the SEPA debit was processing (release 2026.03.1); the debit "
            "failed five days later and access was never revoked (order correctly 'waiting')")
        disp = self.packs["disp"]
        disputes = [x for x in self.client.v1.disputes.list(params={"limit": 100}).data
                    if d(self.client.v1.charges.retrieve(x.charge)).get("payment_intent")
                    == disp]
        add("REVERSED_AFTER_APPLICATION", disp, "payment_intent", "course_access",
            self.access_rows(P["m4"].member_id, ["pack:DELE_B2"]),
            "charge disputed (funds withdrawn) a day after purchase; the handler has no "
            "dispute branch, pack:DELE_B2 still granted",
            dispute=disputes[0].id if disputes else None)
        add("MISSING_LOCAL", self.packs["p7"], "payment_intent", "pack_orders", None,
            "DELE_B2 went on sale before the backend knew the pack code: "
            "payment_intent.created logged 'error' (unknown pack code), no order row")
        m13 = P["m13"]
        add("ORPHAN_APPLICATION", m13.sub, "subscription", "course_access",
            self.access_rows(m13.member_id, plan_features("plus")),
            "support unlocked Plus by hand while the rejoin payment waited for 3-D Secure; "
            "it never completed (subscription incomplete_expired) and nobody revoked it")
        add("ORPHAN_APPLICATION", self.packs["p8"], "payment_intent", "course_access",
            self.access_rows(P["m12"].member_id, ["pack:JLPT_N3"]),
            "the old checkout return page granted the pack before 3-D Secure finished; the "
            "member then cancelled the order (PaymentIntent canceled, order 'failed')")
        for label in ("dbl1", "dbl2"):
            first, second = X[label]
            recorded = [pi for pi in (first, second) if self.q(
                "SELECT 1 FROM pack_orders WHERE stripe_payment = :p", p=pi)]
            assert len(recorded) == 1, (label, recorded)
            extra = second if recorded[0] == first else first
            add("DUPLICATE_REMOTE", extra, "payment_intent", "pack_orders",
                self.one("SELECT id FROM pack_orders WHERE stripe_payment = :p",
                         p=recorded[0]),
                "double-click on Pay: two PaymentIntents (both charged) for one pack order; "
                f"the order row holds {recorded[0]}", duplicate_of=recorded[0])
        for label in ("draft1", "draft2"):
            inv = X[label]
            add("ORPHAN_LOCAL", inv, "invoice", "bills", bill(inv),
                "release 2026.03.9 copied invoices on invoice.created; support deleted the "
                "draft the same day, so the bill points at an invoice that no longer exists")
        qa = X["qa"]
        add("ENV_MISMATCH", qa["customer"], "customer", "members", qa["member_id"],
            "test-mode customer id pasted by hand into a live member row (it exists only in "
            f"Fernhill's separate test account {qa['account']})", account=qa["account"])
        add("ENV_MISMATCH", qa["sub"], "subscription", "memberships", qa["membership_id"],
            "test-mode subscription id pasted by hand into a live membership row (it exists "
            f"only in the test account {qa['account']})", account=qa["account"])
        self.check_gaps(key)
        return key

    def check_gaps(self, key: Obj) -> None:
        """The deploy windows must hold only the story's events (a world-building check)."""
        P = self.people
        allowed = {P[n].customer for n in ("g1", "g3", "m9")}
        for name in ("g1", "g3", "m9"):
            allowed.update(i.id for i in self.client.v1.invoices.list(
                params={"customer": P[name].customer, "limit": 100}).auto_paging_iter())
        for entry in key["planted"]:
            if entry["class"] != "WEBHOOK_GAP":
                continue
            for event in self.endpoint.events:
                if event["id"] not in entry["events"]:
                    continue
                obj = event["data"]["object"]
                owner = obj.get("customer") or obj.get("invoice") or obj.get("id")
                if event["type"] != "balance.available" and owner not in allowed:
                    raise AssertionError(f"unexpected event in a deploy window: {event['type']}"
                                         f" {obj.get('id')}")


# -- localstripe -------------------------------------------------------------------------
def new_card(client: stripe.StripeClient, number: str) -> str:
    return client.v1.payment_methods.create(params={"type": "card", "card": {
        "number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"}}).id


class LocalstripeStory:
    """The subset localstripe can hold: Plans instead of Prices (no lookup_key), no trials
    (localstripe leaves trialing subscriptions 'incomplete' with no invoice), no clock (no
    renewals, dunning, SEPA settlement or disputes), no payment_intent.created /
    invoice.finalized / charge.refunded events. Fernhill's rows therefore come from their
    nightly `resync` job; the log records the events localstripe does emit."""

    NOT_PLANTED = [
        {"class": "ENV_MISMATCH",
         "why": "localstripe has one store, no accounts and no live mode: an id from another "
                "account or mode cannot exist there, it would only be an ORPHAN_LOCAL"},
    ]
    LIMITS = [
        "Plans stand in for Prices (localstripe has no /v1/prices, so no lookup_key); the "
        "plan id is the lookup key (plus_monthly_eur) and metadata carries plan_code",
        "no trials, renewals, dunning, pauses or SEPA settlement: no clock, and trialing "
        "subscriptions stay 'incomplete' with no invoice",
        "STATE_REGRESSION uses the customer.subscription.created snapshot (incomplete) "
        "applied after the subscription's invoice was paid (no subscription.updated events)",
        "APPLIED_BEFORE_FINAL uses a 3-D Secure PaymentIntent left in requires_action "
        "(localstripe's SEPA debit settles after 0.5 s, so 'processing' cannot be held)",
        "AMOUNT_MISMATCH.other: PaymentIntent amounts cannot be updated on localstripe; the "
        "voucher orders are created at the discounted amount and the row keeps list price",
        "ORPHAN_LOCAL: localstripe cannot create draft invoices with items; its deleted "
        "customers answer 404, so a member still pointing at an erased customer is used",
        "event timestamps are localstripe's wall clock; windows are seconds long",
    ]

    def __init__(self, client: stripe.StripeClient, conn: Connection, seed: int,
                 plant: bool) -> None:
        self.client = client
        self.conn = conn
        self.seed = seed
        self.plant = plant
        self.rng = random.Random(f"fernhill:ls:{seed}")
        self.cast = Cast(random.Random(f"fernhill:ls:cast:{seed}"))
        self.people: dict[str, Person] = {}
        self.plans: dict[tuple[str, str], str] = {}
        self.packs: dict[str, str] = {}
        self.windows: list[tuple[float, float]] = []
        self.marks: dict[str, Any] = {}
        self.handler = fh.WebhookHandler(conn)

    def person(self, name: str, country: str, *, closed: bool = False,
               paying: bool = True) -> Person:
        joined = at(-self.rng.randrange(30, 1400), self.rng.randrange(7, 22))
        person = self.cast.person(name, country, joined)
        self.people[name] = person
        person.member_id = self.conn.execute(text(
            "INSERT INTO members (email, display_name, stripe_ref, joined, closed) "
            "VALUES (:e, :n, NULL, :j, :c) RETURNING id"),
            {"e": person.email, "n": person.name, "j": iso_local(person.joined, person.tz),
             "c": closed}).scalar()
        if paying:
            customer = self.client.v1.customers.create(params={
                "email": person.email, "name": person.name,
                "metadata": {"fernhill_member_id": str(person.member_id)}})
            person.customer = customer.id
            self.conn.execute(text("UPDATE members SET stripe_ref = :c WHERE id = :m"),
                              {"c": customer.id, "m": person.member_id})
        return person

    def card(self, person: Person, number: str = "4242424242424242") -> str:
        pm = new_card(self.client, number)
        self.client.v1.payment_methods.attach(pm, params={"customer": person.customer})
        self.client.v1.customers.update(person.customer, params={
            "invoice_settings": {"default_payment_method": pm}})
        return pm

    def subscribe(self, person: Person, plan: str) -> str:
        sub = self.client.v1.subscriptions.create(params={
            "customer": person.customer, "items": [{"plan": self.plans[(plan, person.ccy)]}],
            "metadata": {"fernhill_member_id": str(person.member_id)}})
        person.sub = sub.id
        return sub.id

    def pack(self, person: Person, code: str, label: str, *, number: str = "4242424242424242",
             confirm: bool = True, amount: int | None = None, voucher: str | None = None) -> str:
        price = fh.to_minor(fh.PACKS[code]["price"][person.ccy], person.ccy)
        meta = {"kind": "course_pack", "pack_code": code,
                "fernhill_member_id": str(person.member_id)}
        if voucher:
            meta["voucher"] = voucher
        params: Obj = {"amount": amount or price, "currency": person.ccy.lower(),
                       "customer": person.customer, "metadata": meta}
        if confirm:
            params["payment_method"] = new_card(self.client, number)
            params["confirm"] = True
        self.packs[label] = self.client.v1.payment_intents.create(params=params).id
        return self.packs[label]

    def window(self, name: str, fn: Callable[[], None]) -> None:
        time.sleep(1.2)
        start = time.time()
        fn()
        time.sleep(1.2)
        self.windows.append((int(start), int(time.time()) - 1))

    def run(self) -> Obj:
        c = self.client
        self.started = int(time.time())
        for code, plan in fh.PLANS.items():
            product = c.v1.products.create(params={"name": plan["name"],
                                                   "metadata": {"plan_code": code}})
            for ccy, major in plan["month"].items():
                pid = fh.lookup_key(code, "month", ccy)
                c.v1.plans.create(params={
                    "id": pid, "product": product.id, "currency": ccy.lower(),
                    "amount": fh.to_minor(major, ccy), "interval": "month",
                    "nickname": f"{plan['name']} monthly {ccy}",
                    "metadata": {"plan_code": code, "features": plan["features"]}})
                self.plans[(code, ccy)] = pid
        for i in range(6):
            self.person(f"free{i}", self.rng.choice(["IE", "GB", "FR", "JP"]), paying=False)
        self.person("closed_free", "DE", closed=True, paying=False)
        roster = [("l1", "IE", "plus"), ("l2", "JP", "plus"), ("l3", "GB", "tutor_pro"),
                  ("l4", "FR", "starter"), ("l5", "GB", "plus"), ("l6", "DE", "tutor_pro"),
                  ("l7", "ES", "plus"), ("l8", "JP", "starter"), ("l9", "IE", "plus"),
                  ("l10", "GB", "starter"), ("l11", "FR", "plus"), ("l12", "DE", "plus")]
        for name, country, plan in roster:
            person = self.person(name, country)
            if name in ("l9", "l11", "l12"):
                self.card(person, "4000000000000341")     # charge declines
            else:
                self.card(person)
            self.subscribe(person, plan)
        P = self.people
        c.v1.subscriptions.cancel(P["l7"].sub)                         # lapsed
        c.v1.invoices.void_invoice(d(c.v1.subscriptions.retrieve(P["l9"].sub))["latest_invoice"])
        # packs
        self.pack(P["l1"], "BUSINESS_EN", "paid")
        self.pack(P["l2"], "JLPT_N3", "paid_jpy")
        self.pack(P["l3"], "DELE_B2", "part")
        c.v1.refunds.create(params={"payment_intent": self.packs["part"],
                                    "amount": fh.to_minor("10.00", "GBP")})
        self.pack(P["l4"], "BUSINESS_EN", "refunded")
        c.v1.refunds.create(params={"payment_intent": self.packs["refunded"]})
        self.pack(P["l5"], "JLPT_N3", "3ds", number="4000002760003184")
        self.pack(P["l6"], "BUSINESS_EN", "unconfirmed", confirm=False)
        c.v1.payment_intents.cancel(self.pack(P["l10"], "DELE_B2", "cancelled", confirm=False))
        for amount in (2500, 5000):
            c.v1.payment_intents.create(params={
                "amount": amount, "currency": "eur", "payment_method": new_card(
                    c, "4242424242424242"), "confirm": True,
                "metadata": {"kind": "gift_card", "partner": "GiftLoop"}})
        if self.plant:
            self.stripe_side_incidents()
        time.sleep(1.2)
        fh.resync(self.conn, c)
        if self.plant:     # GDPR erasure in the Dashboard after the last resync
            c.v1.customers.delete(self.people["l4"].customer)
        events = list_events(c, self.started)
        events.reverse()
        self.events = events
        key: Obj = {"system": SYSTEM, "server": "localstripe", "seed": self.seed,
                    "world": {"events": len(events)}, "planted": [],
                    "not_planted": list(self.NOT_PLANTED) if self.plant else [],
                    "limits": self.LIMITS}
        if self.plant:
            self.row_incidents(key)
        self.write_log(events)
        return key

    def stripe_side_incidents(self) -> None:
        c = self.client
        P = self.people
        # gap A: l5 cancels (customer.subscription.deleted never processed)
        self.window("A", lambda: c.v1.subscriptions.cancel(P["l5"].sub))
        # gap B: l7 rejoins (new card declines: subscription incomplete, invoice open) and
        # l8 starts a DELE_B2 order that waits for 3-D Secure
        def gap_b() -> None:
            self.card(P["l7"], "4000000000000341")
            self.marks["rejoin_sub"] = self.subscribe(P["l7"], "plus")
            self.pack(P["l8"], "DELE_B2", "gap_pack", number="4000002760003184")
        self.window("B", gap_b)
        # regressions: l11 / l12 fix their card and pay the first invoice
        for name in ("l11", "l12"):
            self.card(P[name])
            c.v1.invoices.pay(d(c.v1.subscriptions.retrieve(P[name].sub))["latest_invoice"])
        # double-clicks
        for name, code, label in (("l3", "JLPT_N3", "dbl1"), ("l6", "DELE_B2", "dbl2")):
            first = self.pack(P[name], code, f"{label}a")
            second = self.pack(P[name], code, f"{label}b")
            self.marks[label] = (first, second)
        # vouchers (created at the discounted amount)
        for name, code, label in (("l1", "JLPT_N3", "v1"), ("l10", "BUSINESS_EN", "v2")):
            ccy = P[name].ccy
            self.pack(P[name], code, label, voucher="SPRING20",
                      amount=fh.to_minor(fh.PACKS[code]["price"][ccy], ccy) * 80 // 100)
        # 3-D Secure orders granted early
        self.pack(P["l2"], "DELE_B2", "abf1", number="4000002760003184")
        self.pack(P["l10"], "JLPT_N3", "abf2", number="4000002760003184")
        # a refund whose status update and revocation never happened
        self.pack(P["l12"], "JLPT_N3", "refund_lost")
        c.v1.refunds.create(params={"payment_intent": self.packs["refund_lost"]})
        # a cancelled order whose access was granted by the old return page
        c.v1.payment_intents.cancel(self.pack(P["l11"], "BUSINESS_EN", "ret_page",
                                              confirm=False))

    # row-level incidents + the key (localstripe)
    def row_incidents(self, key: Obj) -> None:  # noqa: C901
        conn = self.conn
        P = self.people
        planted: list[Obj] = key["planted"]

        def add(cls: str, stripe_id: str | None, obj: str, table: str | None,
                row: Any, why: str, **more: Any) -> None:
            entry = {"class": cls, "stripe_id": stripe_id, "stripe_object": obj,
                     "local": {"table": table, "key": None if row is None else str(row)},
                     "why": why}
            entry.update(more)
            planted.append(entry)

        def val(sql: str, **params: Any) -> Any:
            return conn.execute(text(sql), params).scalar()

        def order(label: str) -> int:
            return val("SELECT min(id) FROM pack_orders WHERE stripe_payment = :p",
                       p=self.packs[label])

        def grant(person: Person, feature: str) -> int:
            return val("INSERT INTO course_access (member_id, feature, granted_at) "
                       "VALUES (:m, :f, now()) RETURNING id",
                       m=person.member_id, f=feature)

        def active(person: Person, features: list[str]) -> str:
            rows = conn.execute(text(
                "SELECT id FROM course_access WHERE member_id = :m AND feature = ANY(:f) "
                "AND revoked_at IS NULL ORDER BY id"),
                {"m": person.member_id, "f": features}).scalars().all()
            return ",".join(map(str, rows))

        # gap A: l5's cancellation never processed: undo what resync wrote
        l5 = P["l5"]
        ms = val("SELECT id FROM memberships WHERE stripe_subscription = :s", s=l5.sub)
        conn.execute(text("UPDATE memberships SET state = 'live' WHERE id = :i"), {"i": ms})
        conn.execute(text("UPDATE course_access SET revoked_at = NULL WHERE member_id = :m "
                          "AND feature NOT LIKE 'pack:%'"), {"m": l5.member_id})
        # gap B: the rejoin and the pending DELE_B2 order never reached the tables
        conn.execute(text("DELETE FROM pack_orders WHERE stripe_payment = :p"),
                     {"p": self.packs["gap_pack"]})
        rejoin = d(self.client.v1.subscriptions.retrieve(self.marks["rejoin_sub"]))
        conn.execute(text("DELETE FROM memberships WHERE stripe_subscription = :s"),
                     {"s": rejoin["id"]})
        conn.execute(text("DELETE FROM bills WHERE stripe_invoice = :i"),
                     {"i": rejoin["latest_invoice"]})
        for name, (start, end) in zip("AB", self.windows, strict=True):
            inside = [e for e in self.events if start <= e["created"] <= end]
            add("WEBHOOK_GAP", inside[0]["id"] if inside else None, "event",
                "stripe_events_seen", None,
                f"deploy {name}: webhooks acknowledged, never processed or logged",
                window={"from": fh.iso_z(start), "to": fh.iso_z(end + 1)},
                events=[e["id"] for e in inside])
        add("STALE_STATE", l5.sub, "subscription", "memberships", ms,
            "cancelled during deploy A; membership still 'live'")
        add("ORPHAN_APPLICATION", l5.sub, "subscription", "course_access",
            active(l5, fh.PLANS["plus"]["features"].split(",")),
            "Plus features still granted after the cancellation lost in deploy A")
        add("MISSING_LOCAL", self.packs["gap_pack"], "payment_intent", "pack_orders", None,
            "course-pack order created during deploy B (waiting for 3-D Secure): no row")
        add("MISSING_LOCAL", rejoin["id"], "subscription", "memberships", None,
            "member rejoined during deploy B (card declined, subscription incomplete): "
            "customer.subscription.created lost, no membership row")
        add("MISSING_LOCAL", rejoin["latest_invoice"], "invoice", "bills", None,
            "the rejoin's first invoice was finalized during deploy B (open, charge "
            "declined): no bills row")
        # regressions: Stripe re-delivers customer.subscription.created (incomplete) after
        # the member fixed the card and the first invoice was paid; the handler applies it
        for n, name in enumerate(("l11", "l12")):
            person = P[name]
            created = next(e for e in self.events
                           if e["type"] == "customer.subscription.created"
                           and e["data"]["object"]["id"] == person.sub)
            self.handler.deliver(created, time.time() + 2 + n)
            ms = val("SELECT id FROM memberships WHERE stripe_subscription = :s", s=person.sub)
            add("STATE_REGRESSION", person.sub, "subscription", "memberships", ms,
                "customer.subscription.created (status incomplete) re-delivered after the "
                "first invoice was paid and applied last: membership back to 'pending' "
                "(the handler also withdrew the plan's features)")
        # unapplied payments
        l1_inv = val("SELECT id FROM bills WHERE member_id = :m", m=P["l1"].member_id)
        conn.execute(text("UPDATE bills SET state = 'due' WHERE id = :i"), {"i": l1_inv})
        conn.execute(text("DELETE FROM bill_payments WHERE bill_id = :i"), {"i": l1_inv})
        add("UNAPPLIED_PAYMENT", val("SELECT stripe_invoice FROM bills WHERE id = :i",
                                     i=l1_inv), "invoice", "bills", l1_inv,
            "invoice.payment_succeeded lost: bill still 'due', no payment applied")
        l3_inv = val("SELECT id FROM bills WHERE member_id = :m", m=P["l3"].member_id)
        conn.execute(text("DELETE FROM bill_payments WHERE bill_id = :i"), {"i": l3_inv})
        add("UNAPPLIED_PAYMENT", val("SELECT stripe_invoice FROM bills WHERE id = :i",
                                     i=l3_inv), "invoice", "bills", l3_inv,
            "state committed as 'settled', bill_payments insert deadlocked; never retried")
        # duplicates
        dup = conn.execute(text(
            "INSERT INTO pack_orders (member_id, stripe_payment, pack_code, price, ccy, "
            "status, updated) SELECT member_id, stripe_payment, pack_code, price, ccy, "
            "status, updated FROM pack_orders WHERE id = :i RETURNING id"),
            {"i": order("paid")}).scalar()
        add("DUPLICATE_LOCAL_EFFECT", self.packs["paid"], "payment_intent", "pack_orders",
            dup, "payment_intent.succeeded handled twice concurrently: second order row")
        l6_inv = val("SELECT id FROM bills WHERE member_id = :m", m=P["l6"].member_id)
        dup_pay = conn.execute(text(
            "INSERT INTO bill_payments (bill_id, amount, applied_at) SELECT bill_id, amount, "
            "applied_at FROM bill_payments WHERE bill_id = :i RETURNING id"),
            {"i": l6_inv}).scalar()
        add("DUPLICATE_LOCAL_EFFECT", val("SELECT stripe_invoice FROM bills WHERE id = :i",
                                          i=l6_inv), "invoice", "bill_payments", dup_pay,
            "invoice.payment_succeeded retried mid-flight: payment applied twice",
            bill=str(l6_inv))
        for label in ("dbl1", "dbl2"):
            first, second = self.marks[label]
            conn.execute(text("DELETE FROM pack_orders WHERE stripe_payment = :p"),
                         {"p": second})
            add("DUPLICATE_REMOTE", second, "payment_intent", "pack_orders",
                val("SELECT min(id) FROM pack_orders WHERE stripe_payment = :p", p=first),
                "double-click on Pay: two PaymentIntents (both charged) for one order",
                duplicate_of=first)
        # amounts
        jpy_pack = order("paid_jpy")
        conn.execute(text("UPDATE pack_orders SET price = price * 100 WHERE id = :i"),
                     {"i": jpy_pack})
        add("AMOUNT_MISMATCH.exponent", self.packs["paid_jpy"], "payment_intent",
            "pack_orders", jpy_pack, "JPY price written by the two-decimals helper (x100)")
        jpy_bill = val("SELECT id FROM bills WHERE member_id = :m", m=P["l2"].member_id)
        conn.execute(text("UPDATE bills SET total = total * 100 WHERE id = :i"),
                     {"i": jpy_bill})
        add("AMOUNT_MISMATCH.exponent", val("SELECT stripe_invoice FROM bills WHERE id = :i",
                                            i=jpy_bill), "invoice", "bills", jpy_bill,
            "JPY total written by the two-decimals helper (x100)")
        for name in ("l11", "l12"):     # plus EUR 19.90 -> 19.89
            b = val("SELECT id FROM bills WHERE member_id = :m AND state = 'settled'",
                    m=P[name].member_id)
            conn.execute(text("UPDATE bills SET total = total - 0.01 WHERE id = :i"), {"i": b})
            add("AMOUNT_MISMATCH.rounding", val("SELECT stripe_invoice FROM bills WHERE "
                                                "id = :i", i=b), "invoice", "bills", b,
                "float division + ROUND_DOWN: 19.90 stored as 19.89")
        for label in ("v1", "v2"):
            row = order(label)
            code, ccy = conn.execute(text("SELECT pack_code, ccy FROM pack_orders "
                                          "WHERE id = :i"), {"i": row}).one()
            conn.execute(text("UPDATE pack_orders SET price = :p WHERE id = :i"),
                         {"p": Decimal(fh.PACKS[code]["price"][ccy]), "i": row})
            add("AMOUNT_MISMATCH.other", self.packs[label], "payment_intent", "pack_orders",
                row, "voucher order: Stripe charged the discounted amount, the row keeps the "
                "catalogue price")
        # access
        for label, name in (("abf1", "l2"), ("abf2", "l10")):
            code = val("SELECT pack_code FROM pack_orders WHERE id = :i", i=order(label))
            add("APPLIED_BEFORE_FINAL", self.packs[label], "payment_intent", "course_access",
                grant(P[name], f"pack:{code}"),
                "pack granted while the PaymentIntent still waits for 3-D Secure")
        rl = order("refund_lost")
        conn.execute(text("UPDATE pack_orders SET status = 'paid' WHERE id = :i"), {"i": rl})
        conn.execute(text("UPDATE course_access SET revoked_at = NULL WHERE member_id = :m "
                          "AND feature = 'pack:JLPT_N3'"), {"m": P["l12"].member_id})
        add("STALE_STATE", self.packs["refund_lost"], "payment_intent", "pack_orders", rl,
            "full refund never applied: order still 'paid'")
        add("REVERSED_AFTER_APPLICATION", self.packs["refund_lost"], "payment_intent",
            "course_access", active(P["l12"], ["pack:JLPT_N3"]),
            "refunded in full, pack:JLPT_N3 still granted")
        conn.execute(text("UPDATE course_access SET revoked_at = NULL WHERE member_id = :m "
                          "AND feature = 'pack:BUSINESS_EN'"), {"m": P["l4"].member_id})
        add("REVERSED_AFTER_APPLICATION", self.packs["refunded"], "payment_intent",
            "course_access", active(P["l4"], ["pack:BUSINESS_EN"]),
            "order correctly 'refunded', but the revocation step failed: pack still granted")
        add("ORPHAN_APPLICATION", self.packs["ret_page"], "payment_intent", "course_access",
            grant(P["l11"], "pack:BUSINESS_EN"),
            "old checkout return page granted the pack; the order was cancelled")
        # orphans
        placeholder = f"pi_{''.join(self.rng.choices('ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789', k=24))}"  # noqa: E501
        row = val("INSERT INTO pack_orders (member_id, stripe_payment, pack_code, price, ccy, "
                  "status, updated) VALUES (:m, :p, 'JLPT_N3', 25.00, 'GBP', 'waiting', :u) "
                  "RETURNING id", m=P["l3"].member_id, p=placeholder,
                  u=fh.iso_offset(time.time()))
        add("ORPHAN_LOCAL", placeholder, "payment_intent", "pack_orders", row,
            "the mobile app wrote the order with the id from a create call that timed out "
            "and was never committed by Stripe")
        add("ORPHAN_LOCAL", P["l4"].customer, "customer", "members", P["l4"].member_id,
            "customer erased in the Dashboard (GDPR request); the member row still points "
            "at it and is not closed")

    def write_log(self, events: list[Obj]) -> None:
        last = 0.0
        for event in events:
            if any(start <= event["created"] <= end for start, end in self.windows):
                continue
            received = max(event["created"] + self.rng.uniform(0.8, 1.6), last + 0.01)
            last = received
            kind = event["type"]
            handled = kind.startswith(("customer.subscription.", "invoice.", "payment_intent.",
                                       "charge.refunded"))
            self.conn.execute(text(
                "INSERT INTO stripe_events_seen (event_id, event_type, received, result) "
                "VALUES (:i, :t, :r, :res)"),
                {"i": event["id"], "t": kind, "r": fh.iso_ms_z(received),
                 "res": "ok" if handled else "ignored"})


# -- entry point ---------------------------------------------------------------------------
CLASSES = ("ENV_MISMATCH", "MISSING_LOCAL", "ORPHAN_LOCAL", "STALE_STATE", "STATE_REGRESSION",
           "UNAPPLIED_PAYMENT", "APPLIED_BEFORE_FINAL", "ORPHAN_APPLICATION",
           "REVERSED_AFTER_APPLICATION", "AMOUNT_MISMATCH.exponent",
           "AMOUNT_MISMATCH.rounding", "AMOUNT_MISMATCH.other", "DUPLICATE_REMOTE",
           "DUPLICATE_LOCAL_EFFECT", "WEBHOOK_GAP")
NO_LOCAL_ROW = ("MISSING_LOCAL", "WEBHOOK_GAP")


def validate_key(key: Obj, plant: bool) -> None:
    """The key must name real rows and, when planting, hold every class at least twice
    (or say in not_planted why it could not)."""
    counts: dict[str, int] = {}
    for entry in key["planted"]:
        cls = entry["class"]
        if cls not in CLASSES:
            raise AssertionError(f"unknown class {cls}")
        counts[cls] = counts.get(cls, 0) + 1
        local = entry["local"]
        if cls not in NO_LOCAL_ROW and not (local and local.get("key")):
            raise AssertionError(f"{cls} {entry['stripe_id']} names no local row")
        if cls == "WEBHOOK_GAP" and not entry.get("events"):
            raise AssertionError("a deploy window without events")
    if plant:
        skipped = {e["class"] for e in key["not_planted"]}
        short = [c for c in CLASSES if counts.get(c, 0) < 2 and c not in skipped]
        if short:
            raise AssertionError(f"fewer than two instances of {short}")
    elif key["planted"]:
        raise AssertionError("a clean world with planted differences")


def build(*, api_base: str, api_key: str, db_url: str, seed: int, plant: bool,
          server: str) -> dict:
    """Create Fernhill's Stripe history and database; return the answer key."""
    client = stripe.StripeClient(api_key, base_addresses={"api": api_base},
                                 max_network_retries=2)
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            fh.apply_schema(conn)
            if server == "replica":
                key = ReplicaStory(client, conn, api_base, api_key, seed, plant).run()
            elif server == "localstripe":
                key = LocalstripeStory(client, conn, seed, plant).run()
            else:
                raise ValueError(f"unknown server {server!r}")
    finally:
        engine.dispose()
    validate_key(key, plant)
    return key
