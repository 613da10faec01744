"""Findings across runs: deduplicated by (check, subject), first/last seen, resolved and
re-opened; the receiver's incremental run stores what the inbox alone can show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.settings import load_settings
from core.storage import open_database
from tools.checks import CHECKS
from tools.checks.incremental import run_on_events
from tools.checks.store import list_findings, save_findings
from tools.webhooks import inbox
from tools.webhooks.verify import EventEnvelope

CHECK = CHECKS["ops.idempotency_key_on_writes"]


def test_dedupe_resolve_and_reopen(tmp_path):
    db = open_database(load_settings(database_url=f"sqlite:///{tmp_path / 'a.db'}"))
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    a = CHECK.finding("order:1", ["pi_1", "pi_2"], "twice")
    b = CHECK.finding("order:2", ["pi_3", "pi_4"], "twice")
    with db.session() as s:
        save_findings(s, "acme", [a, b], evaluated=[CHECK.id], now=t0)
    with db.session() as s:
        save_findings(s, "acme", [a], evaluated=[CHECK.id], now=t0 + timedelta(hours=1))
        open_ = list_findings(s, "acme")
        everything = list_findings(s, "acme", include_resolved=True)
    assert [f.subject for f in open_] == ["order:1"]
    assert open_[0].first_seen == t0 and open_[0].last_seen == t0 + timedelta(hours=1)
    resolved = next(f for f in everything if f.subject == "order:2")
    assert resolved.resolved_at is not None
    with db.session() as s:  # seen again: re-opened, first_seen kept
        save_findings(s, "acme", [a, b], evaluated=[CHECK.id], now=t0 + timedelta(hours=2))
        again = {f.subject: f for f in list_findings(s, "acme")}
    assert again["order:2"].resolved_at is None and again["order:2"].first_seen == t0
    assert len(again) == 2
    db.dispose()


def test_incremental_run_reports_api_version_drift_seen_by_the_receiver(tmp_path):
    db = open_database(load_settings(database_url=f"sqlite:///{tmp_path / 'b.db'}"))
    env = EventEnvelope(id="evt_old", type="invoice.paid", created=1, api_version="2024-06-20")
    with db.session() as s:
        inbox.store_event(s, "acme", env, b'{"id": "evt_old", "type": "invoice.paid", '
                          b'"created": 1, "api_version": "2024-06-20", "data": {"object": {}}}')
        events = inbox.pending(s, "acme")
    assert run_on_events(db, "acme", events) == 1
    with db.session() as s:
        (f,) = list_findings(s, "acme")
    assert f.check == "webhook.api_version_pinned" and f.evidence == ["evt_old"]
    db.dispose()
