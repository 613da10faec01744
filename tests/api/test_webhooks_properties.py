"""Property tests: signature verification over arbitrary bodies, secrets and clocks, and
dedupe of arbitrary delivery sequences."""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stripe import WebhookSignature

from core.settings import load_settings
from core.storage import open_database
from tools.webhooks import inbox
from tools.webhooks.verify import BadSignature, EventEnvelope, verify_signature

secrets_ = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=8, max_size=40
                   ).map(lambda s: "whsec_" + s)
bodies = st.text(min_size=0, max_size=300)
NOW = 1_800_000_000


def _header(body: str, secret: str, ts: int) -> str:
    return WebhookSignature.generate_signature_header(body, secret, timestamp=ts)


@given(body=bodies, secret=secrets_, age=st.integers(min_value=-300, max_value=300))
def test_a_fresh_signature_over_the_exact_bytes_verifies(body, secret, age):
    verify_signature(body.encode(), _header(body, secret, NOW - age), [secret], now=NOW)


@given(body=bodies, secret=secrets_, age=st.integers(min_value=301, max_value=10**7),
       future=st.booleans())
def test_outside_the_tolerance_never_verifies_in_the_past_or_the_future(body, secret, age,
                                                                         future):
    # a genuine signature dated ahead of our clock would otherwise stay valid forever
    ts = NOW + age if future else NOW - age
    with pytest.raises(BadSignature, match="in the future" if future else "in the past"):
        verify_signature(body.encode(), _header(body, secret, ts), [secret], now=NOW)


@given(body=bodies.filter(bool), secret=secrets_, data=st.data())
def test_any_changed_byte_is_rejected(body, secret, data):
    raw = bytearray(body.encode())
    i = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
    raw[i] = (raw[i] + data.draw(st.integers(min_value=1, max_value=255))) % 256
    with pytest.raises(BadSignature):
        verify_signature(bytes(raw), _header(body, secret, NOW), [secret], now=NOW)


@given(body=bodies, secret=secrets_, other=secrets_)
def test_wrong_secret_is_rejected_and_rotation_accepts_either(body, secret, other):
    header = _header(body, secret, NOW)
    if other != secret:
        with pytest.raises(BadSignature):
            verify_signature(body.encode(), header, [other], now=NOW)
    verify_signature(body.encode(), header, [other, secret], now=NOW)
    both = header + ",v1=" + _header(body, other, NOW).split("v1=")[1]
    verify_signature(body.encode(), both, [other], now=NOW)
    verify_signature(body.encode(), both, [secret], now=NOW)


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    database = open_database(load_settings(
        database_url=f"sqlite:///{tmp_path_factory.mktemp('props') / 'app.db'}"))
    yield database
    database.dispose()


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(deliveries=st.lists(st.tuples(st.sampled_from(["acme", "beta"]),
                                     st.integers(min_value=0, max_value=6)),
                           min_size=1, max_size=25))
def test_dedupe_stores_each_event_once_and_counts_the_rest(db, deliveries):
    prefix = f"evt_{uuid.uuid4().hex[:12]}_"  # each example gets its own ids
    for engagement, n in deliveries:
        env = EventEnvelope(id=f"{prefix}{n}", type="invoice.paid", created=NOW)
        body = json.dumps({"id": env.id}).encode()
        with db.session() as session:
            inbox.store_event(session, engagement, env, body)
    for engagement in ("acme", "beta"):
        sent = [n for e, n in deliveries if e == engagement]
        with db.session() as session:
            stored = [e for e in inbox.list_events(session, engagement)
                      if e.event_id.startswith(prefix)]
        assert sorted(e.event_id for e in stored) == sorted({f"{prefix}{n}" for n in sent})
        for e in stored:
            assert e.duplicates == sent.count(int(e.event_id.rsplit("_", 1)[1])) - 1
