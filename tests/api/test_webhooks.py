"""The receiver: verify, dedupe, store before 2xx, process after; bad input → 4xx, nothing
stored, nothing crashed."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.main import create_app
from core.settings import load_settings
from tests.api.webhook_helpers import OTHER, SECRET, add_engagement, event, sign
from tools.webhooks.tables import events as events_table

URL = "/webhooks/stripe/acme"


@pytest.fixture
def client():
    settings = load_settings()
    app = create_app(settings)
    with TestClient(app) as client:
        add_engagement(app.state.db, settings)
        yield client


def _rows(client: TestClient) -> list:
    with client.app.state.db.session() as session:
        return list(session.execute(select(events_table)))


def _post(client: TestClient, body: bytes, header: str | None, url: str = URL):
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Stripe-Signature"] = header
    return client.post(url, content=body, headers=headers)


def test_signed_event_is_stored_then_processed(client):
    body = event("evt_ok")
    resp = _post(client, body, sign(body))
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"received": True, "event_id": "evt_ok", "duplicate": False}
    (row,) = _rows(client)
    assert row.body == body.decode()  # the raw bytes, as received
    assert row.type == "customer.created" and row.object_id == "cus_1"
    # TestClient runs background tasks before returning: processing happened after the answer
    assert row.status == "processed" and row.processed_at is not None


def test_duplicate_delivery_is_acknowledged_and_counted_once(client):
    body = event("evt_dup")
    for _ in range(3):
        resp = _post(client, body, sign(body))
        assert resp.status_code == 200
    assert resp.json()["duplicate"] is True
    (row,) = _rows(client)
    assert row.duplicates == 2


def test_rotation_header_with_several_v1_and_several_stored_secrets(client):
    body = event("evt_rot")
    ts = int(time.time())
    old = sign(body, OTHER, ts)  # a secret we do not hold
    new = sign(body, SECRET, ts)
    header = f"{old},v1={new.split('v1=')[1]}"
    assert _post(client, body, header).status_code == 200
    # our side of a rotation: a second stored secret is accepted too
    from core.secrets import secret_box
    from tools.webhooks.secrets import add_secret
    with client.app.state.db.session() as session:
        add_secret(session, secret_box(client.app.state.settings), "acme", OTHER, actor="t")
    body2 = event("evt_rot2")
    assert _post(client, body2, sign(body2, OTHER)).status_code == 200


@pytest.mark.parametrize("case", ["wrong_secret", "missing_header", "garbage_header", "stale",
                                  "future", "altered_byte"])
def test_bad_signatures_are_rejected_and_nothing_is_stored(client, case):
    body = event("evt_bad")
    header = {"wrong_secret": sign(body, OTHER), "missing_header": None,
              "garbage_header": "nonsense", "stale": sign(body, timestamp=int(time.time()) - 301),
              "future": sign(body, timestamp=int(time.time()) + 360),
              "altered_byte": sign(body)}[case]
    if case == "altered_byte":
        body = body.replace(b'"customer.created"', b'"customer.createe"')
    resp = _post(client, body, header)
    assert resp.status_code == 400, resp.text
    assert resp.json()["detail"]
    assert _rows(client) == []


def test_unknown_engagement_and_one_without_a_secret_answer_like_a_wrong_signature(client):
    """Without a token nobody learns which engagement names exist: an unknown name, a name
    without a signing secret and a real one with a forged signature get the same answer."""
    add_engagement(client.app.state.db, client.app.state.settings, "nosecret", secrets=())
    body = event()
    answers = [_post(client, body, sign(body, OTHER), url=f"/webhooks/stripe/{name}")
               for name in ("nobody", "nosecret", "acme")]
    assert {(a.status_code, a.text) for a in answers} == {
        (400, answers[2].text)}, [a.text for a in answers]
    assert "no v1 signature matches" in answers[0].json()["detail"]
    # a correctly signed body for a name we do not know changes nothing either
    assert _post(client, body, sign(body), url="/webhooks/stripe/nobody").text == answers[2].text
    assert _rows(client) == []


def test_client_chosen_names_in_the_path_are_bounded(client):
    body = event()
    resp = _post(client, body, sign(body), url="/webhooks/stripe/" + "a" * 65)
    assert resp.status_code == 422
    assert "engagement" in resp.json()["detail"] and "64" in resp.json()["detail"]


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"object": "customer", "id": "x"}',
                                  b'{"id": "evt_x", "object": "event"}', "\u00e9t\u00e9".encode(
                                      "latin-1")])
def test_malformed_bodies_are_400_even_when_signed(client, body):
    try:
        header = sign(body)
    except UnicodeDecodeError:
        header = "t=1,v1=00"
    resp = _post(client, body, header)
    assert resp.status_code == 400
    assert _rows(client) == []


def test_oversized_body_is_413_and_the_limit_is_configurable():
    settings = load_settings()
    app = create_app(settings)
    with TestClient(app) as client:
        add_engagement(app.state.db, settings)
        big = event("evt_big", padding="x" * 600_000)
        assert _post(client, big, sign(big)).status_code == 413
        small_limit = event("evt_small", padding="x" * 2_000)
        app.state.settings = settings.model_copy()
        app.state.settings.__dict__["webhook_max_body_bytes"] = 1_000
        assert _post(client, small_limit, sign(small_limit)).status_code == 413
        # streamed without Content-Length, still capped
        resp = client.post(URL, content=iter([small_limit[:600], small_limit[600:]]),
                           headers={"Stripe-Signature": sign(small_limit)})
        assert resp.status_code == 413
        with app.state.db.session() as session:
            assert session.scalar(select(func.count()).select_from(events_table)) == 0
        ok = event("evt_fits")
        app.state.settings.__dict__["webhook_max_body_bytes"] = 100_000
        assert _post(client, ok, sign(ok)).status_code == 200
