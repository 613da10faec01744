"""The CLI against a running replica over real HTTP: doctor green, engagement verified,
objects fetched by id with secrets redacted."""

from __future__ import annotations

import json

from tests.cli.test_bad_input import fde

RK_TEST = "rk_test_" + "R3str1ct3d" * 3


def _moved_replica(replica) -> dict[str, str]:
    """Only the replica's port is set: the CLI finds Stripe there (no FDE_STRIPE_API_BASE)."""
    return {"FDE_REPLICA_PORT": replica.url.rsplit(":", 1)[1]}


def test_doctor_is_all_green_against_the_sandbox(replica):
    result = fde("doctor", env=_moved_replica(replica))
    assert result.returncode == 0, result.stdout + result.stderr
    assert replica.url in result.stdout
    lines = [line for line in result.stdout.splitlines() if line[:1] in "✓✗"]
    assert len(lines) == 6 and all(line.startswith("✓") for line in lines), result.stdout
    assert "answers as acct_" in result.stdout


def test_engagement_add_verifies_the_key_and_stores_the_account(replica):
    env = {"FDE_ENGAGEMENT_STRIPE_KEY": RK_TEST}
    added = fde("engagement", "add", "acme", "--api-base", replica.url, env=env)
    assert added.returncode == 0, added.stderr
    shown = fde("engagement", "show", "acme")
    data = json.loads(shown.stdout)
    assert data["stripe_account_id"] == replica.config.platform_account
    assert data["stripe_key_hint"] == f"rk_test_…{RK_TEST[-4:]}"
    assert RK_TEST not in added.stdout + added.stderr + shown.stdout
    doctor = fde("doctor", "--engagement", "acme")
    assert doctor.returncode == 0, doctor.stdout
    assert "restricted key, test mode" in doctor.stdout


def test_stripe_get_fetches_any_object_by_prefix_redacted(replica, stripe_client):
    customer = stripe_client.v1.customers.create(params={"email": "ops@example.com"})
    endpoint = stripe_client.v1.webhook_endpoints.create(
        params={"url": "https://example.com/hook", "enabled_events": ["*"]})
    env = _moved_replica(replica)
    got = fde("stripe", "get", customer.id, env=env)
    assert got.returncode == 0, got.stderr
    body = json.loads(got.stdout)
    assert body["id"] == customer.id and body["type"] == "customer"
    assert body["data"]["email"] == "ops@example.com"
    hook = fde("stripe", "get", endpoint.id, env=env)
    assert hook.returncode == 0, hook.stderr
    assert endpoint.secret not in hook.stdout
    missing = fde("stripe", "get", "cus_doesnotexist1", env=env)
    assert missing.returncode != 0 and "No such customer" in missing.stderr
