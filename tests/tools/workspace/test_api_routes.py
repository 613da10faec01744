"""The workspace router (not yet registered in api/main.py) mounted on a small FastAPI app
with the real auth dependency, token table and error mapping: viewers read, engineers
write, bad input is a 400 with a hint, state conflicts a 409, unknown names a 404."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from api.auth import create_token
from api.errors import status_for
from api.routes import workspace
from core.errors import FdeError
from tests.tools.workspace.helpers import database_with
from tools.workspace import reviews
from tools.workspace.models import ReviewViolation


@pytest.fixture
def client(tmp_path) -> Iterator[tuple[TestClient, dict[str, dict[str, str]], object]]:
    db = database_with(f"sqlite:///{tmp_path / 'api.db'}", "acme", "other")
    with db.session() as s:
        tokens = {role: {"Authorization": f"Bearer {create_token(s, role, role, actor='t').token}"}
                  for role in ("viewer", "engineer")}
    app = FastAPI()
    app.state.db = db
    app.include_router(workspace.router)

    @app.exception_handler(FdeError)
    async def _fde(_: Request, exc: FdeError) -> JSONResponse:
        return JSONResponse({"detail": exc.message, "hint": exc.hint},
                            status_code=status_for(exc))

    with TestClient(app) as c:
        yield c, tokens, db
    db.dispose()


DECISION = {"title": "Grant access on invoice.paid", "context": "Access was granted on "
            "checkout redirect.", "decision": "Provision from invoice.paid webhooks only.",
            "alternatives": ["keep the redirect"], "evidence": ["fnd_01X"]}


def test_engineer_records_and_accepts_a_decision_viewer_sees_it(client):
    c, tok, _ = client
    made = c.post("/workspace/acme/decisions", json=DECISION, headers=tok["engineer"])
    assert made.status_code == 201, made.text
    assert made.json()["number"] == 1 and made.json()["decided_by"] == ["user:engineer"]
    accepted = c.post("/workspace/acme/decisions/1/accept", headers=tok["engineer"])
    assert accepted.json()["status"] == "accepted"
    note = c.post("/workspace/acme/notes", json={"title": "Sync", "body": "Dunning after "
                  "SEPA failures"}, headers=tok["engineer"])
    assert note.status_code == 201

    timeline = c.get("/workspace/acme/timeline", headers=tok["viewer"]).json()
    assert [e["kind"] for e in timeline] == ["decision", "decision_accepted", "note"]
    only = c.get("/workspace/acme/timeline", params={"kind": "note"}, headers=tok["viewer"])
    assert [e["kind"] for e in only.json()] == ["note"]
    adrs = c.get("/workspace/acme/adrs", headers=tok["viewer"]).json()
    assert adrs[0]["filename"] == "0001-grant-access-on-invoice-paid.md"
    assert "Provision from invoice.paid webhooks only." in adrs[0]["markdown"]
    hits = c.get("/workspace/acme/search", params={"q": "dunning"}, headers=tok["viewer"])
    assert [h["kind"] for h in hits.json()] == ["note"]
    view = c.get("/workspace/acme", headers=tok["viewer"]).json()
    assert len(view["decisions"]) == 1 and len(view["notes"]) == 1


def test_roles_bad_input_conflicts_and_unknown_names(client):
    c, tok, _ = client
    assert c.get("/workspace/acme/timeline").status_code == 401
    denied = c.post("/workspace/acme/notes", json={"title": "x", "body": "y"},
                    headers=tok["viewer"])
    assert denied.status_code == 403 and "engineer" in denied.json()["detail"]
    empty = c.post("/workspace/acme/notes", json={"title": "Kick-off", "body": ""},
                   headers=tok["engineer"])
    assert empty.status_code == 400
    assert empty.json()["detail"] == "the note's body is empty" and empty.json()["hint"]
    missing = c.get("/workspace/nobody/timeline", headers=tok["viewer"])
    assert missing.status_code == 404 and "nobody" in missing.json()["detail"]
    c.post("/workspace/acme/decisions", json=DECISION, headers=tok["engineer"])
    c.post("/workspace/acme/decisions", json={**DECISION, "supersedes": 1},
           headers=tok["engineer"])
    assert c.post("/workspace/acme/decisions/2/accept", headers=tok["engineer"]).is_success
    conflict = c.post("/workspace/acme/decisions/1/accept", headers=tok["engineer"])
    assert conflict.status_code == 409 and "superseded by decision 2" in \
        conflict.json()["detail"]
    c.post("/workspace/acme/decisions", json={**DECISION, "supersedes": 2},
           headers=tok["engineer"])
    blank = c.post("/workspace/acme/decisions/3/reject", json={"reason": ""},
                   headers=tok["engineer"])
    assert blank.status_code == 422 and "reason" in blank.text
    assert c.post("/workspace/acme/decisions/3/reject", json={"reason": "too early"},
                  headers=tok["viewer"]).status_code == 403
    rejected = c.post("/workspace/acme/decisions/3/reject", json={"reason": "too early"},
                      headers=tok["engineer"])
    assert rejected.json()["status"] == "rejected"
    again = c.post("/workspace/acme/decisions/3/withdraw", json={"reason": "x"},
                   headers=tok["engineer"])
    assert again.status_code == 409 and "was rejected" in again.json()["detail"]
    standing = c.get("/workspace/acme/decisions", headers=tok["viewer"]).json()
    assert [d["status"] for d in standing] == ["superseded", "accepted", "rejected"]


def test_review_items_resolve_through_the_api(client):
    c, tok, db = client
    with db.session() as s:
        _, (item,) = reviews.record_review(
            s, "acme", [ReviewViolation(check="webhook.subscribe_minimal_events",
                                        severity="low", item="subscribe to what you handle")],
            map_version=1, markdown="# r", actor="t")
    listed = c.get("/workspace/acme/review-items", params={"status": "open"},
                   headers=tok["viewer"]).json()
    assert [i["id"] for i in listed] == [item.id]
    elsewhere = c.post(f"/workspace/other/review-items/{item.id}/resolve",
                       json={"status": "resolved", "why": "x"}, headers=tok["engineer"])
    assert elsewhere.status_code == 404
    done = c.post(f"/workspace/acme/review-items/{item.id}/resolve",
                  json={"status": "wont_fix", "why": "legacy endpoint, retired in Q3"},
                  headers=tok["engineer"])
    assert done.status_code == 200 and done.json()["resolved_by"] == "user:engineer"
    again = c.post(f"/workspace/acme/review-items/{item.id}/resolve",
                   json={"status": "resolved", "why": "x"}, headers=tok["engineer"])
    assert again.status_code == 409
    no_map = c.post("/workspace/acme/reviews", headers=tok["engineer"])
    assert no_map.status_code == 404 and "fde map show" in no_map.json()["hint"]
