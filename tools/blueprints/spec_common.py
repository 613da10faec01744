"""Pieces shared by every blueprint kind: the strict base model and money fields.

Amounts are written in major units as strings ("49.00", "1200") because that is how people
write prices; they become integer minor units through `core.money` (the one exponent table)
and a value with more decimals than the currency has is refused, never rounded.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from pydantic import BaseModel, ConfigDict

from core.money import Money, UnknownCurrency, exponent

__all__ = ["Strict", "check_currency", "decimal_amount", "minor_units"]


class Strict(BaseModel):
    """Unknown keys are errors: a typo must not silently become a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def check_currency(value: str) -> str:
    code = value.strip().lower()
    try:
        exponent(code)
    except UnknownCurrency:
        raise ValueError(
            f"{value!r} is not a currency this account can charge in (not an ISO 4217 code "
            "Stripe supports; see core/money.py)"
        ) from None
    return code


def minor_units(major: str | int, currency: str) -> int:
    try:
        return Money.of(str(major), currency).amount
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(str(exc)) from None


def decimal_amount(value: str | int) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not a decimal amount: {value!r}") from None

