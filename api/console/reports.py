"""Read-only views over what the tools stored: engagements, the integration map (its SVG
renderer inside the console), reconciliation and shadow runs (their own self-contained HTML
reports) and roadmap signals (their HTML renderer)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from api.console.render import console_router, page
from api.console.session import PageViewer
from api.deps import Db
from core import engagements
from core.errors import NotFoundError
from knowledge.signals import collect_signals
from knowledge.signals import to_html as signals_html
from tools.map.render import to_mermaid, to_svg
from tools.map.store import latest, load_version
from tools.recon import store as recon_store
from tools.recon.report import render_html as recon_html
from tools.shadow import store as shadow_store
from tools.shadow.report import render_html as shadow_html

router = console_router()


@router.get("/engagements", response_class=HTMLResponse)
def engagement_list(request: Request, db: Db, who: PageViewer) -> HTMLResponse:
    with db.session() as session:
        items = engagements.list_all(session)
    return page(request, "engagements.html", who, items=items)


@router.get("/engagements/{name}/map", response_class=HTMLResponse)
def integration_map(name: str, request: Request, db: Db, who: PageViewer,
                    version: Annotated[int | None, Query(ge=1)] = None) -> HTMLResponse:
    with db.session() as session:
        engagements.get(session, name)
        found = load_version(session, name, version) if version else latest(session, name)
    if found is None:
        raise NotFoundError(f"no integration map stored for {name!r} yet",
                            hint=f"build one with `fde map show --engagement {name}`")
    # to_svg escapes every label it draws, so its markup can go in as it is
    return page(request, "map.html", who, engagement=name, map=found, svg=Markup(to_svg(found)),
                mermaid=to_mermaid(found))


@router.get("/recon", response_class=HTMLResponse)
def recon_runs(request: Request, db: Db, who: PageViewer,
               engagement: str | None = None) -> HTMLResponse:
    with db.session() as session:
        runs = recon_store.list_runs(session, engagement=engagement or None, limit=200)
    return page(request, "recon.html", who, runs=runs, engagement=engagement)


@router.get("/recon/{run_id}", response_class=HTMLResponse)
def recon_report(run_id: str, db: Db, _: PageViewer) -> HTMLResponse:
    with db.session() as session:
        return HTMLResponse(recon_html(recon_store.load_run(session, run_id)))


@router.get("/shadow", response_class=HTMLResponse)
def shadow_runs(request: Request, db: Db, who: PageViewer,
                engagement: str | None = None) -> HTMLResponse:
    with db.session() as session:
        runs = shadow_store.list_runs(session, engagement or None, limit=200)
    return page(request, "shadow.html", who, runs=runs, engagement=engagement)


@router.get("/shadow/{run_id}", response_class=HTMLResponse)
def shadow_report(run_id: str, db: Db, _: PageViewer) -> HTMLResponse:
    with db.session() as session:
        return HTMLResponse(shadow_html(shadow_store.get_run(session, run_id)))


@router.get("/signals", response_class=HTMLResponse)
def signals(db: Db, _: PageViewer) -> HTMLResponse:
    with db.session() as session:
        return HTMLResponse(signals_html(collect_signals(session)))
