"""Customer balance transactions: ``/v1/customers/{customer}/balance_transactions``.

A customer's ``balance`` is what they owe (positive) or hold as credit (negative), in the
customer's currency. Every change is a ``customer_balance_transaction`` (``cbtxn_``) with
the change as ``amount`` and the new ``ending_balance``: ``adjustment`` (API),
``applied_to_invoice`` / ``unapplied_from_invoice`` (invoice finalised / voided),
``credit_note`` (credit note credited to the balance or voided). The customer's
``customer.updated`` event carries the old balance.
"""

from __future__ import annotations

import copy

from sandbox.replica.context import Ctx
from sandbox.replica.crud import check_params
from sandbox.replica.errors import invalid_param, resource_missing
from sandbox.replica.forms import as_int
from sandbox.replica.listing import PageQuery, list_object, parse_page_query
from sandbox.replica.registry import Obj, Params, Registry, ResourceSpec
from sandbox.replica.templates import apply_metadata

SPEC = ResourceSpec(
    object="customer_balance_transaction",
    path="/v1/customer_balance_transactions",  # served under /v1/customers/{id}/... below
    defaults={"credit_note": None, "invoice": None, "description": None, "metadata": {},
              "checkout_session": None, "customer_account": None},
    filters={"customer": "customer"},
    operations=frozenset(),
    id_prefix="cbtxn_",
)


def adjust(
    ctx: Ctx, customer_id: str, amount: int, *, currency: str, type: str,
    description: str | None = None, invoice: str | None = None,
    credit_note: str | None = None, metadata: dict | None = None,
) -> Obj:
    """Move the customer's balance by `amount` and record it (the customer event too)."""
    customer = ctx.get(customer_id, "customer", param="customer")
    currency = currency.lower()
    if customer.get("currency") and customer["currency"] != currency:
        raise invalid_param("currency", "The currency of this balance transaction "
                            f"({currency}) must match the customer's ({customer['currency']}).")
    before = copy.deepcopy(customer)
    customer["balance"] = int(customer.get("balance") or 0) + amount
    customer["currency"] = customer.get("currency") or currency
    ctx.replace(customer)
    txn = ctx.new_object(SPEC.object)
    txn.update(amount=amount, currency=currency, customer=customer_id, type=type,
               description=description, invoice=invoice, credit_note=credit_note,
               ending_balance=customer["balance"], metadata=metadata or {})
    ctx.insert(txn)
    changed = {k: before.get(k) for k in ("balance", "currency") if before.get(k) != customer[k]}
    if changed:
        ctx.emit("customer.updated", customer, previous=changed)
    return txn


def _customer(ctx: Ctx, customer: str) -> Obj:
    return ctx.get(customer, "customer", param="customer")


def list_transactions(ctx: Ctx, params: Params, customer: str) -> Obj:
    _customer(ctx, customer)
    check_params(params, frozenset({"limit", "starting_after", "ending_before", "created",
                                    "invoice"}))
    query: PageQuery = parse_page_query(params, filters={"invoice": "invoice"})
    query.types = [SPEC.object]
    query.filters["customer"] = customer
    page = ctx.engine.store.list(ctx.account, query)
    return list_object(f"/v1/customers/{customer}/balance_transactions", page)


def create_transaction(ctx: Ctx, params: Params, customer: str) -> Obj:
    _customer(ctx, customer)
    check_params(params, frozenset({"amount", "currency", "description", "metadata"}),
                 ("amount", "currency"))
    amount = as_int(params, "amount")
    if not amount:
        raise invalid_param("amount", "The amount must be a non-zero integer.")
    return adjust(ctx, customer, amount, currency=str(params["currency"]), type="adjustment",
                  description=params.get("description") or None,
                  metadata=apply_metadata({}, params.get("metadata")))


def _load(ctx: Ctx, customer: str, id: str) -> Obj:
    txn = ctx.find(id)
    if txn is None or txn.get("object") != SPEC.object or txn.get("customer") != customer:
        raise resource_missing("customer_balance_transaction", id)
    return txn


def retrieve_transaction(ctx: Ctx, params: Params, customer: str, id: str) -> Obj:
    return _load(ctx, customer, id)


def update_transaction(ctx: Ctx, params: Params, customer: str, id: str) -> Obj:
    check_params(params, frozenset({"description", "metadata"}))
    txn = _load(ctx, customer, id)
    if "description" in params:
        txn["description"] = params["description"] or None
    if "metadata" in params:
        txn["metadata"] = apply_metadata(txn.get("metadata"), params["metadata"])
    ctx.replace(txn)
    return txn


def register(reg: Registry) -> None:
    reg.resource(SPEC)
    path = "/v1/customers/{customer}/balance_transactions"
    reg.route("GET", path, list_transactions)
    reg.route("POST", path, create_transaction)
    reg.route("GET", path + "/{id}", retrieve_transaction)
    reg.route("POST", path + "/{id}", update_transaction)


__all__ = ["SPEC", "adjust", "register"]
