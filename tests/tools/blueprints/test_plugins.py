"""The minimum-commit plugin against a hand calculation, in a zero- and a two-decimal
currency, and the invoice items it leaves on the replica."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.tools.blueprints.conftest import example
from tools.blueprints.kinds.custom import evaluate
from tools.blueprints.plugins import UsageTotal, get_plugin


def _by_key(charges) -> dict[str, int]:
    return {c.key: c.amount for c in charges}


def test_minimum_commit_eur_by_hand(replica, ctx, converge) -> None:
    # October usage for acme: 5,000 + 7,345 = 12,345 calls (the Nov 2 row is outside).
    # 12,345 x 0.035 EUR = 432.075 EUR -> half-even to cents -> 432.08 = 43,208 cents.
    # Commit 500.00 EUR = 50,000 cents -> true-up 50,000 - 43,208 = 6,792 cents.
    loaded = example("custom_minimum_commit_eur.yaml")
    assert _by_key(evaluate(loaded.spec, ctx)["acme"]) == {"usage": 43208, "true_up": 6792}
    customer = replica.client().v1.customers.create(params={"email": "ops@acme.example"}).id
    converge(loaded, ctx)
    items = ctx.gateway.list_all("/v1/invoiceitems", {"customer": customer})
    assert sorted((i["amount"], i["currency"]) for i in items) == [(6792, "eur"), (43208, "eur")]


def test_minimum_commit_jpy_by_hand(replica, ctx, converge) -> None:
    # kaisha: 30,001 calls x 2.5 JPY = 75,002.5 JPY -> half-even to yen -> 75,002 JPY.
    # Commit 100,000 JPY -> true-up 24,998 JPY. JPY has no minor unit: amounts are yen.
    loaded = example("custom_minimum_commit_jpy.yaml")
    assert _by_key(evaluate(loaded.spec, ctx)["kaisha"]) == {"usage": 75002, "true_up": 24998}
    customer = replica.client().v1.customers.create(params={"email": "it@kaisha.example"}).id
    converge(loaded, ctx)
    items = ctx.gateway.list_all("/v1/invoiceitems", {"customer": customer})
    assert sorted((i["amount"], i["currency"]) for i in items) == [(24998, "jpy"),
                                                                   (75002, "jpy")]


def test_no_true_up_above_commit_and_ramp_steps() -> None:
    usage = UsageTotal(customer="a", units=Decimal("20000"), period_start="2026-10-01",
                       period_end="2026-11-01")
    commit = get_plugin("minimum_commit")
    params = commit.params_model.model_validate({"unit_price": "0.035", "commit": "500.00"})
    assert _by_key(commit.evaluate(params, usage, "eur")) == {"usage": 70000}
    ramp = get_plugin("ramp")
    steps = ramp.params_model.model_validate({"unit_price": "0.035", "bill_usage": False,
                                              "steps": [{"starts": "2026-07-01", "commit": "600"},
                                                        {"starts": "2026-10-01",
                                                         "commit": "900"}]})
    # 700.00 EUR of usage (already billed by a metered price) against the 900.00 step
    assert _by_key(ramp.evaluate(steps, usage, "eur")) == {"true_up": 20000}
    # three-decimal currency: 20,000 x 0.0125 BHD = 250.000 BHD = 250,000 fils
    bhd = commit.params_model.model_validate({"unit_price": "0.0125", "commit": "100"})
    assert _by_key(commit.evaluate(bhd, usage, "bhd")) == {"usage": 250000}


def test_three_decimal_charges_end_in_zero() -> None:
    # 12,345.6 units x 0.0125 BHD = 154.32 BHD: fine. 12,344.96 x 0.0125 = 154.312 BHD,
    # which Stripe refuses: the charge is rounded half-even to 154.310 BHD = 154,310 fils.
    commit = get_plugin("minimum_commit")
    params = commit.params_model.model_validate({"unit_price": "0.0125", "commit": "200.000"})
    usage = UsageTotal(customer="a", units=Decimal("12344.96"), period_start="2026-10-01",
                       period_end="2026-11-01")
    charges = _by_key(commit.evaluate(params, usage, "bhd"))
    assert charges == {"usage": 154310, "true_up": 45690}
    assert all(amount % 10 == 0 for amount in charges.values())


def test_a_commit_stripe_cannot_charge_is_refused_by_name() -> None:
    commit = get_plugin("minimum_commit")
    params = commit.params_model.model_validate({"unit_price": "0.0125", "commit": "154.312"})
    usage = UsageTotal(customer="a", units=Decimal("1"), period_start="2026-10-01",
                       period_end="2026-11-01")
    with pytest.raises(ValueError, match=r"commit 154\.312 BHD: Stripe charges BHD in steps "
                                         r"of 0\.010"):
        commit.evaluate(params, usage, "bhd")
