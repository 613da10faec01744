"""PAYOUT_BREAK on hand-built frames: payout amount vs Σ net of its balance transactions."""

from __future__ import annotations

from typing import Any

import polars as pl

from tests.tools.recon.conftest import objects, run_engine
from tools.recon.models import Verdict
from tools.recon.payouts import find_payout_breaks
from tools.recon.rules import DISC_SCHEMA

_TXN = {"id": pl.String, "payout": pl.String, "type": pl.String, "amount": pl.Int64,
        "fee": pl.Int64, "net": pl.Int64, "currency": pl.String}


def _txns(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame([{k: r.get(k) for k in _TXN} for r in rows], schema=_TXN, orient="row")


def _payouts() -> dict[str, pl.DataFrame]:
    return objects(payout=[
        {"id": "po_ok", "amount": 9_410, "currency": "usd", "status": "paid", "automatic": True},
        {"id": "po_short", "amount": 10_000, "currency": "usd", "status": "paid",
         "automatic": True},
        {"id": "po_failed", "amount": 5_000, "currency": "usd", "status": "failed",
         "automatic": True},
        {"id": "po_unfetched", "amount": 1, "currency": "usd", "status": "paid",
         "automatic": True},
    ])


TXNS = _txns([
    # po_ok: two charges net of fees, a refund; its own payout transaction is left out
    {"id": "txn_1", "payout": "po_ok", "type": "charge", "amount": 5_000, "fee": 175,
     "net": 4_825, "currency": "usd"},
    {"id": "txn_2", "payout": "po_ok", "type": "charge", "amount": 6_000, "fee": 204,
     "net": 5_796, "currency": "usd"},
    {"id": "txn_3", "payout": "po_ok", "type": "refund", "amount": -1_211, "fee": 0,
     "net": -1_211, "currency": "usd"},
    {"id": "txn_po_ok", "payout": "po_ok", "type": "payout", "amount": -9_410, "fee": 0,
     "net": -9_410, "currency": "usd"},
    # po_short: paid out 10 000 but its transactions net 9 700
    {"id": "txn_4", "payout": "po_short", "type": "charge", "amount": 10_000, "fee": 300,
     "net": 9_700, "currency": "usd"},
    {"id": "txn_po_short", "payout": "po_short", "type": "payout", "amount": -10_000,
     "fee": 0, "net": -10_000, "currency": "usd"},
    # po_failed settles nothing, whatever its list says
    {"id": "txn_5", "payout": "po_failed", "type": "charge", "amount": 100, "fee": 0,
     "net": 100, "currency": "usd"},
])


def test_only_the_payout_whose_transactions_do_not_sum_is_a_break() -> None:
    out = find_payout_breaks(_payouts()["payout"], TXNS)
    assert out.schema == pl.Schema(DISC_SCHEMA)
    assert out["stripe_id"].to_list() == ["po_short"]
    row = out.row(0, named=True)
    assert row["class"] == "PAYOUT_BREAK" and row["currency"] == "usd"
    assert row["amount_minor"] == 10_000 and row["ev_stripe"] == ["po_short", "txn_4"]
    assert "10000 ≠ 9700" in row["reason"] and "difference 300" in row["reason"]


def test_nothing_fetched_is_never_a_break() -> None:
    assert find_payout_breaks(_payouts()["payout"], _txns([])).is_empty()
    assert find_payout_breaks(objects()["payout"], TXNS).is_empty()


def test_engine_reports_payout_break_with_its_evidence() -> None:
    objs = {**_payouts(), "balance_transaction": TXNS}
    run = run_engine({}, {}, objs)
    assert [(d.class_.value, d.stripe_id) for d in run.discrepancies] == [
        ("PAYOUT_BREAK", "po_short")]
    d = run.discrepancies[0]
    assert d.evidence.stripe == ["po_short", "txn_4"] and d.stripe_values == {"amount": 10_000}
    assert d.money_impact == 0 and d.bridge_legs == []
    assert d.proposed_repair is not None and d.proposed_repair.kind == "mark_for_engineer"
    assert run.verdict == Verdict.BREAKS


def test_engine_without_balance_transactions_checks_no_payout() -> None:
    run = run_engine({}, {}, _payouts())
    assert run.discrepancies == [] and run.verdict == Verdict.RECONCILED
