"""PaymentIntents paid by bank transfer (``customer_balance``): money comes from the
customer's cash balance (`cash_balance`).

On confirmation whatever the cash balance holds is applied (``applied_to_payment``). Fully
funded: the intent succeeds with its charge. Short: it waits in ``requires_action`` with
``next_action.display_bank_transfer_instructions`` (``amount_remaining``, ``reference``,
where to send the money); a partial application also emits
``payment_intent.partially_funded``. Later fundings are applied by `apply_funds`.
Canceling an intent gives the applied money back (``unapplied_from_payment``).
"""

from __future__ import annotations

import hashlib

from sandbox.replica.context import Ctx
from sandbox.replica.listing import PageQuery
from sandbox.replica.registry import Obj
from sandbox.replica.resources import cash_balance, payment_flows

_TYPES = {"eur": "eu_bank_transfer", "gbp": "gb_bank_transfer", "jpy": "jp_bank_transfer",
          "mxn": "mx_bank_transfer", "usd": "us_bank_transfer"}
_ADDRESSES: dict[str, Obj] = {
    "eu_bank_transfer": {"type": "iban", "supported_networks": ["sepa"], "iban": {
        "account_holder_name": "FDE Sandbox", "bic": "SXPYDEHH", "country": "DE",
        "iban": "DE00000000000000000000"}},
    "gb_bank_transfer": {"type": "sort_code", "supported_networks": ["bacs", "fps"],
                         "sort_code": {"account_holder_name": "FDE Sandbox",
                                       "account_number": "00000000", "sort_code": "000000"}},
    "jp_bank_transfer": {"type": "zengin", "supported_networks": ["zengin"], "zengin": {
        "account_holder_name": "FDE Sandbox", "account_number": "0000000",
        "account_type": "futsu", "bank_code": "0000", "bank_name": "Sandbox Bank",
        "branch_code": "000", "branch_name": "Sandbox"}},
    "mx_bank_transfer": {"type": "spei", "supported_networks": ["spei"], "spei": {
        "bank_code": "000", "bank_name": "Sandbox", "clabe": "000000000000000000"}},
    "us_bank_transfer": {"type": "aba", "supported_networks": ["ach", "domestic_wire_us"],
                         "aba": {"account_number": "0000000000", "bank_name": "Sandbox Bank",
                                 "routing_number": "000000000"}},
}


def _instructions(pi: Obj, kind: str) -> Obj:
    return {"type": "display_bank_transfer_instructions",
            "display_bank_transfer_instructions": {
                "amount_remaining": pi["amount"] - pi.get("_amount_funded", 0),
                "currency": pi["currency"], "financial_addresses": [dict(_ADDRESSES[kind])],
                "hosted_instructions_url": "https://payments.stripe.com/bank_transfers/"
                f"instructions/test_{pi['id']}", "reference": pi["_reference"], "type": kind}}


def start(ctx: Ctx, pi: Obj, pm: Obj) -> None:
    options = (pi.get("payment_method_options") or {}).get("customer_balance") or {}
    transfer = options.get("bank_transfer") or {}
    kind = transfer.get("type") or _TYPES[pi["currency"]]
    pi["payment_method_options"]["customer_balance"] = {
        "bank_transfer": {"type": kind, "requested_address_types": None} | transfer,
        "funding_type": "bank_transfer"}
    pi.setdefault("_amount_funded", 0)
    pi["_reference"] = hashlib.sha256(pi["id"].encode()).hexdigest()[:12].upper()
    apply(ctx, pi, pm)


def apply(ctx: Ctx, pi: Obj, pm: Obj | None = None) -> int:
    """Apply what the cash balance holds to `pi`; answer the amount applied."""
    pm = pm or ctx.get(pi["payment_method"], "payment_method")
    remaining = pi["amount"] - pi.get("_amount_funded", 0)
    take = min(cash_balance.available(ctx, pi["customer"], pi["currency"]), remaining)
    if take > 0:
        cash_balance.post(ctx, pi["customer"], pi["currency"], -take, "applied_to_payment",
                          {"payment_intent": pi["id"]})
        pi["_amount_funded"] = pi.get("_amount_funded", 0) + take
    if pi["_amount_funded"] >= pi["amount"]:
        payment_flows.succeed(ctx, pi, pm)
        return take
    kind = pi["payment_method_options"]["customer_balance"]["bank_transfer"]["type"]
    if pi["status"] != "requires_action":
        payment_flows.require_action(ctx, pi, _instructions(pi, kind))
    else:
        pi["next_action"] = _instructions(pi, kind)
        ctx.replace(pi)
    if take > 0:
        ctx.emit("payment_intent.partially_funded", pi)
    return take


def apply_funds(ctx: Ctx, customer: str, currency: str, reference: str | None) -> None:
    """Automatic reconciliation: fund the customer's waiting intents (reference first)."""
    query = PageQuery(limit=100, types=["payment_intent"],
                      filters={"customer": customer, "status": "requires_action",
                               "currency": currency})
    waiting = [pi for pi in ctx.engine.store.list(ctx.account, query).data
               if pi.get("_reference")]
    waiting.sort(key=lambda pi: (pi["_reference"] != reference, pi["created"]))
    for pi in waiting:
        if cash_balance.available(ctx, customer, currency) <= 0:
            break
        apply(ctx, pi)


def release(ctx: Ctx, pi: Obj) -> None:
    """Give money applied to a canceled intent back to the cash balance."""
    funded = pi.get("_amount_funded", 0)
    if funded:
        cash_balance.post(ctx, pi["customer"], pi["currency"], funded, "unapplied_from_payment",
                          {"payment_intent": pi["id"]})
        pi["_amount_funded"] = 0
