"""The signal report as one self-contained HTML page with inline SVG charts (no scripts,
no fonts, no CDN): it opens from a file, an e-mail attachment or an air-gapped laptop."""

from __future__ import annotations

from html import escape

from knowledge.signals.model import CATEGORIES, SignalReport
from knowledge.signals.render import format_money

__all__ = ["to_html"]

_COLOURS = {"integration_gap": "#2563eb", "migration_friction": "#d97706",
            "multi_product_failure": "#dc2626"}
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem;color:#111827}
h1{margin-bottom:.2rem} .muted{color:#6b7280} table{border-collapse:collapse;margin:1rem 0}
th,td{border-bottom:1px solid #e5e7eb;padding:.35rem .6rem;text-align:left;font-size:.9rem}
td.n{text-align:right} .cards{display:flex;gap:1rem;flex-wrap:wrap}
.card{border:1px solid #e5e7eb;border-radius:8px;padding:.8rem 1rem;min-width:14rem}
.card b{font-size:1.6rem;display:block} code{font-size:.8rem;background:#f3f4f6;padding:0 .2rem}
"""


def _bar_chart(rows: list[tuple[str, int, str]], *, title: str) -> str:
    """Horizontal bars: (label, value, colour)."""
    if not rows:
        return f'<svg role="img" aria-label="{escape(title)}" width="10" height="10"></svg>'
    top = max(v for _, v, _ in rows) or 1
    height, width, label_w = 24 * len(rows) + 10, 640, 260
    parts = [f'<svg role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
             f"<title>{escape(title)}</title>"]
    for i, (label, value, colour) in enumerate(rows):
        y = 5 + i * 24
        bar = max(2, int((width - label_w - 60) * value / top))
        parts.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" font-size="12">'
                     f"{escape(label[:40])}</text>")
        parts.append(f'<rect class="bar" x="{label_w}" y="{y}" width="{bar}" height="18" '
                     f'fill="{colour}"><title>{escape(label)}: {value}</title></rect>')
        parts.append(f'<text x="{label_w + bar + 6}" y="{y + 14}" font-size="12">{value}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _sparkline(values: list[int]) -> str:
    top = max(values) or 1
    w, h, step = 120, 24, 120 / max(1, len(values) - 1)
    points = " ".join(f"{i * step:.1f},{h - 2 - (h - 4) * v / top:.1f}"
                      for i, v in enumerate(values))
    return (f'<svg class="spark" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
            f'viewBox="0 0 {w} {h}"><polyline fill="none" stroke="#374151" stroke-width="1.5" '
            f'points="{points}"/></svg>')


def to_html(report: SignalReport) -> str:
    cards = "".join(
        f'<div class="card" style="border-top:4px solid {_COLOURS[c.category]}">'
        f"{escape(c.category)}<b>{c.count}</b>{c.signals} signal(s) · "
        f"{len(c.engagements)} engagement(s)<br><span class=muted>"
        f"{escape(format_money(c.money_impact))}</span></div>" for c in report.categories)
    category_chart = _bar_chart(
        [(c.category, c.count, _COLOURS[c.category]) for c in report.categories],
        title="occurrences by category")
    signal_chart = _bar_chart(
        [(f"{s.id} {s.title}", s.count, _COLOURS[s.category]) for s in report.signals[:20]],
        title="top signals by occurrences")
    rows = []
    for s in report.signals:
        evidence = "<br>".join(
            f"{escape(ex.engagement)}: " + " ".join(f"<code>{escape(i)}</code>"
                                                    for i in ex.evidence[:3])
            for ex in s.exemplars)
        rows.append(
            f"<tr><td>{escape(s.id)}<br><span class=muted>{escape(s.title)}</span></td>"
            f"<td>{escape(s.category)}</td><td class=n>{s.count}</td>"
            f"<td>{escape(', '.join(f'{e} ({n})' for e, n in s.by_engagement.items()))}</td>"
            f"<td>{escape(format_money(s.money_impact))}</td>"
            f"<td>{_sparkline(s.weekly)} {escape(s.trend)}</td><td>{evidence}</td></tr>")
    legend = " ".join(f'<span style="color:{_COLOURS[c]}">■</span> {c}' for c in CATEGORIES)
    note = "" if report.escalations_read else \
        "<p class=muted>Escalations were not available; signals come from findings and " \
        "reconciliation discrepancies.</p>"
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<title>Roadmap signals</title>"
        f"<style>{_CSS}</style></head><body><h1>Roadmap signals</h1>"
        f"<p class=muted>Generated {report.generated_at:%Y-%m-%d %H:%M} UTC · "
        f"{len(report.engagements)} engagement(s): {escape(', '.join(report.engagements))} · "
        f"weeks {escape(report.weeks[0])} to {escape(report.weeks[-1])}</p>{note}"
        f'<div class="cards">{cards}</div><h2>By category</h2>{category_chart}'
        f"<p>{legend}</p><h2>Top signals</h2>{signal_chart}"
        "<h2>All signals</h2><table><thead><tr><th>signal</th><th>category</th><th>count</th>"
        "<th>engagements</th><th>money impact</th><th>trend (8 weeks)</th>"
        f"<th>exemplar evidence</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        "</body></html>")
