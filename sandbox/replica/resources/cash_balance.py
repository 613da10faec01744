"""Customer cash balance (bank transfers): the balance, its transactions, test funding.

    GET  /v1/customers/{customer}/cash_balance                      balance per currency
    POST /v1/customers/{customer}/cash_balance                      settings[reconciliation_mode]
    GET  /v1/customers/{customer}/cash_balance_transactions[/{id}]
    POST /v1/test_helpers/customers/{customer}/fund_cash_balance    amount, currency, reference

Every movement is a ``customer_cash_balance_transaction`` (``funded``,
``applied_to_payment``, ``unapplied_from_payment``) with ``net_amount`` and
``ending_balance``, announced by ``customer_cash_balance_transaction.created``. After a
funding, automatic reconciliation applies the money to the customer's open
``customer_balance`` PaymentIntents (`bank_transfers.apply_funds`: matching reference
first, then oldest); what stays unapplied raises ``cash_balance.funds_available``.
The balance is stored under the private key ``cash_balance:{customer}``.
"""

from __future__ import annotations

from sandbox.replica.context import Ctx
from sandbox.replica.crud import check_params
from sandbox.replica.errors import ApiError, invalid_param, missing_param, resource_missing
from sandbox.replica.forms import as_int
from sandbox.replica.listing import list_object, parse_page_query
from sandbox.replica.registry import Obj, Params, Registry

TXN = "customer_cash_balance_transaction"
_SENDERS: dict[str, tuple[str, Obj]] = {  # currency -> (bank transfer type, sender details)
    "eur": ("eu_bank_transfer", {"bic": "BANKDEAAXXX", "iban_last4": "7089",
                                 "sender_name": "Sample Business GmbH"}),
    "gbp": ("gb_bank_transfer", {"account_number_last4": "4321", "sender_name": "Sample Ltd",
                                 "sort_code": "108800"}),
    "jpy": ("jp_bank_transfer", {"sender_bank": "Sample Bank", "sender_branch": "Tokyo",
                                 "sender_name": "Sample KK"}),
    "mxn": ("mx_bank_transfer", {"sender_bank": "Sample Banco", "sender_name": "Muestra SA",
                                 "sender_reference": None}),
    "usd": ("us_bank_transfer", {"network": "ach", "sender_name": "Sample Business Inc"}),
}


def _key(customer: str) -> str:
    return f"cash_balance:{customer}"


def get(ctx: Ctx, customer: str) -> Obj:
    found = ctx.engine.store.get(ctx.account, _key(customer))
    if found is not None:
        return found
    return {"object": "cash_balance", "available": {}, "customer": customer,
            "customer_account": None, "livemode": False,
            "settings": {"reconciliation_mode": "automatic", "using_merchant_default": True}}


def _save(ctx: Ctx, bal: Obj) -> None:
    key = _key(bal["customer"])
    if ctx.engine.store.get(ctx.account, key) is None:
        ctx.insert(bal, object_id=key)
    else:
        ctx.replace(bal, object_id=key)


def available(ctx: Ctx, customer: str, currency: str) -> int:
    return int(get(ctx, customer)["available"].get(currency, 0))


def post(ctx: Ctx, customer: str, currency: str, net_amount: int, kind: str,
         details: Obj) -> Obj:
    """Move the customer's cash balance by `net_amount`; record and announce it."""
    bal = get(ctx, customer)
    ending = int(bal["available"].get(currency, 0)) + net_amount
    if ending < 0:
        raise ApiError(400, "The customer's cash balance is too low for this operation.",
                       code="balance_insufficient")
    bal["available"][currency] = ending
    _save(ctx, bal)
    txn = ctx.new_object(TXN, defaults={})
    txn.pop("funded", None)
    txn.update(currency=currency, customer=customer, customer_account=None,
               ending_balance=ending, net_amount=net_amount, type=kind)
    txn[kind] = details
    ctx.insert(txn)
    ctx.emit(f"{TXN}.created", txn)
    return txn


def _customer(ctx: Ctx, customer: str) -> str:
    return ctx.get(customer, "customer", param="customer")["id"]


def _retrieve(ctx: Ctx, params: Params, customer: str) -> Obj:
    check_params(params, frozenset())
    return get(ctx, _customer(ctx, customer))


def _update(ctx: Ctx, params: Params, customer: str) -> Obj:
    check_params(params, frozenset({"settings"}))
    bal = get(ctx, _customer(ctx, customer))
    mode = (params.get("settings") or {}).get("reconciliation_mode")
    if mode not in (None, "", "automatic", "manual", "merchant_default"):
        raise invalid_param("settings[reconciliation_mode]",
                            "reconciliation_mode must be automatic, manual or merchant_default")
    if mode:
        default = mode == "merchant_default"
        bal["settings"] = {"reconciliation_mode": "automatic" if default else mode,
                           "using_merchant_default": default}
        _save(ctx, bal)
    return bal


def _list(ctx: Ctx, params: Params, customer: str) -> Obj:
    check_params(params, frozenset({"limit", "starting_after", "ending_before"}))
    customer = _customer(ctx, customer)
    query = parse_page_query(params)
    query.types = [TXN]
    query.filters["customer"] = customer
    page = ctx.engine.store.list(ctx.account, query)
    return list_object(f"/v1/customers/{customer}/cash_balance_transactions", page)


def _txn(ctx: Ctx, params: Params, customer: str, id: str) -> Obj:
    check_params(params, frozenset())
    txn = ctx.find(id)
    if txn is None or txn.get("object") != TXN or txn.get("customer") != customer:
        raise resource_missing(TXN, id)
    return txn


def _fund(ctx: Ctx, params: Params, customer: str) -> Obj:
    from sandbox.replica.resources import bank_transfers

    check_params(params, frozenset({"amount", "currency", "reference"}), ("amount", "currency"))
    customer = _customer(ctx, customer)
    amount = as_int(params, "amount")
    if amount is None or amount <= 0:
        raise invalid_param("amount", "amount must be a positive integer")
    currency = str(params["currency"]).lower()
    if currency not in _SENDERS:
        raise invalid_param("currency", f"Bank transfers are not supported in {currency}.")
    if not customer:
        raise missing_param("customer")
    kind, sender = _SENDERS[currency]
    reference = params.get("reference") or None
    funded = post(ctx, customer, currency, amount, "funded", {"bank_transfer": {
        kind: dict(sender), "reference": reference, "type": kind}})
    if get(ctx, customer)["settings"]["reconciliation_mode"] == "automatic":
        bank_transfers.apply_funds(ctx, customer, currency, reference)
    if available(ctx, customer, currency) > 0:
        ctx.emit("cash_balance.funds_available", get(ctx, customer))
    return funded


def register(reg: Registry) -> None:
    base = "/v1/customers/{customer}/cash_balance"
    reg.route("GET", base, _retrieve)
    reg.route("POST", base, _update)
    reg.route("GET", base + "_transactions", _list)
    reg.route("GET", base + "_transactions/{id}", _txn)
    reg.route("POST", "/v1/test_helpers/customers/{customer}/fund_cash_balance", _fund)
