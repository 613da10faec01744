"""Payouts: the automatic schedule swept every currency's available balance weekly (each
payout with its balance transactions), plus one manual payout in USD."""

from __future__ import annotations

from sandbox.world.company import CURRENCIES
from sandbox.world.config import DAY
from sandbox.world.state import World


def _automatic(world: World) -> None:
    for currency in CURRENCIES:
        world.api.try_post("/_replica/test_helpers/payouts/automatic", {"currency": currency})


def _manual(world: World) -> None:
    world.api.try_post("/v1/payouts", {"amount": 5000, "currency": "usd",
                                       "description": "manual treasury sweep"})


def plan(world: World) -> None:
    for week in range(1, 9):
        world.at(world.start + week * 7 * DAY + 6 * 3600, _automatic, world)
    world.at(world.start + 45 * DAY + 3 * 3600, _manual, world)
