"""`fde workspace show|timeline|search|note add|decision add|accept|reject|withdraw|contact add|
adr export|review|review-item resolve --engagement NAME`: the engagement's workspace."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, get_args

import typer

from cli import context, wiring
from cli.output import console, print_json, say
from core import engagements
from core.errors import ConfigError
from tools.workspace import export_adrs, reviews, search, store, timeline
from tools.workspace.models import (
    ContactCreate,
    DecisionCreate,
    EntryKind,
    NoteCreate,
    ReviewItemStatus,
)

app = typer.Typer(help="Engagement workspace: contacts, notes, decisions (ADRs), timeline, "
                       "search, architecture review items.", no_args_is_help=True)
note_app = typer.Typer(help="Meeting notes.", no_args_is_help=True)
decision_app = typer.Typer(help="The decision log.", no_args_is_help=True)
contact_app = typer.Typer(help="Contacts on the user's side.", no_args_is_help=True)
adr_app = typer.Typer(help="Decisions as markdown ADRs.", no_args_is_help=True)
item_app = typer.Typer(help="Architecture review items.", no_args_is_help=True)
app.add_typer(note_app, name="note")
app.add_typer(decision_app, name="decision")
app.add_typer(contact_app, name="contact")
app.add_typer(adr_app, name="adr")
app.add_typer(item_app, name="review-item")

Engagement = Annotated[str, typer.Option("--engagement", "-e", help="engagement name")]
AsJson = Annotated[bool, typer.Option("--json")]


def _dump(items: list) -> None:  # type: ignore[type-arg]
    print_json([json.loads(i.model_dump_json()) for i in items])


@app.command("show")
def show(engagement: Engagement, as_json: AsJson = False) -> None:
    """Contacts, decisions, notes and open review items of an engagement."""
    with context.database().session() as session:
        engagements.get(session, engagement)
        contacts = store.list_contacts(session, engagement)
        decisions = store.list_decisions(session, engagement)
        notes = store.list_notes(session, engagement)
        items = reviews.list_items(session, engagement)
    if as_json:
        print_json({k: [json.loads(x.model_dump_json()) for x in v] for k, v in (
            ("contacts", contacts), ("decisions", decisions), ("notes", notes),
            ("review_items", items))})
        return
    say(f"[bold]workspace {engagement}[/]")
    console.print("\n[bold]contacts[/]")
    for c in contacts:
        say(f"  {c.name} — {c.role or 'no role'}" + (f" <{c.email}>" if c.email else ""))
    console.print("\n[bold]decisions[/]")
    for d in decisions:
        say(f"  {d.number:>3}  {d.status:10}  {d.title}  ({', '.join(d.decided_by)})")
    console.print("\n[bold]meeting notes[/]")
    for n in notes:
        say(f"  {n.met_at:%Y-%m-%d}  {n.title}  ({n.id})")
    console.print("\n[bold]review items[/]")
    for i in items:
        say(f"  {i.id}  {i.status:8}  [{i.severity}] {i.check}")


@app.command("timeline")
def timeline_cmd(engagement: Engagement,
                 kind: Annotated[list[str] | None, typer.Option(
                     "--kind", help=f"only these kinds: {', '.join(get_args(EntryKind))}")] = None,
                 as_json: AsJson = False) -> None:
    """Findings, cases, escalations, runs, drafts, applies, notes and decisions by time."""
    unknown = sorted(set(kind or []) - set(get_args(EntryKind)))
    if unknown:
        raise ConfigError(f"unknown timeline kind(s): {', '.join(unknown)}",
                          hint=f"use any of: {', '.join(get_args(EntryKind))}")
    with context.database().session() as session:
        entries = timeline(session, engagement, kinds=set(kind) if kind else None)  # type: ignore[arg-type]
    if as_json:
        _dump(entries)
        return
    for e in entries:
        status = f" [{e.status}]" if e.status else ""
        say(f"{e.at:%Y-%m-%d %H:%M:%S}  {e.kind:20} {e.title}{status}  ({e.ref})")


@app.command("search")
def search_cmd(query: str, engagement: Engagement,
               limit: Annotated[int, typer.Option(min=1, max=200)] = 20,
               as_json: AsJson = False) -> None:
    """Full-text (BM25) search over the whole workspace."""
    with context.database().session() as session:
        hits = search(session, engagement, query, limit=limit)
    if as_json:
        _dump(hits)
        return
    if not hits:
        say(f"nothing in {engagement}'s workspace matches {query!r}")
    for h in hits:
        say(f"{h.score:7.3f}  {h.kind:18} {h.title}  ({h.ref})\n         {h.snippet}")


@note_app.command("add")
def note_add(engagement: Engagement,
             title: Annotated[str, typer.Option(help="e.g. 'Billing kick-off'")],
             body: Annotated[str, typer.Option(help="what was discussed ('-' reads stdin)")],
             attendee: Annotated[list[str] | None, typer.Option()] = None,
             met_at: Annotated[datetime | None, typer.Option(help="ISO time; now if unset")]
             = None) -> None:
    """Record a meeting note."""
    text = typer.get_text_stream("stdin").read() if body == "-" else body
    with context.database().session() as session:
        note = store.add_note(session, engagement, NoteCreate(
            title=title, body=text, attendees=attendee or [], met_at=met_at),
            actor=wiring.actor())
    say(f"note {note.id} recorded for {engagement}")


@decision_app.command("add")
def decision_add(
    engagement: Engagement,
    title: Annotated[str, typer.Option()],
    context_: Annotated[str, typer.Option("--context", help="the problem and its forces")],
    decision: Annotated[str, typer.Option(help="what was decided")],
    alternative: Annotated[list[str] | None, typer.Option(help="an option considered")] = None,
    driver: Annotated[list[str] | None, typer.Option(help="a force that decides it")] = None,
    chosen: Annotated[str | None, typer.Option(help="the alternative chosen")] = None,
    because: Annotated[str, typer.Option(help="why the chosen option won")] = "",
    consequences: Annotated[str, typer.Option()] = "",
    evidence: Annotated[list[str] | None, typer.Option(help="a link or id")] = None,
    decided_by: Annotated[list[str] | None, typer.Option(help="who decided")] = None,
    supersedes: Annotated[int | None, typer.Option(help="number of the decision replaced")]
    = None,
) -> None:
    """Record a decision (status proposed) in the decision log."""
    with context.database().session() as session:
        d = store.add_decision(session, engagement, DecisionCreate(
            title=title, context=context_, decision=decision, alternatives=alternative or [],
            drivers=driver or [], chosen=chosen, because=because,
            consequences=consequences, evidence=evidence or [], decided_by=decided_by or [],
            supersedes=supersedes), actor=wiring.actor())
    say(f"decision {d.number} recorded for {engagement} ({d.status})")


@decision_app.command("accept")
def decision_accept(number: int, engagement: Engagement) -> None:
    """Accept a proposed decision."""
    with context.database().session() as session:
        d = store.accept_decision(session, engagement, number, actor=wiring.actor())
    say(f"decision {d.number} accepted by {d.accepted_by}")
    if d.supersedes is not None:
        say(f"decision {d.supersedes} is now superseded by decision {d.number}")


@decision_app.command("reject")
def decision_reject(number: int, engagement: Engagement,
                    reason: Annotated[str, typer.Option(help="why it is rejected")]) -> None:
    """Reject a proposed decision; what it would have superseded stays in force."""
    with context.database().session() as session:
        d = store.close_decision(session, engagement, number, outcome="rejected",
                                 reason=reason, actor=wiring.actor())
    say(f"decision {d.number} rejected by {d.closed_by}")


@decision_app.command("withdraw")
def decision_withdraw(number: int, engagement: Engagement,
                      reason: Annotated[str, typer.Option(help="why it is withdrawn")]) -> None:
    """Withdraw a proposed decision; what it would have superseded stays in force."""
    with context.database().session() as session:
        d = store.close_decision(session, engagement, number, outcome="withdrawn",
                                 reason=reason, actor=wiring.actor())
    say(f"decision {d.number} withdrawn by {d.closed_by}")


@contact_app.command("add")
def contact_add(engagement: Engagement, name: Annotated[str, typer.Option()],
                role: Annotated[str, typer.Option()] = "",
                email: Annotated[str | None, typer.Option()] = None) -> None:
    """Add a contact on the user's side."""
    with context.database().session() as session:
        c = store.add_contact(session, engagement, ContactCreate(name=name, role=role,
                                                                 email=email),
                              actor=wiring.actor())
    say(f"contact {c.id} added: {c.name}")


@adr_app.command("export")
def adr_export(engagement: Engagement,
               out: Annotated[Path, typer.Option(help="directory for the ADR files")]
               = Path("adr")) -> None:
    """Write every decision as a numbered markdown ADR."""
    with context.database().session() as session:
        decisions = store.list_decisions(session, engagement)
    if not decisions:
        raise ConfigError(f"{engagement} has no decisions to export",
                          hint="record one with `fde workspace decision add`")
    files = export_adrs(decisions, out)
    for f in files:
        say(f"{out / f.filename}")


@app.command("review")
def review(engagement: Engagement,
           list_only: Annotated[bool, typer.Option("--list", help="only list the items")]
           = False,
           as_json: AsJson = False) -> None:
    """Review the engagement's latest integration map; violations become review items."""
    if list_only:
        with context.database().session() as session:
            engagements.get(session, engagement)
            items = reviews.list_items(session, engagement)
    else:
        from agents.wiring import knowledge_opener
        from agents.workspace import review_engagement
        from knowledge.config import load_knowledge_settings
        from knowledge.patterns import load_patterns

        result = review_engagement(
            context.database(), engagement, actor=wiring.actor(), knowledge=knowledge_opener(),
            patterns=load_patterns(load_knowledge_settings().patterns_dir))
        items = result.items
        if not as_json:
            say(f"review {result.run.id} of map v{result.run.map_version}: "
                f"{result.run.violations} violated item(s)")
    if as_json:
        _dump(items)
        return
    for i in items:
        say(f"{i.id}  {i.status:8}  [{i.severity}] {i.check}: {i.item}")


@item_app.command("resolve")
def item_resolve(item_id: str,
                 status: Annotated[str, typer.Option(
                     help="accepted, resolved or wont_fix")],
                 why: Annotated[str, typer.Option(help="the reason, kept with the item")]
                 ) -> None:
    """Move a review item to accepted, resolved or wont_fix, with why."""
    allowed = [s for s in get_args(ReviewItemStatus) if s != "open"]
    if status not in allowed:
        raise ConfigError(f"unknown status {status!r}", hint=f"use one of: {', '.join(allowed)}")
    with context.database().session() as session:
        item = reviews.resolve_item(session, item_id, status, why=why,  # type: ignore[arg-type]
                                    actor=wiring.actor())
    say(f"review item {item.id} ({item.check}) is now {item.status}")
