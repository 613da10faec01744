"""One payment-method capability table: blueprints and design drafts read only it, and it
answers with Stripe's rules on mode, country and currency, not currency alone."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO
from tools.blueprints import BlueprintInvalid, load_blueprint, parse_blueprint
from tools.design.requirements import Requirements
from tools.design.rules import draft_design, eligible_methods
from tools.stripe.payment_methods import CAPABILITIES, UnknownMethod, capability

_METHOD_NAMES = set(CAPABILITIES)


def _checkout(country: str, currency: str, mode: str, methods: list[str]) -> dict:
    config = {"country": country, "currency": currency, "mode": mode,
              "payment_method_types": methods, "line_items": [{"lookup_key": "k"}],
              "async_payment": {"fulfil_on": "checkout.session.async_payment_succeeded",
                                "fail_on": "checkout.session.async_payment_failed"}}
    return {"kind": "checkout", "name": "c", "configurations": [config]}


def test_every_row_cites_a_stripe_page_and_is_consistent() -> None:
    for name, rules in CAPABILITIES.items():
        assert rules.source.startswith("https://docs.stripe.com/payments/"), name
        assert rules.checkout_modes <= {"payment", "subscription", "setup"}, name
        assert not rules.off_session or rules.subscriptions, name
        assert ("subscription" in rules.checkout_modes) <= rules.subscriptions, name
    assert {"upi", "pix", "us_bank_account"} <= _METHOD_NAMES


@pytest.mark.parametrize(("config", "why"), [
    (_checkout("JP", "jpy", "subscription", ["card", "konbini"]),
     "konbini cannot be used in Checkout subscription mode"),
    (_checkout("DE", "jpy", "payment", ["konbini"]),
     "konbini is not offered to customers in DE"),
    (_checkout("MX", "mxn", "subscription", ["oxxo"]), "oxxo cannot be used in Checkout"),
    (_checkout("US", "usd", "payment", ["ach_debit"]), "Stripe calls it 'us_bank_account'"),
])
def test_checkout_blueprints_check_mode_country_and_currency(config: dict, why: str) -> None:
    with pytest.raises(BlueprintInvalid, match=why):
        parse_blueprint(config)


def test_the_shipped_checkout_example_follows_stripes_rules() -> None:
    load_blueprint(REPO / "tools" / "blueprints" / "examples" / "checkout.yaml")
    parse_blueprint(_checkout("BR", "brl", "payment", ["pix", "boleto"]))
    parse_blueprint(_checkout("IN", "inr", "payment", ["upi"]))


def test_design_intake_takes_upi_pix_and_aliases_and_asks_about_unknown_methods() -> None:
    req = Requirements.model_validate({
        "name": "br-in", "business_model": "ecommerce", "countries": ["BR", "IN", "US"],
        "currencies": ["brl", "inr", "usd"], "pricing_model": "one_time",
        "billing_cadence": ["one_time"], "payment_methods": ["pix", "upi", "ach_debit",
                                                             "alipay_plus"],
        "volumes": {"customers": 10}})
    assert req.payment_methods == ["pix", "upi", "us_bank_account", "alipay_plus"]
    assert eligible_methods(req) == ["pix", "upi", "us_bank_account"]
    draft = draft_design(req)
    asked = [q for q in draft.open_questions if "alipay_plus" in q.question]
    assert asked and asked[0].because == ["payment_methods[alipay_plus]"]


def test_unknown_method_names_the_known_ones() -> None:
    with pytest.raises(UnknownMethod, match="known: .*konbini"):
        capability("konbinni")


def test_no_other_module_keeps_its_own_method_table() -> None:
    """Method names appear as data only in the table; consumers import it."""
    offenders = []
    for path in [*(REPO / "tools").rglob("*.py"), *(REPO / "agents").rglob("*.py")]:
        if path.name == "payment_methods.py" and path.parent.name == "stripe":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict | ast.Set) and node.keys if isinstance(node, ast.Dict) \
                    else isinstance(node, ast.Set):
                items = node.keys if isinstance(node, ast.Dict) else node.elts
                names = {k.value for k in items if isinstance(k, ast.Constant)
                         and isinstance(k.value, str)}
                if len(names & _METHOD_NAMES) >= 3:
                    offenders.append(f"{Path(path).relative_to(REPO)}:{node.lineno}")
    assert offenders == []
