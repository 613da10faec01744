"""`fde users create` prints a working token once; `fde queue list|show|claim|decide` works
the same escalation queue as the API (a decision in the terminal resumes the run that the
server's workers execute); `fde demo`'s token is an admin's."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from typer.testing import CliRunner

from tests.api.probe_graph import HITL_SPEC


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from cli import context

    monkeypatch.setenv("FDE_API_GRAPHS", HITL_SPEC)
    context.settings.cache_clear()
    context.database.cache_clear()
    yield
    if context.database.cache_info().currsize:
        context.database().dispose()
    context.settings.cache_clear()
    context.database.cache_clear()


def _fde(*args: str):  # noqa: ANN202
    from cli.main import app

    return CliRunner().invoke(app, list(args))


@pytest.mark.parametrize("api", [{"api_graphs": HITL_SPEC}], indirect=True)
def test_users_and_queue_in_the_terminal(cli_env, api, tmp_path):
    made = _fde("users", "create", "ana", "--role", "approver")
    assert made.exit_code == 0, made.output
    tok = made.output.strip().splitlines()[-1]
    assert tok.startswith("fde_") and "shown once" in made.output
    auth = {"Authorization": f"Bearer {tok}"}
    dup = _fde("users", "create", "ana", "--role", "viewer")
    assert dup.exit_code != 0 and "already exists" in str(dup.exception)

    tid = httpx.post(f"{api.url}/threads", json={}, headers=auth).json()["thread_id"]
    run = httpx.post(f"{api.url}/threads/{tid}/runs", headers=auth, json={
        "assistant_id": "probe_hitl",
        "input": {"engagement": "acme", "amount": 700, "out": str(tmp_path / "fx")}}).json()
    httpx.get(f"{api.url}/threads/{tid}/runs/{run['run_id']}/join", headers=auth, timeout=30)

    listed = _fde("queue", "list", "--json", "--engagement", "acme")
    assert listed.exit_code == 0, listed.output
    (item,) = json.loads(listed.output)
    assert item["thread_id"] == tid and item["money_impact"]["amount"] == 700
    shown = _fde("queue", "show", item["id"])
    assert "credit_customer_balance" in shown.output
    claimed = _fde("queue", "claim", item["id"])
    assert claimed.exit_code == 0 and "claimed" in claimed.output

    decided = _fde("queue", "decide", item["id"], "--decision", "approve",
                   "--action", "credit_customer_balance")
    assert decided.exit_code == 0, decided.output
    assert "resume run" in decided.output
    rid = decided.output.split("resume run ")[1].split()[0]
    values = httpx.get(f"{api.url}/threads/{tid}/runs/{rid}/join", headers=auth,
                       timeout=30).json()
    assert values["status"] == "applied" and values["decision"]["actor"].startswith("cli:")
    again = _fde("queue", "decide", item["id"], "--decision", "reject")
    assert again.exit_code != 0 and "already decided" in str(again.exception)
    assert (tmp_path / "fx").read_text().splitlines() == ["approve:credit_customer_balance"]


def test_demo_token_is_an_admin_token(cli_env, api):
    from cli.demo import demo_token

    auth = {"Authorization": f"Bearer {demo_token()}"}
    assert httpx.get(f"{api.url}/info", headers=auth).status_code == 200
    assert httpx.post(f"{api.url}/threads", json={}, headers=auth).status_code == 200
