"""Custom billing logic as small plugins: usage in, invoice lines out.

A plugin is a name, a strict params model and ``evaluate(params, usage, currency)`` that
returns `Charge`s in integer minor units. The blueprint engine turns each charge into one
Stripe invoice item. Rounding happens once per charge through `core.money.round_minor`
(half-even) to an amount Stripe will charge (three-decimal currencies end in 0), so a hand
calculation can predict every amount.

Register your own with `register_plugin`; the built-ins are minimum commit with true-up and
ramp deals (a minimum commit that steps up by period).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Protocol

from pydantic import BaseModel, Field, field_validator

from core.money import charge_step, chargeable, exponent, round_charge
from tools.blueprints.spec_common import Strict, decimal_amount, minor_units

__all__ = ["Charge", "PricingPlugin", "UsageTotal", "get_plugin", "register_plugin"]


class UsageTotal(BaseModel):
    """One customer's usage over the blueprint's period."""

    customer: str
    units: Decimal
    period_start: date
    period_end: date


class Charge(BaseModel):
    key: str = Field(description="stable within (customer, period): usage, true_up, ...")
    description: str
    amount: int = Field(description="minor units")
    currency: str


class PricingPlugin(Protocol):
    name: str
    params_model: type[BaseModel]

    def evaluate(self, params: BaseModel, usage: UsageTotal, currency: str) -> list[Charge]: ...


class MinimumCommitParams(Strict):
    unit_price: str = Field(description="major units per unit; may be finer than the currency")
    commit: str = Field(description="minimum spend per period, major units")
    bill_usage: bool = Field(True, description="False when a metered price bills usage already")

    @field_validator("unit_price", "commit")
    @classmethod
    def _amount(cls, value: str) -> str:
        if decimal_amount(value) < 0:
            raise ValueError("amounts cannot be negative")
        return value


def _commit_minor(commit: str, currency: str, field: str) -> int:
    """A contract amount is never rounded behind anyone's back: one Stripe cannot charge is
    refused, naming the field."""
    amount = minor_units(commit, currency)
    if not chargeable(amount, currency):
        step = Decimal(charge_step(currency)).scaleb(-exponent(currency))
        raise ValueError(f"{field} {commit} {currency.upper()}: Stripe charges "
                         f"{currency.upper()} in steps of {step}; give a multiple of it")
    return amount


def _usage_and_true_up(usage: UsageTotal, currency: str, unit_price: str, commit_minor: int,
                       bill_usage: bool, label: str) -> list[Charge]:
    used = round_charge(usage.units * decimal_amount(unit_price), currency)
    charges: list[Charge] = []
    if bill_usage and used:
        charges.append(Charge(key="usage", amount=used, currency=currency,
                              description=f"Usage: {usage.units} units x {unit_price}"))
    if used < commit_minor:
        charges.append(Charge(key="true_up", amount=commit_minor - used, currency=currency,
                              description=f"True-up to {label}"))
    return charges


class MinimumCommit:
    """Usage at ``unit_price``; if it falls short of ``commit``, a true-up line for the gap."""

    name = "minimum_commit"
    params_model = MinimumCommitParams

    def evaluate(self, params: BaseModel, usage: UsageTotal, currency: str) -> list[Charge]:
        p = MinimumCommitParams.model_validate(params.model_dump())
        return _usage_and_true_up(usage, currency, p.unit_price,
                                  _commit_minor(p.commit, currency, "commit"), p.bill_usage,
                                  f"minimum commit {p.commit} {currency.upper()}")


class RampStep(Strict):
    starts: date
    commit: str


class RampParams(Strict):
    unit_price: str
    steps: list[RampStep] = Field(min_length=1)
    bill_usage: bool = True


class RampDeal:
    """A minimum commit that changes over the contract: the step in force at period start."""

    name = "ramp"
    params_model = RampParams

    def evaluate(self, params: BaseModel, usage: UsageTotal, currency: str) -> list[Charge]:
        p = RampParams.model_validate(params.model_dump())
        steps = sorted(p.steps, key=lambda s: s.starts)
        current = [s for s in steps if s.starts <= usage.period_start]
        if not current:
            return _usage_and_true_up(usage, currency, p.unit_price, 0, p.bill_usage, "ramp")
        step = current[-1]
        field = f"steps[{steps.index(step)}].commit"
        return _usage_and_true_up(usage, currency, p.unit_price,
                                  _commit_minor(step.commit, currency, field), p.bill_usage,
                                  f"ramp commit {step.commit} {currency.upper()} "
                                  f"(from {step.starts})")


_PLUGINS: dict[str, PricingPlugin] = {p.name: p for p in (MinimumCommit(), RampDeal())}


def register_plugin(plugin: PricingPlugin) -> None:
    _PLUGINS[plugin.name] = plugin


def get_plugin(name: str) -> PricingPlugin:
    try:
        return _PLUGINS[name]
    except KeyError:
        raise ValueError(f"unknown plugin {name!r}; known: {', '.join(sorted(_PLUGINS))}"
                         ) from None
