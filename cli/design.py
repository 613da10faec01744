"""`fde design draft FILE --engagement NAME`, `show ID`, `edit ID FILE`, `approve ID`,
`list`: solution design drafts from a requirements intake. Drafts stay here until an
engineer approves them; nothing is sent to the user."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
import yaml
from pydantic import ValidationError

from cli import context, wiring
from cli.output import console, print_json, say
from core import engagements
from core.errors import ConfigError
from tools.design import store
from tools.design.draft import DesignDraft
from tools.design.requirements import load_requirements

app = typer.Typer(help="Requirements → solution design drafts (draft → approved).")


@app.command("draft")
def draft(
    requirements: Annotated[Path, typer.Argument(help="requirements intake (YAML)")],
    engagement: Annotated[str, typer.Option("--engagement", "-e")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Draft a solution design from a requirements intake and store it as a draft."""
    from agents.design import build_design_graph, design_deps, run_design
    from agents.wiring import knowledge_opener
    from knowledge.config import load_knowledge_settings
    from knowledge.patterns import load_patterns

    req = load_requirements(requirements)
    db = context.database()
    with db.session() as session:
        engagements.get(session, engagement)
    patterns = load_patterns(load_knowledge_settings().patterns_dir)
    deps = design_deps(patterns, knowledge=knowledge_opener(), db=db, engagement=engagement,
                       actor=wiring.actor())
    result = run_design(build_design_graph(), deps, req)
    with db.session() as session:
        stored = store.get(session, result.design_id or "")
    _show(stored, as_json)


@app.command("show")
def show(design_id: str, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """A stored design draft with every recommendation's cited requirements."""
    with context.database().session() as session:
        _show(store.get(session, design_id), as_json)


@app.command("edit")
def edit(design_id: str,
         file: Annotated[Path, typer.Argument(help="the edited draft (JSON/YAML of `show "
                                              "--json`'s `draft`)")]) -> None:
    """Replace a draft's content with an engineer's edited version (drafts only)."""
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
        edited = DesignDraft.model_validate(data.get("draft", data) if isinstance(data, dict)
                                            else data)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"{file}: not a design draft: {exc}".splitlines()[0],
                          hint="start from `fde design show ID --json`, edit its draft"
                          ) from None
    with context.database().session() as session:
        stored = store.edit(session, design_id, edited, actor=wiring.actor())
    say(f"design {stored.id} updated (still a draft)")


@app.command("approve")
def approve(design_id: str,
            accept_open_questions: Annotated[bool, typer.Option(
                "--accept-open-questions",
                help="approve although questions are open; recorded in the audit log")] = False,
            ) -> None:
    """Approve a draft: records the approver; the design is then frozen."""
    with context.database().session() as session:
        stored = store.approve(session, design_id, actor=wiring.actor(),
                               accept_open_questions=accept_open_questions)
    say(f"design {stored.id} approved by {stored.approved_by}")
    if stored.draft.open_questions:
        say(f"[yellow]{len(stored.draft.open_questions)} open question(s) accepted as open "
            "(recorded)[/]")


@app.command("list")
def list_cmd(engagement: Annotated[str | None, typer.Option("--engagement", "-e")] = None
             ) -> None:
    """Stored design drafts, newest first."""
    with context.database().session() as session:
        for d in store.list_designs(session, engagement):
            say(f"{d.id}  {d.status:8}  {d.engagement:20}  {d.requirements.name}")


def _show(stored: store.StoredDesign, as_json: bool) -> None:
    if as_json:
        print_json(json.loads(stored.model_dump_json()))
        return
    say(f"[bold]design {stored.id}[/] for {stored.engagement} — {stored.status}"
        + (f" by {stored.approved_by}" if stored.approved_by else ""))
    for kind in ("product", "object", "blueprint", "pattern"):
        recs = [r for r in stored.draft.recommendations if r.kind == kind]
        if recs:
            console.print(f"\n[bold]{kind}s[/]")
        for r in recs:
            example = f" (example: {r.example})" if r.example else ""
            say(f"  {r.ref}{example} — {r.reason}\n    because {' + '.join(r.because)}")
    for r in stored.draft.related_patterns:
        say(f"  related: {r.ref} — {r.reason}")
    for risk in stored.draft.risks:
        say(f"[yellow]risk:[/] {risk.text}\n    because {' + '.join(risk.because)}")
    for q in stored.draft.open_questions:
        say(f"[red]open question:[/] {q.question}\n    because {' + '.join(q.because)}")
    for failure in stored.draft.tool_errors:
        say(f"[red]incomplete:[/] {failure}")
