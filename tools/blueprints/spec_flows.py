"""Checkout, dunning and invoicing-workflow blueprints.

Checkout: one Checkout Session configuration per country/currency. A payment method type is
only accepted where it works (konbini is JPY in Japan, OXXO MXN in Mexico, ...; FM-35), and
the delayed-notification methods require the async-payment handling they imply (FM-14, FM-17).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from tools.blueprints.spec_common import Strict, check_currency, minor_units
from tools.stripe.payment_methods import UnknownMethod, capability, checkout_problems

__all__ = [
    "AsyncHandling", "CheckoutBlueprint", "CheckoutConfig", "CreditNotePolicy",
    "DunningBlueprint", "EntitlementPolicy", "InvoicingBlueprint", "LineItem",
]

class LineItem(Strict):
    lookup_key: str
    quantity: int = Field(1, ge=1)


class AsyncHandling(Strict):
    fulfil_on: Literal["checkout.session.async_payment_succeeded"]
    fail_on: Literal["checkout.session.async_payment_failed"]
    expires_after_days: int = Field(3, ge=1, le=30, description="voucher/transfer validity")


class CheckoutConfig(Strict):
    country: str
    currency: str
    mode: Literal["payment", "subscription"]
    payment_method_types: list[str] = Field(min_length=1)
    line_items: list[LineItem] = Field(min_length=1)
    async_payment: AsyncHandling | None = None

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z]{2}", value):
            raise ValueError("country is a two-letter ISO code such as JP")
        return value.upper()

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return check_currency(value)

    @model_validator(mode="after")
    def _methods(self) -> CheckoutConfig:
        """Stripe's rules from the one capability table: mode, customer country and
        currency, not currency alone."""
        try:
            problems = [p for m in self.payment_method_types for p in checkout_problems(
                m, mode=self.mode, currency=self.currency, country=self.country)]
        except UnknownMethod as exc:
            raise ValueError(f"payment_method_types: {exc}") from None
        if problems:
            raise ValueError(f"payment_method_types: {'; '.join(problems)}")
        delayed = sorted(m for m in self.payment_method_types if capability(m).delayed)
        if delayed and self.async_payment is None:
            raise ValueError(f"async_payment is required: {', '.join(delayed)} confirm after "
                             "the session completes, so fulfilment must wait for "
                             "checkout.session.async_payment_succeeded")
        return self

    @property
    def key(self) -> str:
        return f"{self.country}-{self.currency}"


class CheckoutBlueprint(Strict):
    kind: Literal["checkout"]
    name: str
    description: str | None = None
    configurations: list[CheckoutConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> CheckoutBlueprint:
        keys = [c.key for c in self.configurations]
        if len(set(keys)) != len(keys):
            raise ValueError("one configuration per country/currency")
        return self


class EntitlementPolicy(Strict):
    grace_days: int = Field(0, ge=0, le=60)
    revoke_on: list[Literal["past_due", "unpaid", "canceled"]] = Field(min_length=1)


class DunningBlueprint(Strict):
    kind: Literal["dunning"]
    name: str
    description: str | None = None
    retry_schedule_days: list[int] = Field(min_length=1, max_length=8)
    end_state: Literal["cancel", "unpaid", "past_due"]
    entitlement: EntitlementPolicy

    @field_validator("retry_schedule_days")
    @classmethod
    def _schedule(cls, days: list[int]) -> list[int]:
        if days != sorted(set(days)) or days[0] < 1 or days[-1] > 60:
            raise ValueError("retry days are increasing, unique, between 1 and 60")
        return days


class CreditNotePolicy(Strict):
    allowed_reasons: list[Literal["duplicate", "fraudulent", "order_change",
                                  "product_unsatisfactory"]] = Field(min_length=1)
    approval_above: str = Field(description="major units; larger credit notes need approval")
    currency: str

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return check_currency(value)

    @model_validator(mode="after")
    def _amount(self) -> CreditNotePolicy:
        minor_units(self.approval_above, self.currency)
        return self


class InvoicingBlueprint(Strict):
    kind: Literal["invoicing"]
    name: str
    description: str | None = None
    collection_method: Literal["charge_automatically", "send_invoice"]
    days_until_due: int | None = Field(None, ge=1, le=365)
    applies_to: dict[str, str] = Field(
        description="customer metadata that selects whose subscriptions follow this workflow",
        min_length=1)
    credit_notes: CreditNotePolicy

    @model_validator(mode="after")
    def _terms(self) -> InvoicingBlueprint:
        if (self.collection_method == "send_invoice") != (self.days_until_due is not None):
            raise ValueError("days_until_due (net terms) is required with send_invoice and "
                             "not allowed with charge_automatically")
        return self
