"""Policy decisions, the seeded timetable, the tick constraint and the CLI's policy commands
(fast: no worlds, no servers)."""

from __future__ import annotations

import hashlib
import hmac
import threading
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from agents.autopilot.notify import sign
from agents.autopilot.policy import PolicyError, parse_policy
from agents.autopilot.queue import enqueue
from agents.autopilot.schedule import due_jobs
from cli.main import app
from core.settings import load_settings
from core.storage import open_database
from tests.agents.autopilot.helpers import add_engagement

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_decisions_follow_the_policy():
    policy = parse_policy(
        "auto_repair: [{class: STALE_STATE, entities: [invoice]}]\n"
        "always_escalate: [AMOUNT_MISMATCH.exponent]\n"
        "max_auto_money_minor: {usd: 500}\n"
        "quiet_hours: {start: '22:00', end: '06:00'}\n")
    decide = policy.repair_decision
    assert decide(cls="STALE_STATE", entity="invoice", money_minor=None, currency=None,
                  livemode=False, at=NOON).auto
    assert not decide(cls="STALE_STATE", entity="subscription", money_minor=None,
                      currency=None, livemode=False, at=NOON).auto
    assert "live mode" in decide(cls="STALE_STATE", entity="invoice", money_minor=None,
                                 currency=None, livemode=True, at=NOON).why
    over = decide(cls="STALE_STATE", entity="invoice", money_minor=-501, currency="usd",
                  livemode=False, at=NOON)
    assert not over.auto and "exceeds" in over.why
    night = decide(cls="STALE_STATE", entity="invoice", money_minor=None, currency=None,
                   livemode=False, at=NOON.replace(hour=23))
    assert not night.auto and night.defer
    assert "always escalates" in decide(cls="AMOUNT_MISMATCH.exponent", entity="payment",
                                        money_minor=None, currency=None, livemode=False,
                                        at=NOON).why


@pytest.mark.parametrize("source, named", [
    ("auto_repair: [{class: STALE_STATE}]\nalways_escalate: [STALE_STATE]", "STALE_STATE"),
    ("max_auto_money_minor: {xyz: 5}", "xyz"),
    ("schedule: {sync: soon}", "soon"),
    ("auto_repair: [{class: UNCLASSIFIED}]", "UNCLASSIFIED"),
    ("[1, 2]", "mapping"),
])
def test_bad_policies_name_the_problem(source: str, named: str):
    with pytest.raises(PolicyError) as err:
        parse_policy(source)
    assert named in str(err.value)


def test_timetable_is_seeded_and_jittered():
    policy = parse_policy("schedule: {sync: 1h, checks: 1h, jitter: 0.5}")
    a = due_jobs("acme", policy.schedule, NOON, seed=1)
    assert a == due_jobs("acme", policy.schedule, NOON, seed=1)
    offsets = {j.due_at.timestamp() % 3600 for j in a if j.kind in ("sync", "checks")}
    assert len(offsets) == 2  # two kinds of one engagement do not fire in the same second
    others = {j.due_at for j in due_jobs("other", policy.schedule, NOON, seed=1)}
    assert others != {j.due_at for j in a}
    assert all(j.due_at <= NOON for j in a)


def test_a_tick_is_enqueued_once_whatever_the_number_of_schedulers(tmp_path):
    settings = load_settings(data_dir=tmp_path / "data")
    db = open_database(settings)
    policy = parse_policy("schedule: {sync: 60}")
    due = due_jobs("acme", policy.schedule, NOON)
    created: list[int] = []
    gate = threading.Barrier(4)

    def scheduler() -> None:
        gate.wait()
        with db.session() as session:
            created.append(sum(enqueue(session, job) for job in due))

    threads = [threading.Thread(target=scheduler) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(created) == len(due)


def test_signature_is_hmac_sha256_over_timestamp_and_body():
    header = sign("whsec_x", b'{"a":1}', 1700000000)
    expected = hmac.new(b"whsec_x", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


def test_cli_policy_set_needs_an_approver_and_changes_nothing_on_error(tmp_path, monkeypatch):
    monkeypatch.setenv("FDE_DATA_DIR", str(tmp_path / "data"))
    settings = load_settings()
    add_engagement(settings, open_database(settings), "acme", api_base="http://127.0.0.1:9")
    good = tmp_path / "good.yaml"
    good.write_text("auto_repair: [{class: STALE_STATE, entities: [invoice]}]\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("auto_repair: [{class: DUPLICATE_REMOTE}]\n")
    runner = CliRunner()
    refused = runner.invoke(app, ["autopilot", "policy", "set", "acme", "--file", str(good)])
    assert refused.exit_code != 0 and "approver" in str(refused.exception)
    ok = runner.invoke(app, ["autopilot", "policy", "set", "acme", "--file", str(good),
                             "--role", "approver"])
    assert ok.exit_code == 0, ok.output
    wrong = runner.invoke(app, ["autopilot", "policy", "set", "acme", "--file", str(bad),
                                "--role", "approver"])
    assert wrong.exit_code != 0 and "DUPLICATE_REMOTE" in str(wrong.exception)
    shown = runner.invoke(app, ["autopilot", "policy", "show", "acme"])
    assert "v1 by" in shown.output and "invoice" in shown.output
    status = runner.invoke(app, ["autopilot", "status", "--engagement", "acme"])
    assert status.exit_code == 0 and "health:" in status.output
