"""Money: integer minor units with their currency; one exponent table; no floats.

Stripe amounts are integers in the currency's smallest unit: 1000 USD = $10.00, 1000 JPY =
¥1000, 1000 BHD = 1.000 BD. Every conversion between a human amount and minor units goes
through `EXPONENTS`, the single source of truth for how many decimals a currency has.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from pydantic import BaseModel, ConfigDict, field_validator

# Stripe's zero-decimal currencies (https://docs.stripe.com/currencies#zero-decimal).
ZERO_DECIMAL = frozenset(
    "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split()
)
# Stripe's three-decimal currencies; Stripe requires the last digit to be 0 when charging.
THREE_DECIMAL = frozenset("bhd jod kwd omr tnd".split())
# Common two-decimal currencies. Unknown codes are refused rather than guessed: a wrong
# exponent silently multiplies or divides an amount by 100.
TWO_DECIMAL = frozenset(
    """aed all amd ang aoa ars aud awg azn bam bbd bdt bgn bmd bnd bob brl bsd bwp byn bzd cad
    cdf chf cny cop crc cve czk dkk dop dzd egp etb eur fjd fkp gbp gel gip gmd gtq gyd hkd hnl
    htg huf idr ils inr isk jmd kes kgs khr kyd kzt lak lbp lkr lrd lsl mad mdl mkd mmk mnt mop
    mur mvr mwk mxn myr mzn nad ngn nio nok npr nzd pab pen pgk php pkr pln qar ron rsd rub sar
    sbd scr sek sgd shp sle sos srd std szl thb tjs top try ttd twd tzs uah usd uyu uzs wst xcd
    yer zar zmw""".split()
)

EXPONENTS: dict[str, int] = {
    **{c: 2 for c in TWO_DECIMAL},
    **{c: 0 for c in ZERO_DECIMAL},
    **{c: 3 for c in THREE_DECIMAL},
}


class UnknownCurrency(ValueError):
    """A currency code missing from the exponent table."""


def exponent(currency: str) -> int:
    try:
        return EXPONENTS[currency.lower()]
    except KeyError:
        raise UnknownCurrency(
            f"unknown currency {currency!r}: not in the exponent table (core/money.py)"
        ) from None


class Money(BaseModel):
    """An amount in minor units with its currency. Arithmetic refuses to mix currencies."""

    model_config = ConfigDict(frozen=True)

    amount: int
    currency: str

    @field_validator("amount", mode="before")
    @classmethod
    def _integer_only(cls, value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("amount must be an integer number of minor units")
        return value

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        code = value.lower()
        exponent(code)
        return code

    @classmethod
    def of(cls, major: str | Decimal | int, currency: str) -> Money:
        """Exact conversion from a major-unit amount ("12.34", Decimal) to minor units.

        Amounts with more precision than the currency allows are refused, not rounded.
        """
        exp = exponent(currency)
        try:
            value = Decimal(str(major)) if not isinstance(major, Decimal) else major
        except InvalidOperation:
            raise ValueError(f"not a decimal amount: {major!r}") from None
        scaled = value.scaleb(exp)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{major} has more than {exp} decimals for {currency.upper()}")
        return cls(amount=int(scaled), currency=currency)

    @property
    def major(self) -> Decimal:
        return Decimal(self.amount).scaleb(-exponent(self.currency))

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(amount=self.amount - other.amount, currency=self.currency)

    def __neg__(self) -> Money:
        return Money(amount=-self.amount, currency=self.currency)

    def format(self) -> str:
        exp = exponent(self.currency)
        return f"{self.major:,.{exp}f} {self.currency.upper()}"

    def __str__(self) -> str:
        return self.format()


def minor_decimal(major: str | Decimal, currency: str, *, places: int = 12) -> Decimal:
    """A major-unit rate in minor units, exactly, keeping precision finer than the currency:
    Stripe's ``unit_amount_decimal`` (0.035 EUR → 3.5 cents; 2.5 JPY → 2.5) allows up to 12
    decimal places of the minor unit. More than that is refused, never rounded."""
    try:
        value = Decimal(str(major)) if not isinstance(major, Decimal) else major
    except InvalidOperation:
        raise ValueError(f"not a decimal amount: {major!r}") from None
    scaled = value.scaleb(exponent(currency))
    if scaled != scaled.quantize(Decimal(1).scaleb(-places)):
        raise ValueError(f"{major} {currency.upper()} is finer than Stripe's {places} decimal "
                         "places of the minor unit")
    return scaled


def decimal_text(value: Decimal) -> str:
    """The plain text Stripe uses for a decimal amount: no exponent, no trailing zeros."""
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


def rescale(amount: int, *, from_currency_exponent: int, to_currency_exponent: int) -> int:
    """Move an integer amount between exponents exactly (e.g. a 2-decimal ledger into BHD).

    Refuses to drop precision: callers decide rounding explicitly with `round_minor`.
    """
    shift = to_currency_exponent - from_currency_exponent
    if shift >= 0:
        return amount * 10**shift
    divisor = 10 ** (-shift)
    if amount % divisor:
        raise ValueError(f"{amount} cannot be expressed with {to_currency_exponent} decimals")
    return amount // divisor


def round_minor(value: Decimal, currency: str, *, rounding: str = ROUND_HALF_EVEN) -> int:
    """Round a computed major-unit Decimal (a tax, a proration) to minor units.

    The rounding mode is explicit because billing systems disagree on it; a mismatch in
    this one choice is a classic source of one-cent reconciliation breaks.
    """
    exp = exponent(currency)
    return int(value.scaleb(exp).quantize(Decimal(1), rounding=rounding))


def charge_step(currency: str) -> int:
    """The smallest chargeable step in minor units: Stripe refuses a three-decimal amount
    whose last digit is not 0 (https://docs.stripe.com/currencies#three-decimal)."""
    return 10 if exponent(currency) == 3 else 1


def chargeable(amount: int, currency: str) -> bool:
    return amount % charge_step(currency) == 0


def round_charge(value: Decimal, currency: str, *, rounding: str = ROUND_HALF_EVEN) -> int:
    """Like `round_minor`, but to an amount Stripe will charge (154.312 BHD → 154.310)."""
    step = charge_step(currency)
    steps = value.scaleb(exponent(currency)) / step
    return int(steps.quantize(Decimal(1), rounding=rounding)) * step
