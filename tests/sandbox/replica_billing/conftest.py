"""Billing tests run the replica on a frozen clock (2026-01-01T00:00Z) so periods, prorations
and dunning dates are exact; time moves only through ``POST /_replica/clock``."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.replica.config import ReplicaConfig
from sandbox.replica.testing import ReplicaHandle
from tests.sandbox.replica_billing.support import T0, Billing


@pytest.fixture
def replica_config(tmp_path: Path) -> ReplicaConfig:
    return ReplicaConfig(db_path=tmp_path / "replica.sqlite", clock_start=T0, clock_frozen=True,
                         tick_seconds=0.05, webhook_retry_schedule=[0.05])


@pytest.fixture
def billing(replica: ReplicaHandle) -> Billing:
    return Billing(client=replica.client(), replica=replica)
