"""The requirements intake: what a user's business needs from Stripe, strictly typed (an
unknown or misspelt key is an error naming it, not a silently ignored answer)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.errors import ConfigError
from core.money import exponent
from tools.stripe.payment_methods import canonical_name

__all__ = ["PaymentMethod", "Requirements", "load_requirements"]

# Any Stripe payment method type: one the capability table does not know becomes an open
# question in the draft, not an intake error; names Stripe does not use are translated.
PaymentMethod = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Invoicing(_Strict):
    send_invoices: bool = Field(False, description="email invoices paid by the customer")
    net_terms_days: int | None = Field(None, ge=1, le=365)
    tax: Literal["none", "stripe_tax", "external"] = "none"
    collect_tax_ids: bool = False
    credit_notes: bool = False


class ExistingSystem(_Strict):
    name: str
    kind: Literal["billing", "erp", "crm", "accounting", "database", "warehouse"]
    migrate_from: bool = Field(False, description="its subscriptions move to Stripe")


class Volumes(_Strict):
    customers: int = Field(ge=0)
    payments_per_month: int = Field(0, ge=0)
    invoices_per_month: int = Field(0, ge=0)
    usage_events_per_day: int = Field(0, ge=0)


class Connect(_Strict):
    charge_type: Literal["direct", "destination", "separate_charges_and_transfers"]
    connected_accounts: int = Field(ge=1)
    payouts: Literal["automatic", "manual"] = "automatic"


class Requirements(_Strict):
    name: str
    business_model: Literal["saas", "usage_based_api", "marketplace", "ecommerce"]
    countries: list[str] = Field(min_length=1, description="ISO 3166-1 alpha-2")
    currencies: list[str] = Field(min_length=1, description="ISO 4217, lower case")
    pricing_model: Literal["flat", "per_seat", "tiered", "usage_based", "hybrid", "one_time"]
    pricing_extras: list[Literal["minimum_commit", "trial", "plan_changes"]] = Field(
        default_factory=list)
    billing_cadence: list[Literal["one_time", "monthly", "annual"]] = Field(min_length=1)
    payment_methods: list[PaymentMethod] = Field(min_length=1)
    signup: Literal["self_serve", "sales_led"] = "self_serve"
    invoicing: Invoicing = Field(default_factory=Invoicing)
    revenue_recognition: Literal["none", "stripe", "external"] = "none"
    existing_systems: list[ExistingSystem] = Field(default_factory=list)
    volumes: Volumes
    connect: Connect | None = None
    notes: str = ""

    @field_validator("payment_methods", mode="before")
    @classmethod
    def _method_names(cls, value: object) -> object:
        if isinstance(value, list):
            return [canonical_name(m) if isinstance(m, str) else m for m in value]
        return value

    @field_validator("countries")
    @classmethod
    def _countries(cls, value: list[str]) -> list[str]:
        bad = [c for c in value if len(c) != 2 or not c.isalpha()]
        if bad:
            raise ValueError(f"not ISO 3166-1 alpha-2 country codes: {bad}")
        return [c.upper() for c in value]

    @field_validator("currencies")
    @classmethod
    def _currencies(cls, value: list[str]) -> list[str]:
        out = [c.lower() for c in value]
        for code in out:
            exponent(code)  # the one currency table: unknown codes fail here, named
        return out

    @property
    def recurring(self) -> bool:
        return any(c != "one_time" for c in self.billing_cadence)


def load_requirements(path: Path) -> Requirements:
    if not path.is_file():
        raise ConfigError(f"requirements file {path} does not exist",
                          hint="see agents/design/examples/ for complete intakes")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}",
                          hint="fix the YAML syntax") from None
    try:
        return Requirements.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
            for e in exc.errors())
        raise ConfigError(f"{path}: {problems}",
                          hint="compare with agents/design/examples/eu-saas-sepa-vat.yaml"
                          ) from None
