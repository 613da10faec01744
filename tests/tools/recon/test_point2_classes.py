"""Classes a foreign system needs the engine to produce from what any mapping can say:
repeated local rows, the other mode/account without a livemode column, money received but
never applied, and applied payments checked against the money behind them."""

from __future__ import annotations

import polars as pl

from tests.tools.recon.conftest import classes, frame, objects, run_engine
from tools.recon.applied import AppliedSpec, classify_applied
from tools.recon.classify import EntityContext, classify_entity
from tools.recon.engine import ReconInput, ReconOptions, reconcile, to_run
from tools.recon.mapping import Mapping
from tools.recon.models import ReconRun, Verdict
from tools.recon.report import render_markdown

PI = {"status": "succeeded", "currency": "usd", "amount": 1000, "amount_received": 1000}


def test_second_local_row_for_one_stripe_object_is_duplicate_local_effect():
    # a retried webhook inserted the payment twice: both rows equal Stripe's object
    local = [{"stripe_id": "pi_1", **PI, "local_key": f"payments:{k}"} for k in (9, 10, 12)]
    # beside them, two unrelated rows Stripe does not know (never each other's repeat)
    local += [{"stripe_id": f"pi_gone{k}", **PI, "local_key": f"payments:{k}"} for k in (1, 2)]
    run = run_engine({"payment": [{"stripe_id": "pi_1", **PI}]}, {"payment": local})
    assert [c for c in classes(run) if c[0] != "ORPHAN_LOCAL"] == [
        ("DUPLICATE_LOCAL_EFFECT", "pi_1")] * 2
    assert [c for c in classes(run) if c[0] == "ORPHAN_LOCAL"] == [
        ("ORPHAN_LOCAL", "pi_gone1"), ("ORPHAN_LOCAL", "pi_gone2")]
    dups = sorted((d for d in run.discrepancies if d.class_.value == "DUPLICATE_LOCAL_EFFECT"),
                  key=lambda d: d.local_key or "")
    # the earliest row (by serial key, not text order) is the mirror; the repeats point at it
    assert [d.local_key for d in dups] == ["payments:10", "payments:12"]
    assert all(d.evidence.local[1] == "payments:9" for d in dups)
    (b,) = run.bridge  # the user side counts the payment 3 (+2 orphan) times: all explained
    assert (b.stripe_total, b.user_total, b.residual) == (1000, 5000, 0)
    assert [(a.label, a.amount) for a in b.adjustments] == [("DUPLICATE_LOCAL_EFFECT", 2000),
                                                            ("ORPHAN_LOCAL", 2000)]
    assert run.verdict == Verdict.BREAKS


def test_repeated_row_of_an_id_stripe_does_not_know_is_one_orphan_and_one_duplicate():
    local = [{"stripe_id": "cus_gone", "local_key": f"accounts:{k}"} for k in (3, 4)]
    run = run_engine({"customer": []}, {"customer": local})
    assert sorted((d.class_.value, d.local_key) for d in run.discrepancies) == [
        ("DUPLICATE_LOCAL_EFFECT", "accounts:4"), ("ORPHAN_LOCAL", "accounts:3")]


def test_duplicate_rows_still_compare_the_first_row():
    local = [{"stripe_id": "pi_1", **PI, "amount": 1001, "local_key": "payments:1"},
             {"stripe_id": "pi_1", **PI, "local_key": "payments:2"}]
    # a Stripe object nobody mirrored stays in the comparison beside the repeat
    run = run_engine({"payment": [{"stripe_id": "pi_1", **PI}, {"stripe_id": "pi_2", **PI}]},
                     {"payment": local})
    assert sorted((d.class_.value, d.local_key) for d in run.discrepancies) == [
        ("AMOUNT_MISMATCH.rounding", "payments:1"), ("DUPLICATE_LOCAL_EFFECT", "payments:2"),
        ("UNAPPLIED_PAYMENT", None)]


INV = {"status": "paid", "currency": "usd", "total": 500}


def test_invoice_paid_in_stripe_open_locally_is_unapplied_only_when_no_payment_was_applied(
        mapping):
    raw = mapping.model_dump(exclude_unset=True)
    raw["entities"]["invoice"]["fields"]["amount_paid"] = {
        "column": "amount_paid", "type": "money", "currency": "currency"}
    with_paid = Mapping.model_validate(raw)
    stripe = [{"stripe_id": "in_none", **INV, "amount_paid": 500},
              {"stripe_id": "in_some", **INV, "amount_paid": 500},
              {"stripe_id": "in_zero", **INV, "amount_paid": 0}]
    local = [{"stripe_id": "in_none", **INV, "status": "open", "amount_paid": 0},
             # the money was applied (amount_paid recorded), only the status lags
             {"stripe_id": "in_some", **INV, "status": "open", "amount_paid": 500},
             # settled without money (credit balance, 100% discount): nothing to apply
             {"stripe_id": "in_zero", **INV, "status": "open", "amount_paid": 0}]
    run = run_engine({"invoice": stripe}, {"invoice": local}, mapping=with_paid)
    assert classes(run) == [("STALE_STATE", "in_some"), ("STALE_STATE", "in_zero"),
                            ("UNAPPLIED_PAYMENT", "in_none")]


def test_payment_row_behind_state_is_stale_when_the_local_amount_received_was_applied():
    local = {**PI, "status": "processing"}
    run = run_engine({"payment": [{"stripe_id": "pi_1", **PI}, {"stripe_id": "pi_2", **PI}]},
                     {"payment": [{"stripe_id": "pi_1", **local},
                                  {"stripe_id": "pi_2", **local, "amount_received": 0}]})
    assert classes(run) == [("STALE_STATE", "pi_1"), ("UNAPPLIED_PAYMENT", "pi_2")]


BARE = Mapping.model_validate({"version": 1, "entities": {
    # a company table with a Stripe id and nothing about mode or account
    "customer": {"table": "members", "stripe_object": "customer", "key": "stripe_ref",
                 "fields": {"email": "email"}},
    "order": {"table": "orders", "stripe_object": "checkout.session", "key": "cs_ref",
              "fields": {"payment_status": "payment_status"}}}})


def _env(run):  # noqa: ANN001, ANN202
    return sorted((d.class_.value, d.stripe_id, d.confidence) for d in run.discrepancies)


def test_env_mismatch_without_livemode_column_from_where_the_object_lives():
    home = [{"stripe_id": f"cus_{i}", "email": f"{i}@x.io"} for i in range(9)]
    stripe = [*home, {"stripe_id": "cus_qa", "email": "qa@x.io", "account": "acct_test"},
              # the test account's own customers: nobody pasted them, nothing expected
              {"stripe_id": "cus_t2", "email": "t@x.io", "account": "acct_test"}]
    local = [*home, {"stripe_id": "cus_qa", "email": "qa@x.io"}]
    run = run_engine({"customer": stripe}, {"customer": local}, mapping=BARE)
    assert _env(run) == [("ENV_MISMATCH", "cus_qa", 0.9)]
    (d,) = run.discrepancies
    assert "acct_test" in d.reason and "records no account" in d.reason


def test_env_mismatch_from_the_objects_own_livemode_and_from_id_mode_markers():
    stripe = {"customer": [{"stripe_id": "cus_a", "email": "a@x.io"},
                           {"stripe_id": "cus_live", "email": "l@x.io", "livemode": True}],
              "order": [{"stripe_id": "cs_test_a1", "payment_status": "paid"}]}
    local = {"customer": [{"stripe_id": "cus_a", "email": "a@x.io"},
                          {"stripe_id": "cus_live", "email": "l@x.io"}],
             "order": [{"stripe_id": "cs_test_a1", "payment_status": "paid"},
                       {"stripe_id": "cs_live_b2", "payment_status": "paid"},
                       {"stripe_id": "cs_test_gone", "payment_status": "paid"}]}
    run = run_engine(stripe, local, mapping=BARE)  # the engagement is test mode
    assert _env(run) == [("ENV_MISMATCH", "cs_live_b2", 1.0), ("ENV_MISMATCH", "cus_live", 1.0),
                         ("ORPHAN_LOCAL", "cs_test_gone", None)]


def test_no_env_inference_when_no_account_holds_most_rows():
    # a Connect platform whose table spans accounts without recording them: no majority,
    # so an object in a connected account is not taken for another mode
    stripe = [{"stripe_id": f"cus_{i}", "email": f"{i}@x.io", "account": f"acct_{i % 3}"}
              for i in range(9)]
    run = run_engine({"customer": stripe}, {"customer": [dict(r, account=None) for r in stripe]},
                     mapping=BARE)
    assert run.discrepancies == []


def test_bridge_not_computable_says_why_instead_of_zero_equals_zero():
    objs = objects(payment_intent=[{"id": "pi_1", "status": "succeeded", "amount": 900,
                                    "amount_received": 900, "currency": "EUR"}])
    run = run_engine({"customer": [{"stripe_id": "cus_1", "email": "a@x.io"}]},
                     {"customer": [{"stripe_id": "cus_1", "email": "a@x.io"}]}, objs,
                     mapping=BARE)
    (b,) = run.bridge
    assert (b.currency, b.computable, b.stripe_total, b.user_total, b.residual) == (
        "eur", False, None, None, None)
    assert "no mapped table mirrors PaymentIntents" in (b.reason or "")
    assert run.verdict == Verdict.RECONCILED  # nothing compared is wrong; the bridge is unknown
    assert any("bridge not computable (EUR)" in w for w in run.warnings)
    md = render_markdown(run)
    assert "**not computable**: no mapped table mirrors PaymentIntents" in md
    assert "| residual |" not in md
    stored = ReconRun.model_validate(run.model_dump(mode="json", by_alias=True))
    assert stored.bridge[0].computable is False and stored.bridge[0].reason == b.reason


def test_bridge_names_what_a_payment_table_lacks():
    no_status = Mapping.model_validate({"version": 1, "entities": {
        "pack": {"table": "packs", "stripe_object": "payment_intent", "key": "pi_ref",
                 "fields": {"price": {"column": "price", "type": "money", "currency": "ccy",
                                      "stripe": "amount"}}}}})
    run = run_engine({}, {}, mapping=no_status)
    (b,) = run.bridge
    assert b.currency is None and b.label == "all currencies" and not b.computable
    assert b.reason == "entity 'pack' has no status field compared with Stripe's status"


def test_bridge_reads_fields_by_stripe_path_and_currency_from_the_snapshot():
    pack = Mapping.model_validate({"version": 1, "entities": {
        "pack": {"table": "packs", "stripe_object": "payment_intent", "key": "pi_ref",
                 "fields": {"state": {"column": "state", "stripe": "status"},
                            "price": {"column": "price", "type": "money", "currency": "ccy",
                                      "stripe": "amount"}}}}})
    stripe = pl.DataFrame({"stripe_id": ["pi_1", "pi_2"], "state": ["succeeded"] * 2,
                           "price": [1000, 500], "account": [None, None],
                           "livemode": [False, False], "created": [1, 2],
                           "deleted": [False, False]},
                          schema_overrides={"account": pl.String})
    local = pl.DataFrame({"stripe_id": ["pi_1", "pi_2"], "state": ["succeeded"] * 2,
                          "price": [1000, 50], "_cur_ccy": ["JPY", "usd"],
                          "local_key": ["packs:1", "packs:2"]})
    objs = objects(payment_intent=[
        {"id": "pi_1", "status": "succeeded", "amount": 1000, "currency": "jpy"},
        {"id": "pi_2", "status": "succeeded", "amount": 500, "currency": "usd"}])
    run = to_run(reconcile(ReconInput(mapping=pack, stripe={"pack": stripe}, objects=objs,
                                      local={"pack": local}), ReconOptions()))
    assert [(d.class_.value, d.currency) for d in run.discrepancies] == [
        ("AMOUNT_MISMATCH.exponent", "usd")]
    assert [(b.currency, b.stripe_total, b.user_total, b.residual) for b in run.bridge] == [
        ("jpy", 1000, 1000, 0), ("usd", 500, 50, 0)]


def _payments(rows: list[tuple[str, str | None, int]]) -> pl.DataFrame:
    return pl.DataFrame({"local_key": [r[0] for r in rows], "bill": [r[1] for r in rows],
                         "amount": [r[2] for r in rows]},
                        schema={"local_key": pl.String, "bill": pl.String, "amount": pl.Int64})


def test_applied_payments_against_what_each_invoice_received():
    spec = AppliedSpec(entity="bill_payment", target="bill", stripe_object="invoice",
                       ref="bill", amount="amount")
    objs = objects(invoice=[
        {"id": "in_ok", "status": "paid", "amount_paid": 1990, "total": 1990},
        {"id": "in_twice", "status": "paid", "amount_paid": 1990, "total": 1990},
        {"id": "in_open", "status": "open", "amount_paid": 0, "total": 1990},
        {"id": "in_credited", "status": "paid", "amount_paid": 1990, "total": 1990,
         "post_payment_credit_notes_amount": 1990},
        {"id": "in_unapplied", "status": "paid", "amount_paid": 500, "total": 500},
        {"id": "in_free", "status": "paid", "amount_paid": 0, "total": 0}])
    rows = _payments([
        ("bill_payments:1", "in_ok", 1990),
        ("bill_payments:9", "in_twice", 1990), ("bill_payments:10", "in_twice", 1990),
        ("bill_payments:3", "in_open", 1990),
        ("bill_payments:4", "in_credited", 1990),
        ("bill_payments:5", "in_ghost", 700),
        ("bill_payments:6", None, 100)])  # applied to a bill with no Stripe invoice: not ours
    disc, unapplied = classify_applied(spec, rows, objs)
    got = sorted(zip(disc["class"], disc["stripe_id"], disc["local_key"], strict=True))
    assert got == [
        ("DUPLICATE_LOCAL_EFFECT", "in_twice", "bill_payments:10"),
        ("ORPHAN_APPLICATION", "in_ghost", "bill_payments:5"),
        ("ORPHAN_APPLICATION", "in_open", "bill_payments:3"),
        ("REVERSED_AFTER_APPLICATION", "in_credited", "bill_payments:4")]
    dup = disc.filter(pl.col("class") == "DUPLICATE_LOCAL_EFFECT").row(0, named=True)
    assert dup["ev_local"] == ["bill_payments:10", "bill_payments:9"]
    assert unapplied is not None and unapplied.to_list() == ["in_unapplied"]


def test_refunded_payment_intent_after_application_is_reversed():
    spec = AppliedSpec(entity="allocation", target="payment", stripe_object="payment_intent",
                       ref="payment", amount="amount")
    objs = objects(payment_intent=[{"id": "pi_1", **PI}],
                   refund=[{"id": "re_1", "payment_intent": "pi_1", "amount": 400,
                            "status": "succeeded", "currency": "usd"}])
    rows = pl.DataFrame({"local_key": ["alloc:1"], "payment": ["pi_1"], "amount": [1000]})
    disc, _ = classify_applied(spec, rows, objs)
    assert disc.select("class", "stripe_id").rows() == [("REVERSED_AFTER_APPLICATION", "pi_1")]


def test_target_with_money_received_and_nothing_applied_is_unapplied_on_its_own_row(mapping):
    # the local invoice even says paid: its state agrees, yet no payment row applies the money
    inv = {"status": "paid", "currency": "usd", "total": 500}
    stripe = frame("invoice", "stripe", [{"stripe_id": "in_1", **inv},
                                         {"stripe_id": "in_2", **inv}])
    local = frame("invoice", "local", [{"stripe_id": "in_1", **inv},
                                       {"stripe_id": "in_2", **inv, "status": "open"}])
    ctx = EntityContext(expected_livemode=False, unapplied_ids=pl.Series(["in_1", "in_2"]))
    rows, _ = classify_entity("invoice", mapping.entities["invoice"], stripe, local, ctx)
    assert sorted(zip(rows["class"], rows["stripe_id"], strict=True)) == [
        ("UNAPPLIED_PAYMENT", "in_1"), ("UNAPPLIED_PAYMENT", "in_2")]
    # with a payment applied (not in unapplied_ids), the open invoice is only stale
    ctx = EntityContext(expected_livemode=False, unapplied_ids=pl.Series(["in_1"]))
    rows, _ = classify_entity("invoice", mapping.entities["invoice"], stripe, local, ctx)
    assert sorted(zip(rows["class"], rows["stripe_id"], strict=True)) == [
        ("STALE_STATE", "in_2"), ("UNAPPLIED_PAYMENT", "in_1")]


def test_state_applied_long_ago_then_a_newer_one_lost_is_stale_not_regression():
    # active (day 1) and past_due (day 5) processed; back to active on day 9 was lost
    sub = {"quantity": 1}
    events = objects(event=[
        {"id": "evt_1", "type": "customer.subscription.updated", "object_id": "sub_1",
         "status": "active", "created": 100},
        {"id": "evt_2", "type": "customer.subscription.updated", "object_id": "sub_1",
         "status": "past_due", "created": 500},
        {"id": "evt_3", "type": "customer.subscription.updated", "object_id": "sub_1",
         "status": "active", "created": 900}])
    processed = [{"stripe_id": "evt_1"}, {"stripe_id": "evt_2"}]
    run = run_engine({"subscription": [{"stripe_id": "sub_1", "status": "active", **sub}]},
                     {"subscription": [{"stripe_id": "sub_1", "status": "past_due", **sub}],
                      "processed_event": processed}, events, gap_min_run=5)
    assert classes(run) == [("STALE_STATE", "sub_1")]
    # the old 'active' snapshot replayed after past_due was applied: that is a regression
    run = run_engine({"subscription": [{"stripe_id": "sub_1", "status": "past_due", **sub}]},
                     {"subscription": [{"stripe_id": "sub_1", "status": "active", **sub}],
                      "processed_event": processed}, events, gap_min_run=5)
    assert classes(run) == [("STATE_REGRESSION", "sub_1")]
