"""Built worlds for the detector tests, one build per worker session: the clean world, every
switch on (FM-01 makes every delivery fail, so the handler-layer switches cannot show), and
every switch but FM-01."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tools.checks.worlds import HANDLER_AND_ACCOUNT, build


@pytest.fixture(scope="session")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("check-worlds")
    return {"clean": build(root / "clean", None), "all": build(root / "all", "all"),
            "handlers": build(root / "handlers", HANDLER_AND_ACCOUNT)}
