"""Acceptance for the workspace on a sandbox engagement (a tiny generated world with FM-04
and FM-05 on): its findings, reconciliation verdict, design draft, a meeting note and a
decision recorded through `fde workspace` come back merged in time order; the decision is
searchable and exported as an ADR; the architecture review of the world's integration map
opens review items that are resolved through the CLI. Bad input fails with a fix line."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.agents.worlds import MAPPING_PATH, build
from tests.cli.test_bad_input import assert_clear_failure, fde
from tests.conftest import REPO
from tests.tools.checks.worlds import context
from tests.tools.workspace.helpers import database_with
from tools.checks.runner import run_checks
from tools.checks.store import save_findings
from tools.design import store as designs
from tools.design.requirements import load_requirements
from tools.design.rules import draft_design
from tools.map import build_map
from tools.map.store import save_snapshot
from tools.recon.adapter import open_user_system
from tools.recon.mapping import load_mapping
from tools.recon.run import run_recon
from tools.recon.store import save_run
from tools.workspace import store
from tools.workspace.errors import WorkspaceStateError
from tools.workspace.models import NoteCreate

pytestmark = pytest.mark.slow
BUGS = "FM-04,FM-05"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    """(world dir, snapshot, company DB URL); built once and shared by xdist workers."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    return build(root / "workspace-worlds", BUGS, seed=11, size="tiny")


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple]:
    """(run `fde …` in process → (exit code, output, exception), database, url)."""
    from cli import context as cli_context
    from cli.main import app

    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("FDE_DATABASE_URL", url)
    monkeypatch.setenv("COLUMNS", "200")
    db = database_with(url, "acme")
    cli_context.settings.cache_clear()
    cli_context.database.cache_clear()

    def run(*args: str) -> tuple[int, str, BaseException | None]:
        result = CliRunner().invoke(app, ["workspace", *args])
        failed = result.exception if not isinstance(result.exception, SystemExit) else None
        return result.exit_code, result.stdout, failed

    try:
        yield run, db, url
    finally:
        if cli_context.database.cache_info().currsize:
            cli_context.database().dispose()
        cli_context.settings.cache_clear()
        cli_context.database.cache_clear()
        db.dispose()


def test_timeline_merges_the_engagements_records_in_time_order(world, cli, tmp_path: Path):
    run, db, _ = cli
    directory, snapshot, company_url = world
    with db.session() as s:  # the kick-off happened before anything was run
        note = store.add_note(s, "acme", NoteCreate(
            title="Kick-off with the billing team",
            body="They bill in EUR and JPY; Konbini matters for Japan.",
            met_at=datetime.now(UTC) - timedelta(days=2)), actor="cli:kim")
    report = run_checks(context(directory))
    assert report.findings
    with db.session() as s:
        save_findings(s, "acme", report.findings, evaluated=report.evaluated)
    mapping = load_mapping(MAPPING_PATH)
    user = open_user_system(company_url, mapping)
    try:
        recon = run_recon(snapshot=snapshot, user=user, mapping=mapping, engagement="acme")
    finally:
        user.engine.dispose()
    req = load_requirements(REPO / "agents" / "design" / "examples" / "eu-saas-sepa-vat.yaml")
    with db.session() as s:
        save_run(s, recon)
        design = designs.create(s, engagement="acme", requirements=req,
                                draft=draft_design(req), actor="cli:kim")
        finding_ids = {f.id for f in store_findings(s)}

    code, out, exc = run(
        "decision", "add", "--engagement", "acme", "--title", "Pin webhook API version",
        "--context", "The endpoint renders events in an older API version than the code.",
        "--decision", "Create a second endpoint on the new version, then retire the old one.",
        "--alternative", "upgrade in place", "--evidence", sorted(finding_ids)[0],
        "--decided-by", "Ana Ruiz")
    assert (code, exc) == (0, None) and "decision 1 recorded" in " ".join(out.split()), out

    code, out, exc = run("timeline", "--engagement", "acme", "--json")
    assert (code, exc) == (0, None), out
    entries = json.loads(out)
    kinds = [e["kind"] for e in entries]
    ats = [datetime.fromisoformat(e["at"]) for e in entries]
    assert ats == sorted(ats)
    assert kinds[0] == "note" and entries[0]["ref"] == note.id
    assert kinds[-2:] == ["design", "decision"] and entries[-2]["ref"] == design.id
    assert {e["ref"] for e in entries if e["kind"] == "finding"} == finding_ids
    (verdict,) = [e for e in entries if e["kind"] == "recon"]
    assert verdict["ref"] == recon.id and verdict["status"] == recon.verdict.value
    assert kinds.index("recon") > max(i for i, k in enumerate(kinds) if k == "finding")

    code, out, _ = run("search", "older API version", "--engagement", "acme", "--json")
    hits = json.loads(out)
    assert code == 0 and hits[0]["kind"] == "decision" and hits[0]["title"].startswith(
        "decision 1: Pin webhook API version")
    code, out, _ = run("search", "konbini", "--engagement", "acme", "--json")
    assert code == 0 and [h["ref"] for h in json.loads(out)][0] == note.id

    code, out, exc = run("adr", "export", "--engagement", "acme", "--out", str(tmp_path / "adr"))
    assert (code, exc) == (0, None), out
    (adr,) = (tmp_path / "adr").iterdir()
    text = adr.read_text()
    assert adr.name == "0001-pin-webhook-api-version.md"
    assert "- Deciders: Ana Ruiz" in text and f"- {sorted(finding_ids)[0]}" in text
    assert "- upgrade in place" in text and "- Status: proposed" in text


def store_findings(session):
    from tools.checks.store import list_findings

    return list_findings(session, "acme", include_resolved=True)


def test_review_of_the_worlds_map_opens_items_resolved_through_the_cli(world, cli):
    run, db, _ = cli
    directory, _, _ = world
    mapping = load_mapping(MAPPING_PATH)
    tables = {e.stripe_object: e.table for e in mapping.entities.values() if e.stripe_object}
    with db.session() as s:
        save_snapshot(s, "acme", build_map(context(directory), tables=tables,
                                           engagement="acme"))
    code, out, exc = run("review", "--engagement", "acme", "--json")
    assert (code, exc) == (0, None), out
    items = {i["check"]: i for i in json.loads(out)}
    # the world's one endpoint takes every event ('*') and, with FM-05, is pinned to an
    # older API version than the events carry
    assert {"webhook.subscribe_minimal_events", "webhook.api_version_pinned"} <= set(items)
    assert all(i["status"] == "open" for i in items.values())
    pinned = items["webhook.api_version_pinned"]
    assert "2024-06-20" in " ".join(pinned["evidence"])

    code, out, exc = run("review-item", "resolve", pinned["id"], "--status", "resolved",
                         "--why", "second endpoint on the new version (ADR 1)")
    assert (code, exc) == (0, None) and "is now resolved" in " ".join(out.split()), out
    code, out, exc = run("review-item", "resolve", pinned["id"], "--status", "wont_fix",
                         "--why", "again")
    assert isinstance(exc, WorkspaceStateError) and "already resolved" in str(exc)
    code, out, _ = run("review", "--engagement", "acme", "--list", "--json")
    listed = {i["check"]: i for i in json.loads(out)}
    assert listed["webhook.api_version_pinned"]["status"] == "resolved"
    assert listed["webhook.api_version_pinned"]["why"].startswith("second endpoint")
    code, out, _ = run("timeline", "--engagement", "acme", "--kind", "review", "--json")
    assert [e["kind"] for e in json.loads(out)] == ["review"]


def test_cli_bad_input_says_what_is_wrong_and_what_to_do(cli):
    _, _, url = cli
    env = {"FDE_DATABASE_URL": url}
    empty = fde("workspace", "note", "add", "--engagement", "acme", "--title", "Kick-off",
                "--body", " ", env=env)
    assert_clear_failure(empty, "the note's body is empty", "write what was discussed")
    unknown = fde("workspace", "timeline", "--engagement", "nobody", env=env)
    assert_clear_failure(unknown, "no engagement named 'nobody'", "fde engagement list")
