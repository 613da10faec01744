"""Catalog blueprints: products and their prices, keyed by lookup key.

Prices are immutable in Stripe: a changed amount, currency, interval or tier table is a new
price that takes the lookup key over (``transfer_lookup_key``) while the old one is
deactivated. Products carry a stable id of our choosing so a re-run finds them again.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Literal

from pydantic import Field, field_validator, model_validator

from core.money import decimal_text, minor_decimal
from tools.blueprints.spec_common import Strict, check_currency, minor_units

__all__ = ["CatalogBlueprint", "ImportSpec", "PriceSpec", "ProductSpec", "Recurring", "Tier"]

_KEY = re.compile(r"[A-Za-z0-9_.:-]{1,200}")


class Tier(Strict):
    up_to: int | Literal["inf"]
    unit_amount: str = "0"
    flat_amount: str = "0"


class Recurring(Strict):
    interval: Literal["day", "week", "month", "year"]
    interval_count: int = Field(1, ge=1, le=12)
    usage_type: Literal["licensed", "metered"] = "licensed"
    meter: str | None = Field(None, description="event_name of a billing meter (metered only)")


class PriceSpec(Strict):
    lookup_key: str
    currency: str
    unit_amount: str | None = Field(None, description="major units, e.g. '49.00'")
    tiers_mode: Literal["graduated", "volume"] | None = None
    tiers: list[Tier] | None = None
    recurring: Recurring | None = None
    nickname: str | None = None

    @field_validator("lookup_key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not _KEY.fullmatch(value):
            raise ValueError("lookup keys are 1-200 characters of letters, digits, _ . : -")
        return value

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return check_currency(value)

    @model_validator(mode="after")
    def _amounts(self) -> PriceSpec:
        if (self.unit_amount is None) == (self.tiers is None):
            raise ValueError("give either unit_amount or tiers (with tiers_mode)")
        if self.tiers is not None:
            if self.tiers_mode is None:
                raise ValueError("tiers need tiers_mode: graduated or volume")
            if self.tiers[-1].up_to != "inf" or any(t.up_to == "inf" for t in self.tiers[:-1]):
                raise ValueError("only the last tier has up_to: inf")
        # Per-unit rates may be finer than the currency (0.035 EUR a call): Stripe takes them
        # as unit_amount_decimal. Flat amounts are charged as they are: whole minor units.
        for rate in self.rates():
            try:
                minor_decimal(rate, self.currency)
            except ValueError as exc:
                raise ValueError(f"unit_amount {exc}") from None
        for t in self.tiers or []:
            minor_units(t.flat_amount, self.currency)  # refuses sub-minor precision
        return self

    def rates(self) -> list[str]:
        if self.unit_amount is not None:
            return [self.unit_amount]
        return [t.unit_amount for t in self.tiers or []]

    def unit_value(self) -> int | str | None:
        """The per-unit amount in minor units: an integer when whole (4900), else Stripe's
        decimal text ("3.5") — what a plan compares with the price it finds."""
        if self.unit_amount is None:
            return None
        return minor_value(minor_decimal(self.unit_amount, self.currency))

    def unit_params(self) -> dict[str, int | str]:
        return unit_params(minor_decimal(self.unit_amount or "0", self.currency))

    def tier_rows(self) -> list[dict[str, int | str]]:
        rows: list[dict[str, int | str]] = []
        for t in self.tiers or []:
            row: dict[str, int | str] = {"up_to": t.up_to}
            row.update(unit_params(minor_decimal(t.unit_amount, self.currency)))
            flat = minor_units(t.flat_amount, self.currency)
            if flat:
                row["flat_amount"] = flat
            rows.append(row)
        return rows

    def tiers_fingerprint(self) -> str:
        """Tiers as a short string kept in the price's metadata: Stripe returns tiers only
        when expanded, and a price's tiers never change, so this is what a plan compares."""
        return "|".join(
            f"{t.up_to}:{decimal_text(minor_decimal(t.unit_amount, self.currency))}:"
            f"{minor_units(t.flat_amount, self.currency)}" for t in self.tiers or [])


def minor_value(value: Decimal) -> int | str:
    return int(value) if value == value.to_integral_value() else decimal_text(value)


def unit_params(value: Decimal) -> dict[str, int | str]:
    """`unit_amount` when the rate is whole minor units, else `unit_amount_decimal`."""
    minor = minor_value(value)
    return {"unit_amount": minor} if isinstance(minor, int) else {"unit_amount_decimal": minor}


class ProductSpec(Strict):
    id: str = Field(description="stable product id, e.g. prod_fde_api (Stripe allows custom ids)")
    name: str
    description: str | None = None
    prices: list[PriceSpec] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_-]{3,200}", value):
            raise ValueError("product ids are 3-200 letters, digits, _ or -")
        return value


class ImportSpec(Strict):
    """An object on the account this blueprint takes over, named explicitly (like Terraform's
    `import`): a product by its id, or a price by its id and the lookup key it holds."""

    id: str = Field(pattern=r"^(prod|price)_[A-Za-z0-9_-]+$")
    lookup_key: str | None = Field(None, description="prices: the key the blueprint gives it")

    @model_validator(mode="after")
    def _price_has_key(self) -> ImportSpec:
        if self.id.startswith("price_") and self.lookup_key is None:
            raise ValueError("a price import names the lookup_key it will hold")
        return self


class CatalogBlueprint(Strict):
    kind: Literal["catalog"]
    name: str
    description: str | None = None
    products: list[ProductSpec]
    imports: list[ImportSpec] = Field(
        default_factory=list, description="objects not made by this blueprint that it adopts")

    @model_validator(mode="after")
    def _unique(self) -> CatalogBlueprint:
        keys = [p.lookup_key for prod in self.products for p in prod.prices]
        dup = sorted({k for k in keys if keys.count(k) > 1})
        if dup:
            raise ValueError(f"lookup keys must be unique; repeated: {', '.join(dup)}")
        ids = {p.id for p in self.products}
        for i in self.imports:
            if i.lookup_key is not None and i.lookup_key not in keys:
                raise ValueError(f"imports: lookup key {i.lookup_key!r} is not a price of "
                                 "this blueprint")
            if i.id.startswith("prod_") and i.id not in ids:
                raise ValueError(f"imports: product {i.id!r} is not in this blueprint")
        return self

    def imported(self, object_id: str, lookup_key: str | None = None) -> bool:
        return any(i.id == object_id and i.lookup_key == lookup_key for i in self.imports)
