"""`fde learn propose|list|show|approve|reject`: the learning loop. A resolved escalation or
a confirmed diagnosis becomes a draft pattern, check stub or eval scenario; only an
engineer's approval writes it into a library."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any

import typer

from agents.models import Diagnosis
from cli import context, wiring
from cli.output import console, print_json, say
from core.errors import ConfigError, NotFoundError
from knowledge.config import load_knowledge_settings
from knowledge.learning import (
    DraftKind,
    Lesson,
    approve_draft,
    get_draft,
    list_drafts,
    propose,
    reject_draft,
)
from knowledge.signals.sources import read_escalations

app = typer.Typer(help="Learning loop: lessons → draft patterns, checks, eval scenarios.")

_DECIDED = {"resolved", "decided", "approved", "closed"}


def _from_escalation(escalation_id: str) -> Lesson:
    with context.database().session() as session:
        rows = read_escalations(session)
    if rows is None:
        raise ConfigError("this database has no escalation queue yet",
                          hint="use --diagnosis FILE with a confirmed triage diagnosis")
    row = next((r for r in rows if r.get("id") == escalation_id), None)
    if row is None:
        raise NotFoundError(f"no escalation {escalation_id!r}", hint="see `fde queue`")
    if row.get("status") not in _DECIDED or not row.get("decided_by"):
        raise ConfigError(f"escalation {escalation_id} is {row.get('status')!r}, not resolved",
                          hint="only a decided escalation carries an engineer's judgment")
    payload: dict[str, Any] = row.get("payload") or {}
    diag = payload.get("diagnosis") or {}
    return Lesson(
        source=f"escalation:{escalation_id}", engagement=row.get("engagement"),
        failure_mode=diag.get("failure_mode"), category=diag.get("category") or "other",
        title=diag.get("title") or str(row.get("summary") or escalation_id),
        ticket=str(payload.get("ticket") or ""), explanation=diag.get("explanation") or "",
        cause=diag.get("cause") or "", fix=diag.get("fix") or "",
        systemic_fix=diag.get("systemic_fix") or "",
        evidence_ids=[str(e) for e in diag.get("evidence_ids") or []],
        products=[row["product"]] if row.get("product") else [],
        decided_by=str(row["decided_by"]))


def _from_diagnosis(file: Path, confirmed_by: str | None, engagement: str | None,
                    ticket: str, products: list[str]) -> Lesson:
    if not confirmed_by:
        raise ConfigError("--confirmed-by is required with --diagnosis",
                          hint="name the engineer who confirmed the diagnosis")
    raw = file.read_text()
    diagnosis = Diagnosis.model_validate_json(raw)
    if diagnosis.outcome != "diagnosed":
        raise ConfigError(f"{file} is a {diagnosis.outcome!r} result, not a diagnosis",
                          hint="only confirmed diagnoses become lessons")
    digest = hashlib.sha256(raw.encode()).hexdigest()[:12]
    return Lesson(
        source=f"diagnosis:{digest}", engagement=engagement,
        failure_mode=diagnosis.failure_mode, category=diagnosis.category,
        title=diagnosis.title or diagnosis.category, ticket=ticket,
        explanation=diagnosis.explanation, cause=diagnosis.cause, fix=diagnosis.fix,
        systemic_fix=diagnosis.systemic_fix, evidence_ids=diagnosis.evidence_ids,
        products=products, decided_by=confirmed_by)


@app.command("propose")
def propose_cmd(
    kind: Annotated[str, typer.Option(help="pattern, check or scenario")],
    escalation: Annotated[str | None, typer.Option(help="a resolved escalation id")] = None,
    diagnosis: Annotated[Path | None, typer.Option(help="a triage diagnosis JSON file")] = None,
    confirmed_by: Annotated[str | None, typer.Option(help="engineer who confirmed it")] = None,
    engagement: Annotated[str | None, typer.Option("--engagement", "-e")] = None,
    ticket: Annotated[str, typer.Option(help="the ticket text (redacted)")] = "",
    product: Annotated[list[str] | None, typer.Option(
        help="product area(s) of a diagnosis: billing, checkout, lpm, ...")] = None,
) -> None:
    """Draft a pattern, check stub or eval scenario from one lesson (nothing is published)."""
    if kind not in ("pattern", "check", "scenario"):
        raise ConfigError(f"--kind {kind!r} is not one of pattern, check, scenario")
    if (escalation is None) == (diagnosis is None):
        raise ConfigError("give exactly one of --escalation or --diagnosis")
    lesson = _from_escalation(escalation) if escalation else _from_diagnosis(
        diagnosis, confirmed_by, engagement, ticket, product or [])  # type: ignore[arg-type]
    kind_: DraftKind = kind  # type: ignore[assignment]
    with context.database().session() as session:
        draft = propose(session, kind_, lesson, actor=wiring.actor())
    say(f"draft {draft.id} ({draft.kind}, {draft.status}): {draft.title}")
    say(f"review it with `fde learn show {draft.id}`, then `fde learn approve {draft.id} "
        "--approver NAME`")


@app.command("list")
def list_cmd(status: Annotated[str | None, typer.Option()] = None) -> None:
    """Drafts and what happened to them."""
    with context.database().session() as session:
        rows = list_drafts(session, status=status)
    print_json([d.model_dump(mode="json", exclude={"body"}) for d in rows])


@app.command("show")
def show_cmd(draft_id: str) -> None:
    """One draft's text."""
    with context.database().session() as session:
        draft = get_draft(session, draft_id)
    console.print(draft.body, markup=False, highlight=False, soft_wrap=True)


def _library(kind: str) -> Path:
    if kind == "pattern":
        return load_knowledge_settings().patterns_dir
    return context.settings().data_dir / "learning" / f"{kind}s"


@app.command("approve")
def approve_cmd(draft_id: str,
                approver: Annotated[str, typer.Option(help="the approving engineer")],
                library: Annotated[Path | None, typer.Option(
                    help="where to publish (default: the pattern library for patterns, "
                         "<data dir>/learning/<kind>s otherwise)")] = None) -> None:
    """Publish a draft into its library (patterns: re-run `fde knowledge index`)."""
    with context.database().session() as session:
        draft = get_draft(session, draft_id)
        done = approve_draft(session, draft_id, approver=approver,
                             library=library or _library(draft.kind))
    say(f"approved {done.id}: written to {done.published_to}")


@app.command("reject")
def reject_cmd(draft_id: str, approver: Annotated[str, typer.Option()],
               reason: Annotated[str, typer.Option()]) -> None:
    """Close a draft without publishing it."""
    with context.database().session() as session:
        done = reject_draft(session, draft_id, approver=approver, reason=reason)
    say(f"rejected {done.id}")
