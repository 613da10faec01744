"""Scenario scripts, one concern each. Every module has ``plan(world)``: it acts at once (at
the window's start) or plans actions on the world's timeline; `ORDER` is the order they plan
in (later scenarios use what earlier ones made: prices, customers, accounts).
"""

from __future__ import annotations

from types import ModuleType

from sandbox.world import bulk
from sandbox.world.scenarios import (
    catalog,
    connect,
    customers,
    invoicing,
    lifecycle,
    payments,
    payouts,
    reversals,
    usage,
)

ORDER: tuple[ModuleType, ...] = (
    catalog, bulk, customers, connect, lifecycle, invoicing, payments, reversals, usage, payouts,
)

__all__ = ["ORDER"]
