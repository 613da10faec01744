"""The api_version fault renders the version before the corpus's own, honestly."""

from __future__ import annotations

from tools.shadow.corpus import Corpus
from tools.shadow.versions import BEFORE_BASIL, BEFORE_CHARGES, OldShape, older_version


def _event(n: int, obj: dict, version: str) -> dict:
    return {"id": f"evt_{n:05d}", "type": f"{obj['object']}.updated", "created": 1_800_000_000 + n,
            "api_version": version, "data": {"object": obj}}


def test_versions_one_change_back():
    assert older_version("2026-10-28.endive") == BEFORE_BASIL
    assert older_version("2025-03-31.basil") == BEFORE_BASIL
    assert older_version("2024-06-20") == BEFORE_CHARGES
    assert older_version("2020-08-27") is None


def test_basil_invoice_gets_its_subscription_payment_intent_and_charge_from_the_corpus():
    v = "2026-10-28.endive"
    invoice = {"id": "in_000000000001", "object": "invoice", "status": "paid",
               "parent": {"type": "subscription_details", "subscription_details": {
                   "subscription": "sub_00000000001", "metadata": {"plan": "duo"}}},
               "lines": {"data": [{"id": "il_1", "parent": {
                   "type": "subscription_item_details", "subscription_item_details": {
                       "subscription": "sub_00000000001", "subscription_item": "si_1",
                       "proration": False}}, "pricing": {"price_details": {
                           "price": "price_1", "product": "prod_1"}}}]}}
    events = [
        _event(1, {"id": "pi_000000000001", "object": "payment_intent",
                   "latest_charge": "ch_000000000001"}, v),
        _event(2, {"id": "inpay_0000000001", "object": "invoice_payment",
                   "invoice": "in_000000000001",
                   "payment": {"type": "payment_intent", "payment_intent": "pi_000000000001"}}, v),
        _event(3, invoice, v),
    ]
    old, changed = OldShape(Corpus(events=tuple(events)))(events[2])
    obj = old["data"]["object"]
    assert changed and old["api_version"] == BEFORE_BASIL and "parent" not in obj
    assert obj["subscription"] == "sub_00000000001"
    assert obj["subscription_details"] == {"metadata": {"plan": "duo"}}
    assert obj["payment_intent"] == "pi_000000000001" and obj["charge"] == "ch_000000000001"
    line = obj["lines"]["data"][0]
    assert line["subscription"] == "sub_00000000001" and line["price"]["id"] == "price_1"
    assert events[2]["data"]["object"]["parent"]  # the corpus itself is untouched
    # The PaymentIntent already has latest_charge before basil: unchanged.
    assert OldShape(Corpus(events=tuple(events)))(events[0])[1] is False


def test_a_corpus_already_in_the_older_shape_keeps_its_fields():
    # The old fault erased invoice.subscription on such a corpus, so a correct app lost
    # half its fulfilments.
    v = "2024-06-20"
    invoice = {"id": "in_000000000001", "object": "invoice", "subscription": "sub_00000000001"}
    pi = {"id": "pi_000000000001", "object": "payment_intent", "latest_charge": "ch_0000000001"}
    events = [_event(1, invoice, v), _event(2, pi, v)]
    shape = OldShape(Corpus(events=tuple(events)))
    old_invoice, changed = shape(events[0])
    assert not changed and old_invoice["data"]["object"]["subscription"] == "sub_00000000001"
    old_pi, changed = shape(events[1])
    assert changed and old_pi["api_version"] == BEFORE_CHARGES
    assert old_pi["data"]["object"]["charges"]["data"] == [
        {"id": "ch_0000000001", "object": "charge"}]


def test_a_corpus_older_than_every_change_is_left_as_it_is():
    event = _event(1, {"id": "pi_000000000001", "object": "payment_intent",
                       "charges": {"data": []}}, "2020-08-27")
    assert OldShape(Corpus(events=(event,)))(event) == (event, False)
