"""PAYOUT_BREAK: a payout whose amount is not the sum of the balance transactions it paid out.

Stripe lists a payout's balance transactions with ``GET /v1/balance_transactions?payout=``
(automatic payouts only). Besides the charges, refunds, fees, adjustments... it settles, the
list holds the payout's own transaction (type ``payout``, amount −payout.amount): that one is
left out, and the ``net`` of the rest must equal the payout's ``amount``.

Only payouts whose transactions were fetched are checked (no transactions = not known, never
a break); failed and canceled payouts settle nothing and are skipped.
"""

from __future__ import annotations

import json

import polars as pl

from tools.recon.rules import DISC_SCHEMA

__all__ = ["BALANCE_TXN_FIELDS", "find_payout_breaks"]

BALANCE_TXN_FIELDS: dict[str, tuple[str, str]] = {
    "payout": ("payout", "string"),  # set by whoever fetched ?payout= (not a Stripe field)
    "type": ("type", "string"), "amount": ("amount", "int"), "fee": ("fee", "int"),
    "net": ("net", "int"), "currency": ("currency", "string"),
}
_SKIPPED_STATUSES = ("failed", "canceled")


def find_payout_breaks(payouts: pl.DataFrame, balance_txns: pl.DataFrame) -> pl.DataFrame:
    """DISC_SCHEMA rows, one per payout whose amount ≠ Σ net of its balance transactions.

    ``payouts``: id, amount, currency, status (object_frames "payout");
    ``balance_txns``: id, payout (the payout they were listed for), type, net, currency.
    """
    if payouts.is_empty() or balance_txns.is_empty():
        return pl.DataFrame(schema=DISC_SCHEMA)
    settled = (balance_txns.filter(pl.col("payout").is_not_null() & (pl.col("type") != "payout"))
               .group_by("payout")
               .agg(pl.col("net").sum().alias("_sum"), pl.col("id").sort().alias("_txns"),
                    pl.col("currency").str.to_lowercase().unique().alias("_curs")))
    rows = (payouts.filter(~pl.col("status").is_in(list(_SKIPPED_STATUSES)))
            .join(settled, left_on="id", right_on="payout", how="inner")
            .filter(pl.col("_sum") != pl.col("amount")))
    out = []
    for r in rows.iter_rows(named=True):
        cur = (r["currency"] or "").lower() or None
        other = sorted(c for c in r["_curs"] if c and c != cur)
        diff = r["amount"] - r["_sum"]
        reason = (f"payout amount {r['amount']} ≠ {r['_sum']}, the net of its "
                  f"{len(r['_txns'])} balance transactions (difference {diff})")
        if other:
            reason += f"; transactions in other currencies: {', '.join(other)}"
        out.append({
            "class": "PAYOUT_BREAK", "entity": "payout", "stripe_id": r["id"],
            "local_key": None, "fields": ["amount"], "amount_minor": r["amount"],
            "currency": cur, "s_contrib": 0, "s_cur": cur, "l_contrib": 0, "l_cur": None,
            "ev_stripe": [r["id"], *r["_txns"]], "ev_local": [], "reason": reason,
            "needs_review": False, "confidence": None,
            "s_values": json.dumps({"amount": r["amount"]}),
            "l_values": "{}",  # no local side: the sum is in the reason
        })
    return pl.DataFrame(out, schema=DISC_SCHEMA) if out else pl.DataFrame(schema=DISC_SCHEMA)
