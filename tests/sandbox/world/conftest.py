"""Built worlds shared by the world tests (each build takes a second or two)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.world.build import WorldInfo, build_world
from sandbox.world.config import WorldConfig

ACCOUNT_HISTORY = "FM-04,FM-05,FM-07,FM-08,FM-26,FM-30"


def _build(factory: pytest.TempPathFactory, name: str, **kw: object) -> tuple[Path, WorldInfo]:
    directory = factory.mktemp(name) / "world"
    return directory, build_world(WorldConfig.parse(**kw), directory)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def clean_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, WorldInfo]:
    return _build(tmp_path_factory, "clean", seed=11, size="demo")


@pytest.fixture(scope="module")
def bugged_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, WorldInfo]:
    return _build(tmp_path_factory, "bugged", seed=11, size="demo", bugs=ACCOUNT_HISTORY)
