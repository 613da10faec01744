"""A replica, an app database and a blueprint context per test."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from core.settings import load_settings
from core.storage import Database, open_database
from tools.blueprints import (
    BlueprintContext,
    LoadedBlueprint,
    Plan,
    apply_plan,
    approve_plan,
    load_blueprint,
    make_plan,
)
from tools.stripe import GatewayConfig, RateLimiterRegistry, StripeGateway

EXAMPLES = Path(__file__).resolve().parents[3] / "tools" / "blueprints" / "examples"
# The example usage files are dated around this moment; the replica's clock is set to it.
NOW = int(datetime(2026, 11, 20, 12, tzinfo=UTC).timestamp())


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = open_database(load_settings(database_url=f"sqlite:///{tmp_path / 'app.db'}"))
    yield database
    database.dispose()


def gateway_for(url: str, key: str) -> StripeGateway:
    config = GatewayConfig(api_base=url, api_key=SecretStr(key), expected_mode="test",
                           tier="write", rate_limit=500.0, max_retries=0, timeout=20.0)
    return StripeGateway(config, limiters=RateLimiterRegistry())


@pytest.fixture
def gateway(replica) -> StripeGateway:
    replica.admin.set_clock(NOW)
    gw = gateway_for(replica.url, replica.api_key)
    yield gw
    gw.close()


@pytest.fixture
def ctx(gateway: StripeGateway, db: Database) -> BlueprintContext:
    # no clock: plans read Stripe's (the replica's, set to NOW), never this machine's
    return BlueprintContext(engagement="acme", gateway=gateway, db=db, base_dir=EXAMPLES,
                            actor="test")


def example(name: str) -> LoadedBlueprint:
    return load_blueprint(EXAMPLES / name)


def changes(plan: Plan) -> list[tuple[str, str, list[str]]]:
    return [(i.key, i.action, [c.field for c in i.changes]) for i in plan.changes]


@pytest.fixture
def converge() -> Callable[[LoadedBlueprint, BlueprintContext], str]:
    """plan → approve (as an engineer) → apply; returns the approval token."""

    def run(loaded: LoadedBlueprint, context: BlueprintContext) -> str:
        plan = make_plan(loaded, context)
        approval = approve_plan(context, plan, approver="eng:ana", digest=plan.digest)
        apply_plan(loaded, context, approval=approval.token)
        return approval.token

    return run
