"""Delivery evidence from the sources a real account has, on hand-built contexts: the
events' pending_webhooks, the processed-event log, our receiver, an imported export."""

from __future__ import annotations

import json

import pytest

from core.errors import ConfigError
from tools.checks import CHECKS, CheckContext, Delivery, Profile, run_checks
from tools.checks.delivery import matches
from tools.checks.export import CLI_LISTENER, load_delivery_export
from tools.checks.sources import canonical_words

NOW = 10_000_000
OLD = NOW - 10 * 86_400  # settled and past Stripe's retries


def _event(i: int, etype: str, *, pending: int, created: int = OLD, obj: str | None = None):
    return {"id": f"evt_{i}", "type": etype, "created": created + i, "pending_webhooks": pending,
            "data": {"object": {"id": obj or f"in_{i}", "object": "invoice"}}}


def _ctx(events, *, log=None, deliveries=None, available=None) -> CheckContext:
    local = {"processed_event": log} if log is not None else {}
    avail = {"events", "pending"} | ({"processed"} if log is not None else set())
    return CheckContext(now=NOW, profile=Profile(), events=events, deliveries=deliveries or [],
                        local=local, available=frozenset(available or avail))


def test_pending_webhooks_long_after_created_is_a_failure_the_log_overrides():
    events = [_event(1, "invoice.paid", pending=1), _event(2, "invoice.paid", pending=0),
              _event(3, "invoice.paid", pending=1, created=NOW - 60)]  # still in flight
    ctx = _ctx(events, log=[{"stripe_id": "evt_2", "received_at": OLD + 5,
                             "outcome": "applied"}])
    d = ctx.delivery
    assert d.sources == {"events_api", "processed_log"}
    assert (d.failed(events[0]), d.failed(events[1]), d.failed(events[2])) == (True, False, None)
    assert (d.reached_app(events[0]), d.reached_app(events[1])) == (False, True)
    assert d.go_live == OLD + 5 and d.outcome("evt_2") == "applied"
    # the log alone (no Events API): a settled event it lacks did not reach the handler
    only_log = _ctx(events, log=[], available={"events", "processed"})
    assert only_log.delivery.reached_app(events[0]) is False
    assert only_log.delivery.failed(events[0]) is None  # sent? acknowledged? cannot tell


def test_invoice_created_failing_per_type_not_everywhere():
    check = CHECKS["invoicing.invoice_created_2xx"]
    events = [_event(i, "invoice.created", pending=1) for i in range(4)]
    events += [_event(10 + i, "invoice.paid", pending=0) for i in range(6)]
    (f,) = check.evaluate(_ctx(events))
    assert f.details["sources"] == "events_api" and f.details["events"] == 4
    # the whole endpoint failing is not this detector's finding
    for ev in events:
        ev["pending_webhooks"] = 1
    assert check.evaluate(_ctx(events)) == []


def test_endpoint_matching_follows_enabled_events():
    ep = {"id": "we_1", "status": "enabled", "enabled_events": ["invoice.*", "charge.refunded"]}
    assert matches(ep, "invoice.paid") and matches(ep, "charge.refunded")
    assert not matches(ep, "charge.succeeded")
    assert not matches({**ep, "status": "disabled"}, "invoice.paid")


def test_every_delivery_detector_without_its_sources_says_what_it_needs():
    report = run_checks(CheckContext(now=NOW, available=frozenset({"stripe", "local"})))
    needing = {c.id for c in CHECKS.values() if c.needs_any}
    assert len(needing) == 10
    assert needing <= set(report.not_computable)
    assert all(report.not_computable[c].startswith("not computable: needs") for c in needing)


def test_outcome_words_translate_through_the_mapping_values():
    # v2: local word -> canonical word; v1 descriptions translate nothing
    assert canonical_words({"done": "applied", "skip": ["ignored"], "old": "stale"}) == {
        "done": "applied", "skip": "ignored", "old": "stale"}
    assert canonical_words({"applied": "written", "ignored": "not handled"}) == {}


def test_an_attempt_export_and_stripe_listen_output_load(tmp_path):
    path = tmp_path / "attempts.csv"
    path.write_text("event_id,at,status,error\nevt_1,100,,connection refused\nevt_1,200,200,\n")
    export = load_delivery_export(path)
    assert [(d.status, d.error, d.endpoint_id) for d in export.attempts] == [
        (None, "connection refused", "export"), (200, None, "export")]
    listened = tmp_path / "listen.jsonl"
    listened.write_text(json.dumps({"id": "evt_9", "object": "event", "created": 5,
                                    "type": "invoice.paid"}) + "\n")
    (d,) = load_delivery_export(listened).listened
    assert (d.event_id, d.endpoint_id, d.at) == ("evt_9", CLI_LISTENER, 5)
    ctx = _ctx([_event(9, "invoice.paid", pending=1)], deliveries=[d])
    assert ctx.delivery.sent("evt_9") and "fde_receiver" in ctx.delivery.sources
    assert ctx.delivery.exported("evt_9") == []  # a listener never answers for the user


@pytest.mark.parametrize("text,message", [
    ('{"event_id": "evt_1", "at": 1, "stauts": 200}\n', "unknown field 'stauts'"),
    ('{"event_id": "evt_1"}\n', "field 'at'"),
    ("not json\n", "line 1: not JSON"),
])
def test_a_bad_export_line_names_its_line_and_field(tmp_path, text, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_delivery_export(path)


def test_signature_rejection_from_pending_and_an_empty_log():
    check = CHECKS["webhook.signature_raw_body"]
    events = [_event(i, "invoice.paid", pending=1) for i in range(12)]
    (f,) = check.evaluate(_ctx(events, log=[]))
    assert f.details["sources"] == "events_api+processed_log" and f.details["events"] == 12
    # the handler logged one of them: it does take events, not a blanket rejection
    assert check.evaluate(_ctx(events, log=[{"stripe_id": "evt_3", "received_at": OLD + 9,
                                             "outcome": "applied"}])) == []
    # an export that shows every attempt refused at the TCP level is an outage, not this
    down = [Delivery(event_id=e["id"], status=None, error="connection refused", at=OLD)
            for e in events]
    ctx = _ctx(events, log=[], deliveries=down,
               available={"events", "pending", "processed", "export"})
    assert check.evaluate(ctx) == []


def test_the_log_against_the_events_list_gives_missed_late_duplicated_reordered():
    events = [_event(1, "invoice.paid", pending=0, obj="in_a"),
              _event(2, "invoice.paid", pending=0, obj="in_a"),  # newer, taken first
              _event(3, "invoice.paid", pending=1, obj="in_b"),  # never taken
              _event(4, "invoice.paid", pending=0, obj="in_c")]
    log = [{"stripe_id": "evt_2", "received_at": OLD + 10, "outcome": "applied"},
           {"stripe_id": "evt_1", "received_at": OLD + 4000, "outcome": "applied"},  # late
           {"stripe_id": "evt_4", "received_at": OLD + 5, "outcome": "applied"},
           {"stripe_id": "evt_4", "received_at": OLD + 9, "outcome": "applied"}]  # twice
    (h,) = _ctx(events, log=log).delivery.handling()
    assert (h.events, h.unacknowledged, h.missed, h.late, h.duplicated, h.out_of_order) == (
        4, 1, 1, 1, 1, 1)
    assert h.sources == "events_api+processed_log"
    (bare,) = _ctx(events).delivery.handling()  # no log: only what the Events API says
    assert (bare.unacknowledged, bare.missed, bare.out_of_order) == (1, None, None)
