"""The pattern library: coverage of the issue's topics, validity, and the errors a broken
pattern produces (file and field named)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.errors import ConfigError
from knowledge.catalog import CATALOG_PATH, render_checks_catalog
from knowledge.patterns import REQUIRED_SECTIONS, Pattern, load_patterns, parse_pattern

# every topic the issue asks for, with the pattern that covers it
REQUIRED_TOPICS = {
    "raw-body signature verification": "webhook-signature-raw-body",
    "idempotent event processing": "webhook-idempotent-processing",
    "ordering by re-fetching": "webhook-ordering-refetch",
    "queue-then-process intake": "webhook-queue-then-process",
    "entitlements from subscription status": "entitlements-from-subscription-status",
    "dunning and end states": "dunning-end-states",
    "proration policies": "proration-policies",
    "meter events, idempotent identifiers": "usage-meter-events-idempotent",
    "late usage": "usage-late-events-period-close",
    "catalog sync, lookup keys": "catalog-sync-lookup-keys",
    "price versioning": "price-versioning-grandfathering",
    "multi-currency pricing": "multi-currency-pricing",
    "checkout per country, async methods": "checkout-per-country-async-methods",
    "SEPA/ACH mandates, delayed failure": "sepa-ach-mandates-delayed-failure",
    "vouchers OXXO Boleto Konbini": "vouchers-oxxo-boleto-konbini",
    "bank transfers, cash balance": "bank-transfers-cash-balance",
    "Connect charge types": "connect-charge-types",
    "Stripe-Account header": "connect-stripe-account-header",
    "migration parallel run": "migration-parallel-run",
    "cutover, double-billing guard": "migration-cutover-double-billing-guard",
    "tax": "tax-calculation",
    "invoicing net terms": "invoicing-net-terms",
    "credit notes": "credit-notes-adjustments",
    "revenue exports": "revenue-exports",
    "backfills within rate limits": "backfill-rate-limits",
    "idempotency keys": "idempotency-keys",
    "test/live separation": "test-live-separation",
    "key management": "key-management",
    "disputes": "disputes-handling",
    "refunds that fail later": "refunds-async-failure",
    "payouts reconciliation": "payouts-reconciliation",
}

GOOD = """---
id: sample-pattern
title: "Sample: a pattern"
products: [billing]
tags: [sample]
failure_modes: [FM-01]
checks: [sample.check_one]
---

## Problem
p
## Forces
f
## Solution
s
## Anti-patterns
a
## Checklist
- [high] `sample.check_one` — do the thing
## References
- r
"""


def test_library_has_at_least_40_valid_patterns(patterns: list[Pattern]) -> None:
    assert len(patterns) >= 40
    for p in patterns:
        assert set(REQUIRED_SECTIONS) <= set(p.sections), p.id
        assert p.failure_modes and p.checks and p.references, p.id


@pytest.mark.parametrize(("topic", "pattern_id"), sorted(REQUIRED_TOPICS.items()))
def test_required_topic_is_covered(patterns: list[Pattern], topic: str, pattern_id: str) -> None:
    assert pattern_id in {p.id for p in patterns}, topic


def test_every_failure_mode_is_linked_by_some_pattern(patterns: list[Pattern]) -> None:
    linked = {fm for p in patterns for fm in p.failure_modes}
    assert linked == {f"FM-{n:02d}" for n in range(1, 36)}


def test_check_ids_are_unique_across_patterns(patterns: list[Pattern]) -> None:
    seen: dict[str, str] = {}
    for p in patterns:
        for check in p.checks:
            assert check not in seen, f"{check} in {p.id} and {seen[check]}"
            seen[check] = p.id


def test_checks_catalog_is_up_to_date(patterns: list[Pattern]) -> None:
    assert CATALOG_PATH.read_text(encoding="utf-8") == render_checks_catalog(patterns), (
        "regenerate with: .venv/bin/python -m knowledge.catalog")


def test_stripe_facts_stated_consistently(patterns: list[Pattern]) -> None:
    text = "\n".join(Path(p.path).read_text(encoding="utf-8") for p in patterns)
    assert "300" in text and "30 days" in text and "24 h" in text
    assert not re.search(r"limit[^.\n]{0,20}\b(1000|500)\b objects", text)


def test_good_sample_parses() -> None:
    pattern = parse_pattern(GOOD, Path("sample-pattern.md"))
    assert pattern.checklist[0].severity == "high"
    assert pattern.title == "Sample: a pattern"


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda t: t.replace("---\n", "", 1), "front matter"),
    (lambda t: t.replace('title: "Sample: a pattern"', "title: Sample: a pattern"),
     "front matter"),
    (lambda t: t.replace("products: [billing]\n", ""), "products"),
    (lambda t: t.replace("products: [billing]", "products: [bilking]"), "products"),
    (lambda t: t.replace("failure_modes: [FM-01]", "failure_modes: [FM-99]"), "failure_modes"),
    (lambda t: t.replace("tags: [sample]", "tags: sample"), "tags"),
    (lambda t: t.replace("id: sample-pattern", "id: other-name"), "id"),
    (lambda t: t.replace("checks: [sample.check_one]", "checks: [sample.check_two]"), "checks"),
    (lambda t: t.replace("- [high]", "- [urgent]"), "section Checklist"),
    (lambda t: t.replace("## Forces\nf\n", ""), "section Forces"),
    (lambda t: t.replace("tags: [sample]", "tags: [sample]\nowner: me"), "owner"),
])
def test_broken_pattern_names_file_and_field(tmp_path: Path, mutate, field: str) -> None:
    path = tmp_path / "sample-pattern.md"
    path.write_text(mutate(GOOD), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_patterns(tmp_path)
    assert str(path) in err.value.message
    assert f"field '{field}'" in err.value.message
    assert err.value.hint


def test_missing_pattern_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_patterns(tmp_path / "missing")
