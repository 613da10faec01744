"""Users and tokens: an admin lists them (never a token, only its last four characters) and
revokes one — over HTTP and with `fde users list|revoke` — the revoked token stops working at
once, the revocation is in the audit log, and bad input is a 4xx naming the field."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from typer.testing import CliRunner

from core import audit
from tests.api.api_helpers import token


@pytest.fixture
def cli_env() -> Iterator[None]:
    from cli import context

    context.settings.cache_clear()
    context.database.cache_clear()
    yield
    if context.database.cache_info().currsize:
        context.database().dispose()
    context.settings.cache_clear()
    context.database.cache_clear()


def test_an_admin_lists_and_revokes_tokens_over_http(api):
    admin = {"Authorization": f"Bearer {token(api.db, 'admin', 'ada')}"}
    raw = token(api.db, "approver", "ann")
    ann = {"Authorization": f"Bearer {raw}"}

    listed = httpx.get(f"{api.url}/users", headers=admin)
    assert listed.status_code == 200
    assert {u["name"]: u["role"] for u in listed.json()} == {"ada": "admin", "ann": "approver"}
    assert raw not in listed.text and raw[4:-4] not in listed.text
    assert next(u for u in listed.json() if u["name"] == "ann")["hint"] == "…" + raw[-4:]

    denied = httpx.get(f"{api.url}/users", headers=ann)
    assert denied.status_code == 403 and "admin role" in denied.json()["detail"]
    refused = httpx.post(f"{api.url}/users/ada/revoke", headers=ann)
    assert refused.status_code == 403

    assert httpx.get(f"{api.url}/escalations", headers=ann).status_code == 200
    revoked = httpx.post(f"{api.url}/users/ann/revoke", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    gone = httpx.get(f"{api.url}/escalations", headers=ann)
    assert gone.status_code == 401 and "revoked" in gone.json()["detail"]
    again = httpx.post(f"{api.url}/users/ann/revoke", headers=admin)
    assert again.status_code == 409 and "already revoked" in again.json()["detail"]
    with api.db.session() as session:
        (entry,) = [e for e in audit.entries(session, target="ann")
                    if e.action == "user.revoke"]
    assert entry.actor == "user:ada" and entry.details["role"] == "approver"
    active = httpx.get(f"{api.url}/users", params={"include_revoked": "false"}, headers=admin)
    assert [u["name"] for u in active.json()] == ["ada"]


def test_bad_input_on_the_user_routes_names_the_field(api):
    admin = {"Authorization": f"Bearer {token(api.db, 'admin', 'ada')}"}
    unknown = httpx.post(f"{api.url}/users/nobody/revoke", headers=admin)
    assert unknown.status_code == 404 and "nobody" in unknown.json()["detail"]
    long = httpx.post(f"{api.url}/users/{'x' * 65}/revoke", headers=admin)
    assert long.status_code == 422 and "name" in long.text
    flag = httpx.get(f"{api.url}/users", params={"include_revoked": "perhaps"}, headers=admin)
    assert flag.status_code == 422 and "include_revoked" in flag.text
    assert httpx.get(f"{api.url}/users").status_code == 401


def test_fde_users_list_and_revoke(cli_env, api):
    from cli.main import app

    raw = token(api.db, "engineer", "eve")
    auth = {"Authorization": f"Bearer {raw}"}
    listed = CliRunner().invoke(app, ["users", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    (eve,) = json.loads(listed.output)
    assert (eve["name"], eve["role"], eve["revoked_at"]) == ("eve", "engineer", None)
    assert raw not in listed.output

    assert httpx.get(f"{api.url}/escalations", headers=auth).status_code == 200
    done = CliRunner().invoke(app, ["users", "revoke", "eve"])
    assert done.exit_code == 0 and "revoked eve" in done.output
    assert httpx.get(f"{api.url}/escalations", headers=auth).status_code == 401
    twice = CliRunner().invoke(app, ["users", "revoke", "eve"])
    assert twice.exit_code != 0 and "already revoked" in str(twice.exception)
    missing = CliRunner().invoke(app, ["users", "revoke", "nobody"])
    assert missing.exit_code != 0 and "no user named" in str(missing.exception)
    with api.db.session() as session:
        (entry,) = [e for e in audit.entries(session, target="eve")
                    if e.action == "user.revoke"]
    assert entry.actor.startswith("cli:")
