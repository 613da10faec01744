"""API fixtures: no real LLM (the offline planner is chosen), a served sandbox world with
the demo's bugs registered as an engagement, and the API on a real uvicorn."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core.server_thread import ServerThread
from core.settings import Settings, load_settings
from tests.conftest import REPO

DEMO_BUGS = "FM-02,FM-04,FM-13,FM-15"
MAPPING = REPO / "sandbox" / "usersys" / "mapping.yaml"


@pytest.fixture(autouse=True)
def _offline_planner(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "FDE_MODEL"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="session")
def api_shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory the xdist workers of this session share."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    path = root / "api-shared"
    path.mkdir(exist_ok=True)
    return path


@dataclass
class Api:
    server: ServerThread
    app: Any
    settings: Settings

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def db(self) -> Any:
        return self.app.state.db


@pytest.fixture
def api(request: pytest.FixtureRequest) -> Iterator[Api]:
    """The app on uvicorn; `@pytest.mark.parametrize("api", [{...settings}], indirect=True)`
    overrides settings."""
    from api.main import create_app

    overrides = getattr(request, "param", {}) or {}
    settings = load_settings(**{"api_sse_heartbeat_seconds": 1.0, "api_poll_seconds": 0.2,
                                **overrides})
    app = create_app(settings)
    with ServerThread(app) as server:
        yield Api(server=server, app=app, settings=settings)


@pytest.fixture
def demo_engagement(api: Api, api_shared: Path) -> Iterator[str]:
    """The demo world (tiny) served for this test and registered as engagement `demo`.
    One world build per session; serving is exclusive (it copies into the world's dir)."""
    from filelock import FileLock
    from pydantic import SecretStr

    from core import engagements
    from core.secrets import secret_box
    from core.settings import SANDBOX_API_KEY
    from sandbox.world.config import WorldConfig
    from sandbox.world.serve import running_world

    config = WorldConfig.parse(seed=0, size="tiny", bugs=DEMO_BUGS)
    worlds = api_shared / "worlds"
    worlds.mkdir(exist_ok=True)
    with FileLock(str(worlds / "serve.lock")), \
            running_world(config, worlds, log=lambda _: None) as world:
        spec = engagements.EngagementCreate(
            name="demo", stripe_mode="test", stripe_key=SecretStr(SANDBOX_API_KEY),
            stripe_api_base=world.replica_url,
            user_db_dsn=SecretStr(f"sqlite:///{world.user_db.resolve()}"),
            mapping_path=str(MAPPING), webhook_urls=[f"{world.handler_url}/webhooks/stripe"])
        with api.db.session() as session:
            engagements.add(session, secret_box(api.settings), spec, actor="test")
        yield "demo"
