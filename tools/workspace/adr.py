"""Decisions exported as Architecture Decision Records: one markdown file per decision,
numbered like the decision log (`0003-use-sepa-debit-for-eu.md`), in the MADR shape
(https://adr.github.io/madr/): status, deciders and date; context and problem statement;
decision drivers; considered options; the outcome ("Chosen option: …, because …") and its
consequences; pros and cons of each option; evidence links. Superseded records link to the
record that replaced them, and back; rejected and withdrawn ones say why.
"""

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
    if d.closed_reason:
        status += f" by {d.closed_by} on {d.closed_at.date().isoformat() if d.closed_at else '?'}"\
                  f": {d.closed_reason}"
    lines = [f"# {d.number}. {d.title}", "", f"- Status: {status}",
             f"- Deciders: {', '.join(d.decided_by)}",
             f"- Date: {d.created_at.date().isoformat()} (recorded by {d.created_by})"]
    if d.accepted_at:
        lines.append(f"- Accepted: {d.accepted_at.date().isoformat()} by {d.accepted_by}")
    if d.supersedes is not None:
        lines.append(f"- Supersedes: {link(d.supersedes)}")
    lines += ["", "## Context and Problem Statement", "", d.context]
    if d.drivers:
        lines += ["", "## Decision Drivers", "", *(f"- {x}" for x in d.drivers)]
    lines += ["", "## Considered Options", ""]
    lines += [f"- {o.name}" for o in d.alternatives] or ["- none recorded"]
    lines += ["", "## Decision Outcome", ""]
    if d.chosen:
        lines += [f'Chosen option: "{d.chosen}", because '
                  f"{d.because or 'no reason was recorded'}", ""]
    lines += [d.decision, "", "### Consequences", "", d.consequences or "none recorded"]
    argued = [o for o in d.alternatives if o.pros or o.cons]
    if argued:
        lines += ["", "## Pros and Cons of the Options"]
        for o in argued:
            lines += ["", f"### {o.name}", ""]
            lines += [f"- Good, because {x}" for x in o.pros]
            lines += [f"- Bad, because {x}" for x in o.cons]
    lines += ["", "## More Information", ""]
    lines += [f"- {e}" for e in d.evidence] or ["- no evidence linked"]
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
