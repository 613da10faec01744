"""Migrations, storage, audit and engagements on SQLite and on PostgreSQL."""

import pytest
from pydantic import SecretStr
from sqlalchemy import inspect

from core import audit, engagements
from core.errors import ConfigError, EngagementNotFound, StorageError
from core.secrets import secret_box
from core.settings import load_settings
from core.storage import open_database, schema_revision


def _db(url: str):
    return open_database(load_settings(database_url=url))


def test_migrations_create_the_schema_and_are_idempotent(database_url: str):
    db = _db(database_url)
    tables = set(inspect(db.engine).get_table_names())
    assert {"engagements", "audit_log", "alembic_version"} <= tables
    current, head = schema_revision(db.engine)
    assert current == head and head is not None
    db.dispose()
    again = _db(database_url)  # a second upgrade is a no-op
    assert schema_revision(again.engine)[0] == head
    again.dispose()


def test_engagement_round_trip_keeps_the_key_encrypted(database_url: str):
    db = _db(database_url)
    settings = load_settings(database_url=database_url)
    box = secret_box(settings)
    key = "sk_test_" + "k" * 24 + "WXYZ"
    with db.session() as s:
        created = engagements.add(
            s, box, engagements.EngagementCreate(name="acme", stripe_key=SecretStr(key)),
            actor="tester")
    assert created.stripe_key_hint == "sk_test_…WXYZ"
    assert key not in created.model_dump_json()
    with db.engine.connect() as conn:
        raw = conn.exec_driver_sql("SELECT stripe_key_encrypted FROM engagements").scalar_one()
    assert key not in raw
    with db.session() as s:
        assert engagements.stripe_key(s, box, "acme").get_secret_value() == key
        assert [e.name for e in engagements.list_all(s)] == ["acme"]
        entries = audit.entries(s, target=created.id)
    assert [e.action for e in entries] == ["engagement.add"]
    assert entries[0].actor == "tester" and key not in str(entries[0].details)
    db.dispose()


def test_duplicate_engagement_is_refused_and_nothing_half_written(database_url: str):
    db = _db(database_url)
    box = secret_box(load_settings(database_url=database_url))
    spec = engagements.EngagementCreate(name="acme", stripe_key=SecretStr("sk_test_aaaaaaaaaaaa"))
    with db.session() as s:
        engagements.add(s, box, spec, actor="t")
    with pytest.raises(ConfigError, match="already exists"), db.session() as s:
        engagements.add(s, box, spec, actor="t")
    with db.session() as s:
        assert len(engagements.list_all(s)) == 1
        assert len(audit.entries(s)) == 1
    db.dispose()


def test_unknown_engagement(database_url: str):
    db = _db(database_url)
    with pytest.raises(EngagementNotFound, match="nope"), db.session() as s:
        engagements.get(s, "nope")
    db.dispose()


@pytest.mark.parametrize(
    ("url", "error", "needle"),
    [
        ("mysql://x@y/z", ConfigError, "unsupported database URL scheme 'mysql'"),
        ("not a url", ConfigError, "unsupported database URL scheme"),
        ("postgresql://nobody@127.0.0.1:1/nothing", StorageError, "cannot connect"),
    ],
)
def test_bad_database_url_is_one_clear_error(url: str, error: type, needle: str):
    with pytest.raises(error, match=needle) as info:
        open_database(load_settings(database_url=url))
    assert info.value.hint
