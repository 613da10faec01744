import polars as pl
import pytest

from core.expr import ExpressionError, compile_expression, frame_of

PAYMENT_STATUS = (
    "CASE WHEN status = 'succeeded' AND charge.amount_refunded > 0 THEN 'refunded' "
    "WHEN status = 'succeeded' THEN 'paid' ELSE 'pending' END"
)


def test_derived_value_over_nested_objects():
    expr = compile_expression(PAYMENT_STATUS, where="m.yaml: payment.status")
    records = [
        {"status": "succeeded", "charge": {"amount_refunded": 0}},
        {"status": "succeeded", "charge": {"amount_refunded": 500}},
        {"status": "processing", "charge": None},
    ]
    assert expr.evaluate_records(records) == ["paid", "refunded", "pending"]
    assert expr.names == {"status", "charge"}


def test_latest_of_several_timestamps_and_absent_fields_are_null():
    expr = compile_expression("GREATEST(created, status_transitions.paid_at)", where="w")
    out = expr.evaluate_records([
        {"created": 10, "status_transitions": {"paid_at": 30}},
        {"created": 20, "status_transitions": {"paid_at": None}},
    ])
    assert out == [30, 20]
    assert compile_expression("metadata IS NULL", where="w").evaluate_records([{}, {}]) == [
        True, True]


def test_frame_evaluation_is_vectorised():
    frame = pl.DataFrame({"amount": [100, 250], "currency": ["usd", "jpy"]})
    expr = compile_expression("amount * 2", where="w", names=frame.columns)
    assert expr.evaluate(frame).to_list() == [200, 500]


@pytest.mark.parametrize(
    ("source", "says"),
    [
        ("", "empty"),
        ("status = = 'paid'", "cannot parse"),
        ("CASE WHEN", "alias"),
        ("paid yes", "alias"),
        ("SELECT 1", "cannot parse"),
        ("to_timestamp(created)", "cannot parse"),
        ("nosuch + 1", "nosuch"),
    ],
)
def test_mistakes_name_where_and_what(source, says):
    with pytest.raises(ExpressionError) as err:
        compile_expression(source, where="shop.yaml: entities.order.fields.state",
                           names={"status", "created"})
    assert "shop.yaml: entities.order.fields.state" in err.value.message
    assert says in err.value.message
    assert err.value.hint


def test_type_clash_at_evaluation_is_a_clear_error():
    expr = compile_expression("amount + 'x'", where="inv.yaml: refund")
    with pytest.raises(ExpressionError, match="inv.yaml: refund"):
        expr.evaluate(pl.DataFrame({"amount": [1]}))


def test_missing_column_at_evaluation_names_known_columns():
    expr = compile_expression("amount > 0", where="inv.yaml: paid")
    with pytest.raises(ExpressionError, match="known: currency"):
        expr.evaluate(pl.DataFrame({"currency": ["usd"]}))


def test_frame_of_keeps_one_row_per_record():
    assert frame_of([{}, {}, {}], ["a"]).height == 3
    assert frame_of([], ["a"]).columns == ["a"]
