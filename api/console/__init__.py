"""The web console: server-rendered pages over the same services (and role checks) as the
JSON API, for engineers who work the escalation queue, follow runs live, chat with the
investigate assistant and read maps, reports, signals and engagement workspaces."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.console import login, queue, reports, runs, workspace
from api.console.render import STATIC, console_router

__all__ = ["install"]


def install(app: FastAPI) -> None:
    router = console_router()
    for module in (login, queue, runs, reports, workspace):
        router.include_router(module.router)
    app.include_router(router, prefix="/console")
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
