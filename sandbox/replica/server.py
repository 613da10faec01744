"""Run the replica with uvicorn: `serve(host, port, db_path)` blocks (``fde sandbox up``)."""

from __future__ import annotations

from pathlib import Path

import uvicorn

from sandbox.replica.app import create_app
from sandbox.replica.config import ReplicaConfig


def serve(
    host: str = "127.0.0.1",
    port: int = 12111,
    db_path: str | Path = ".fde/replica.sqlite",
    *,
    config: ReplicaConfig | None = None,
    log_level: str = "info",
) -> None:
    """Serve until interrupted. `config` overrides everything but `db_path`."""
    cfg = (config or ReplicaConfig(db_path=Path(db_path))).model_copy(
        update={"db_path": Path(db_path)}
    )
    uvicorn.run(create_app(cfg), host=host, port=port, log_level=log_level, lifespan="on")
