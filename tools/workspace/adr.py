"""Decisions exported as Architecture Decision Records: one markdown file per decision,
numbered like the decision log (`0003-use-sepa-debit-for-eu.md`), in a MADR-like shape —
status, who and when, context, decision, alternatives, consequences, evidence links.
Superseded records link to the record that replaced them, and back."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from tools.workspace.models import Decision

__all__ = ["AdrFile", "export_adrs", "render_adr"]


class AdrFile(BaseModel):
    number: int
    filename: str
    markdown: str


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "decision"


def filename(d: Decision) -> str:
    return f"{d.number:04d}-{_slug(d.title)}.md"


def render_adr(d: Decision, by_number: dict[int, Decision]) -> str:
    def link(number: int) -> str:
        other = by_number.get(number)
        return f"[ADR-{number:04d}]({filename(other)})" if other else f"ADR-{number:04d}"

    status = d.status
    if d.superseded_by is not None:
        status += f" by {link(d.superseded_by)}"
    lines = [f"# {d.number}. {d.title}", "", f"- Status: {status}",
             f"- Deciders: {', '.join(d.decided_by)}",
             f"- Date: {d.created_at.date().isoformat()} (recorded by {d.created_by})"]
    if d.accepted_at:
        lines.append(f"- Accepted: {d.accepted_at.date().isoformat()} by {d.accepted_by}")
    if d.supersedes is not None:
        lines.append(f"- Supersedes: {link(d.supersedes)}")
    lines += ["", "## Context and problem statement", "", d.context, "",
              "## Decision outcome", "", d.decision, "", "## Considered options", ""]
    lines += [f"- {a}" for a in d.alternatives] or ["- none recorded"]
    lines += ["", "## Consequences", "", d.consequences or "none recorded", "",
              "## Evidence", ""]
    lines += [f"- {e}" for e in d.evidence] or ["- none linked"]
    return "\n".join(lines) + "\n"


def export_adrs(decisions: list[Decision], out: Path | None = None) -> list[AdrFile]:
    """Render every decision; write them under `out` when given (one file each)."""
    by_number = {d.number: d for d in decisions}
    files = [AdrFile(number=d.number, filename=filename(d), markdown=render_adr(d, by_number))
             for d in sorted(decisions, key=lambda d: d.number)]
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for f in files:
            (out / f.filename).write_text(f.markdown, encoding="utf-8")
    return files
