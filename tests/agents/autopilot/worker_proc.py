"""A real autopilot worker process for the PostgreSQL test: `python -m ... DB_URL DATA_DIR
WORKER_ID [STALL_MARKER]`. With a marker it stalls forever inside the first company-DB
transaction that wrote something, just before COMMIT (after touching the marker), so the
test can kill it mid-repair."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine

from agents.autopilot import Autopilot, AutopilotDeps
from core.settings import load_settings
from core.storage import open_database


def _stall_before_company_commit(marker: Path) -> None:
    @event.listens_for(Engine, "before_cursor_execute")
    def _wrote(conn, cursor, statement, params, context, many):  # noqa: ANN001, ANN202
        if "company" in str(conn.engine.url) and statement.lstrip().upper().startswith(
                ("UPDATE", "INSERT")):
            conn.info["wrote"] = True

    @event.listens_for(Engine, "commit")
    def _commit(conn):  # noqa: ANN001, ANN202
        if conn.info.get("wrote"):
            marker.touch()
            threading.Event().wait()  # until killed


def main(db_url: str, data_dir: str, worker: str, marker: str | None) -> None:
    settings = load_settings(data_dir=Path(data_dir), database_url=db_url,
                             stripe_rate_limit=200.0)
    db = open_database(settings)
    if marker:
        _stall_before_company_commit(Path(marker))
    pilot = Autopilot(AutopilotDeps(settings=settings, db=db, lease_seconds=4.0,
                                    worker_id=worker))
    pilot.serve_worker(threading.Event(), poll_seconds=0.3, schedule=False)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
