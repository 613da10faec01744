"""Classes a foreign system needs the engine to produce from what any mapping can say:
repeated local rows, the other mode/account without a livemode column, money received but
never applied, and applied payments checked against the money behind them."""

from __future__ import annotations

from tests.tools.recon.conftest import classes, run_engine
from tools.recon.models import Verdict

PI = {"status": "succeeded", "currency": "usd", "amount": 1000, "amount_received": 1000}


def test_second_local_row_for_one_stripe_object_is_duplicate_local_effect():
    # a retried webhook inserted the payment twice: both rows equal Stripe's object
    local = [{"stripe_id": "pi_1", **PI, "local_key": f"payments:{k}"} for k in (9, 10, 12)]
    run = run_engine({"payment": [{"stripe_id": "pi_1", **PI}]}, {"payment": local})
    assert classes(run) == [("DUPLICATE_LOCAL_EFFECT", "pi_1")] * 2
    dups = sorted(run.discrepancies, key=lambda d: d.local_key or "")
    # the earliest row (by serial key, not text order) is the mirror; the repeats point at it
    assert [d.local_key for d in dups] == ["payments:10", "payments:12"]
    assert all(d.evidence.local[1] == "payments:9" for d in dups)
    (b,) = run.bridge  # the user side counts the payment three times: explained, no residual
    assert (b.stripe_total, b.user_total, b.residual) == (1000, 3000, 0)
    assert [(a.label, a.amount) for a in b.adjustments] == [("DUPLICATE_LOCAL_EFFECT", 2000)]
    assert run.verdict == Verdict.BREAKS


def test_duplicate_rows_still_compare_the_first_row():
    local = [{"stripe_id": "pi_1", **PI, "amount": 1001, "local_key": "payments:1"},
             {"stripe_id": "pi_1", **PI, "local_key": "payments:2"}]
    run = run_engine({"payment": [{"stripe_id": "pi_1", **PI}]}, {"payment": local})
    assert sorted((d.class_.value, d.local_key) for d in run.discrepancies) == [
        ("AMOUNT_MISMATCH.rounding", "payments:1"), ("DUPLICATE_LOCAL_EFFECT", "payments:2")]
