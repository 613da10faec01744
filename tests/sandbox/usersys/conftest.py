"""Fixtures for the sample user system tests (helpers live in stripe_world.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.usersys.app import HandlerAppConfig
from sandbox.usersys.server import running_handler

from .stripe_world import SECRET, App, Db, StripeWorld


@pytest.fixture
def world() -> StripeWorld:
    return StripeWorld()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Db]:
    database = Db(f"sqlite:///{tmp_path / 'company.db'}")
    yield database
    database.engine.dispose()


@pytest.fixture
def start_app(tmp_path: Path) -> Iterator[Callable[..., App]]:
    """Start the webhook app on a free port: ``start_app(bugs=..., secrets=[...])``."""
    stack: list[Any] = []

    def start(*, bugs: str = "none", secrets: list[str] | None = None,
              database_url: str | None = None) -> App:
        url = database_url or f"sqlite:///{tmp_path / f'app{len(stack)}.db'}"
        config = HandlerAppConfig(database_url=url, webhook_secrets=secrets or [SECRET],
                                  bugs=bugs)
        manager = running_handler(config)
        handle = manager.__enter__()
        stack.append(manager)
        app = App(handle, Db(url))
        stack.append(app)
        return app

    yield start
    for item in reversed(stack):
        if isinstance(item, App):
            item.http.close()
            item.db.engine.dispose()
        else:
            item.__exit__(None, None, None)


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Callable[[], tuple[Db, Db]]]:
    """Two fresh DBs: one for the correct handler, one for the buggy one."""
    made: list[Db] = []

    def make() -> tuple[Db, Db]:
        n = len(made)
        dbs = (Db(f"sqlite:///{tmp_path / f'good{n}.db'}"),
               Db(f"sqlite:///{tmp_path / f'bad{n}.db'}"))
        made.extend(dbs)
        return dbs

    yield make
    for database in made:
        database.engine.dispose()
