"""Resource modules: one Stripe collection (and its behaviour) per module.

Each module has ``register(reg: Registry) -> None``; `MODULES` is the order they load in.
Add a module here to serve it (see the package docstring of `sandbox.replica`).
"""

from __future__ import annotations

from types import ModuleType

from sandbox.replica.registry import Registry
from sandbox.replica.resources import (
    accounts,
    billing_meters,
    customers,
    events,
    prices,
    products,
    webhook_endpoints,
)

MODULES: list[ModuleType] = [
    accounts,
    customers,
    products,
    prices,
    webhook_endpoints,
    billing_meters,
    events,
]


def register_all(reg: Registry, modules: list[ModuleType] | None = None) -> Registry:
    for module in modules or MODULES:
        module.register(reg)
    return reg
