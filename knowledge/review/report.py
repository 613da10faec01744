"""The review report model and its renderings (markdown, HTML)."""

from __future__ import annotations

import html

from pydantic import BaseModel, Field

__all__ = ["MatchedPattern", "ReviewReport", "Violation", "render_html", "render_markdown"]

SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}


class Violation(BaseModel):
    check: str
    severity: str
    item: str = Field(description="the checklist item text")
    evidence: list[str]
    patterns: list[str]
    recommendation: str


class MatchedPattern(BaseModel):
    id: str
    title: str
    passed: list[str]
    violated: list[str]
    to_verify: list[str] = Field(description="checks the description cannot answer")


class ReviewReport(BaseModel):
    architecture: str
    products: list[str]
    matched_patterns: list[MatchedPattern]
    violations: list[Violation]
    passed: list[str]
    references: list[str]

    @property
    def violated_checks(self) -> set[str]:
        return {v.check for v in self.violations}

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(SEVERITY_ORDER, 0)
        for v in self.violations:
            out[v.severity] += 1
        return out


def render_markdown(report: ReviewReport) -> str:
    counts = report.counts()
    lines = [f"# Architecture review: {report.architecture}", ""]
    lines.append(f"Products: {', '.join(report.products) or '-'}  ")
    lines.append("Violations: " + ", ".join(f"{n} {sev}" for sev, n in counts.items()) +
                 f"; {len(report.passed)} checks passed.")
    lines += ["", "## Violated checklist items", ""]
    if not report.violations:
        lines.append("None.")
    for v in report.violations:
        lines.append(f"### [{v.severity}] `{v.check}`")
        lines.append("")
        lines.append(v.item)
        lines.append("")
        lines.append("Evidence:")
        lines += [f"- `{e}`" for e in v.evidence]
        lines.append("")
        lines.append(f"Recommendation: {v.recommendation}")
        lines.append(f"Patterns: {', '.join(v.patterns)}")
        lines.append("")
    lines += ["## Matched patterns", "", "| pattern | passed | violated | to verify |",
              "|---|---|---|---|"]
    for p in report.matched_patterns:
        lines.append(f"| {p.id} — {p.title} | {len(p.passed)} | "
                     f"{', '.join(p.violated) or '-'} | {', '.join(p.to_verify) or '-'} |")
    lines += ["", "## References", ""]
    lines += [f"- {r}" for r in report.references] or ["-"]
    return "\n".join(lines) + "\n"


_CSS = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .5rem}"
        ".critical{color:#fff;background:#a00}.high{background:#f66}.medium{background:#fc6}"
        ".low{background:#ddd}.sev{padding:0 .4rem;border-radius:.2rem;font-size:.85em}"
        "code{background:#f4f4f4;padding:0 .2rem}")


def render_html(report: ReviewReport) -> str:
    e = html.escape
    counts = report.counts()
    parts = ["<!doctype html><html><head><meta charset='utf-8'>",
             f"<title>Architecture review: {e(report.architecture)}</title>",
             f"<style>{_CSS}</style></head><body>",
             f"<h1>Architecture review: {e(report.architecture)}</h1>",
             f"<p>Products: {e(', '.join(report.products) or '-')}. Violations: "
             + ", ".join(f"{n} {sev}" for sev, n in counts.items())
             + f"; {len(report.passed)} checks passed.</p>",
             "<h2>Violated checklist items</h2>"]
    if not report.violations:
        parts.append("<p>None.</p>")
    for v in report.violations:
        parts.append(f"<section><h3><span class='sev {e(v.severity)}'>{e(v.severity)}</span> "
                     f"<code>{e(v.check)}</code></h3><p>{e(v.item)}</p><p>Evidence:</p><ul>")
        parts += [f"<li><code>{e(x)}</code></li>" for x in v.evidence]
        parts.append(f"</ul><p><b>Recommendation:</b> {e(v.recommendation)}</p>"
                     f"<p>Patterns: {e(', '.join(v.patterns))}</p></section>")
    parts.append("<h2>Matched patterns</h2><table><tr><th>pattern</th><th>passed</th>"
                 "<th>violated</th><th>to verify</th></tr>")
    for p in report.matched_patterns:
        parts.append(f"<tr><td>{e(p.id)} — {e(p.title)}</td><td>{len(p.passed)}</td>"
                     f"<td>{e(', '.join(p.violated) or '-')}</td>"
                     f"<td>{e(', '.join(p.to_verify) or '-')}</td></tr>")
    parts.append("</table><h2>References</h2><ul>")
    parts += [f"<li>{e(r)}</li>" for r in report.references]
    parts.append("</ul></body></html>")
    return "\n".join(parts) + "\n"
