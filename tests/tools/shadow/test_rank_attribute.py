"""Top mismatches by impact and distinct cause; differences attributed through every
object an event touches."""

from __future__ import annotations

from tools.shadow.attribute import Touches, classify_state
from tools.shadow.corpus import Corpus
from tools.shadow.models import Mismatch, StateDiff
from tools.shadow.rank import top
from tools.shadow.replay import Attempt, Capture


def _ordering(n: int) -> Mismatch:
    return Mismatch(kind="state", invariant="state_matches_primary",
                    event_type="customer.updated", object_id=f"cus_{n:012d}",
                    detail=f"household cus_{n:012d} email: primary 'a', candidate 'b'",
                    fault="reorder")


def test_an_amount_bug_outranks_ten_repeats_of_one_ordering_bug():
    amount = Mismatch(kind="state", invariant="amounts_exact", event_type="charge.refunded",
                      object_id="ch_000000000001", amount_minor=984_771, currency="jpy",
                      detail="refund_note ch_000000000001 amount: primary 984771, "
                             "candidate 9847")
    access = Mismatch(kind="state", invariant="state_matches_primary",
                      event_type="customer.subscription.updated", object_id="sub_00000001",
                      detail="account sub_00000001 plan_state: primary 'ok', candidate "
                             "'closed'")
    body = Mismatch(kind="http_status", invariant="acknowledged", event_type="invoice.paid",
                    detail="invoice.paid: status differs")
    ranked = top([_ordering(n) for n in range(10)] + [body, access, amount], 10)
    assert ranked[0] is amount and ranked[1] is access
    assert ranked[2].event_type == "customer.updated" and ranked[3] is body
    assert len(ranked) == 10  # the repeats fill the rest, after every distinct cause


def _event(n: int, type_: str, obj: dict) -> dict:
    return {"id": f"evt_{n:014d}", "type": type_, "created": 1_800_000_000 + n,
            "data": {"object": obj}}


def _corpus() -> Corpus:
    return Corpus(events=(
        _event(1, "invoice.paid", {"id": "in_000000000001", "object": "invoice",
                                   "customer": "cus_000000000001", "currency": "gbp"}),
        _event(2, "invoice_payment.paid", {
            "id": "inpay_00000000001", "object": "invoice_payment",
            "invoice": "in_000000000001",
            "payment": {"type": "payment_intent", "payment_intent": "pi_000000000001"}}),
        _event(3, "charge.refunded", {"id": "ch_000000000001", "object": "charge",
                                      "payment_intent": "pi_000000000001",
                                      "customer": "cus_000000000001", "currency": "gbp"}),
        _event(4, "customer.updated", {"id": "cus_000000000001", "object": "customer"}),
    ))


def _capture(corpus: Corpus, state: dict) -> Capture:
    return Capture(target="c", state=state, attempts=[
        Attempt(position=i, index=i, event_id=e["id"], event_type=e["type"], attempt=1,
                status=200) for i, e in enumerate(corpus.events)])


def test_charge_refunded_touches_charge_payment_intent_invoice_and_customer():
    corpus = _corpus()
    assert Touches(corpus).by_index[2] >= {"ch_000000000001", "pi_000000000001",
                                           "in_000000000001", "cus_000000000001"}
    state = {("shipment", "in_000000000001|1", "status"): "to_pack",
             ("shipment", "in_000000000001|1", "household"): "cus_000000000001",
             ("refund_note", "ch_000000000001", "amount"): 15}
    diffs = [StateDiff(entity="shipment", key="in_000000000001|1", field="status",
                       primary="refunded", candidate="to_pack"),
             StateDiff(entity="refund_note", key="ch_000000000001", field="amount",
                       primary=1500, candidate=15)]
    shipment, note = classify_state(corpus, None, _capture(corpus, state), diffs,
                                    explained=set(), entitlement_entity="entitlement")
    # Not the later customer.updated, though the row names the customer too.
    assert shipment.event_type == "charge.refunded" and shipment.object_id == "in_000000000001"
    assert note.event_type == "charge.refunded" and note.invariant == "amounts_exact"
    assert note.amount_minor == 1485 and note.currency == "gbp"


def test_processed_event_rows_get_their_event_type():
    corpus = _corpus()
    key = corpus.events[2]["id"]
    state = {("processed_event", key, "event_type"): "charge.refunded"}
    diff = StateDiff(entity="processed_event", key=key, field="(row)", primary="present",
                     candidate="absent")
    (m,) = classify_state(corpus, None, _capture(corpus, state), [diff], explained=set(),
                          entitlement_entity="entitlement")
    assert m.event_type == "charge.refunded" and m.event_id == key
