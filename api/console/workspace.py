"""The engagement workspace in the console: timeline, decision log with its ADR export, and
the form that records a decision (the same store and audit as `/workspace`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse

from api.console.render import console_router, page
from api.console.session import PageViewer, PostEngineer
from api.deps import Db
from api.errors import Conflict
from core import engagements
from tools.workspace import export_adrs, store, timeline
from tools.workspace.errors import WorkspaceStateError
from tools.workspace.models import DecisionCreate

router = console_router()


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


@router.get("/workspace/{engagement}", response_class=HTMLResponse)
def workspace(engagement: str, request: Request, db: Db, who: PageViewer) -> HTMLResponse:
    with db.session() as session:
        entries = timeline(session, engagement)
        decisions = store.list_decisions(session, engagement)
        notes = store.list_notes(session, engagement)
        contacts = store.list_contacts(session, engagement)
    return page(request, "workspace.html", who, engagement=engagement,
                entries=list(reversed(entries)), decisions=decisions, notes=notes,
                contacts=contacts)


@router.post("/workspace/{engagement}/decisions")
def record_decision(engagement: str, db: Db, who: PostEngineer,
                    title: Annotated[str, Form(max_length=200)],
                    context: Annotated[str, Form(max_length=10_000)],
                    decision: Annotated[str, Form(max_length=10_000)],
                    alternatives: Annotated[str, Form(max_length=10_000)] = "",
                    consequences: Annotated[str, Form(max_length=10_000)] = "",
                    evidence: Annotated[str, Form(max_length=10_000)] = "",
                    supersedes: Annotated[int | None, Form(ge=1)] = None) -> RedirectResponse:
    spec = DecisionCreate(title=title, context=context, decision=decision,
                          alternatives=_lines(alternatives), consequences=consequences,
                          evidence=_lines(evidence), supersedes=supersedes)
    try:
        with db.session() as session:
            made = store.add_decision(session, engagement, spec, actor=who.principal.actor)
    except WorkspaceStateError as exc:
        raise Conflict(exc.message, hint=exc.hint) from None
    return RedirectResponse(f"/console/workspace/{engagement}#decision-{made.number}", 303)


@router.post("/workspace/{engagement}/decisions/{number}/accept")
def accept(engagement: str, number: int, db: Db, who: PostEngineer) -> RedirectResponse:
    try:
        with db.session() as session:
            store.accept_decision(session, engagement, number, actor=who.principal.actor)
    except WorkspaceStateError as exc:
        raise Conflict(exc.message, hint=exc.hint) from None
    return RedirectResponse(f"/console/workspace/{engagement}#decision-{number}", 303)


@router.get("/workspace/{engagement}/adrs", response_class=HTMLResponse)
def adrs(engagement: str, request: Request, db: Db, who: PageViewer) -> HTMLResponse:
    with db.session() as session:
        engagements.get(session, engagement)
        files = export_adrs(store.list_decisions(session, engagement))
    return page(request, "adrs.html", who, engagement=engagement, files=files)


@router.get("/workspace/{engagement}/adrs.md", response_class=PlainTextResponse)
def adrs_markdown(engagement: str, db: Db, _: PageViewer) -> PlainTextResponse:
    """Every ADR in one markdown download, in decision-number order."""
    with db.session() as session:
        engagements.get(session, engagement)
        files = export_adrs(store.list_decisions(session, engagement))
    return PlainTextResponse(
        "\n".join(f.markdown for f in files), media_type="text/markdown",
        headers={"Content-Disposition": f'attachment; filename="{engagement}-adrs.md"'})
