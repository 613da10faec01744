"""The invoice state machine: finalize, send, pay, void, mark uncollectible.

    draft ──finalize──▶ open ──paid (payment / balance / out of band)──▶ paid
      │ delete            ├──void──▶ void
      ▼                   └──mark_uncollectible──▶ uncollectible ──pay──▶ paid / ──void──▶ void

Finalising assigns ``number`` (customer prefix + sequence), ``hosted_invoice_url`` and
applies the customer's balance (``starting_balance``/``ending_balance``; a credit lowers
``amount_due``, a zero-due invoice is paid at once). ``auto_advance`` drafts finalise one
hour after creation (``automatically_finalizes_at``, due work) and are then collected
(charge_automatically, see `invoice_collection`) or sent (send_invoice; ``invoice.overdue``
when ``due_date`` passes). Voiding gives an applied balance back.
"""

from __future__ import annotations

from sandbox.replica.context import Ctx
from sandbox.replica.crud import check_params
from sandbox.replica.errors import ApiError
from sandbox.replica.forms import as_bool
from sandbox.replica.registry import Obj, Params, Registry
from sandbox.replica.resources import invoice_collection
from sandbox.replica.resources.customer_balance import adjust
from sandbox.replica.resources.invoices import SPEC, load, snapshot_customer


def finalize(ctx: Ctx, invoice: Obj, *, advance: bool = True) -> Obj:
    """draft → open (or paid when nothing is due); then collect or send if auto-advancing."""
    if invoice["status"] != "draft":
        raise ApiError(400, "This invoice is already finalized, you can't re-finalize a "
                       "non-draft invoice.", code="invoice_already_finalized")
    customer = ctx.get(invoice["customer"], "customer")
    now = ctx.now()
    seq = int(customer.get("next_invoice_sequence") or 1)
    customer["next_invoice_sequence"] = seq + 1
    customer["currency"] = customer.get("currency") or invoice["currency"]
    ctx.replace(customer)
    token = ctx.new_id("invoice")[3:]
    invoice.update(
        status="open", number=f"{customer.get('invoice_prefix') or 'INV'}-{seq:04d}",
        hosted_invoice_url=f"https://invoice.stripe.com/i/{ctx.account}/test_{token}",
        invoice_pdf=f"https://pay.stripe.com/invoice/{ctx.account}/test_{token}/pdf?s=ap",
        effective_at=now, automatically_finalizes_at=None,
    )
    invoice["status_transitions"] = {**invoice["status_transitions"], "finalized_at": now}
    snapshot_customer(invoice, customer)
    _apply_balance(ctx, invoice, int(customer.get("balance") or 0))
    ctx.replace(invoice)
    ctx.emit("invoice.finalized", invoice)
    if invoice["amount_due"] == 0:
        return invoice_collection.mark_paid(ctx, invoice, 0)
    if advance and invoice["auto_advance"]:
        if invoice["collection_method"] == "charge_automatically":
            invoice_collection.attempt(ctx, invoice)
            return load(ctx, invoice["id"])
        return send(ctx, invoice)
    return invoice


def _apply_balance(ctx: Ctx, invoice: Obj, balance: int) -> None:
    owed = invoice["total"] - invoice["pre_payment_credit_notes_amount"]
    net = owed + balance
    due, ending = max(0, net), min(0, net)
    invoice.update(starting_balance=balance, ending_balance=ending, amount_due=due,
                   amount_remaining=due, amount_paid=0)
    if ending != balance:
        adjust(ctx, invoice["customer"], ending - balance, currency=invoice["currency"],
               type="applied_to_invoice", invoice=invoice["id"])


def _unapply_balance(ctx: Ctx, invoice: Obj) -> None:
    applied = (invoice.get("ending_balance") or 0) - (invoice.get("starting_balance") or 0)
    if applied and invoice["amount_paid"] == 0:
        adjust(ctx, invoice["customer"], -applied, currency=invoice["currency"],
               type="unapplied_from_invoice", invoice=invoice["id"])


def send(ctx: Ctx, invoice: Obj) -> Obj:
    if invoice["status"] != "open":
        raise ApiError(400, "You can only send open invoices.", code="invoice_not_editable")
    invoice["_sent_at"] = ctx.now()
    if invoice.get("due_date") and not invoice.get("_overdue_scheduled"):
        invoice["_overdue_scheduled"] = True
        ctx.schedule(max(invoice["due_date"], ctx.now()), "invoice.overdue", {"id": invoice["id"]})
    ctx.replace(invoice)
    ctx.emit("invoice.sent", invoice)
    return invoice


def void(ctx: Ctx, invoice: Obj) -> Obj:
    if invoice["status"] not in ("open", "uncollectible"):
        raise ApiError(400, f"You can only void open or uncollectible invoices (this one is "
                       f"{invoice['status']}).", code="invoice_not_editable")
    before = {"status": invoice["status"], "status_transitions": dict(
        invoice["status_transitions"])}
    _unapply_balance(ctx, invoice)
    invoice_collection.cancel_attempts(ctx, invoice)
    invoice.update(status="void", next_payment_attempt=None, auto_advance=False,
                   amount_remaining=0)
    invoice["status_transitions"] = {**invoice["status_transitions"], "voided_at": ctx.now()}
    ctx.replace(invoice)
    ctx.emit("invoice.voided", invoice, previous=before)
    invoice_collection.settled_without_payment(ctx, invoice)
    return invoice


def mark_uncollectible(ctx: Ctx, invoice: Obj) -> Obj:
    if invoice["status"] != "open":
        raise ApiError(400, "You can only mark open invoices as uncollectible.",
                       code="invoice_not_editable")
    before = {"status": "open"}
    invoice.update(status="uncollectible", next_payment_attempt=None, auto_advance=False)
    invoice["status_transitions"] = {**invoice["status_transitions"],
                                     "marked_uncollectible_at": ctx.now()}
    ctx.replace(invoice)
    ctx.emit("invoice.marked_uncollectible", invoice, previous=before)
    invoice_collection.settled_without_payment(ctx, invoice)
    return invoice


def pay(ctx: Ctx, params: Params, id: str) -> Obj:
    check_params(params, frozenset({"forgive", "mandate", "off_session", "paid_out_of_band",
                                         "payment_method", "source"}))
    invoice = load(ctx, id)
    if invoice["status"] == "draft":
        invoice = finalize(ctx, invoice, advance=False)
        if invoice["status"] == "paid":  # nothing was due once the balance applied
            return invoice
    if invoice["status"] == "paid":
        raise ApiError(400, "Invoice is already paid.", code="invoice_already_paid")
    if invoice["status"] not in ("open", "uncollectible"):
        raise ApiError(400, f"You cannot pay an invoice with status {invoice['status']}.",
                       code="invoice_not_editable")
    if as_bool(params, "paid_out_of_band", default=False):
        invoice["_paid_out_of_band"] = True
        return invoice_collection.mark_paid(ctx, invoice, invoice["amount_remaining"],
                                            out_of_band=True)
    pm = params.get("payment_method") or params.get("source") or None
    pi = invoice_collection.attempt(ctx, invoice, payment_method=pm,
                                    off_session=as_bool(params, "off_session", default=True))
    invoice = load(ctx, id)
    invoice_collection.raise_for_outcome(pi, invoice)
    return invoice


def _action(fn):  # POST /v1/invoices/{id}/<verb>
    def handler(ctx: Ctx, params: Params, id: str) -> Obj:
        return fn(ctx, load(ctx, id))
    return handler


def finalize_handler(ctx: Ctx, params: Params, id: str) -> Obj:
    check_params(params, frozenset({"auto_advance"}))
    invoice = load(ctx, id)
    if "auto_advance" in params:
        invoice["auto_advance"] = bool(as_bool(params, "auto_advance"))
    return finalize(ctx, invoice)


def auto_finalize(ctx: Ctx, payload: Obj) -> None:
    invoice = ctx.find(payload["id"])
    if invoice and not invoice.get("deleted") and invoice["status"] == "draft" \
            and invoice["auto_advance"]:
        finalize(ctx, invoice)


def overdue(ctx: Ctx, payload: Obj) -> None:
    invoice = ctx.find(payload["id"])
    if invoice and invoice.get("status") == "open":
        ctx.emit("invoice.overdue", invoice)
        invoice_collection.overdue(ctx, invoice)


def register(reg: Registry) -> None:
    reg.route("POST", SPEC.path + "/{id}/finalize", finalize_handler)
    reg.route("POST", SPEC.path + "/{id}/pay", pay)
    reg.route("POST", SPEC.path + "/{id}/void", _action(void))
    reg.route("POST", SPEC.path + "/{id}/mark_uncollectible", _action(mark_uncollectible))
    reg.route("POST", SPEC.path + "/{id}/send", _action(send))
    reg.on_due("invoice.auto_finalize", auto_finalize)
    reg.on_due("invoice.overdue", overdue)
