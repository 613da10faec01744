"""The signal report as markdown (for an issue or a doc) and CSV (for a spreadsheet)."""

from __future__ import annotations

import csv
import io

from core.money import Money, UnknownCurrency
from knowledge.signals.model import SignalReport

__all__ = ["format_money", "to_csv", "to_markdown"]


def format_money(impact: dict[str, int]) -> str:
    parts = []
    for currency, amount in impact.items():
        try:
            parts.append(Money(amount=amount, currency=currency).format())
        except UnknownCurrency:
            parts.append(f"{amount} {currency.upper()} (minor units)")
    return ", ".join(parts) or "-"


def to_markdown(report: SignalReport) -> str:
    lines = [
        "# Roadmap signals", "",
        f"Generated {report.generated_at:%Y-%m-%d %H:%M} UTC over {len(report.engagements)} "
        f"engagement(s): {', '.join(report.engagements) or 'none'}.",
        "Sources: " + ", ".join(f"{n} {s}s" for s, n in sorted(report.sources.items()))
        + ("" if report.escalations_read else " (escalations not available yet)"), "",
        "| category | occurrences | signals | engagements | money impact |",
        "|---|---:|---:|---|---|",
    ]
    for c in report.categories:
        lines.append(f"| {c.category} | {c.count} | {c.signals} | {', '.join(c.engagements)} "
                     f"| {format_money(c.money_impact)} |")
    lines += ["", "## Signals", "",
              "| signal | category | count | engagements | money impact | trend |",
              "|---|---|---:|---|---|---|"]
    for s in report.signals:
        per = ", ".join(f"{e} ({n})" for e, n in s.by_engagement.items())
        lines.append(f"| {s.id} {s.title} | {s.category} | {s.count} | {per} | "
                     f"{format_money(s.money_impact)} | {s.trend} |")
    lines += ["", "## Exemplar evidence", ""]
    for s in report.signals:
        lines.append(f"### {s.id} — {s.title}")
        for ex in s.exemplars:
            ids = ", ".join(f"`{i}`" for i in ex.evidence) or "(no ids)"
            lines.append(f"- {ex.engagement} ({ex.source}): {ex.summary} — {ids}")
        lines.append("")
    return "\n".join(lines)


def to_csv(report: SignalReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["signal", "title", "category", "count", "findings", "discrepancies",
                     "escalations", "engagements", "currency", "money_impact_minor", "trend",
                     "weekly", "exemplar_evidence"])
    for s in report.signals:
        evidence = " ".join(i for ex in s.exemplars for i in ex.evidence)
        rows = list(s.money_impact.items()) or [("", 0)]
        for currency, amount in rows:  # one row per currency: never add across currencies
            writer.writerow([s.id, s.title, s.category, s.count, s.by_source.get("finding", 0),
                             s.by_source.get("discrepancy", 0),
                             s.by_source.get("escalation", 0), ";".join(s.engagements),
                             currency, amount, s.trend, " ".join(map(str, s.weekly)), evidence])
    return out.getvalue()
