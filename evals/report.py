"""Eval reports: one JSON document (the source of truth, and what `--compare` reads back),
rendered as markdown and as a self-contained HTML page, with per-scenario diffs and the
change against a previous report."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from core.errors import ConfigError
from evals.score import CaseScore, SuiteScore

__all__ = ["CaseReport", "Comparison", "SuiteReport", "compare", "load_report",
           "write_reports"]

METRICS = ("failure_mode_accuracy", "category_accuracy", "escalation_precision",
           "escalation_recall", "fabricated_items", "citation_ok_rate", "forbidden_violations",
           "tool_calls_mean", "latency_p50_s", "tokens_total")


class CaseReport(BaseModel):
    id: str
    title: str
    area: str
    tags: list[str]
    passed: bool
    status: str
    outcome: str | None
    failure_mode: str | None
    category: str | None
    expected_failure_modes: list[str]
    score: CaseScore
    explanation: str = ""
    error: str | None = None


class Change(BaseModel):
    id: str
    before: bool | None
    after: bool | None


class Comparison(BaseModel):
    previous: str
    deltas: dict[str, float] = Field(default_factory=dict)
    changed: list[Change] = Field(default_factory=list)


class SuiteReport(BaseModel):
    planner: str
    jobs: int
    only: str | None
    wall_s: float
    metrics: SuiteScore
    cases: list[CaseReport]
    comparison: Comparison | None = None


def load_report(path: Path) -> SuiteReport:
    target = path / "report.json" if path.is_dir() else path
    try:
        return SuiteReport.model_validate_json(target.read_text())
    except FileNotFoundError:
        raise ConfigError(f"no previous report at {target}",
                          hint="pass the report.json (or its folder) of an earlier run") from None
    except ValidationError as exc:
        raise ConfigError(f"{target} is not an eval report: {exc.errors()[0]['msg']}",
                          hint="pass a report.json written by `fde eval run`") from None


def compare(previous: SuiteReport, current: SuiteReport, label: str) -> Comparison:
    before = previous.metrics.model_dump()
    after = current.metrics.model_dump()
    deltas = {m: round(after[m] - before[m], 4) for m in METRICS}
    was = {c.id: c.passed for c in previous.cases}
    now = {c.id: c.passed for c in current.cases}
    changed = [Change(id=i, before=was.get(i), after=now.get(i))
               for i in sorted(set(was) | set(now)) if was.get(i) != now.get(i)]
    return Comparison(previous=label, deltas=deltas, changed=changed)


def _fmt(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _markdown(r: SuiteReport) -> str:
    m = r.metrics
    lines = [f"# Eval report ({r.planner} planner)", "",
             f"{m.passed}/{m.cases} scenarios passed in {r.wall_s:.1f} s with -j {r.jobs}"
             + (f", only {r.only!r}" if r.only else "") + ".", "", "| metric | value |",
             "|---|---|"]
    lines += [f"| {k} | {_fmt(v)} |" for k, v in m.model_dump().items()]
    if r.comparison:
        lines += ["", f"## Against {r.comparison.previous}", "", "| metric | delta |", "|---|---|"]
        lines += [f"| {k} | {v:+.4g} |" for k, v in r.comparison.deltas.items()]
        lines += [f"- {c.id}: {c.before} → {c.after}" for c in r.comparison.changed] or [
            "", "No scenario changed result."]
    lines += ["", "## Scenarios", "", "| scenario | area | result | expected | got | tools | s |",
              "|---|---|---|---|---|---|---|"]
    for c in r.cases:
        lines.append(f"| {c.id} | {c.area} | {'pass' if c.passed else 'FAIL'} | "
                     f"{', '.join(c.expected_failure_modes) or 'no defect'} | "
                     f"{c.failure_mode or c.outcome or c.status} | {c.score.tool_calls} | "
                     f"{c.score.latency_s:.1f} |")
    failed = [c for c in r.cases if not c.passed]
    if failed:
        lines += ["", "## Diffs"]
        for c in failed:
            lines += ["", f"### {c.id}: {c.title}"]
            lines += [f"- {d.field}: expected `{d.expected}`, got `{d.got}`" for d in c.score.diffs]
            if c.error:
                lines.append(f"- error: {c.error}")
    return "\n".join(lines) + "\n"


_CSS = ("body{font:14px system-ui,sans-serif;margin:2em;max-width:1100px}table{border-collapse:"
        "collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}.FAIL{color:#b00;"
        "font-weight:bold}.pass{color:#070}pre{white-space:pre-wrap;background:#f6f6f6;"
        "padding:6px}")


def _html(r: SuiteReport) -> str:
    e = html.escape
    m = r.metrics
    rows = "".join(f"<tr><th>{e(k)}</th><td>{e(_fmt(v))}</td></tr>"
                   for k, v in m.model_dump().items())
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>Eval report</title>"
             f"<style>{_CSS}</style></head><body><h1>Eval report ({e(r.planner)} planner)</h1>",
             f"<p>{m.passed}/{m.cases} passed in {r.wall_s:.1f} s with -j {r.jobs}</p>",
             f"<table>{rows}</table>"]
    if r.comparison:
        deltas = "".join(f"<tr><th>{e(k)}</th><td>{v:+.4g}</td></tr>"
                         for k, v in r.comparison.deltas.items())
        changed = "".join(f"<li>{e(c.id)}: {c.before} → {c.after}</li>"
                          for c in r.comparison.changed) or "<li>no scenario changed</li>"
        parts.append(f"<h2>Against {e(r.comparison.previous)}</h2><table>{deltas}</table>"
                     f"<ul>{changed}</ul>")
    parts.append("<h2>Scenarios</h2>")
    for c in r.cases:
        verdict = "pass" if c.passed else "FAIL"
        diffs = "".join(f"<li>{e(d.field)}: expected <code>{e(str(d.expected))}</code>, got "
                        f"<code>{e(str(d.got))}</code></li>" for d in c.score.diffs)
        parts.append(
            f"<details{' open' if not c.passed else ''}><summary><span class='{verdict}'>"
            f"{verdict}</span> {e(c.id)} — {e(c.title)} ({e(c.area)})</summary>"
            f"<p>expected {e(', '.join(c.expected_failure_modes) or 'no defect')}; got "
            f"{e(str(c.failure_mode or c.outcome or c.status))}; status {e(c.status)}; "
            f"{c.score.tool_calls} tool calls; {c.score.latency_s:.2f} s</p>"
            f"<ul>{diffs}</ul><pre>{e(c.error or c.explanation)}</pre></details>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_reports(report: SuiteReport, out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "report.json", "md": out / "report.md", "html": out / "report.html"}
    paths["json"].write_text(json.dumps(report.model_dump(mode="json"), indent=1))
    paths["md"].write_text(_markdown(report))
    paths["html"].write_text(_html(report))
    return paths
