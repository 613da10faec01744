"""Test helpers: sandbox-world engagements served by real replicas, a controllable clock,
and a webhook receiver that records what it got (real uvicorn)."""

from __future__ import annotations

import json
import shutil
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from agents.autopilot.policy_store import set_policy
from core import engagements
from core.engagements import EngagementCreate
from core.secrets import secret_box
from core.server_thread import ServerThread
from core.settings import Settings
from core.storage import Database
from sandbox.replica.testing import TEST_KEY, running_replica
from sandbox.world.build import MANIFEST, REPLICA_DB, USER_DB, build_world
from sandbox.world.config import WorldConfig
from tests.conftest import REPO

MAPPING = REPO / "sandbox" / "usersys" / "mapping.yaml"


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime(2026, 3, 2, 12, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class WorldEngagement:
    name: str
    bugs: str
    directory: Path
    user_url: str
    replica: Any

    def affected_ids(self) -> set[str]:
        """Ground truth (tests only): the objects the bug switch changed."""
        manifest = json.loads((self.directory / MANIFEST).read_text())
        entries = manifest["switches"].get(self.bugs, {}).get("affected", [])
        return {e.get("object_id") or e.get("event_id") for e in entries}

    def connected(self) -> list[str]:
        accounts = self.replica.client().v1.accounts.list()
        return sorted(a.id for a in accounts.auto_paging_iter())


def serve_world(stack: ExitStack, tmp: Path, name: str, bugs: str, *, seed: int = 11
                ) -> WorldEngagement:
    world = tmp / f"world-{name}"
    build_world(WorldConfig.parse(seed=seed, size="tiny", bugs=bugs), world)
    served = tmp / f"served-{name}.sqlite3"
    shutil.copy(world / REPLICA_DB, served)  # serving writes to the store
    replica = stack.enter_context(running_replica(served))
    user_db = tmp / f"company-{name}.sqlite3"
    shutil.copy(world / USER_DB, user_db)  # repairs write to it; keep the world's intact
    return WorldEngagement(name=name, bugs=bugs, directory=world,
                           user_url=f"sqlite:///{user_db}", replica=replica)


def add_engagement(settings: Settings, db: Database, name: str, *, api_base: str,
                   user_url: str | None = None, key: str = TEST_KEY,
                   account: str | None = None, policy: str | None = None,
                   connected: list[str] | None = None) -> None:
    box = secret_box(settings)
    with db.session() as session:
        engagements.add(session, box, EngagementCreate(
            name=name, stripe_key=SecretStr(key), stripe_api_base=api_base,
            stripe_account_id=account, connect_accounts=connected or [],
            user_db_dsn=SecretStr(user_url) if user_url else None,
            mapping_path=str(MAPPING) if user_url else None), actor="test")
        if policy is not None:
            set_policy(session, box, name, policy, actor="test:lead", role="approver")


class Receiver:
    """Records every POST (raw body + headers) on a real socket."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, dict[str, str]]] = []

        async def hook(request: Request) -> JSONResponse:
            self.received.append((await request.body(), dict(request.headers)))
            return JSONResponse({"ok": True})

        self.server = ServerThread(Starlette(routes=[Route("/hook", hook, methods=["POST"])]))

    @property
    def url(self) -> str:
        return f"{self.server.url}/hook"

    def __enter__(self) -> Receiver:
        self.server.start(timeout=15)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
