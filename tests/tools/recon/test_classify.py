"""One test per reconciliation class (DESIGN §6) on hand-built frames, plus the bridge."""

from __future__ import annotations

from tests.tools.recon.conftest import classes, objects, run_engine
from tools.recon.models import Verdict

PI = {"status": "succeeded", "currency": "usd", "amount": 1000, "amount_received": 1000}


def test_clean_world_is_reconciled_with_zero_residual():
    run = run_engine({"payment": [{"stripe_id": "pi_1", **PI}],
                      "customer": [{"stripe_id": "cus_1", "email": "a@x.io"}]},
                     {"payment": [{"stripe_id": "pi_1", **PI}],
                      "customer": [{"stripe_id": "cus_1", "email": "a@x.io"}]})
    assert run.verdict == Verdict.RECONCILED
    assert run.discrepancies == []
    assert [(b.currency, b.stripe_total, b.user_total, b.residual) for b in run.bridge] == [
        ("usd", 1000, 1000, 0)]


def test_missing_local_and_orphan_local():
    run = run_engine({"customer": [{"stripe_id": "cus_1"}]},
                     {"customer": [{"stripe_id": "cus_gone"}]})
    assert classes(run) == [("MISSING_LOCAL", "cus_1"), ("ORPHAN_LOCAL", "cus_gone")]
    assert run.verdict == Verdict.BREAKS


def test_orphans_not_reported_for_partial_syncs():
    run = run_engine({"customer": []}, {"customer": [{"stripe_id": "cus_gone"}]},
                     check_orphans=False)
    assert classes(run) == []


def test_env_mismatch_for_other_mode_rows():
    run = run_engine({"customer": []},
                     {"customer": [{"stripe_id": "cus_test1", "livemode": True}]})
    assert classes(run) == [("ENV_MISMATCH", "cus_test1")]


def test_unapplied_payment_with_bridge_adjustment():
    run = run_engine({"payment": [{"stripe_id": "pi_1", **PI}]}, {"payment": []})
    assert classes(run) == [("UNAPPLIED_PAYMENT", "pi_1")]
    (b,) = run.bridge
    assert (b.stripe_total, b.user_total, b.residual) == (1000, 0, 0)
    assert [(a.label, a.amount) for a in b.adjustments] == [("UNAPPLIED_PAYMENT", -1000)]
    assert run.discrepancies[0].money_impact == -1000


def test_stale_state_and_state_regression_from_processed_events():
    stripe = {"invoice": [{"stripe_id": "in_1", "status": "paid", "currency": "usd",
                           "total": 500},
                          {"stripe_id": "in_2", "status": "paid", "currency": "usd",
                           "total": 500}]}
    local = {"invoice": [{"stripe_id": "in_1", "status": "open", "currency": "usd",
                          "total": 500},
                         {"stripe_id": "in_2", "status": "open", "currency": "usd",
                          "total": 500}],
             # in_1: the paid event was processed, then the older open one → regression
             "processed_event": [{"stripe_id": "evt_1"}, {"stripe_id": "evt_2"},
                                 {"stripe_id": "evt_3"}]}
    events = objects(event=[
        {"id": "evt_1", "type": "invoice.finalized", "object_id": "in_1", "status": "open",
         "created": 100},
        {"id": "evt_2", "type": "invoice.paid", "object_id": "in_1", "status": "paid",
         "created": 200},
        {"id": "evt_3", "type": "invoice.finalized", "object_id": "in_2", "status": "open",
         "created": 100},
        {"id": "evt_4", "type": "invoice.paid", "object_id": "in_2", "status": "paid",
         "created": 200}])
    run = run_engine(stripe, local, events)
    assert classes(run) == [("STALE_STATE", "in_2"), ("STATE_REGRESSION", "in_1")]
    stale = next(d for d in run.discrepancies if d.stripe_id == "in_2")
    assert stale.fields == ["status"]
    assert stale.stripe_values == {"status": "paid"} and stale.local_values == {"status": "open"}


def test_amount_mismatch_subclasses():
    def pay(pid: str, currency: str, amount: int) -> dict:
        return {"stripe_id": pid, "status": "succeeded", "currency": currency, "amount": amount,
                "amount_received": amount}

    stripe = {"payment": [pay("pi_jpy", "jpy", 1000), pay("pi_bhd", "bhd", 12340),
                          pay("pi_round", "usd", 1001), pay("pi_other", "usd", 5000),
                          pay("pi_fx", "usd", 5000)]}
    local = {"payment": [pay("pi_jpy", "jpy", 10), pay("pi_bhd", "bhd", 1234),
                         pay("pi_round", "usd", 1000), pay("pi_other", "usd", 4200),
                         pay("pi_fx", "eur", 4600)]}
    run = run_engine(stripe, local)
    assert classes(run) == [
        ("AMOUNT_MISMATCH.exponent", "pi_bhd"), ("AMOUNT_MISMATCH.exponent", "pi_jpy"),
        ("AMOUNT_MISMATCH.fee_fx", "pi_fx"), ("AMOUNT_MISMATCH.other", "pi_other"),
        ("AMOUNT_MISMATCH.rounding", "pi_round")]
    assert all(b.residual == 0 for b in run.bridge)
    jpy = next(d for d in run.discrepancies if d.stripe_id == "pi_jpy")
    assert jpy.money_impact == -990 and jpy.currency == "jpy"
    assert jpy.evidence.stripe == ["pi_jpy"] and jpy.evidence.local == ["payments:1"]


def test_unknown_currency_is_unclassified_with_reason_and_in_the_bridge():
    pay = {"stripe_id": "pi_x", "status": "succeeded", "currency": "xts", "amount": 100,
           "amount_received": 100}
    run = run_engine({"payment": [pay]}, {"payment": [{**pay, "amount": 99,
                                                       "amount_received": 99}]})
    (d,) = run.discrepancies
    assert d.class_.value == "UNCLASSIFIED" and "unknown currency xts" in d.reason
    (b,) = run.bridge
    assert b.currency == "xts" and b.residual == 0


def test_duplicate_remote_payment():
    pi = {"status": "succeeded", "currency": "usd", "amount": 700, "customer": "cus_1",
          "amount_received": 700}
    objs = objects(payment_intent=[{"id": "pi_a", **pi, "created": 100},
                                   {"id": "pi_b", **pi, "created": 130}])
    run = run_engine({"payment": [{"stripe_id": "pi_a", **pi}, {"stripe_id": "pi_b", **pi}]},
                     {"payment": [{"stripe_id": "pi_a", **pi}]}, objs)
    (d,) = run.discrepancies
    assert (d.class_.value, d.stripe_id) == ("DUPLICATE_REMOTE", "pi_b")
    assert d.evidence.stripe == ["pi_b", "pi_a"]
    assert d.proposed_repair is not None and d.proposed_repair.tier == "money"


def test_entitlement_classes():
    objs = objects(
        payment_intent=[
            {"id": "pi_proc", "status": "processing", "amount": 100, "currency": "eur"},
            {"id": "pi_fail", "status": "requires_payment_method", "failed": "debit_failed",
             "amount": 100, "currency": "eur"},
            {"id": "pi_refd", "status": "succeeded", "amount_received": 100, "amount": 100,
             "currency": "eur"},
            {"id": "pi_ok", "status": "succeeded", "amount_received": 100, "amount": 100,
             "currency": "eur"},
            {"id": "pi_never", "status": "requires_payment_method", "amount": 100,
             "currency": "eur"}],
        refund=[{"id": "re_1", "payment_intent": "pi_refd", "amount": 100, "status": "succeeded",
                 "currency": "eur"}],
        subscription=[{"id": "sub_inc", "status": "incomplete_expired"},
                      {"id": "sub_unpaid", "status": "unpaid"},
                      {"id": "sub_ok", "status": "active"}])

    def ent(source: str, kind: str = "payment_intent") -> dict:
        return {"source_id": source, "source_type": kind, "feature": "pro", "active": True}

    local = {"entitlement": [ent("pi_proc"), ent("pi_fail"), ent("pi_refd"), ent("pi_ok"),
                             ent("pi_ok"), ent("pi_never"), ent("pi_ghost"),
                             ent("sub_inc", "subscription"), ent("sub_unpaid", "subscription"),
                             ent("sub_ok", "subscription")]}
    run = run_engine({}, local, objs)
    assert classes(run) == [
        ("APPLIED_BEFORE_FINAL", "pi_proc"), ("DUPLICATE_LOCAL_EFFECT", "pi_ok"),
        ("ORPHAN_APPLICATION", "pi_ghost"), ("ORPHAN_APPLICATION", "pi_never"),
        ("ORPHAN_APPLICATION", "sub_inc"), ("REVERSED_AFTER_APPLICATION", "pi_fail"),
        ("REVERSED_AFTER_APPLICATION", "pi_refd"), ("STALE_STATE", "sub_unpaid")]


def test_pending_only_gives_reconciled_with_pending():
    objs = objects(payment_intent=[{"id": "pi_proc", "status": "processing", "amount": 100,
                                    "currency": "eur"}])
    run = run_engine({}, {"entitlement": [{"source_id": "pi_proc", "source_type":
                                           "payment_intent", "feature": "x", "active": True}]},
                     objs)
    assert run.verdict == Verdict.RECONCILED_WITH_PENDING


def test_refund_failed_after_local_success_is_reversed():
    run = run_engine({"refund": [{"stripe_id": "re_1", "status": "failed", "currency": "usd",
                                  "amount": 300}]},
                     {"refund": [{"stripe_id": "re_1", "status": "succeeded", "currency": "usd",
                                  "amount": 300}]})
    assert classes(run) == [("REVERSED_AFTER_APPLICATION", "re_1")]
    (b,) = run.bridge
    assert (b.stripe_refunds, b.user_refunds, b.residual) == (0, -300, 0)


def test_connect_context_lost_is_missing_local():
    run = run_engine({"customer": [{"stripe_id": "cus_c", "account": "acct_1"}]},
                     {"customer": [{"stripe_id": "cus_c", "account": None}]})
    assert classes(run) == [("MISSING_LOCAL", "cus_c")]


def test_stale_fields_without_status_change():
    run = run_engine({"subscription": [{"stripe_id": "sub_1", "status": "active",
                                        "quantity": 5}]},
                     {"subscription": [{"stripe_id": "sub_1", "status": "active",
                                        "quantity": 3}]})
    (d,) = run.discrepancies
    assert (d.class_.value, d.fields) == ("STALE_STATE", ["quantity"])
    assert d.proposed_repair is not None and d.proposed_repair.kind == "upsert_local"


def test_webhook_gaps_by_window_and_by_type():
    evs, processed = [], []
    for i in range(30):
        kind = "invoice.created" if i % 5 == 0 else "customer.updated"
        evs.append({"id": f"evt_{i:02d}", "type": kind, "object_id": f"x{i}",
                    "created": 1000 + i * 10})
        in_window = 100 <= i < 110
        if kind != "invoice.created" and not in_window:
            processed.append({"stripe_id": f"evt_{i:02d}", "type": kind,
                              "created": 1000 + i * 10})
    endpoint = [{"id": "we_1", "status": "enabled",
                 "events": '["invoice.created", "customer.updated"]'}]
    objs = objects(event=evs, webhook_endpoint=endpoint)
    run = run_engine({}, {"processed_event": processed}, objs, gap_grace_seconds=0)
    gaps = [d for d in run.discrepancies if d.class_.value == "WEBHOOK_GAP"]
    assert len(gaps) == 1 and "invoice.created" in gaps[0].reason
    # now a window where everything is dropped
    processed = [p for p in processed if not 10 <= int(p["stripe_id"][4:]) < 20]
    run = run_engine({}, {"processed_event": processed}, objs, gap_grace_seconds=0)
    gaps = sorted(d.reason for d in run.discrepancies if d.class_.value == "WEBHOOK_GAP")
    assert len(gaps) == 2 and any("endpoint gap" in g for g in gaps)


def test_fallback_match_accepts_unique_strong_candidate_and_reviews_weak():
    pay = {"status": "succeeded", "currency": "usd", "amount": 4242, "amount_received": 4242,
           "customer": "cus_1"}
    run = run_engine({"payment": [{"stripe_id": "pi_1", **pay}]},
                     {"payment": [{"stripe_id": None, **pay}]})
    # same amount, currency, customer, no time fields: 0.8 < 0.9 → needs review
    review = [d for d in run.discrepancies if d.needs_review]
    assert [(d.stripe_id, d.confidence) for d in review] == [("pi_1", 0.8)]
    assert run.verdict == Verdict.BREAKS
    run = run_engine({"payment": [{"stripe_id": "pi_1", **pay}]},
                     {"payment": [{"stripe_id": None, **pay}]}, fallback_threshold=0.75)
    assert run.discrepancies == [] and run.verdict == Verdict.RECONCILED
