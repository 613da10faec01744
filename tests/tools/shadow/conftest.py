"""Shadow-test fixtures: one corpus per session (scenario script on a real replica,
recorded through the events API), sample handlers served by real uvicorn on free ports,
each with its own SQLite user DB in a tmp dir."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from tests.conftest import REPO
from tools.recon.adapter import open_user_system
from tools.recon.mapping import Mapping, load_mapping
from tools.shadow.corpus import Corpus, load_corpus, record_corpus, save_corpus
from tools.shadow.replay import Target
from tools.stripe.config import GatewayConfig
from tools.stripe.gateway import StripeGateway

SECRET = "whsec_shadowtest0000000000000000"
MAPPING_PATH = REPO / "sandbox" / "usersys" / "mapping.yaml"
FIXED = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _gateway(url: str, key: str, account: str | None = None) -> StripeGateway:
    return StripeGateway(GatewayConfig(api_base=url, api_key=SecretStr(key),
                                       expected_mode="test", stripe_account=account,
                                       rate_limit=1000, max_retries=0))


@pytest.fixture(scope="session")
def corpus_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sandbox.replica.config import ReplicaConfig
    from sandbox.replica.testing import running_replica
    from sandbox.shadow.scenarios import play
    from sandbox.usersys.handler import route

    folder = tmp_path_factory.mktemp("shadow-corpus")
    # Frozen clock and seeded ids: the same corpus bytes (and hash, and fault plans) in
    # every session and on every xdist worker.
    config = ReplicaConfig(db_path=folder / "replica.sqlite", clock_start=1_790_000_000,
                           clock_frozen=True, id_seed=11)
    with running_replica(config.db_path, config=config) as replica:
        accounts = play(replica)
        gateways = [_gateway(replica.url, replica.api_key)]
        gateways += [_gateway(replica.url, replica.api_key, a) for a in accounts]
        every = record_corpus(gateways, source="sandbox/shadow/scenarios.py")
        # The endpoint subscribes to what the company handles (its enabled_events).
        handled = sorted({e["type"] for e in every.events if route(e["type"]) is not None})
        corpus = record_corpus(gateways, types=handled, source="sandbox/shadow/scenarios.py")
        for gateway in gateways:
            gateway.close()
    return save_corpus(corpus, folder / "corpus.jsonl")


@pytest.fixture(scope="session")
def corpus(corpus_path: Path) -> Corpus:
    return load_corpus(corpus_path)


@pytest.fixture(scope="session")
def mapping() -> Mapping:
    return load_mapping(MAPPING_PATH)


Serve = Callable[..., AbstractContextManager[Target]]


@pytest.fixture(scope="session")
def serve_handler(tmp_path_factory: pytest.TempPathFactory, mapping: Mapping) -> Serve:
    """`with serve_handler("name", bugs=..., fixed_clock=True) as target:`"""
    from sandbox.usersys.app import HandlerAppConfig
    from sandbox.usersys.server import running_handler

    @contextmanager
    def serve(name: str, *, bugs: str = "none", tolerance: int = 300,
              fixed_clock: bool = False, clock: Callable[[], datetime] | None = None,
              ) -> Iterator[Target]:
        folder = tmp_path_factory.mktemp(f"handler-{name}")
        dsn = f"sqlite:///{folder / 'company.db'}"
        config = HandlerAppConfig(database_url=dsn, webhook_secrets=[SecretStr(SECRET)],
                                  bugs=bugs, tolerance=tolerance)
        with running_handler(config, clock=(lambda: FIXED) if fixed_clock else clock) as h:
            user = open_user_system(dsn, mapping)
            try:
                # The sample handler is never slow by design: a generous wait keeps a loaded
                # test machine from turning its answers into timeouts.
                yield Target(name=name, url=h.webhook_url, secret=SecretStr(SECRET), user=user,
                             timeout=60)
            finally:
                user.engine.dispose()

    return serve
