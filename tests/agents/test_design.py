"""The design graph over the three shipped intakes: the blueprints and patterns a payments
engineer would pick, each citing requirement fields that really are in the intake;
contradictions become open questions, never silent choices."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agents.design import build_design_graph, design_deps, run_design
from core.errors import ConfigError
from knowledge.config import load_knowledge_settings
from knowledge.patterns import load_patterns
from tools.design.requirements import Requirements, load_requirements

EXAMPLES = Path(__file__).resolve().parents[2] / "agents" / "design" / "examples"

EXPECTED = {
    "eu-saas-sepa-vat": {
        "blueprints": {"catalog", "checkout", "dunning"},
        "patterns": {
            "catalog-sync-lookup-keys", "entitlements-from-subscription-status",
            "webhook-idempotent-processing", "seat-quantity-sync", "proration-policies",
            "trial-without-payment-method", "dunning-end-states", "credit-notes-adjustments",
            "tax-calculation", "checkout-fulfil-from-webhooks",
            "checkout-per-country-async-methods", "sepa-ach-mandates-delayed-failure",
            "sca-off-session-recovery"},
        "products": {"Billing", "Stripe Tax", "Checkout", "Revenue Recognition"},
    },
    "jp-usage-api-konbini": {
        "blueprints": {"catalog", "metering", "custom_logic", "dunning", "invoicing"},
        "patterns": {
            "catalog-sync-lookup-keys", "entitlements-from-subscription-status",
            "webhook-idempotent-processing", "usage-meter-events-idempotent",
            "usage-late-events-period-close", "dunning-end-states", "invoicing-net-terms",
            "tax-calculation", "vouchers-oxxo-boleto-konbini", "bank-transfers-cash-balance",
            "currency-minor-units", "migration-parallel-run",
            "migration-cutover-double-billing-guard"},
        "products": {"Billing", "Billing meters", "Invoicing"},
    },
    "us-marketplace-connect": {
        "blueprints": {"checkout"},
        "patterns": {
            "checkout-fulfil-from-webhooks", "webhook-idempotent-processing",
            "checkout-per-country-async-methods", "sepa-ach-mandates-delayed-failure",
            "webhook-queue-then-process", "connect-charge-types",
            "connect-webhooks-event-account", "payouts-reconciliation", "disputes-handling",
            "revenue-exports"},
        "products": {"Checkout", "Connect"},
    },
}

_CITE = re.compile(
    r"^(?P<field>[a-z_.]+)(\[(?P<item>[^\]]+)\])?(\.migrate_from)?(=(?P<value>.+))?$")


def cited_value_holds(req: Requirements, citation: str) -> bool:
    """`countries[DE]`, `pricing_model=usage_based`, `invoicing.tax=stripe_tax`,
    `existing_systems[NetSuite].migrate_from`, `notes`: true only if the intake says so."""
    m = _CITE.match(citation)
    assert m, f"unreadable citation {citation!r}"
    value: object = req.model_dump(mode="json")
    for part in m["field"].split("."):
        assert isinstance(value, dict) and part in value, f"{citation}: no field {part}"
        value = value[part]
    if m["item"] is not None:
        if m["field"] == "existing_systems":
            return any(s["name"] == m["item"] for s in value)  # type: ignore[union-attr]
        return m["item"] in value  # type: ignore[operator]
    if m["value"] is not None:
        return str(value).lower() == m["value"].lower()
    return bool(value)


@pytest.fixture(scope="module")
def patterns():
    return load_patterns(load_knowledge_settings().patterns_dir)


def _design(patterns, req: Requirements):
    return run_design(build_design_graph(), design_deps(patterns), req)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_example_gets_the_expected_design_with_cited_recommendations(patterns, name):
    req = load_requirements(EXAMPLES / f"{name}.yaml")
    result = _design(patterns, req)
    draft = result.draft
    assert set(draft.refs("blueprint")) == EXPECTED[name]["blueprints"]
    assert set(draft.refs("pattern")) == EXPECTED[name]["patterns"]
    assert set(draft.refs("product")) == EXPECTED[name]["products"]
    assert draft.open_questions == []  # the shipped intakes are consistent
    cited = [*draft.recommendations, *draft.related_patterns, *draft.risks]
    for item in cited:
        assert item.because, item
        for citation in item.because:
            assert cited_value_holds(req, citation), (name, item, citation)
    library = {p.id for p in patterns}
    assert {r.ref for r in draft.related_patterns} <= library
    assert not {r.ref for r in draft.related_patterns} & set(draft.refs("pattern"))
    assert [c["name"] for c in result.tool_calls] == ["search_patterns"]  # notes retrieved
    for bp in (r for r in draft.recommendations if r.kind == "blueprint"):
        if bp.example is not None:
            assert (EXAMPLES.parents[2] / "tools" / "blueprints" / "examples" / bp.example
                    ).is_file()


def test_sepa_citation_names_country_and_method(patterns):
    draft = _design(patterns, load_requirements(EXAMPLES / "eu-saas-sepa-vat.yaml")).draft
    sepa = next(r for r in draft.recommendations if r.ref == "sepa-ach-mandates-delayed-failure")
    assert {"countries[DE]", "payment_methods[sepa_debit]"} <= set(sepa.because)


def _intake(**changes) -> Requirements:
    base = load_requirements(EXAMPLES / "eu-saas-sepa-vat.yaml").model_dump()
    base.update(changes)
    return Requirements.model_validate(base)


def test_konbini_with_euros_is_an_open_question_not_a_choice(patterns):
    req = _intake(payment_methods=["card", "sepa_debit", "konbini"])
    draft = _design(patterns, req).draft
    konbini = [q for q in draft.open_questions if "payment_methods[konbini]" in q.because]
    assert len(konbini) == 2  # wrong currency (eur) and no Japanese customers
    assert any("currencies[eur]" in q.because and "jpy" in q.question for q in konbini)
    assert any("countries[DE]" in q.because for q in konbini)
    assert "vouchers-oxxo-boleto-konbini" not in draft.refs("pattern")
    assert not any("payment_methods[konbini]" in r.because for r in draft.recommendations)


def test_a_currency_foreign_to_the_country_is_an_open_question(patterns):
    req = _intake(countries=["DE", "JP"], payment_methods=["card"])
    draft = _design(patterns, req).draft
    (question,) = draft.open_questions
    assert question.because == ["countries[JP]", "currencies[eur]"]
    assert "jpy" in question.question and question.options


def test_bad_intake_names_the_field(tmp_path: Path):
    text = (EXAMPLES / "eu-saas-sepa-vat.yaml").read_text()
    (tmp_path / "typo.yaml").write_text(text.replace("pricing_model:", "pricing_modle:"))
    (tmp_path / "currency.yaml").write_text(text.replace("[eur]", "[xyz]"))
    with pytest.raises(ConfigError, match="pricing_modle: Extra inputs"):
        load_requirements(tmp_path / "typo.yaml")
    with pytest.raises(ConfigError, match="currencies"):
        load_requirements(tmp_path / "currency.yaml")
