"""Balance transactions: every movement of the account's Stripe balance, with its fees.

``record`` is what the payment modules call (charges, refunds, refund failures, dispute
withdrawals and reinstatements, payouts). A transaction whose ``available_on`` is in the
future starts ``pending`` and becomes ``available`` through due work when the replica
clock reaches that day (``balance.available`` is emitted then). Charges become available
at the first 00:00 UTC at least two days after they succeed; everything else is
available at once. List filters: ``type``, ``source``, ``currency``, ``payout``,
``created``. Which transactions a payout covers is the private ``_payout`` field (see
`payouts`); ``_source_type`` feeds the ``source_types`` breakdown of `balance`.
"""

from __future__ import annotations

from sandbox.replica import crud
from sandbox.replica.context import Ctx
from sandbox.replica.registry import Obj, Registry, ResourceSpec
from sandbox.replica.resources import fees

DAY = 86_400
CHARGE_DELAY_DAYS = 2
_BANK_TYPES = frozenset({"sepa_debit", "us_bank_account"})


def fee_detail(amount: int, currency: str, description: str = "Stripe processing fees") -> Obj:
    return {"amount": amount, "application": None, "currency": currency,
            "description": description, "type": "stripe_fee"}


def source_type(method_type: str) -> str:
    """The key of `balance`'s ``source_types`` for money paid with `method_type`."""
    return "bank_account" if method_type in _BANK_TYPES else "card"


def record(
    ctx: Ctx, *, amount: int, currency: str, type: str, source: str | None,
    description: str | None = None, fee_details: list[Obj] | None = None,
    available_on: int | None = None, reporting_category: str | None = None,
    source_type: str = "card", payout: str | None = None,
) -> Obj:
    """Store a balance transaction (pending until `available_on` when that is later)."""
    details = list(fee_details or [])
    fee = sum(d["amount"] for d in details)
    now = ctx.now()
    txn = ctx.new_object("balance_transaction")
    pending = available_on is not None and available_on > now
    txn.update(
        amount=amount, currency=currency, description=description, exchange_rate=None,
        fee=fee, fee_details=details, net=amount - fee,
        reporting_category=reporting_category or type, source=source,
        status="pending" if pending else "available", type=type, balance_type="payments",
        available_on=available_on if pending else now,
    )
    txn["_source_type"] = source_type
    txn["_payout"] = payout
    ctx.insert(txn)
    if pending:
        ctx.schedule(txn["available_on"], "balance_transaction.available", {"id": txn["id"]})
    return txn


def for_charge(ctx: Ctx, charge: Obj, method_type: str, amount: int | None = None) -> Obj:
    """The ``charge`` transaction of a captured charge, with the fee of `fees`."""
    amount = charge["amount_captured"] if amount is None else amount
    fee = fees.processing_fee(amount, charge["currency"], method_type)
    ready = ctx.now() + CHARGE_DELAY_DAYS * DAY
    return record(
        ctx, amount=amount, currency=charge["currency"], type="charge", source=charge["id"],
        description=charge.get("description"),
        fee_details=[fee_detail(fee, charge["currency"])] if fee else [],
        available_on=(ready // DAY + 1) * DAY, source_type=source_type(method_type),
    )


def _make_available(ctx: Ctx, payload: Obj) -> None:
    from sandbox.replica.resources import balance

    txn = ctx.find(payload["id"])
    if txn is None or txn.get("status") != "pending":
        return
    txn["status"] = "available"
    ctx.replace(txn)
    ctx.emit("balance.available", balance.current(ctx))


SPEC = ResourceSpec(
    object="balance_transaction",
    path="/v1/balance_transactions",
    filters={"type": "type", "source": "source", "currency": "currency", "payout": "_payout"},
    operations=frozenset({"list", "retrieve"}),
    events=frozenset(),
)


def load(ctx: Ctx, txn_id: str) -> Obj:
    return crud.load(ctx, SPEC, txn_id)


def register(reg: Registry) -> None:
    reg.resource(SPEC)
    reg.on_due("balance_transaction.available", _make_available)
