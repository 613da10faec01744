"""Invariants a user declares in a file: the expected value of a row as a SQL expression
over the Stripe object's latest snapshot."""

from __future__ import annotations

import pytest

from core.errors import ConfigError
from tools.shadow.corpus import Corpus
from tools.shadow.declared import check_declared, load_invariants
from tools.shadow.errors import CorpusError
from tools.shadow.truth import Policy, Truth

FILE = """
invariants:
  - id: refund_in_minor_units
    title: a refunded charge is recorded in minor units
    object: charge
    where: amount_refunded > 0
    entity: refund_note
    key: charge
    field: amount
    expect: amount_refunded
  - id: plan_state
    object: subscription
    entity: account
    field: plan_state
    expect: "CASE WHEN status IN ('active', 'trialing') THEN 'ok' WHEN status = 'past_due'
             THEN 'payment_issue' ELSE 'closed' END"
    missing: ok
"""


def _truth() -> Truth:
    objs = [{"id": "ch_000000000001", "object": "charge", "amount_refunded": 1500},
            {"id": "ch_000000000002", "object": "charge", "amount_refunded": 0},
            {"id": "sub_00000000001", "object": "subscription", "status": "past_due"},
            {"id": "sub_00000000002", "object": "subscription", "status": "canceled"}]
    events = [{"id": f"evt_{n}", "type": f"{o['object']}.updated", "created": n,
               "data": {"object": o}} for n, o in enumerate(objs)]
    return Truth(Corpus(events=tuple(events)), Policy())


def test_declared_invariants_check_rows_against_the_objects(tmp_path):
    path = tmp_path / "invariants.yaml"
    path.write_text(FILE)
    invariants = load_invariants(path)
    good = {("refund_note", "1", "charge"): "ch_000000000001",
            ("refund_note", "1", "amount"): 1500,
            ("account", "sub_00000000001", "plan_state"): "payment_issue"}
    assert check_declared(invariants, _truth(), good) == []
    bad = {**good, ("refund_note", "1", "amount"): 15.0,
           ("account", "sub_00000000002", "plan_state"): "ok"}
    found = check_declared(invariants, _truth(), bad)
    assert [(i, o) for i, o, _ in found] == [("refund_in_minor_units", "ch_000000000001"),
                                            ("plan_state", "sub_00000000002")]
    assert "amount is 15.0, expected 1500" in found[0][2]
    missing = check_declared(invariants, _truth(), {})
    assert [(i, o) for i, o, _ in missing] == [("refund_in_minor_units", "ch_000000000001")]


def test_a_bad_invariants_file_names_the_file_and_the_invariant(tmp_path):
    path = tmp_path / "inv.yaml"
    path.write_text("invariants:\n  - id: x\n    object: charge\n    entity: e\n"
                    "    field: f\n    expect: CASE WHEN\n")
    with pytest.raises(ConfigError, match=r"inv.yaml: invariants.x.expect"):
        load_invariants(path)
    path.write_text("invariants:\n  - id: x\n    object: charge\n")
    with pytest.raises(CorpusError, match=r"inv.yaml: invariants.0.entity: Field required"):
        load_invariants(path)
