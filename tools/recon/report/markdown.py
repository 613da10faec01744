"""Markdown report: summary, bridge per currency, discrepancies grouped by class."""

from __future__ import annotations

from collections import defaultdict

from core.money import UnknownCurrency, exponent
from tools.recon.models import Discrepancy, ReconRun

__all__ = ["fmt_amount", "render_markdown", "by_class"]

MAX_ROWS = 200


def fmt_amount(amount: int | None, currency: str | None) -> str:
    if amount is None:
        return "-"
    if not currency:
        return str(amount)
    try:
        exp = exponent(currency)
    except UnknownCurrency:
        return f"{amount} (minor units, unknown currency {currency.upper()})"
    sign = "-" if amount < 0 else ""
    major, minor = divmod(abs(amount), 10**exp) if exp else (abs(amount), 0)
    return f"{sign}{major:,}{'.' + str(minor).zfill(exp) if exp else ''} {currency.upper()}"


def by_class(run: ReconRun) -> dict[str, list[Discrepancy]]:
    groups: dict[str, list[Discrepancy]] = defaultdict(list)
    for d in run.discrepancies:
        groups[d.class_.value].append(d)
    return dict(sorted(groups.items()))


def render_markdown(run: ReconRun) -> str:
    out = [f"# Reconciliation {run.id}", "",
           f"- engagement: {run.engagement or '-'}",
           f"- verdict: **{run.verdict.value}**",
           f"- started: {run.started_at.isoformat()}",
           f"- discrepancies: {len(run.discrepancies)}",
           f"- compared rows: {', '.join(f'{k} {v}' for k, v in run.compared.items()) or '-'}"]
    for reason in run.incomplete_reasons:
        out.append(f"- incomplete: {reason}")
    for warning in run.warnings:
        out.append(f"- warning: {warning}")
    out += ["", "## Bridge (net collected: payments − refunds)", ""]
    for b in run.bridge:
        if not b.computable:
            out += [f"### {b.label}", "", f"**not computable**: {b.reason}", ""]
            continue
        out += [f"### {b.label}", "", "| line | count | amount |", "|---|---:|---:|",
                f"| Stripe gross | | {fmt_amount(b.stripe_gross, b.currency)} |",
                f"| Stripe refunds | | {fmt_amount(b.stripe_refunds, b.currency)} |",
                f"| **Stripe total (net)** | | {fmt_amount(b.stripe_total, b.currency)} |"]
        out += [f"| {line.label} | {line.count} | {fmt_amount(line.amount, b.currency)} |"
                for line in b.adjustments]
        out += [f"| **User total (net)** | | {fmt_amount(b.user_total, b.currency)} |",
                f"| residual | | {fmt_amount(b.residual, b.currency)}"
                f"{' **BREAK**' if b.residual else ''} |", ""]
    out += ["## Discrepancies by class", ""]
    for cls, items in by_class(run).items():
        out += [f"### {cls} ({len(items)})", "",
                "| id | entity | Stripe | local | fields | impact | repair |",
                "|---|---|---|---|---|---:|---|"]
        for d in items[:MAX_ROWS]:
            repair = d.proposed_repair
            out.append(
                f"| {d.id} | {d.entity} | {d.stripe_id or '-'} | {d.local_key or '-'} | "
                f"{', '.join(d.fields) or d.reason} | {fmt_amount(d.money_impact, d.currency)} | "
                f"{repair.kind + ' (' + repair.tier + ')' if repair else '-'} |")
        if len(items) > MAX_ROWS:
            out.append(f"| … {len(items) - MAX_ROWS} more in the JSON report | | | | | | |")
        out.append("")
    return "\n".join(out)
