"""Every detector: a world that triggers it, the clean world that does not; and precision /
recall of all detectors against the worlds' ground-truth manifests."""

from __future__ import annotations

import pytest

from tests.tools.checks.worlds import cached_context, manifest
from tools.checks import CHECKS, CheckContext, Profile, run_checks

# checks no built world triggers yet (tested on hand-built contexts below): every world ends
# with its endpoint enabled for "*" (FM-04 re-enables it after the window), so no handled
# event type is ever left unsubscribed
SYNTHETIC = {"webhook.handled_events_enabled"}
WORLD_OF = {"webhook.signature_raw_body": "all"}


def _objects(world, fm: str) -> set[str]:
    switch = manifest(world)["switches"].get(fm, {})
    # FM-30's objects are the resent meter events, which no Stripe API returns; the usage
    # record each one duplicated is what a detector can point to
    copied = {a["usage_record"] for a in switch.get("affected", []) if a.get("usage_record")}
    return set(switch.get("objects", [])) | copied


@pytest.mark.parametrize("check_id", sorted(set(CHECKS) - SYNTHETIC))
def test_detector_fires_on_its_world_and_not_on_the_clean_one(worlds, check_id):
    check = CHECKS[check_id]
    world = worlds[WORLD_OF.get(check_id, "handlers")]
    found = check.evaluate(cached_context(world))
    assert found, f"{check_id} did not fire"
    truth = _objects(world, check.failure_mode)
    for f in found:
        assert f.failure_mode == check.failure_mode and f.evidence and f.fix and f.systemic_fix
        assert set(f.evidence) & truth, f"{f.subject}: evidence outside the manifest"
    assert check.evaluate(cached_context(worlds["clean"])) == []


def _observable(world) -> set[str]:
    """Switches whose effect the manifest records: affected objects, or account-level facts
    (FM-05's pinned endpoint stays a fact even when FM-01 keeps every row from being written)."""
    return {fm for fm, s in manifest(world)["switches"].items()
            if s["objects"] or s.get("endpoint") or s.get("window")}


# "handlers": the only delivery evidence is the Events API (pending_webhooks) and the
# company's processed-event log. "all": FM-01 rejects every delivery, so an outage inside it
# (FM-04) shows only in an attempt log: the user's Dashboard export is added there.
@pytest.mark.parametrize("name,export", [("all", True), ("handlers", False)])
def test_precision_and_recall_against_the_manifest(worlds, name, export):
    world = worlds[name]
    report = run_checks(cached_context(world, export=export))
    assert not report.errors
    truth = _observable(world)
    reported = {f.failure_mode for f in report.findings}
    tp = reported & truth
    precision, recall = len(tp) / len(reported), len(tp) / len(truth)
    objects = {fm: _objects(world, fm) | {manifest(world)["switches"][fm].get("endpoint")}
               for fm in truth}
    explained = [f for f in report.findings if set(f.evidence) & objects.get(f.failure_mode,
                                                                              set())]
    evidence_precision = len(explained) / len(report.findings)
    print(f"\n{name}: {len(truth)} switches with effects, {len(report.findings)} findings, "  # noqa: T201
          f"precision {precision:.2f} recall {recall:.2f} evidence precision "
          f"{evidence_precision:.3f}")
    assert (precision, recall) == (1.0, 1.0), (sorted(reported - truth), sorted(truth - reported))
    assert evidence_precision >= 0.95


def test_the_clean_world_yields_zero_findings(worlds):
    report = run_checks(cached_context(worlds["clean"]))
    assert report.errors == {} and report.skipped == []
    assert report.findings == []


def _ctx(**kw) -> CheckContext:
    return CheckContext(now=2_000_000, profile=Profile(expected_livemode=False), **kw)


def test_backfill_gap_on_a_hand_built_context():
    check = CHECKS["ops.backfill_checkpoints"]
    customers = [{"id": f"cus_{i}", "object": "customer", "created": 1_000 + i,
                  "email": f"u{i}@example.com", "metadata": {"user_id": f"u{i}"}}
                 for i in range(4)]
    # search-then-create twins (FM-26), never delivered, not local: not a backfill gap
    customers += [{"id": "cus_0b", "object": "customer", "created": 1_000,
                   "email": "u0@example.com", "metadata": {"user_id": "u0"}},
                  {"id": "cus_2b", "object": "customer", "created": 1_002,
                   "email": "u2@example.com", "metadata": {"user_id": "u2"}}]
    # created after go-live (the first delivery attempt): a delivery problem, not the backfill
    customers.append({"id": "cus_late", "object": "customer", "created": 1_010})
    events = [{"id": "evt_3", "type": "customer.created", "created": 1_003,
               "data": {"object": customers[3]}}]
    from tools.checks import Delivery
    deliveries = [Delivery(event_id="evt_3", status=200, at=1_004)]
    local = {"customer": [{"stripe_id": "cus_0", "local_key": "accounts:1"},
                          {"stripe_id": "cus_3", "local_key": "accounts:2"}],
             "subscription": [], "invoice": []}
    (f,) = check.evaluate(_ctx(objects={"customer": customers}, events=events,
                               deliveries=deliveries, local=local))
    assert f.evidence == ["cus_1", "cus_2"] and f.details["cutoff"] == 1_002
    assert f.details["go_live"] == 1_004 and f.details["first"] == 1_001
    local["customer"] += [{"stripe_id": "cus_1"}, {"stripe_id": "cus_2"}]
    assert check.evaluate(_ctx(objects={"customer": customers}, events=events,
                               deliveries=deliveries, local=local)) == []


def test_handled_event_type_missing_from_every_enabled_endpoint():
    check = CHECKS["webhook.handled_events_enabled"]
    endpoint = {"id": "we_1", "object": "webhook_endpoint", "status": "enabled",
                "enabled_events": ["invoice.paid"]}
    local = {"processed_event": [{"stripe_id": "evt_1", "type": "invoice.paid",
                                  "outcome": "applied"},
                                 {"stripe_id": "evt_2", "type": "charge.refunded",
                                  "outcome": "applied"}]}
    (f,) = check.evaluate(_ctx(objects={"webhook_endpoint": [endpoint]}, local=local))
    assert f.subject == "type:charge.refunded"
    endpoint["enabled_events"] = ["*"]
    assert check.evaluate(_ctx(objects={"webhook_endpoint": [endpoint]}, local=local)) == []
    endpoint.update(enabled_events=["invoice.paid", "charge.refunded"], status="disabled")
    assert len(check.evaluate(_ctx(objects={"webhook_endpoint": [endpoint]}, local=local))) == 2


def test_there_are_at_least_25_detectors_each_fully_described():
    assert len(CHECKS) >= 25
    for c in CHECKS.values():
        assert c.failure_mode.startswith("FM-") and c.products and c.pattern_refs
        assert c.fix and c.systemic_fix and "." in c.id


def test_usage_beyond_records_prices_the_excess_per_unit_and_follows_the_formula():
    check = CHECKS["metering.usage_reconciliation"]
    meter = {"id": "mtr_1", "object": "billing.meter", "event_name": "calls",
             "default_aggregation": {"formula": "sum"}}
    price = {"id": "price_1", "currency": "bhd", "billing_scheme": "per_unit",
             "unit_amount_decimal": "0.5", "recurring": {"meter": "mtr_1"}}
    sub = {"id": "sub_1", "object": "subscription", "customer": "cus_1",
           "items": {"data": [{"price": price}]}}
    day = 86_400 * 20_000
    summary = {"id": "mtrusg_1", "meter": "mtr_1", "customer": "cus_1", "subscription": "sub_1",
               "start_time": day, "end_time": day + 86_400, "aggregated_value": 13}
    local = {"usage_record": [
        {"stripe_id": "u1", "customer": "cus_1", "meter": "calls", "quantity": 4,
         "occurred_at": day + 60},
        {"stripe_id": "u2", "customer": None, "subscription": "sub_1", "meter": "calls",
         "quantity": 6, "occurred_at": day + 120},  # an account never linked: by subscription
        {"stripe_id": "u0", "customer": "cus_1", "meter": "calls", "quantity": 99,
         "occurred_at": day - 1}]}  # the day before: outside the window

    def run(**changes):  # noqa: ANN003, ANN202
        objects = {"billing.meter": [{**meter, **changes.pop("meter", {})}],
                   "subscription": [sub], "billing.meter_event_summary": [
                       {**summary, **changes.pop("summary", {})}]}
        return check.evaluate(_ctx(objects=objects, local=local))

    (f,) = run()
    # 3 units beyond 10 recorded, at 0.5 fils each: 1.5 fils, rounded half up to 2 (BHD: 3
    # decimals)
    assert f.details["excess"] == "3" and (f.details["amount"], f.details["currency"]) == (
        2, "bhd")
    assert set(f.evidence) >= {"cus_1", "mtr_1", "mtrusg_1", "u1", "u2"} and "u0" not in f.evidence
    assert run(summary={"aggregated_value": 10}) == []  # Stripe agrees with the records
    # `last`: Stripe keeps the last reading (6); more than that is a finding
    assert run(meter={"default_aggregation": {"formula": "last"}},
               summary={"aggregated_value": 6}) == []
    (last,) = run(meter={"default_aggregation": {"formula": "last"}},
                  summary={"aggregated_value": 12})
    assert last.details["excess"] == "6"
    price["tiers_mode"], price["billing_scheme"] = "graduated", "tiered"
    (tiered,) = run()
    assert tiered.details["amount"] is None  # the marginal price depends on the whole period
