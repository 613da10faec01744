"""`fde users create` prints a working token once; `fde queue list|show|claim|decide` works
the same escalation queue as the API (a decision in the terminal resumes the run that the
server's workers execute) as the API user whose token it is — never as the OS user;
`fde login` stores that token 0600; `fde demo`'s token is an admin's."""

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


def _fde(*args: str, env: dict[str, str] | None = None):  # noqa: ANN202
    from cli.main import app

    return CliRunner().invoke(app, list(args), env=env)


def _paused(api, auth, amount: int, out) -> str:
    tid = httpx.post(f"{api.url}/threads", json={}, headers=auth).json()["thread_id"]
    run = httpx.post(f"{api.url}/threads/{tid}/runs", headers=auth, json={
        "assistant_id": "probe_hitl",
        "input": {"engagement": "acme", "amount": amount, "out": str(out)}}).json()
    httpx.get(f"{api.url}/threads/{tid}/runs/{run['run_id']}/join", headers=auth, timeout=30)
    return tid


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
    anonymous = _fde("queue", "claim", item["id"])
    assert anonymous.exit_code != 0 and "needs an API token" in str(anonymous.exception)
    claimed = _fde("queue", "claim", item["id"], "--token", tok)
    assert claimed.exit_code == 0 and "claimed" in claimed.output

    decided = _fde("queue", "decide", item["id"], "--decision", "approve",
                   "--action", "credit_customer_balance", env={"FDE_API_TOKEN": tok})
    assert decided.exit_code == 0, decided.output
    assert "resume run" in decided.output
    rid = decided.output.split("resume run ")[1].split()[0]
    values = httpx.get(f"{api.url}/threads/{tid}/runs/{rid}/join", headers=auth,
                       timeout=30).json()
    assert values["status"] == "applied" and values["decision"]["actor"] == "user:ana"
    again = _fde("queue", "decide", item["id"], "--decision", "reject", "--token", tok)
    assert again.exit_code != 0 and "already decided" in str(again.exception)
    assert (tmp_path / "fx").read_text().splitlines() == ["approve:credit_customer_balance"]


@pytest.mark.parametrize("api", [{"api_graphs": HITL_SPEC}], indirect=True)
def test_two_approvers_are_two_tokens_not_two_os_users(cli_env, api, tmp_path):
    from tests.api.api_helpers import token

    ann, bob = token(api.db, "approver", "ann"), token(api.db, "approver", "bob")
    out = tmp_path / "fx"
    tid = _paused(api, {"Authorization": f"Bearer {ann}"}, 90_000, out)  # > EUR 500
    (item,) = json.loads(_fde("queue", "list", "--json").output)
    approve = ("queue", "decide", item["id"], "--decision", "approve",
               "--action", "credit_customer_balance")

    as_alice = _fde(*approve, env={"USER": "alice", "LOGNAME": "alice", "FDE_API_TOKEN": ann})
    assert as_alice.exit_code == 0 and "recorded your approval" in as_alice.output
    as_bob = _fde(*approve, env={"USER": "bob", "LOGNAME": "bob", "FDE_API_TOKEN": ann})
    assert as_bob.exit_code != 0 and "different" in str(as_bob.exception)
    assert not out.exists()

    second = _fde(*approve, "--token", bob, env={"USER": "alice", "LOGNAME": "alice"})
    assert second.exit_code == 0 and "resume run" in second.output, second.output
    rid = second.output.split("resume run ")[1].split()[0]
    auth = {"Authorization": f"Bearer {bob}"}
    assert httpx.get(f"{api.url}/threads/{tid}/runs/{rid}/join", headers=auth,
                     timeout=30).json()["status"] == "applied"
    view = httpx.get(f"{api.url}/escalations/{item['id']}", headers=auth).json()
    assert [a["actor"] for a in view["approvals"]] == ["user:ann", "user:bob"]


@pytest.mark.parametrize("api", [{"api_graphs": HITL_SPEC}], indirect=True)
def test_login_stores_the_token_privately_and_roles_hold(cli_env, api, tmp_path):
    import stat

    from cli.login import token_file
    from tests.api.api_helpers import token

    vic, eve = token(api.db, "viewer", "vic"), token(api.db, "engineer", "eve")
    bad = _fde("login", "--token", "fde_not-a-real-token")
    assert bad.exit_code != 0 and "unknown or revoked" in str(bad.exception)
    assert not token_file().exists()  # nothing written for a bad token

    assert _fde("login", "--token", eve).exit_code == 0
    assert stat.S_IMODE(token_file().stat().st_mode) == 0o600
    tid = _paused(api, {"Authorization": f"Bearer {eve}"}, 500, tmp_path / "fx")
    (item,) = json.loads(_fde("queue", "list", "--json").output)
    money = _fde("queue", "decide", item["id"], "--decision", "approve",
                 "--action", "credit_customer_balance")  # the stored token: eve, an engineer
    assert money.exit_code != 0 and "approver role" in str(money.exception)
    viewer = _fde("queue", "claim", item["id"], "--token", vic)
    assert viewer.exit_code != 0 and "engineer role" in str(viewer.exception)

    token_file().chmod(0o644)
    loose = _fde("queue", "claim", item["id"])
    assert loose.exit_code != 0 and "other users" in str(loose.exception)
    assert _fde("logout").exit_code == 0 and not token_file().exists()
    assert httpx.get(f"{api.url}/threads/{tid}", headers={"Authorization": f"Bearer {eve}"}
                     ).json()["status"] == "interrupted"


def test_demo_token_is_an_admin_token(cli_env, api):
    from cli.demo import demo_token

    auth = {"Authorization": f"Bearer {demo_token()}"}
    assert httpx.get(f"{api.url}/info", headers=auth).status_code == 200
    assert httpx.post(f"{api.url}/threads", json={}, headers=auth).status_code == 200
