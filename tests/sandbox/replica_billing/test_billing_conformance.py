"""Every billing object the replica answers has the top-level keys and JSON types of
Stripe's published example (fixtures3.json), under the rule of
`tests.sandbox.test_replica_conformance` (nulls only where the SDK says nullable)."""

from __future__ import annotations

from typing import Any

from tests.sandbox.replica_billing.support import DAY, Billing
from tests.sandbox.test_replica_conformance import body, conformance_problems, raw


def _world(billing: Billing) -> dict[str, tuple[str, str | None, dict[str, Any]]]:
    c, replica = billing.client, billing.replica
    price = billing.price(1000)
    customer = billing.customer()
    sub = c.v1.subscriptions.create({"customer": customer.id, "items": [{"price": price.id}]})
    trialing = c.v1.subscriptions.create({"customer": customer.id, "trial_period_days": 3,
                                          "items": [{"price": price.id, "quantity": 2}]})
    item = sub["items"].data[0]
    invoice = c.v1.invoices.retrieve(sub.latest_invoice)
    line = c.v1.invoices.line_items.list(invoice.id).data[0]
    payment = c.v1.invoice_payments.list({"invoice": invoice.id}).data[0]
    pending = c.v1.invoice_items.create({"customer": customer.id, "amount": 100,
                                         "currency": "usd"})
    draft = c.v1.invoices.create({"customer": customer.id})
    deleted_item = c.v1.invoice_items.delete(c.v1.invoice_items.create({
        "customer": customer.id, "amount": 5, "currency": "usd"}).id)
    note = c.v1.credit_notes.create({"invoice": invoice.id, "credit_amount": 300, "lines": [
        {"type": "invoice_line_item", "invoice_line_item": line.id, "amount": 300}]})
    txn = c.v1.customers.balance_transactions.create(customer.id, {"amount": 50,
                                                                   "currency": "usd"})
    sched = c.v1.subscription_schedules.create({
        "customer": customer.id, "start_date": replica.admin.now() + DAY,
        "phases": [{"items": [{"price": price.id}], "iterations": 2}]})
    preview = c.v1.invoices.create_preview({"subscription": sub.id})
    deleted_draft = c.v1.invoices.delete(draft.id)
    deleted_si = c.v1.subscription_items.delete(c.v1.subscription_items.create({
        "subscription": sub.id, "price": billing.price(200).id}).id)
    return {
        "subscription": ("subscription", None, body(sub)),
        "subscription (trialing, retrieved)": ("subscription", None,
                                               raw(replica, f"/v1/subscriptions/{trialing.id}")),
        "subscription_item": ("subscription_item", None,
                              raw(replica, f"/v1/subscription_items/{item.id}")),
        "subscription_schedule": ("subscription_schedule", None, body(sched)),
        "invoice": ("invoice", None, body(invoice)),
        "invoice (draft)": ("invoice", None, body(draft)),
        "invoice (preview)": ("invoice", None, body(preview)),
        "line_item": ("line_item", None, body(c.v1.invoices.line_items.list(invoice.id))[
            "data"][0]),
        "invoice_payment": ("invoice_payment", None,
                            raw(replica, f"/v1/invoice_payments/{payment.id}")),
        "invoiceitem": ("invoiceitem", None, body(pending)),
        "credit_note": ("credit_note", None, body(note)),
        "credit_note_line_item": ("credit_note_line_item", None, body(note)["lines"]["data"][0]),
        "customer_balance_transaction": ("customer_balance_transaction", None, body(txn)),
        "deleted_invoice": ("invoice", "deleted_invoice", body(deleted_draft)),
        "deleted_invoiceitem": ("invoiceitem", "deleted_invoiceitem", body(deleted_item)),
        "deleted_subscription_item": ("subscription_item", "deleted_subscription_item",
                                      body(deleted_si)),
    }


def test_every_billing_object_matches_stripes_example(billing: Billing):
    report = {}
    for name, (object_type, example_type, ours) in _world(billing).items():
        problems = conformance_problems(object_type, ours, example_type=example_type)
        if problems:
            report[name] = problems
    assert report == {}


def test_no_private_fields_leak_into_nested_objects(billing: Billing):
    def walk(node: Any, path: str) -> list[str]:
        if isinstance(node, dict):
            return [f"{path}.{k}" for k in node if str(k).startswith("_")] + [
                p for k, v in node.items() for p in walk(v, f"{path}.{k}")]
        if isinstance(node, list):
            return [p for n, v in enumerate(node) for p in walk(v, f"{path}[{n}]")]
        return []

    leaks = {name: walk(ours, name) for name, (_, _, ours) in _world(billing).items()}
    assert {k: v for k, v in leaks.items() if v} == {}
