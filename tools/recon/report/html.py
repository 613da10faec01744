"""Self-contained HTML report (inline CSS, no scripts, no external assets): summary, bridge,
discrepancies by class with a drill-down (<details>) per discrepancy."""

from __future__ import annotations

import json
from html import escape

from tools.recon.models import ReconRun
from tools.recon.report.markdown import by_class, fmt_amount

__all__ = ["render_html"]

MAX_ROWS = 500
_CSS = """body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;
margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}.num{text-align:right}
.verdict{font-size:1.4em;font-weight:bold}.RECONCILED{color:#080}.BREAKS{color:#b00}
.INCOMPLETE{color:#b60}.RECONCILED_WITH_PENDING{color:#06b}pre{background:#f6f6f6;padding:.5em}
details{margin:.2em 0}summary{cursor:pointer}"""


def _e(value: object) -> str:
    return escape("" if value is None else str(value))


def render_html(run: ReconRun) -> str:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>Reconciliation "
             f"{_e(run.id)}</title><style>{_CSS}</style></head><body>",
             f"<h1>Reconciliation {_e(run.id)}</h1>",
             f"<p class='verdict {run.verdict.value}'>{run.verdict.value}</p>",
             f"<p>engagement {_e(run.engagement or '-')} · started {_e(run.started_at)} · "
             f"{len(run.discrepancies)} discrepancies</p>"]
    parts += [f"<p><b>incomplete:</b> {_e(r)}</p>" for r in run.incomplete_reasons]
    parts += [f"<p><b>warning:</b> {_e(w)}</p>" for w in run.warnings]
    parts.append("<h2>Summary</h2><table><tr><th>class</th><th>count</th></tr>")
    parts += [f"<tr><td>{_e(k)}</td><td class='num'>{v}</td></tr>"
              for k, v in sorted(run.counts.items())]
    parts.append("</table><h2>Bridge (net collected)</h2>")
    for b in run.bridge:
        if not b.computable:
            parts.append(f"<h3>{_e(b.label)}</h3><p><b>not computable</b>: {_e(b.reason)}</p>")
            continue
        parts.append(f"<h3>{_e(b.label)}</h3><table>"
                     "<tr><th>line</th><th>count</th><th>amount</th></tr>")
        rows = [("Stripe gross", "", b.stripe_gross), ("Stripe refunds", "", b.stripe_refunds),
                ("Stripe total", "", b.stripe_total)]
        rows += [(line.label, line.count, line.amount) for line in b.adjustments]
        rows += [("User total", "", b.user_total), ("residual", "", b.residual)]
        parts += [f"<tr><td>{_e(label)}</td><td class='num'>{_e(n)}</td>"
                  f"<td class='num'>{_e(fmt_amount(amount, b.currency))}</td></tr>"
                  for label, n, amount in rows]
        parts.append("</table>")
    parts.append("<h2>Discrepancies by class</h2>")
    for cls, items in by_class(run).items():
        parts.append(f"<details open><summary><b>{_e(cls)}</b> ({len(items)})</summary>")
        for d in items[:MAX_ROWS]:
            body = json.dumps(d.model_dump(mode="json", by_alias=True), indent=1)
            parts.append(
                f"<details><summary>{_e(d.entity)} {_e(d.stripe_id or '-')} ↔ "
                f"{_e(d.local_key or '-')} · {_e(', '.join(d.fields) or d.reason)} · "
                f"{_e(fmt_amount(d.money_impact, d.currency))}</summary>"
                f"<pre>{_e(body)}</pre></details>")
        if len(items) > MAX_ROWS:
            parts.append(f"<p>… {len(items) - MAX_ROWS} more in the JSON report</p>")
        parts.append("</details>")
    parts.append("</body></html>")
    return "".join(parts)
