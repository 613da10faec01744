"""`fde signals`: roadmap signals across engagements as markdown, CSV and an HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli import context
from cli.output import console, say
from knowledge.signals import collect_signals, to_csv, to_html, to_markdown


def signals(
    out: Annotated[Path | None, typer.Option(
        "--out", help="directory for signals.md, signals.csv, signals.html "
                      "(default: <data dir>/signals)")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="only print where the files are")] = False,
) -> None:
    """Aggregate findings, discrepancies and escalations into integration gaps, migration
    friction and multi-product failures."""
    with context.database().session() as session:
        report = collect_signals(session)
    target = out or context.settings().data_dir / "signals"
    target.mkdir(parents=True, exist_ok=True)
    markdown = to_markdown(report)
    (target / "signals.md").write_text(markdown)
    (target / "signals.csv").write_text(to_csv(report))
    (target / "signals.html").write_text(to_html(report))
    if not quiet:
        console.print(markdown, markup=False, highlight=False, soft_wrap=True)
    say(f"wrote {target / 'signals.md'}, {target / 'signals.csv'}, {target / 'signals.html'}")
