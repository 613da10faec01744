"""One-off invoices in every status: draft, open, paid, void, uncollectible, paid out of band,
paid from the customer's credit balance; credit notes before and after payment."""

from __future__ import annotations

from sandbox.world.company import local_amount
from sandbox.world.state import CustomerRef, World

KINDS = ("draft", "open", "paid", "void", "uncollectible", "out_of_band", "credit_balance",
         "credit_note_open", "credit_note_paid")


def _invoice(world: World, ref: CustomerRef, kind: str, n: int) -> None:
    currency = ref.place.currency
    amount = local_amount(15000 + 2500 * (n % 5), currency)
    if kind == "credit_balance":
        world.customer_post(ref, f"/v1/customers/{ref.id}/balance_transactions", {
            "amount": -2 * amount, "currency": currency, "description": "goodwill credit"})
    send = kind in ("open", "void", "uncollectible", "out_of_band", "credit_note_open")
    params: dict = {"customer": ref.id, "currency": currency, "auto_advance": False,
                    "collection_method": "send_invoice" if send else "charge_automatically",
                    "metadata": {"scenario": kind}}
    if send:
        params["days_until_due"] = 30
    inv = world.customer_post(ref, "/v1/invoices", params)
    world.customer_post(ref, "/v1/invoiceitems", {
        "customer": ref.id, "invoice": inv["id"], "amount": amount, "currency": currency,
        "description": f"Professional services ({kind})"})
    base = f"/v1/invoices/{inv['id']}"
    # The memo is set once the lines are in (invoice.updated carries the draft's totals).
    world.customer_post(ref, base, {"description": f"Services, order {n:04d}"})
    if kind == "draft":
        return
    world.customer_post(ref, base + "/finalize")
    if kind in ("paid", "credit_note_paid"):
        world.api.try_post(base + "/pay", account=ref.account)
    elif kind == "void":
        world.customer_post(ref, base + "/void")
    elif kind == "uncollectible":
        world.customer_post(ref, base + "/mark_uncollectible")
    elif kind == "out_of_band":
        world.customer_post(ref, base + "/pay", {"paid_out_of_band": True})
    if kind == "credit_note_open":
        world.customer_post(ref, "/v1/credit_notes", {"invoice": inv["id"],
                                                      "amount": amount // 4})
    elif kind == "credit_note_paid":
        world.customer_post(ref, "/v1/credit_notes", {"invoice": inv["id"],
                                                      "amount": amount // 5,
                                                      "refund_amount": amount // 5})


def plan(world: World) -> None:
    # Customers that already pay by card (fates without a failing card) take one-off work.
    payers = [c for c in world.customers if c.index % 20 in (0, 4, 17, 8, 14)]
    for n, ref in enumerate(payers):
        kind = KINDS[n % len(KINDS)]
        world.at(world.day(30, 58), _invoice, world, ref, kind, n)
