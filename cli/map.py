"""`fde map show|drift --engagement NAME`: the integration map and what changed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli import context
from cli.check import build_engagement_context
from cli.output import console, print_json, say
from tools.checks.engagement import EngagementInputs
from tools.map import build_map, drift, to_html, to_json, to_mermaid
from tools.map.store import latest, load_version, save_snapshot

app = typer.Typer(help="Integration map: Stripe objects, endpoints, handlers, tables, health.",
                  no_args_is_help=True)

EngagementOpt = Annotated[str, typer.Option("--engagement", "-e", help="engagement name")]


def _refresh(engagement: str, sync: bool):  # noqa: ANN202
    inputs = EngagementInputs()
    ctx = build_engagement_context(engagement, sync=sync, inputs=inputs)
    fresh = build_map(ctx, tables=inputs.tables, engagement=engagement)
    with context.database().session() as session:
        previous = latest(session, engagement)
        stored = save_snapshot(session, engagement, fresh)
    for warning in inputs.warnings:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    return previous, stored


@app.command("show")
def show(
    engagement: EngagementOpt,
    fmt: Annotated[str, typer.Option("--format", help="json, mermaid or html")] = "json",
    out: Annotated[Path | None, typer.Option(help="write to this file")] = None,
    refresh: Annotated[bool, typer.Option("--refresh/--stored",
                                          help="build a new version first")] = True,
    sync: Annotated[bool, typer.Option("--sync/--no-sync")] = True,
    version: Annotated[int | None, typer.Option(help="a stored version")] = None,
) -> None:
    """Build (and store as a new version when it changed) the map, then render it."""
    if version is not None:
        with context.database().session() as session:
            current = load_version(session, engagement, version)
    elif refresh:
        _previous, current = _refresh(engagement, sync)
    else:
        with context.database().session() as session:
            current = latest(session, engagement)
        if current is None:
            _previous, current = _refresh(engagement, sync)
    renderers = {"json": to_json, "mermaid": to_mermaid, "html": to_html}
    if fmt not in renderers:
        raise typer.BadParameter("use json, mermaid or html", param_hint="--format")
    text = renderers[fmt](current)
    if out:
        out.write_text(text)
        say(f"map v{current.version} written to {out}")
    else:
        console.print(text, markup=False, highlight=False, soft_wrap=True)


@app.command("drift")
def drift_cmd(
    engagement: EngagementOpt,
    from_version: Annotated[int | None, typer.Option("--from")] = None,
    to_version: Annotated[int | None, typer.Option("--to")] = None,
    sync: Annotated[bool, typer.Option("--sync/--no-sync")] = True,
) -> None:
    """What changed: by default between the latest stored version and a fresh build."""
    with context.database().session() as session:
        old = load_version(session, engagement, from_version) if from_version else None
        new = load_version(session, engagement, to_version) if to_version else None
    if new is None:
        previous, new = _refresh(engagement, sync)
        old = old or previous
    if old is None:
        say("no earlier map version to compare with; this build is version "
            f"{new.version}")
        print_json({"from": None, "to": new.version, "drift": []})
        return
    items = drift(old, new)
    print_json({"from": old.version, "to": new.version,
                "drift": [i.model_dump(mode="json") for i in items]})
