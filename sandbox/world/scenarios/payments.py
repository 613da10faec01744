"""One-off purchases by payment method, with their real timing: cards (paid, declined), SEPA
and ACH debits that settle or fail days later, OXXO / Boleto / Konbini vouchers paid or
left to expire, bank transfers funded exactly, short or over; and Checkout orders paid by
card, by debit (async succeeded / failed) and one left to expire.

Direct purchases carry ``metadata.order_id`` and ``metadata.feature`` (what the company
fulfils). FM-07 (account layer): some card orders were retried without an Idempotency-Key
after a client timeout, making a second succeeded PaymentIntent for the same order.
"""

from __future__ import annotations

from sandbox.world import company
from sandbox.world.company import local_amount
from sandbox.world.config import DAY
from sandbox.world.state import CustomerRef, World

DOUBLE_CHARGE_EVERY = 3  # FM-07: one card order in this many was sent twice


def _pay(world: World, ref: CustomerRef, pm: str, order: str, *, usd_cents: int = 9900,
         options: dict | None = None, feature: str = "data_export") -> dict | None:
    params = {"amount": local_amount(usd_cents, ref.place.currency),
              "currency": ref.place.currency, "customer": ref.id, "payment_method": pm,
              "confirm": True, "metadata": {"order_id": order, "feature": feature},
              "description": f"Order {order}"}
    if options:
        params["payment_method_options"] = options
    if pm in (company.SEPA_OK, company.SEPA_FAIL, company.ACH_OK, company.ACH_FAIL):
        params["mandate_data"] = {"customer_acceptance": {"type": "offline"}}
    result = world.api.try_post("/v1/payment_intents", params, account=ref.account,
                                idempotency_key=f"order-{order}")
    pi = result if isinstance(result, dict) else None
    if pi and pm == company.CARD and world.bug("FM-07") and int(order[-3:]) % \
            DOUBLE_CHARGE_EVERY == 0:
        world.api.advance_to(world.api.now() + 7)
        again = world.api.post("/v1/payment_intents", params, account=ref.account)
        world.note("FM-07", again["id"], "second PaymentIntent for the same order",
                   first=pi["id"], order_id=order)
    return pi


def _pay_voucher(world: World, ref: CustomerRef, pi_id: str) -> None:
    world.api.try_post(f"/_replica/test_helpers/payment_intents/{pi_id}/pay_voucher",
                       account=ref.account)


def _voucher(world: World, ref: CustomerRef, order: str, paid: bool) -> None:
    kind = ref.place.voucher or "oxxo"
    pi = _pay(world, ref, company.VOUCHERS[kind], order,
              options={kind: {"expires_after_days": 3}})
    if pi and paid:
        world.at(world.api.now() + int(1.5 * DAY), _pay_voucher, world, ref, pi["id"])


def _fund(world: World, ref: CustomerRef, amount: int, reference: str) -> None:
    world.api.try_post(f"/v1/test_helpers/customers/{ref.id}/fund_cash_balance",
                       {"amount": amount, "currency": ref.place.currency,
                        "reference": reference}, account=ref.account)


def _bank_transfer(world: World, ref: CustomerRef, order: str, ratio: float) -> None:
    options = {"customer_balance": {"funding_type": "bank_transfer", "bank_transfer": {
        "type": {"usd": "us_bank_transfer", "eur": "eu_bank_transfer",
                 "gbp": "gb_bank_transfer", "jpy": "jp_bank_transfer",
                 "mxn": "mx_bank_transfer"}.get(ref.place.currency, "us_bank_transfer")}}}
    pi = _pay(world, ref, company.BANK_TRANSFER, order, options=options)
    if pi:
        amount = int(pi["amount"] * ratio)
        world.at(world.api.now() + 2 * DAY, _fund, world, ref, amount, order)


def _checkout(world: World, ref: CustomerRef, order: str, pm: str | None) -> None:
    session = world.api.post("/v1/checkout/sessions", {
        "mode": "payment", "customer": ref.id, "success_url": "https://relay.example/ok",
        "line_items": [{"price": world.prices[f"onboarding_{ref.place.currency}"],
                        "quantity": 1}],
        "metadata": {"order_id": order, "feature": "onboarding"},
        "payment_method_types": ["card", "sepa_debit", "us_bank_account", "oxxo", "boleto",
                                 "konbini"]}, account=ref.account)
    if pm is not None:  # None: the customer never comes back; the session expires after 24 h
        world.api.try_post(f"/_replica/test_helpers/checkout/sessions/{session['id']}/complete",
                           {"payment_method": pm}, account=ref.account)


def _by_place(world: World, pred) -> list[CustomerRef]:
    found = [c for c in world.customers if pred(c.place)]
    return found or world.customers[:1]


def plan(world: World) -> None:
    n = world.config.spec.one_off
    order = iter(range(1, 10**6))

    def at(fn, *args):
        world.at(world.day(3, 56), fn, world, *args)

    anyone = world.customers
    sepa = _by_place(world, lambda p: p.debit == "sepa")
    ach = _by_place(world, lambda p: p.debit == "ach")
    debit = sepa + ach
    bt = _by_place(world, lambda p: p.bank_transfer)
    for _ in range(n):
        pick = world.pick
        at(_pay, pick(anyone), company.CARD, f"ord_{next(order):06d}")
        at(_pay, pick(anyone), company.DECLINE, f"ord_{next(order):06d}")
        at(_pay, pick(sepa), company.SEPA_OK, f"ord_{next(order):06d}")
        at(_pay, pick(sepa), company.SEPA_FAIL, f"ord_{next(order):06d}")
        at(_pay, pick(ach), company.ACH_OK, f"ord_{next(order):06d}")
        at(_pay, pick(ach), company.ACH_FAIL, f"ord_{next(order):06d}")
        for voucher in ("oxxo", "boleto", "konbini"):
            refs = _by_place(world, lambda p, v=voucher: p.voucher == v)
            at(_voucher, pick(refs), f"ord_{next(order):06d}", True)
            at(_voucher, pick(refs), f"ord_{next(order):06d}", False)
        for ratio in (1.0, 0.5, 1.25):
            at(_bank_transfer, pick(bt), f"ord_{next(order):06d}", ratio)
        at(_checkout, pick(anyone), f"ord_{next(order):06d}", company.CARD)
        ref = pick(debit)
        at(_checkout, ref, f"ord_{next(order):06d}",
           company.SEPA_OK if ref.place.debit == "sepa" else company.ACH_OK)
        ref = pick(debit)
        at(_checkout, ref, f"ord_{next(order):06d}",
           company.SEPA_FAIL if ref.place.debit == "sepa" else company.ACH_FAIL)
        at(_checkout, pick(_by_place(world, lambda p: p.voucher == "oxxo")),
           f"ord_{next(order):06d}", company.VOUCHERS["oxxo"])
        at(_checkout, pick(anyone), f"ord_{next(order):06d}", None)
