from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.money import (
    EXPONENTS,
    Money,
    UnknownCurrency,
    chargeable,
    exponent,
    rescale,
    round_charge,
    round_minor,
)

CURRENCIES = sorted(EXPONENTS)


def test_exponents_cover_zero_and_three_decimal_currencies():
    assert exponent("JPY") == 0 and exponent("krw") == 0 and exponent("vnd") == 0
    assert exponent("BHD") == 3 and exponent("kwd") == 3 and exponent("omr") == 3
    assert exponent("usd") == 2 and exponent("eur") == 2 and exponent("brl") == 2


def test_of_converts_major_units_exactly():
    assert Money.of("12.34", "usd").amount == 1234
    assert Money.of("1000", "jpy").amount == 1000
    assert Money.of("1.005", "bhd").amount == 1005
    assert str(Money.of("1234.5", "eur")) == "1,234.50 EUR"


def test_of_refuses_more_precision_than_the_currency_has():
    with pytest.raises(ValueError, match="decimals for JPY"):
        Money.of("10.5", "jpy")
    with pytest.raises(ValueError, match="decimals for USD"):
        Money.of("0.001", "usd")


def test_floats_and_unknown_currencies_are_refused():
    with pytest.raises(ValueError):
        Money(amount=10.0, currency="usd")  # type: ignore[arg-type]
    with pytest.raises(UnknownCurrency):
        exponent("xyz")
    with pytest.raises(ValueError):
        Money(amount=1, currency="xyz")


def test_arithmetic_refuses_mixed_currencies():
    with pytest.raises(ValueError, match="cannot combine"):
        Money(amount=1, currency="usd") + Money(amount=1, currency="eur")


def test_round_minor_uses_the_requested_rounding():
    assert round_minor(Decimal("0.125"), "usd") == 12  # half-even
    assert round_minor(Decimal("0.125"), "usd", rounding="ROUND_HALF_UP") == 13
    assert round_minor(Decimal("99.5"), "jpy") == 100


@given(amount=st.integers(min_value=-(10**15), max_value=10**15),
       currency=st.sampled_from(CURRENCIES))
def test_major_round_trip_is_exact(amount: int, currency: str):
    money = Money(amount=amount, currency=currency)
    assert Money.of(money.major, currency) == money


@given(a=st.integers(-(10**12), 10**12), b=st.integers(-(10**12), 10**12),
       currency=st.sampled_from(CURRENCIES))
def test_addition_is_integer_addition(a: int, b: int, currency: str):
    total = Money(amount=a, currency=currency) + Money(amount=b, currency=currency)
    assert total.amount == a + b
    assert (total - Money(amount=b, currency=currency)).amount == a


@given(amount=st.integers(-(10**9), 10**9))
def test_rescale_up_then_down_is_identity(amount: int):
    assert rescale(rescale(amount, from_currency_exponent=2, to_currency_exponent=3),
                   from_currency_exponent=3, to_currency_exponent=2) == amount


def test_rescale_refuses_to_lose_precision():
    with pytest.raises(ValueError):
        rescale(1005, from_currency_exponent=3, to_currency_exponent=2)


def test_round_charge_keeps_three_decimal_amounts_chargeable() -> None:
    assert round_charge(Decimal("154.312"), "bhd") == 154310
    assert round_charge(Decimal("154.315"), "bhd") == 154320  # half-even on the 0.010 step
    assert round_charge(Decimal("154.325"), "kwd") == 154320
    assert round_charge(Decimal("432.075"), "eur") == 43208  # other currencies: as round_minor
    assert round_charge(Decimal("75002.5"), "jpy") == 75002
    assert chargeable(154310, "bhd") and not chargeable(154312, "bhd")
    assert chargeable(154312, "usd")
