"""Fixtures of the replica tests: one seeded replica shared by a module's read-only tests."""

from __future__ import annotations

import pytest
import stripe

from sandbox.replica.config import ReplicaConfig
from sandbox.replica.seed import SeedResult, seed_small
from sandbox.replica.testing import ReplicaHandle, running_replica


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReplicaHandle, SeedResult]:
    """A replica holding `seed_small(customers=250)`; tests using it must not write."""
    db = tmp_path_factory.mktemp("seeded") / "replica.sqlite"
    config = ReplicaConfig(db_path=db, clock_start=1_760_000_000, clock_frozen=False)
    with running_replica(db, config=config) as handle:
        result = seed_small(handle.client(), customers=250, seed=7)
        yield handle, result


@pytest.fixture(scope="module")
def seeded_client(seeded: tuple[ReplicaHandle, SeedResult]) -> stripe.StripeClient:
    return seeded[0].client()
