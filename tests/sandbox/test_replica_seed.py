"""seed_small is deterministic and safe to run twice."""

from __future__ import annotations

from sandbox.replica.config import ReplicaConfig
from sandbox.replica.seed import seed_small
from sandbox.replica.testing import running_replica


def _snapshot_of(tmp_path, name: str) -> list[tuple]:
    config = ReplicaConfig(db_path=tmp_path / f"{name}.sqlite", id_seed=11,
                           clock_start=1_750_000_000, clock_frozen=True)
    with running_replica(config.db_path, config=config) as replica:
        client = replica.client()
        result = seed_small(client, customers=20, seed=3)
        again = seed_small(client, customers=20, seed=3)  # idempotency keys: nothing new
        assert again == result
        customers = list(client.v1.customers.list(params={"limit": 100}).auto_paging_iter())
        assert len(customers) == 20
        prices = client.v1.prices.list(params={"limit": 100}).data
        assert {p.lookup_key for p in prices} == set(result.prices)
        return [(c.id, c.email, c.name, c.address.country, c.invoice_prefix, c.created)
                for c in customers]


def test_same_seed_same_world(tmp_path):
    first = _snapshot_of(tmp_path, "a")
    assert first == _snapshot_of(tmp_path, "b")
    assert len({row[3] for row in first}) >= 4  # several countries
