"""Architecture review: the three shipped examples report exactly the violations they were
written to contain; bad input is rejected with every unknown key listed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import ConfigError
from knowledge.config import PACKAGE_DIR
from knowledge.patterns import Pattern
from knowledge.review import load_architecture, review_architecture
from knowledge.review.model import load_integration_map, merge_integration_map
from knowledge.review.report import render_html, render_markdown
from knowledge.review.rules import RULES

EXAMPLES = PACKAGE_DIR / "examples"

EXPECTED = {
    "saas-seats.yaml": {
        "webhook.unknown_event_2xx", "invoicing.invoice_created_2xx",
        "billing.dunning_end_state_handled", "billing.seat_updates_batched",
        "billing.retry_payment_method_subscription_default",
        "billing.proration_behavior_explicit",
    },
    "usage-based-api.yaml": {
        "metering.identifier_deterministic", "metering.aggregation_matches_payload",
        "metering.late_usage_policy", "metering.throughput_batching",
        "webhook.refetch_before_write", "ops.no_search_read_after_write",
        "catalog.lookup_keys_not_ids",
    },
    "marketplace-connect.yaml": {
        "connect.stripe_account_header", "connect.event_account_routing",
        "webhook.signature_raw_body", "lpm.voucher_expiry_handled",
        "lpm.fulfil_on_succeeded_not_processing", "checkout.payment_status_checked",
        "payments.dispute_events_handled", "reporting.payout_reconciliation",
        "reporting.manual_payouts_tracking",
    },
}


@pytest.mark.parametrize("example", sorted(EXPECTED))
def test_example_violations_are_exactly_the_intended_ones(example: str,
                                                          patterns: list[Pattern]) -> None:
    report = review_architecture(load_architecture(EXAMPLES / example), patterns)
    assert report.violated_checks == EXPECTED[example]
    for violation in report.violations:
        assert violation.evidence and violation.patterns and violation.recommendation
        assert violation.severity in ("critical", "high", "medium", "low")
    assert len(report.passed) >= 15 and report.references
    matched = {m.id for m in report.matched_patterns}
    assert all(set(v.patterns) <= matched for v in report.violations)


def test_every_rule_belongs_to_a_pattern_checklist(patterns: list[Pattern]) -> None:
    assert set(RULES) <= {c for p in patterns for c in p.checks}


def test_report_renders_markdown_and_html(patterns: list[Pattern]) -> None:
    report = review_architecture(load_architecture(EXAMPLES / "marketplace-connect.yaml"),
                                 patterns)
    md = render_markdown(report)
    assert "# Architecture review: Mercado Artesanal" in md
    assert "### [critical] `connect.stripe_account_header`" in md
    assert "`webhooks.signature = parsed_body`" in md
    page = render_html(report)
    assert page.startswith("<!doctype html>") and "connect.event_account_routing" in page
    assert "<script" not in page


def test_unknown_keys_are_all_listed(tmp_path: Path) -> None:
    path = tmp_path / "arch.yaml"
    path.write_text("name: x\nwebhook: {}\nbilling: {seat_update: batched}\n"
                    "stripe: {keys: {kind: restricted, vault: yes}}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_architecture(path)
    message = err.value.message
    assert str(path) in message
    for key in ("webhook", "billing.seat_update", "stripe.keys.vault"):
        assert key in message
    assert err.value.hint


def test_bad_values_and_bad_yaml(tmp_path: Path) -> None:
    path = tmp_path / "arch.yaml"
    path.write_text("name: x\nwebhooks: {signature: sometimes}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="webhooks.signature"):
        load_architecture(path)
    path.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_architecture(path)
    path.write_text("- a list\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="mapping"):
        load_architecture(path)


def test_integration_map_adds_live_facts(tmp_path: Path, patterns: list[Pattern]) -> None:
    imap = tmp_path / "map.json"
    imap.write_text(json.dumps({
        "engagement": "acme", "api_version": "2025-03-31.basil",
        "webhook_endpoints": [{"url": "https://x.example/hook", "api_version": "2023-10-16",
                               "enabled_events": ["*"]}],
        "objects": {"subscription": 10, "invoice": 40}, "extra_field": "ignored"}))
    arch = merge_integration_map(None, load_integration_map(imap))
    report = review_architecture(arch, patterns)
    assert {"webhook.api_version_pinned", "webhook.subscribe_minimal_events"} <= \
        report.violated_checks
    described = load_architecture(EXAMPLES / "saas-seats.yaml")
    merged = merge_integration_map(described, load_integration_map(imap))
    assert merged.webhooks.endpoints == described.webhooks.endpoints  # description wins
    assert "subscription" in merged.stripe.objects
