"""Bad blueprint input: errors name the field that is wrong."""

from __future__ import annotations

import pytest

from tests.tools.blueprints.conftest import EXAMPLES
from tools.blueprints import BlueprintInvalid, load_blueprint, parse_blueprint

_PRICE = {"lookup_key": "k", "currency": "eur", "unit_amount": "1.00"}


def _catalog(**price: object) -> dict:
    return {"kind": "catalog", "name": "c",
            "products": [{"id": "prod_x1", "name": "X", "prices": [{**_PRICE, **price}]}]}


@pytest.mark.parametrize(("data", "field", "why"), [
    (_catalog(colour="red"), "products[0].prices[0].colour", "unknown field"),
    ({**_catalog(), "owner": "me"}, "owner", "unknown field"),
    (_catalog(currency="xts"), "products[0].prices[0].currency", "not a currency"),
    # a per-unit rate may be finer than the currency (Stripe's unit_amount_decimal), but not
    # beyond 12 decimal places of the minor unit; a flat amount is charged whole
    (_catalog(unit_amount="0.000000000000001"), "products[0].prices[0]",
     "finer than Stripe's 12 decimal places"),
    (_catalog(currency="jpy", unit_amount=None, tiers_mode="volume",
              tiers=[{"up_to": "inf", "unit_amount": "1", "flat_amount": "10.5"}]),
     "products[0].prices[0]", "decimals for JPY"),
    (_catalog(unit_amount=None), "products[0].prices[0]", "either unit_amount or tiers"),
    ({"kind": "checkout", "name": "c", "configurations": [{
        "country": "DE", "currency": "eur", "mode": "payment",
        "payment_method_types": ["card", "konbini"], "line_items": [{"lookup_key": "k"}]}]},
     "configurations[0]", "konbini cannot be used with currency eur"),
    ({"kind": "checkout", "name": "c", "configurations": [{
        "country": "MX", "currency": "mxn", "mode": "payment",
        "payment_method_types": ["oxxo"], "line_items": [{"lookup_key": "k"}]}]},
     "configurations[0]", "async_payment is required"),
    ({"kind": "invoicing", "name": "i", "collection_method": "send_invoice",
      "applies_to": {"segment": "x"}, "credit_notes": {
          "allowed_reasons": ["duplicate"], "approval_above": "1", "currency": "usd"}},
     "(top level)", "days_until_due"),
    ({"kind": "custom_logic", "name": "c", "plugin": "minimum_commit",
      "params": {"unit_price": "1", "commit": "-5"}, "currency": "eur",
      "period": {"start": "2026-10-01", "end": "2026-11-01"},
      "customers": [{"usage_key": "a", "id": "cus_1"}], "usage": {"csv": "u.csv"}},
     "(top level)", "amounts cannot be negative"),
])
def test_bad_blueprint_names_the_field(data: dict, field: str, why: str) -> None:
    with pytest.raises(BlueprintInvalid) as err:
        parse_blueprint(data)
    assert f"field '{field}'" in str(err.value)
    assert why in str(err.value)
    assert err.value.hint


def test_unknown_kind_and_missing_file() -> None:
    with pytest.raises(BlueprintInvalid, match="field 'kind'"):
        parse_blueprint({"kind": "pricing", "name": "x"})
    with pytest.raises(BlueprintInvalid, match="no blueprint file"):
        load_blueprint(EXAMPLES / "missing.yaml")


def test_every_example_parses() -> None:
    kinds = {load_blueprint(f).spec.kind for f in EXAMPLES.glob("*.yaml")}
    assert kinds == {"catalog", "metering", "checkout", "dunning", "invoicing", "custom_logic"}


def test_checkout_needs_prices_in_its_currency(ctx, converge) -> None:
    data = {"kind": "checkout", "name": "c", "configurations": [{
        "country": "US", "currency": "usd", "mode": "subscription",
        "payment_method_types": ["card"], "line_items": [{"lookup_key": "nowhere"}]}]}
    from tools.blueprints import make_plan
    from tools.blueprints.loader import LoadedBlueprint
    loaded = LoadedBlueprint(spec=parse_blueprint(data), base_dir=EXAMPLES, source="t")
    with pytest.raises(BlueprintInvalid,
                       match=r"field 'configurations\[0\].line_items\[0\].lookup_key'"):
        make_plan(loaded, ctx)
