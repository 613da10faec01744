"""``GET /v1/balance``: available and pending amounts per currency, summed from the
account's balance transactions (`balance_transactions`), with ``source_types``. The sums are
the store's running totals (``balance_sums``), so reading the balance costs O(currencies)."""

from __future__ import annotations

from sandbox.replica.context import Ctx
from sandbox.replica.crud import check_params
from sandbox.replica.registry import Obj, Params, Registry


def _sums(ctx: Ctx) -> dict[tuple[str, str, str], int]:
    """(currency, status, source type) -> sum of ``net``, sorted: the store's running totals
    (`Store.balance_sums`, kept by triggers), not a rescan of every transaction."""
    return {(cur, status, kind): int(total)
            for cur, status, kind, total in ctx.engine.store.balance_sums(ctx.account)}


def available(ctx: Ctx, currency: str) -> int:
    """Available balance in `currency` (minor units; may be negative)."""
    return sum(v for (cur, status, _), v in _sums(ctx).items()
               if cur == currency and status == "available")


def current(ctx: Ctx) -> Obj:
    sums = _sums(ctx)
    account = ctx.find(ctx.account) or {}
    currencies = sorted({cur for cur, _, _ in sums}) or [account.get("default_currency")
                                                         or "usd"]

    def entries(status: str) -> list[Obj]:
        out = []
        for cur in currencies:
            kinds = {k: v for (c, s, k), v in sums.items() if c == cur and s == status}
            out.append({"amount": sum(kinds.values()), "currency": cur,
                        "source_types": {"card": 0} | kinds})
        return out

    return {
        "object": "balance",
        "available": entries("available"),
        "connect_reserved": [{"amount": 0, "currency": cur} for cur in currencies],
        "livemode": False,
        "pending": entries("pending"),
    }


def _retrieve(ctx: Ctx, params: Params) -> Obj:
    check_params(params, frozenset())
    return current(ctx)


def register(reg: Registry) -> None:
    reg.route("GET", "/v1/balance", _retrieve)
