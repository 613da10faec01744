"""A shadow run as JSON, markdown and self-contained HTML (inline CSS, no scripts)."""

from __future__ import annotations

from html import escape
from pathlib import Path

from core.money import Money, UnknownCurrency
from tools.shadow.invariants import INVARIANTS
from tools.shadow.models import Mismatch, ShadowRun

__all__ = ["render_html", "render_markdown", "write_reports"]

_CSS = """body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;
margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}.PASS{color:#080}
.FAIL{color:#b00}.INCONCLUSIVE{color:#b60}.verdict{font-size:1.4em;font-weight:bold}
.broken{background:#fdd}.holds{background:#efe}code{background:#f4f4f4}"""


def _money(amount: int, currency: str) -> str:
    try:
        return Money(amount=amount, currency=currency).format()
    except (UnknownCurrency, ValueError):
        return f"{amount} {currency} (minor units)"


def _title(invariant: str) -> str:
    return INVARIANTS.get(invariant, invariant)


def _what(m: Mismatch) -> str:
    if m.causes:
        return f"**{', '.join(m.causes)}**"
    return f"**{_title(m.invariant)}** — `{m.event_type}` ({m.fault or 'clean replay'})"


def render_markdown(run: ShadowRun) -> str:
    r = run.run
    billing = r.mode == "billing_parallel"
    lines = [f"# Shadow run {r.id} — {run.verdict.value}", "",
             f"- mode: {r.mode}; primary `{r.primary}`, candidate `{r.candidate}`"]
    if billing:
        lines.append(f"- legacy input: {r.corpus_hash} ({r.corpus_events} invoices)")
    else:
        lines += [f"- corpus: {r.corpus_hash} ({r.corpus_events} events, API {r.api_version})",
                  f"- fault seed: {r.fault_seed}; faults: {', '.join(r.faults) or 'none'}"]
    lines += [f"- reason: {reason}" for reason in run.reasons]
    lines += ["", "## Totals", ""] + [f"- {k}: {v}" for k, v in run.totals.items()]
    n = run.noise
    if not billing:
        lines += ["", "## Noise", "", f"{n.primary_vs_primary} differences between two "
                  f"primary runs; {n.removed} removed from the candidate comparison "
                  f"({', '.join(n.fields) or 'none'})."]
    if run.by_cause:
        lines += ["", "## By cause", ""] + [
            f"- {c}: {k}" for c, k in sorted(run.by_cause.items())]
    if run.money_impact:
        lines += ["", "## Money impact", ""] + [
            f"- {_money(m.amount_minor, m.currency)} over {m.mismatches} mismatches"
            for m in run.money_impact]
    if run.by_event_type:
        lines += ["", "## By event type", ""] + [
            f"- `{t}`: {c}" for t, c in sorted(run.by_event_type.items())]
    if run.fault_matrix:
        faults = list(dict.fromkeys(c.fault for c in run.fault_matrix))
        invs = list(dict.fromkeys(c.invariant for c in run.fault_matrix))
        cell = {(c.fault, c.invariant): c for c in run.fault_matrix}
        lines += ["", "## Fault matrix (candidate / primary)", "",
                  "| invariant | " + " | ".join(faults) + " |",
                  "|---|" + "---|" * len(faults)]
        for inv in invs:
            lines.append(f"| {_title(inv)} | " + " | ".join(
                f"{cell[(f, inv)].candidate} / {cell[(f, inv)].primary}" for f in faults) + " |")
    if run.top_mismatches:
        lines += ["", "## Top mismatches", ""]
        for m in run.top_mismatches:
            lines += [f"- {_what(m)}: {m.detail}", f"  `{m.repro}`"]
    return "\n".join(lines) + "\n"


def _e(value: object) -> str:
    return escape("" if value is None else str(value))


def render_html(run: ShadowRun) -> str:
    r = run.run
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>Shadow run {_e(r.id)}"
             f"</title><style>{_CSS}</style></head><body><h1>Shadow run {_e(r.id)}</h1>",
             f"<p class='verdict {run.verdict.value}'>{run.verdict.value}</p>",
             f"<p>{_e(r.mode)}: primary <code>{_e(r.primary)}</code>, candidate "
             f"<code>{_e(r.candidate)}</code>; corpus {_e(r.corpus_hash)} "
             f"({r.corpus_events} events); seed {_e(r.fault_seed)}</p>"]
    parts += [f"<p>reason: {_e(x)}</p>" for x in run.reasons]
    if r.mode == "billing_parallel":
        parts.append("<h2>By cause</h2><table>" + "".join(
            f"<tr><td>{_e(c)}</td><td>{k}</td></tr>" for c, k in sorted(run.by_cause.items()))
            + "</table>")
        parts.append("<h2>Money impact</h2><table>" + "".join(
            f"<tr><td>{_e(_money(m.amount_minor, m.currency))}</td><td>{m.mismatches} "
            "mismatches</td></tr>" for m in run.money_impact) + "</table>")
    else:
        parts.append(f"<p>Noise: {run.noise.primary_vs_primary} primary-vs-primary "
                     f"differences, {run.noise.removed} removed "
                     f"({_e(', '.join(run.noise.fields))})</p>")
    if run.fault_matrix:
        faults = list(dict.fromkeys(c.fault for c in run.fault_matrix))
        invs = list(dict.fromkeys(c.invariant for c in run.fault_matrix))
        cell = {(c.fault, c.invariant): c for c in run.fault_matrix}
        parts.append("<h2>Fault matrix</h2><table><tr><th>invariant</th>"
                     + "".join(f"<th>{_e(f)}</th>" for f in faults) + "</tr>")
        for inv in invs:
            parts.append(f"<tr><td>{_e(_title(inv))}</td>" + "".join(
                f"<td class='{cell[(f, inv)].candidate}' title='{_e(cell[(f, inv)].example)}'>"
                f"{cell[(f, inv)].candidate}</td>" for f in faults) + "</tr>")
        parts.append("</table>")
    if run.top_mismatches:
        parts.append("<h2>Top mismatches</h2><table><tr><th>invariant</th><th>event type</th>"
                     "<th>fault</th><th>detail</th><th>repro</th></tr>")
        parts += [f"<tr><td>{_e(', '.join(m.causes) or _title(m.invariant))}</td>"
                  f"<td>{_e(m.event_type or m.object_id)}</td>"
                  f"<td>{_e(m.fault or 'clean')}</td><td>{_e(m.detail)}</td>"
                  f"<td><code>{_e(m.repro)}</code></td></tr>" for m in run.top_mismatches]
        parts.append("</table>")
    parts.append("</body></html>")
    return "".join(parts)


def write_reports(run: ShadowRun, folder: str | Path) -> dict[str, Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"json": folder / "report.json", "md": folder / "report.md",
             "html": folder / "report.html"}
    paths["json"].write_text(run.model_dump_json(indent=1))
    paths["md"].write_text(render_markdown(run))
    paths["html"].write_text(render_html(run))
    return paths
