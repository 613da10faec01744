"""Map views: JSON, Mermaid (flowchart), and a self-contained HTML page with an inline SVG
(no scripts, no network)."""

from __future__ import annotations

import html
import re

from tools.map.model import Edge, IntegrationMap

__all__ = ["to_html", "to_json", "to_mermaid", "to_svg"]

_COLUMNS = ("product", "price", "payment_method", "account", "event_type", "endpoint",
            "api_version", "receiver", "handler", "stripe_object", "table")


def to_json(m: IntegrationMap) -> str:
    return m.model_dump_json(indent=1)


def _mid(nid: str) -> str:
    return "n_" + re.sub(r"[^A-Za-z0-9_]", "_", nid)


def _edge_label(e: Edge) -> str:
    if e.health is None or e.health.success_rate is None:
        return e.kind
    return f"{e.kind} {e.health.success_rate:.0%}"


def to_mermaid(m: IntegrationMap) -> str:
    lines = ["flowchart LR"]
    for n in m.nodes:
        label = n.label.replace('"', "'")
        lines.append(f'  {_mid(n.id)}["{n.kind}: {label}"]')
    for e in m.edges:
        bad = e.health is not None and (e.health.success_rate or 1.0) < 0.95
        arrow = "-.->" if bad else "-->"
        lines.append(f"  {_mid(e.source)} {arrow}|{_edge_label(e)}| {_mid(e.target)}")
    return "\n".join(lines) + "\n"


def to_svg(m: IntegrationMap) -> str:
    columns = [k for k in _COLUMNS if any(n.kind == k for n in m.nodes)]
    pos: dict[str, tuple[int, int]] = {}
    rows = 1
    for ci, kind in enumerate(columns):
        members = [n for n in m.nodes if n.kind == kind]
        rows = max(rows, len(members))
        for ri, n in enumerate(members):
            pos[n.id] = (20 + ci * 230, 30 + ri * 34)
    width, height = 40 + len(columns) * 230, 60 + rows * 34
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           'font-family="sans-serif" font-size="11">']
    for e in m.edges:
        if e.source in pos and e.target in pos:
            (x1, y1), (x2, y2) = pos[e.source], pos[e.target]
            bad = e.health is not None and (e.health.success_rate or 1.0) < 0.95
            colour = "#c0392b" if bad else "#7f8c8d"
            out.append(f'<line x1="{x1 + 200}" y1="{y1 + 10}" x2="{x2}" y2="{y2 + 10}" '
                       f'stroke="{colour}"><title>{html.escape(_edge_label(e))}</title></line>')
    for n in m.nodes:
        x, y = pos[n.id]
        out.append(f'<rect x="{x}" y="{y}" width="200" height="22" rx="4" fill="#eef2f7" '
                   f'stroke="#34495e"/><text x="{x + 6}" y="{y + 15}">'
                   f'{html.escape((n.kind + ": " + n.label)[:34])}</text>')
    out.append("</svg>")
    return "\n".join(out)


def to_html(m: IntegrationMap) -> str:
    title = f"Integration map — {html.escape(m.engagement or 'engagement')}"
    rows = "".join(
        f"<tr><td>{html.escape(e.source)}</td><td>{html.escape(e.kind)}</td>"
        f"<td>{html.escape(e.target)}</td><td>{'' if e.health is None else e.health.deliveries}"
        f"</td><td>{'' if e.health is None or e.health.success_rate is None else f'{e.health.success_rate:.1%}'}"  # noqa: E501
        f"</td><td>{'' if e.health is None else html.escape(str(e.health.p95_lag_seconds))}</td>"
        f"<td>{'' if e.health is None else html.escape(e.health.last_error or '')}</td></tr>"
        for e in m.edges)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
            "<style>body{font-family:sans-serif}td,th{border-bottom:1px solid #ddd;"
            "padding:2px 6px;font-size:12px}</style></head><body>"
            f"<h1>{title}</h1><p>version {m.version or '-'}, built {m.built_at}</p>"
            f"{to_svg(m)}<h2>Edges</h2><table><tr><th>source</th><th>kind</th><th>target</th>"
            "<th>deliveries</th><th>success</th><th>p95 lag s</th><th>last error</th></tr>"
            f"{rows}</table></body></html>\n")
