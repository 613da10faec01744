"""Signals from stored findings, a reconciliation run and escalations (when the table is
there), with money kept per currency in minor units."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from core.settings import load_settings
from core.storage import Database, open_database
from knowledge.signals import collect_signals, to_csv, to_html, to_markdown
from knowledge.signals.classify import category_for
from tools.checks.model import Finding
from tools.checks.store import save_findings
from tools.recon.models import Discrepancy, ReconRun, Verdict
from tools.recon.store import save_run

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = open_database(load_settings(database_url=f"sqlite:///{tmp_path / 'app.db'}"))
    yield database
    database.dispose()


def _finding(check: str, fm: str, subject: str) -> Finding:
    return Finding(id=f"fnd_{subject}", check=check, failure_mode=fm, severity="high",
                   products=["Checkout", "LPM"], subject=subject, evidence=[f"evt_{subject}"],
                   summary=f"{check} on {subject}", fix="f", systemic_fix="s", pattern_refs=[])


def _seed(db: Database) -> None:
    with db.session() as s:
        save_findings(s, "alpha", [_finding("checkout.async_payment_events", "FM-14", "a1"),
                                   _finding("webhook.api_version_pinned", "FM-05", "a2")],
                      evaluated=[], now=NOW - timedelta(days=30))
        save_findings(s, "beta", [_finding("checkout.async_payment_events", "FM-14", "b1"),
                                  _finding("checkout.async_payment_events", "FM-14", "b2")],
                      evaluated=[], now=NOW - timedelta(days=2))
        save_run(s, ReconRun(id="rec_1", engagement="beta", started_at=NOW,
                             verdict=Verdict.BREAKS, discrepancies=[
            Discrepancy(id="d1", **{"class": "AMOUNT_MISMATCH.exponent"}, entity="payment",
                        stripe_id="pi_1", amount_minor=100000, currency="jpy",
                        money_impact=-99000),
            Discrepancy(id="d2", **{"class": "UNAPPLIED_PAYMENT"}, entity="payment",
                        stripe_id="pi_2", amount_minor=1999, currency="eur", money_impact=-1999),
            Discrepancy(id="d3", **{"class": "UNAPPLIED_PAYMENT"}, entity="payment",
                        stripe_id="pi_3", amount_minor=12500, currency="bhd", money_impact=-125),
            Discrepancy(id="d4", **{"class": "APPLIED_BEFORE_FINAL"}, entity="payment",
                        stripe_id="pi_4", amount_minor=500, currency="eur")]))


def test_categories_counts_and_money(db: Database) -> None:
    _seed(db)
    with db.session() as s:
        report = collect_signals(s)
    by_id = {sig.id: sig for sig in report.signals}
    assert by_id["FM-14"].count == 3
    assert by_id["FM-14"].by_engagement == {"alpha": 1, "beta": 2}
    assert by_id["FM-14"].category == "multi_product_failure"
    assert by_id["FM-05"].category == "migration_friction"
    assert by_id["AMOUNT_MISMATCH.exponent"].category == "integration_gap"
    # money stays per currency, in minor units, never summed across currencies
    assert by_id["UNAPPLIED_PAYMENT"].money_impact == {"bhd": 125, "eur": 1999}
    assert "APPLIED_BEFORE_FINAL" not in by_id  # pending is not a break
    totals = {c.category: c.count for c in report.categories}
    assert totals == {"integration_gap": 1, "migration_friction": 1,
                      "multi_product_failure": 5}
    assert by_id["FM-14"].exemplars[0].evidence == ["evt_a1"]
    assert report.sources == {"finding": 4, "discrepancy": 3}

    markdown, csv_text, page = to_markdown(report), to_csv(report), to_html(report)
    assert "| 0.125 BHD, 19.99 EUR |" in markdown  # three- and two-decimal, side by side
    assert "| 99,000 JPY |" in markdown  # zero-decimal
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    unapplied = [(r["currency"], r["money_impact_minor"]) for r in rows
                 if r["signal"] == "UNAPPLIED_PAYMENT"]
    assert unapplied == [("bhd", "125"), ("eur", "1999")]
    assert "<script" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")


def test_trend_reflects_when_findings_first_appeared(db: Database) -> None:
    _seed(db)
    with db.session() as s:
        report = collect_signals(s, now=NOW)
    by_id = {sig.id: sig for sig in report.signals}
    # FM-05 was seen 30 days ago only; FM-14 then, and twice this week
    assert by_id["FM-05"].weekly == [0, 0, 0, 1, 0, 0, 0, 0]
    assert by_id["FM-05"].trend == "falling"
    assert by_id["FM-14"].weekly == [0, 0, 0, 1, 0, 0, 0, 2]
    assert by_id["FM-14"].trend == "rising"
    assert by_id["UNAPPLIED_PAYMENT"].trend == "new"


def test_escalations_are_read_when_the_table_exists(db: Database) -> None:
    _seed(db)
    with db.session() as s:
        s.execute(text(
            "INSERT INTO api_escalations (id, thread_id, run_id, interrupt_id, assistant_id,"
            " engagement, severity, product, money_minor, currency, money_tier, summary,"
            " payload, status, approvals, created_at) VALUES ('esc_1', 't', 'r', 'i', 'triage',"
            " 'gamma', 'high', 'Checkout', 4200, 'mxn', 0, 'OXXO voucher expired', :p,"
            " 'resolved', '[]', :at)"),
            {"p": json.dumps({"diagnosis": {"failure_mode": "FM-17", "evidence": ["pi_9"]}}),
             "at": NOW})
        report = collect_signals(s)
    assert report.escalations_read
    by_id = {sig.id: sig for sig in report.signals}
    assert by_id["FM-17"].by_source == {"escalation": 1}
    assert by_id["FM-17"].money_impact == {"mxn": 4200}
    assert "gamma" in report.engagements


def test_signals_work_without_the_escalations_table(db: Database) -> None:
    _seed(db)
    with db.session() as s:
        s.execute(text("DROP TABLE api_escalations"))
        report = collect_signals(s)
    assert not report.escalations_read
    assert sum(sig.count for sig in report.signals) == 7
    assert "escalations not available" in to_markdown(report)


@pytest.mark.parametrize(("signal", "category"), [
    ("FM-31", "migration_friction"), ("ENV_MISMATCH", "migration_friction"),
    ("FM-15", "multi_product_failure"), ("FM-02", "integration_gap"),
    ("WEBHOOK_GAP", "integration_gap"), ("escalation.Billing", "integration_gap")])
def test_category_rules(signal: str, category: str) -> None:
    assert category_for(signal) == category
