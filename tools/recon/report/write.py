"""Writes a run's three reports into a folder: report.json, report.md, report.html."""

from __future__ import annotations

from pathlib import Path

from tools.recon.models import ReconRun
from tools.recon.report.html import render_html
from tools.recon.report.markdown import render_markdown

__all__ = ["write_reports"]


def write_reports(run: ReconRun, folder: str | Path) -> dict[str, Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"json": folder / "report.json", "md": folder / "report.md",
             "html": folder / "report.html"}
    paths["json"].write_text(run.model_dump_json(indent=1, by_alias=True))
    paths["md"].write_text(render_markdown(run))
    paths["html"].write_text(render_html(run))
    return paths
