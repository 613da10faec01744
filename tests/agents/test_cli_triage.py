"""`fde triage` and `fde chat` on the demo engagement (registered as `fde demo` does) against
a served demo world, through the `fde` app in process: the engagement's own gateway, snapshot,
user DB and detectors (and the pattern library, indexed) give a diagnosis with evidence ids
and pattern references; `fde triage resume` is strict."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.errors import ConfigError
from tests.agents.tickets import TICKETS
from tests.cli.inprocess import fde_in_process as _fde
from tests.cli.inprocess import fresh_context as _fresh_context

_ID = re.compile(r"\b(?:fnd|in|thr)_[A-Za-z0-9]{6,}\b")


def test_triage_on_the_served_demo_engagement(_isolated_env: Path, shared_tmp: Path,
                                              pattern_index: Path,
                                              monkeypatch: pytest.MonkeyPatch):
    from cli.demo import DEMO_BUGS, DEMO_ENGAGEMENT, _ensure_demo_engagement
    from core import audit
    from sandbox.world.config import WorldConfig
    from sandbox.world.serve import running_world
    from tests.agents.worlds import build

    # the demo's seed and bugs at the tiny size; built once per session, shared by workers
    build(shared_tmp / "worlds", DEMO_BUGS, seed=0, size="tiny")
    monkeypatch.setenv("FDE_CHROMA_PATH", str(pattern_index))  # after `fde knowledge index`
    config = WorldConfig.parse(seed=0, size="tiny", bugs=DEMO_BUGS)
    with running_world(config, shared_tmp / "worlds", log=lambda _: None) as world, \
            _fresh_context():
        from cli import context

        _ensure_demo_engagement(world.replica_url, world.user_db,
                                f"{world.handler_url}/webhooks/stripe")
        code, text = _fde("triage", TICKETS["FM-15"], "--engagement", DEMO_ENGAGEMENT)
        assert code == 0, text[-3000:]
        assert "diagnosed: FM-15" in text, text[-3000:]
        assert "\npatterns: " in text, text[-3000:]  # the indexed library was searched
        explanation, evidence = text.split("\nevidence: ", 1)
        ids = _ID.findall(evidence.split("\nfix: ")[0])
        assert any(i.startswith("fnd_") for i in ids) and any(i.startswith("in_") for i in ids)
        invoice = next(i for i in ids if i.startswith("in_"))
        assert invoice in explanation  # the explanation cites what the tools returned
        # FM-15 and FM-13 are close on this world: an engineer decides
        assert "status: escalated" in text, text[-3000:]
        tid = re.search(r"thread: (thr_\w+)", text).group(1)
        iid = re.search(r"escalated: interrupt (\w+)", text).group(1)

        code, chat = _fde("chat", "--engagement", DEMO_ENGAGEMENT, "--no-sync",
                          stdin=f"why is {invoice} still open?\n\n")
        assert code == 0, chat[-3000:]
        assert "What the tools show" in chat and invoice in chat, chat[-3000:]

        from api.auth import create_token

        with context.database().session() as session:
            tok = create_token(session, "eng", "engineer", actor="test").token
        with pytest.raises(ConfigError, match="needs an API token"):
            _fde("triage", "resume", tid, "--no-sync", "--interrupt-id", iid,
                 "--decision", "approve")
        with pytest.raises(ConfigError, match="not pending"):
            _fde("triage", "resume", tid, "--no-sync", "--interrupt-id", "nope",
                 "--decision", "approve", "--token", tok)
        code, done = _fde("triage", "resume", tid, "--no-sync", "--interrupt-id", iid,
                          "--decision", "approve", "--token", tok)
        assert code == 0 and "status: resolved_by_engineer" in done, done[-2000:]
        with pytest.raises(ConfigError, match="not pending"):
            _fde("triage", "resume", tid, "--no-sync", "--interrupt-id", iid,
                 "--decision", "approve", "--token", tok)
        with context.database().session() as session:
            rows = audit.entries(session, target=tid)
    assert [(r.action, r.details["decision"]["type"], r.actor) for r in rows] == [
        ("triage.decision", "approve", "user:eng")]

def test_resume_arguments_are_strict():
    from cli.triage import _decision, triage

    payload = {"review_configs": [
        {"action_name": "refund_payment", "allowed_decisions": ["approve", "edit", "reject"]},
        {"action_name": "confirm_diagnosis", "allowed_decisions": ["approve", "reject",
                                                                   "respond"]}]}
    assert _decision(payload, "approve", None, None)["action"] == "confirm_diagnosis"
    assert _decision(payload, "approve", "refund_payment", None)["action"] == "refund_payment"
    assert _decision(payload, "respond", None, "done")["message"] == "done"
    for args, needle in [(("maybe", None, None), "not one of"),
                         (("respond", None, " "), "--message"),
                         (("reject", "refund_payment", None), "--action only"),
                         (("approve", "annotate_customer", None), "not proposed")]:
        with pytest.raises(ConfigError, match=needle):
            _decision(payload, *args)
    from api.auth import Principal
    from cli.triage import _check_role
    from core.errors import PermissionDenied

    payload["diagnosis"] = {"actions": [{"name": "refund_payment", "tier": "money"},
                                        {"name": "annotate_customer", "tier": "write"}]}
    approver, engineer = Principal("ann", "admin"), Principal("eve", "engineer")
    with pytest.raises(PermissionDenied, match="escalation queue"):  # whatever the role
        _check_role(approver, payload, {"action": "refund_payment"})
    _check_role(engineer, payload, {"action": "annotate_customer"})
    _check_role(engineer, payload, {"action": "confirm_diagnosis"})
    with pytest.raises(PermissionDenied, match="engineer role"):
        _check_role(Principal("vic", "viewer"), payload, {"action": None})
    with pytest.raises(ConfigError, match="--interrupt-id"):
        triage("resume", "thr_x", decision="approve")
    with pytest.raises(ConfigError, match="thread id"):
        triage("resume", interrupt_id="i", decision="approve")
    with pytest.raises(ConfigError, match="only go with resume"):
        triage("a ticket", engagement="demo", decision="approve")
