"""Fernhill's generator, checked by our own reading of its worlds (see readback.py).

* clean world: every row agrees with Stripe, nothing Fernhill should hold is missing,
  every event is in the handler's log, and the key plants nothing;
* planted world: the rows, objects and events that disagree are exactly the ones the key
  names, every class appears at least twice (or is listed in not_planted), and the ids the
  key gives resolve the way its classes say (ORPHAN_LOCAL ids do not exist, ENV_MISMATCH
  ids exist only in the other account, the rest exist);
* the same seed tells the same story (ids aside).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import httpx
import pytest
import stripe
from sqlalchemy import create_engine, text

from sandbox.replica.testing import TEST_KEY, running_replica
from tests.foreign.recon.fernhill import readback
from tests.foreign.recon.fernhill.generate import CLASSES, build

pytestmark = [pytest.mark.postgres]

TABLES = {
    "members": "id", "memberships": "id", "bills": "id", "bill_payments": "id",
    "pack_orders": "id", "course_access": "id",
    "stripe_events_seen": "received, event_type, result",
}
LS_KEY = "sk_test_fernhill_generator"


def read_world(db_url: str, client: stripe.StripeClient) -> readback.Reading:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return readback.read(conn, client)
    finally:
        engine.dispose()


def assert_matches_key(reading: readback.Reading, key: dict[str, Any]) -> None:
    found_rows = set(reading.rows)
    keyed_rows = readback.key_rows(key)
    assert found_rows - keyed_rows == set(), {r: reading.rows[r] for r in found_rows - keyed_rows}
    assert keyed_rows - found_rows == set()
    assert set(reading.unrecorded) == readback.key_unrecorded(key)
    assert {e["id"] for e in reading.unlogged} == readback.key_gap_events(key)


def class_counts(key: dict[str, Any]) -> Counter[str]:
    return Counter(entry["class"] for entry in key["planted"])


def assert_ids_resolve(client: stripe.StripeClient, key: dict[str, Any]) -> None:
    fetch = {"customer": client.v1.customers.retrieve,
             "subscription": client.v1.subscriptions.retrieve,
             "invoice": client.v1.invoices.retrieve,
             "payment_intent": client.v1.payment_intents.retrieve,
             "event": client.v1.events.retrieve}

    def exists(kind: str, object_id: str, **options: Any) -> bool:
        try:
            found = fetch[kind](object_id, options=options) if options else fetch[kind](
                object_id)
        except stripe.InvalidRequestError:
            return False
        return not found.to_dict().get("deleted")

    for entry in key["planted"]:
        kind, object_id = entry["stripe_object"], entry["stripe_id"]
        if entry["class"] == "ORPHAN_LOCAL":
            assert not exists(kind, object_id), entry
        elif entry["class"] == "ENV_MISMATCH":
            assert not exists(kind, object_id), entry
            assert exists(kind, object_id, stripe_account=entry["account"]), entry
        else:
            assert exists(kind, object_id), entry


_ID = re.compile(r"\b(?:acct|cus|sub|in|pi|evt|ch|re|dp|price|prod|pm|ii|il|inpay|txn|si|"
                 r"upcoming_in)_[A-Za-z0-9]+\b")
_NUMBER = re.compile(r"\b[0-9A-F]{8}-(\d{4})\b")


def normalise(value: str, names: dict[str, str]) -> str:
    def swap(match: re.Match[str]) -> str:
        prefix = match.group(0).rsplit("_", 1)[0]
        return names.setdefault(match.group(0), f"{prefix}_#{len(names)}")
    return _NUMBER.sub(r"NUMBER-\1", _ID.sub(swap, value))


def story(db_url: str, key: dict[str, Any], *, with_times: bool = True) -> list[str]:
    """The world as text with Stripe ids replaced by their order of first appearance."""
    names: dict[str, str] = {}
    lines: list[str] = []
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            for table, order in TABLES.items():
                if table == "stripe_events_seen" and not with_times:
                    continue
                for row in conn.execute(text(f"SELECT * FROM {table} ORDER BY {order}")):
                    values = dict(row._mapping)
                    if not with_times:
                        for column in ("updated", "issued", "applied_at", "granted_at",
                                       "revoked_at", "renews_on"):
                            if column in values:
                                values[column] = values[column] is not None
                    lines.append(normalise(f"{table} {values}", names))
    finally:
        engine.dispose()
    for entry in key["planted"]:
        shown = {k: v for k, v in entry.items() if with_times or k != "window"}
        lines.append(normalise(f"key {shown}", names))
    return lines


# -- the replica ---------------------------------------------------------------------------
@pytest.mark.slow
def test_replica_clean_world_agrees(replica, pg_url):
    key = build(api_base=replica.url, api_key=TEST_KEY, db_url=pg_url, seed=7, plant=False,
                server="replica")
    assert key["planted"] == [] and key["system"] == "fernhill"
    reading = read_world(pg_url, replica.client())
    assert reading.clean, (dict(reading.rows), reading.unrecorded,
                           [e["type"] for e in reading.unlogged])
    assert reading.notes == []
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        counts = dict(conn.execute(text(
            "SELECT 'members', count(*) FROM members UNION ALL "
            "SELECT 'free', count(*) FROM members WHERE stripe_ref IS NULL UNION ALL "
            "SELECT 'closed', count(*) FROM members WHERE closed UNION ALL "
            "SELECT 'states', count(DISTINCT state) FROM memberships UNION ALL "
            "SELECT 'bill states', count(DISTINCT state) FROM bills UNION ALL "
            "SELECT 'pack states', count(DISTINCT status) FROM pack_orders UNION ALL "
            "SELECT 'jpy bills', count(*) FROM bills WHERE ccy = 'JPY' AND total > 0"
        )).all())
    engine.dispose()
    assert 25 <= counts["members"] <= 40
    assert counts["free"] >= counts["members"] // 4 and counts["closed"] >= 2
    assert counts["states"] == 6 and counts["bill states"] == 4
    assert counts["pack states"] == 5 and counts["jpy bills"] >= 3


@pytest.mark.slow
def test_replica_planted_world_differs_where_the_key_says(replica, pg_url, tmp_path):
    key = build(api_base=replica.url, api_key=TEST_KEY, db_url=pg_url, seed=11, plant=True,
                server="replica")
    counts = class_counts(key)
    assert key["not_planted"] == []
    assert all(counts[c] >= 2 for c in CLASSES), counts
    client = replica.client()
    assert_matches_key(read_world(pg_url, client), key)
    assert_ids_resolve(client, key)

    # the same seed again, on a second replica and database: the same story
    import uuid

    from tests.conftest import PG_ADMIN_URL
    name = f"fde_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    second_url = pg_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        with running_replica(tmp_path / "second.sqlite", config=replica.config.model_copy(
                update={"db_path": tmp_path / "second.sqlite"})) as second:
            again = build(api_base=second.url, api_key=TEST_KEY, db_url=second_url, seed=11,
                          plant=True, server="replica")
        assert story(pg_url, key) == story(second_url, again)
    finally:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


# -- localstripe ---------------------------------------------------------------------------
def fresh(localstripe_url: str) -> stripe.StripeClient:
    httpx.delete(f"{localstripe_url}/_config/data", timeout=30).raise_for_status()
    return stripe.StripeClient(LS_KEY, base_addresses={"api": localstripe_url})


@pytest.mark.slow
@pytest.mark.localstripe
def test_localstripe_clean_world_agrees(localstripe, pg_url):
    client = fresh(localstripe)
    key = build(api_base=localstripe, api_key=LS_KEY, db_url=pg_url, seed=7, plant=False,
                server="localstripe")
    assert key["planted"] == [] and key["server"] == "localstripe"
    reading = read_world(pg_url, client)
    assert reading.clean, (dict(reading.rows), reading.unrecorded,
                           [e["type"] for e in reading.unlogged])


@pytest.mark.slow
@pytest.mark.localstripe
def test_localstripe_planted_world_differs_where_the_key_says(localstripe, pg_url):
    client = fresh(localstripe)
    key = build(api_base=localstripe, api_key=LS_KEY, db_url=pg_url, seed=5, plant=True,
                server="localstripe")
    counts = class_counts(key)
    skipped = {entry["class"] for entry in key["not_planted"]}
    assert skipped == {"ENV_MISMATCH"}
    assert all(counts[c] >= 2 for c in CLASSES if c not in skipped), counts
    assert_matches_key(read_world(pg_url, client), key)
    assert_ids_resolve(client, key)
    first = story(pg_url, key, with_times=False)

    # the same seed on a flushed localstripe tells the same story (wall-clock times aside)
    import uuid

    from tests.conftest import PG_ADMIN_URL
    name = f"fde_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    second_url = pg_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        fresh(localstripe)
        again = build(api_base=localstripe, api_key=LS_KEY, db_url=second_url, seed=5,
                      plant=True, server="localstripe")
        assert first == story(second_url, again, with_times=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def test_money_and_status_words():
    from decimal import Decimal

    from tests.foreign.recon.fernhill import fernhill as fh
    assert fh.to_major(1990, "eur") == Decimal("19.90")
    assert fh.to_major(2900, "JPY") == Decimal("2900.00")
    assert fh.to_minor("16.90", "GBP") == 1690 and fh.to_minor("2900", "JPY") == 2900
    assert fh.to_major_float_rounddown(1990, "EUR") == Decimal("19.89")
    assert fh.to_major_float_rounddown(990, "EUR") == Decimal("9.90")
    assert fh.to_major_legacy_two_decimals(2900, "JPY") == Decimal("290000.00")
    assert fh.SUB_STATE["past_due"] == "grace" and fh.SUB_STATE["incomplete"] == "pending"
    assert fh.pack_status("succeeded", 4900, 1000) == "part_refunded"
    assert fh.pack_status("processing", 4900, 0) == "waiting"
    assert fh.iso_z(1767571200) == "2026-01-05T00:00:00Z"
    assert fh.iso_offset(1767571200) == "2026-01-05T00:00:00+00:00"
