"""Which mapped fields carry money, and what a row adds to the bridge.

Fields are found by their Stripe path, whatever the company named them (``price:
{stripe: amount}``), so every rule reads the same thing on any mapping.
"""

from __future__ import annotations

import polars as pl

from tools.recon.mapping import EntitySpec

__all__ = ["RECEIVED_PATHS", "bridge_fields", "contribution", "field_for", "received_field",
           "values_json"]


RECEIVED_PATHS = ("amount_paid", "amount_received")
"""Stripe fields holding the money an object actually received (invoice, PaymentIntent)."""


def received_field(spec: EntitySpec) -> str | None:
    """The compared money field mirroring what the object received, if the mapping has one."""
    return next((n for n, f in spec.fields.items()
                 if f.type == "money" and f.compared and (f.stripe or n) in RECEIVED_PATHS),
                None)


def field_for(spec: EntitySpec, path: str, *, money: bool = False) -> str | None:
    """The compared field mirroring Stripe's `path` (by its Stripe path, whatever its name)."""
    return next((n for n, f in spec.fields.items() if f.compared and (f.stripe or n) == path
                 and (f.type == "money") == money), None)


def bridge_fields(spec: EntitySpec) -> tuple[str | None, str | None]:
    """(amount field, status field) the bridge reads for a payment or refund entity."""
    paths = ("amount_received", "amount") if spec.stripe_object == "payment_intent" \
        else ("amount",)
    amount = next((f for f in (field_for(spec, p, money=True) for p in paths) if f), None)
    return amount, field_for(spec, "status")


def contribution(prefix: str, spec: EntitySpec, stripe_object: str | None) -> pl.Expr:
    """Money this row adds to the bridge (net collected): payments in, refunds out."""
    if stripe_object not in ("payment_intent", "refund"):
        return pl.lit(0, dtype=pl.Int64)
    amount, state = bridge_fields(spec)
    if amount is None or state is None:
        return pl.lit(0, dtype=pl.Int64)
    status = pl.col(f"{prefix}{state}")
    if stripe_object == "payment_intent":
        return pl.when(status == "succeeded").then(pl.col(f"{prefix}{amount}")).otherwise(0)
    return (pl.when(status.is_in(["succeeded", "pending"]))
            .then(-pl.col(f"{prefix}{amount}")).otherwise(0))


def values_json(prefix: str, names: list[str]) -> pl.Expr:
    if not names:
        return pl.lit("{}")
    return pl.struct([pl.col(f"{prefix}{n}").alias(n) for n in names]).struct.json_encode()
