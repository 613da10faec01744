"""A migrated app database with one registered engagement, for the workspace tests."""

from __future__ import annotations

from pydantic import SecretStr

from core import engagements
from core.engagements import EngagementCreate
from core.secrets import secret_box
from core.settings import load_settings
from core.storage import Database, open_database

KEY = "sk_test_" + "W" * 24


def database_with(url: str, *names: str) -> Database:
    settings = load_settings(database_url=url)
    db = open_database(settings)
    with db.session() as session:
        for name in names:
            engagements.add(session, secret_box(settings),
                            EngagementCreate(name=name, stripe_key=SecretStr(KEY)), actor="test")
    return db
