"""`fde blueprint plan|approve|apply|verify` end to end against the replica.

The flow runs in-process through Typer's runner (one import of the CLI instead of one per
command); the error path runs as a real subprocess to see the one-line error and `fix:`.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli import context
from cli.main import app
from tests.cli.test_bad_input import assert_clear_failure, fde
from tests.tools.blueprints.conftest import EXAMPLES
from tools.blueprints import ApprovalRequired


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch):
    # settings and database are cached per process; each test has its own data dir
    context.settings.cache_clear()
    context.database.cache_clear()
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=True)

    yield invoke
    context.database().dispose()
    context.settings.cache_clear()
    context.database.cache_clear()


def test_plan_approve_apply_verify(replica, run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FDE_ENGAGEMENT_STRIPE_KEY", replica.api_key)
    added = run("engagement", "add", "acme", "--api-base", replica.url, "--tier", "write")
    assert added.exit_code == 0, added.output
    file = str(EXAMPLES / "dunning.yaml")

    shown = run("blueprint", "plan", file, "-e", "acme")
    assert shown.exit_code == 0, shown.output
    assert "+ create     setting:dunning:standard-dunning" in shown.output
    assert "retry_schedule_days = [1,3,7,14]" in shown.output

    refused = run("blueprint", "apply", file, "-e", "acme")
    assert isinstance(refused.exception, ApprovalRequired)
    assert "has not been approved" in str(refused.exception)

    plan = json.loads(run("blueprint", "plan", file, "-e", "acme", "--json").output)
    approved = run("blueprint", "approve", file, "-e", "acme", "--approver", "eng:ana",
                   "--digest", plan["digest"])
    assert approved.exit_code == 0, approved.output
    token = approved.output.split("token: ")[1].split()[0]
    applied = run("blueprint", "apply", file, "-e", "acme", "--approval", token)
    assert applied.exit_code == 0, applied.output
    assert "applied setting:dunning:standard-dunning" in applied.output

    assert "No changes" in run("blueprint", "plan", file, "-e", "acme").output
    checked = run("blueprint", "verify", file, "-e", "acme", "--no-sync", "--json")
    report = json.loads(checked.output[checked.output.index("{"):])
    assert report["converged"] is True
    assert report["shadow"]["mode"] == "webhook_replay"
    assert report["checks"] == ["billing.dunning_end_state_handled",
                                "billing.trial_missing_pm_explicit",
                                "billing.incomplete_expiry_handled"]


def test_bad_blueprint_file_names_the_field(tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: dunning\nname: x\nretry_schedule_days: [1]\nend_state: cancel\n"
                   "entitlement: {revoke_on: [unpaid]}\nretries: 3\n")
    result = fde("blueprint", "plan", str(bad), "-e", "acme")
    assert_clear_failure(result, "field 'retries': unknown field")
