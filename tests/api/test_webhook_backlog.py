"""An event stored and answered 2xx by a process that died before processing it is processed
when the next API process starts — nothing stays unprocessed."""

from __future__ import annotations

import time

from api.main import create_app
from core.server_thread import ServerThread
from core.settings import load_settings
from core.storage import open_database
from tests.api.webhook_helpers import add_engagement, event
from tools.webhooks import inbox
from tools.webhooks.verify import parse_event


def _statuses(db) -> dict[str, str]:
    with db.session() as session:
        return {e.event_id: e.status for e in inbox.list_events(session, "acme")}


def test_events_left_unprocessed_are_processed_at_startup(_isolated_env):
    settings = load_settings()
    db = open_database(settings)
    add_engagement(db, settings)
    with db.session() as session:  # what the receiver had stored before its process died
        for n in (1, 2):
            body = event(f"evt_left{n}")
            inbox.store_event(session, "acme", parse_event(body), body)
    assert set(_statuses(db).values()) == {"received"}

    app = create_app(settings, database=db, workers=0)
    with ServerThread(app):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and set(_statuses(db).values()) != {"processed"}:
            time.sleep(0.05)
    assert _statuses(db) == {"evt_left1": "processed", "evt_left2": "processed"}
