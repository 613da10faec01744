"""`fde eval run`: the diagnosis eval suite (evals/scenarios) against the triage graph, with
markdown, JSON and HTML reports and an optional comparison against an earlier report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli import context
from cli.output import say
from core.errors import ConfigError

__all__ = ["app"]

app = typer.Typer(help="Evaluate the triage agent on the scenario suite.", no_args_is_help=True)


@app.command("run")
def run(
    planner: Annotated[str, typer.Option(help="offline or llm")] = "offline",
    only: Annotated[str | None, typer.Option(help="only scenarios with this tag (or id)")] = None,
    jobs: Annotated[int, typer.Option("-j", "--jobs", min=1, max=32,
                                      help="cases run in parallel processes")] = 1,
    out: Annotated[Path, typer.Option(help="report folder")] = Path("eval-report"),
    compare: Annotated[Path | None, typer.Option(
        "--compare", help="a previous report.json (or its folder) to compare with")] = None,
    scenarios: Annotated[Path | None, typer.Option(help="scenario folder")] = None,
) -> None:
    """Build each scenario's world (cached), triage its ticket, score, write the reports."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from cli.output import console
    from cli.sandbox import worlds_dir
    from evals.report import compare as compare_reports
    from evals.report import load_report, write_reports
    from evals.scenario import SCENARIOS_DIR, load_scenarios
    from evals.suite import run_suite
    from evals.worlds import WorldCache

    if planner not in ("offline", "llm"):
        raise ConfigError(f"--planner {planner!r} is not offline or llm",
                          hint="--planner offline (default) or --planner llm")
    previous = load_report(compare) if compare else None  # fail before a long run
    cases = load_scenarios(scenarios or SCENARIOS_DIR, only=only)
    if planner == "llm":
        import os

        from agents.planners.base import select_planner

        select_planner(dict(os.environ), prefer="llm")  # no key → a clear error now
    from agents.wiring import knowledge_opener

    # the pattern index when `fde knowledge index` built one, as a triage would use it
    worlds = WorldCache(worlds_dir(context.settings().data_dir) / "evals",
                        knowledge=knowledge_opener())
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task(f"{len(cases)} scenarios, -j {jobs}", total=len(cases))

        def advance(case_run) -> None:  # noqa: ANN001 - a CaseRun
            progress.advance(task)
            progress.console.print(f"  {case_run.id}: {case_run.status} "
                                   f"({case_run.latency_s:.1f} s)", markup=False)

        report = run_suite(cases, worlds=worlds, planner=planner, jobs=jobs, only=only,
                           on_case=advance)
    if previous is not None:
        report.comparison = compare_reports(previous, report, str(compare))
    paths = write_reports(report, out)
    m = report.metrics
    say(f"{m.passed}/{m.cases} passed in {report.wall_s:.1f} s: failure-mode accuracy "
        f"{m.failure_mode_accuracy:.3f}, category {m.category_accuracy:.3f}, escalation "
        f"precision {m.escalation_precision:.3f} recall {m.escalation_recall:.3f}, "
        f"fabricated {m.fabricated_items}, forbidden actions {m.forbidden_violations}")
    if report.comparison:
        for change in report.comparison.changed:
            say(f"  changed: {change.id} {change.before} → {change.after}")
    say("reports: " + ", ".join(str(p) for p in paths.values()))
