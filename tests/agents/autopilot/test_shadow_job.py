"""Shadow re-runs in the autopilot: the shadow test declared in integration.yaml runs once per
version of that file, against two real handlers (uvicorn). A candidate that behaves
differently becomes an escalated case with the stored run's id; a later version that passes
closes it. No plan is a skipped job, no signing secret a failed (retried) one, each with the
reason: never a pass."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from pydantic import SecretStr
from sqlalchemy import select

from agents.autopilot import Autopilot, AutopilotDeps
from agents.autopilot.cases import list_cases
from agents.autopilot.tables import jobs
from core.settings import load_settings
from core.storage import open_database
from sandbox.usersys.app import HandlerAppConfig
from sandbox.usersys.server import running_handler
from tests.agents.autopilot.helpers import MAPPING, Clock, add_engagement
from tests.tools.shadow.conftest import SECRET, corpus_path  # noqa: F401 - the fixture
from tools.checks.engagement import profile_path
from tools.shadow import store

POLICY = ("schedule: {sync: null, map_refresh: null, checks: null, reconcile: null, "
          "shadow: true}\ntriage: false\n")


def _declare(settings, primary, candidate, corpus: Path) -> None:  # noqa: ANN001
    """What `fde engagement integration acme --file` stores (paths made absolute). Each
    handler's state is its own database."""
    plan = {"corpus": str(corpus), "mapping": str(MAPPING),
            "primary": {"name": "v41", "url": primary.webhook_url,
                        "state": primary.config.database_url},
            "candidate": {"name": "v42", "url": candidate.webhook_url,
                          "state": candidate.config.database_url}}
    path = profile_path(settings, "acme")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"handlers": {"invoice.paid": "billing.on_paid"},
                                    "shadow": plan}))


def _shadow_results(db) -> list[dict]:  # noqa: ANN001
    with db.session() as session:
        rows = session.execute(select(jobs.c.status, jobs.c.result, jobs.c.error)
                               .where(jobs.c.kind == "shadow").order_by(jobs.c.started_at))
        return [{"job": r.status, "error": r.error or (r.result or {}).get("skipped"),
                 **(r.result or {})} for r in rows]


def _handler(tmp_path: Path, name: str, bugs: str = ""):  # noqa: ANN202
    return running_handler(HandlerAppConfig(
        database_url=f"sqlite:///{tmp_path / f'{name}-app.db'}",
        webhook_secrets=[SecretStr(SECRET)], bugs=bugs))


def test_declared_shadow_test_runs_per_version_and_escalates_a_failing_candidate(
        tmp_path, corpus_path, monkeypatch):  # noqa: F811
    settings = load_settings(data_dir=tmp_path / "data")
    db = open_database(settings)
    add_engagement(settings, db, "acme", api_base="http://127.0.0.1:9", policy=POLICY)
    corpus = shutil.copy(corpus_path, tmp_path / "corpus.jsonl")
    clock = Clock()
    pilot = Autopilot(AutopilotDeps(settings=settings, db=db, clock=clock))

    # no plan declared yet: skipped, with what to do
    path = profile_path(settings, "acme")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"handlers": {"invoice.paid": "billing.on_paid"}}))
    pilot.run_once()
    assert _shadow_results(db)[-1]["job"] == "skipped"
    assert "`shadow:` section" in _shadow_results(db)[-1]["error"]

    with _handler(tmp_path, "primary") as primary, \
            _handler(tmp_path, "buggy", "FM-13") as buggy, \
            _handler(tmp_path, "fixed") as fixed:
        _declare(settings, primary, buggy, Path(corpus))
        monkeypatch.delenv("FDE_SHADOW_WEBHOOK_SECRET", raising=False)
        clock.advance(60)
        pilot.run_once()
        unset = _shadow_results(db)[-1]  # a setup error: retried, and the status says why
        assert unset["job"] == "queued" and "FDE_SHADOW_WEBHOOK_SECRET" in unset["error"]

        monkeypatch.setenv("FDE_SHADOW_WEBHOOK_SECRET", SECRET)
        clock.advance(60)
        pilot.run_once()  # the retry
        failed = _shadow_results(db)[-1]
        assert (failed["job"], failed["status"]) == ("done", "FAIL"), failed
        assert failed["cases"] == {"escalated": 1, "closed": 0}
        with db.session() as session:
            run = store.get_run(session, failed["run_id"])
            [case] = [c for c in list_cases(session, engagement="acme") if c.source == "shadow"]
        assert run.verdict.value == "FAIL" and run.run.engagement == "acme"
        assert case.status == "escalated" and run.run.id in case.evidence
        assert case.escalation["reason"].startswith("the candidate handler behaves")

        clock.advance(60)
        pilot.run_once()  # same file: no second run
        assert len([r for r in _shadow_results(db) if r.get("run_id")]) == 1

        _declare(settings, primary, fixed, Path(corpus))  # the fix deployed
        clock.advance(60)
        pilot.run_once()
        passed = _shadow_results(db)[-1]
        assert (passed["job"], passed["status"]) == ("done", "PASS"), passed
        with db.session() as session:
            assert store.get_run(session, passed["run_id"]).verdict.value == "PASS"
            [case] = [c for c in list_cases(session, engagement="acme") if c.source == "shadow"]
        assert case.status == "resolved" and passed["cases"] == {"escalated": 0, "closed": 1}
