"""What `fde shadow run` shows while it works and when it is done: a progress bar of events
replayed (all replays of the run, with an ETA) and one bar per delivery lane of the
current replay; then a summary a person reads in a minute — verdict, why, the top
differences with the line that reproduces each, the fault matrix, and the wall time."""

from __future__ import annotations

import threading
from collections import Counter
from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from tools.shadow.models import ShadowRun
from tools.shadow.replay import Attempt

__all__ = ["ReplayProgress", "render_summary"]

TOP = 10


class ReplayProgress:
    """An `Observer` (tools.shadow.replay) drawing Rich progress bars on stderr. `total` is
    the number of first deliveries of the whole run (every replay's plan)."""

    def __init__(self, total: int, *, console: Console, enabled: bool = True) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TimeRemainingColumn(), console=console,
            disable=not enabled, transient=False)
        self.overall = self.progress.add_task("events replayed", total=total)
        self.lanes: list[TaskID] = []
        self.outcomes: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._replays = 0

    def __enter__(self) -> ReplayProgress:
        self.progress.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.progress.stop()

    def started(self, target: str, lanes: list[int]) -> None:
        with self._lock:
            for task in self.lanes:
                self.progress.remove_task(task)
            self._replays += 1
            self.progress.update(self.overall, description=f"events replayed (replay "
                                 f"{self._replays}: {escape(target)})")
            self.lanes = [self.progress.add_task(f"  lane {n + 1}", total=size)
                          for n, size in enumerate(lanes)]

    def delivered(self, target: str, lane: int, attempt: Attempt) -> None:
        with self._lock:
            note = (attempt.note or "").split(" ", 1)[0]
            self.outcomes[note or str(attempt.status)] += 1
            if attempt.attempt == 1:
                self.progress.advance(self.overall)
                if lane < len(self.lanes):
                    self.progress.advance(self.lanes[lane])


def _matrix(run: ShadowRun) -> Table | None:
    if not run.fault_matrix:
        return None
    faults = list(dict.fromkeys(c.fault for c in run.fault_matrix))
    rows = list(dict.fromkeys(c.invariant for c in run.fault_matrix))
    cell = {(c.fault, c.invariant): c for c in run.fault_matrix}
    table = Table(title="fault matrix (candidate / primary)", title_justify="left")
    table.add_column("check")
    for fault in faults:
        table.add_column(fault)
    for row in rows:
        values = []
        for fault in faults:
            c = cell.get((fault, row))
            if c is None:
                values.append("")
                continue
            colour = "red" if c.candidate == "broken" and c.primary != "broken" else ""
            text = f"{c.candidate} / {c.primary}"
            values.append(f"[{colour}]{text}[/]" if colour else text)
        table.add_row(escape(row), *values)
    return table


def render_summary(run: ShadowRun, console: Console, *, outcomes: Counter[str] | None = None,
                   focus: str | None = None) -> None:
    colour = {"PASS": "green", "FAIL": "red"}.get(run.verdict.value, "yellow")
    r = run.run
    seconds = (r.finished_at - r.started_at).total_seconds() if r.finished_at else 0.0
    billing = r.mode == "billing_parallel"
    noise = "" if billing else f", noise removed {run.noise.removed}"
    console.print(f"run {r.id}: [bold {colour}]{run.verdict.value}[/] — "
                  f"{len(run.mismatches)} differences{noise}; {r.corpus_events} "
                  f"{'invoices' if billing else 'events'}, wall time {seconds:.1f} s")
    for reason in run.reasons:
        console.print(f"  {escape(reason)}")
    if outcomes:
        shown = ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items()))
        console.print(f"  delivery outcomes (every attempt, every replay): {escape(shown)}")
    top = [m for m in run.top_mismatches if focus in (None, m.event_id)][:TOP]
    # Every repro line starts with the same command; print it once, then what varies.
    bases = {m.repro.split(" --only ", 1)[0] for m in top if " --only " in m.repro}
    base = bases.pop() if len(bases) == 1 else None
    if top:
        console.print("top differences:")
    if base:
        console.print(escape(f"  repro: {base} + the options after each difference"),
                      style="dim")
    for n, m in enumerate(top, 1):
        what = ", ".join(m.causes) if m.causes else \
            f"{m.invariant} · {m.event_type or m.object_id} · {m.fault or 'clean'}"
        money = f" [{m.amount_minor} {m.currency} minor units]" if m.amount_minor else ""
        console.print(escape(f"  {n}. {what}{money}: {m.detail}"))
        if base and m.repro.startswith(base + " --only "):
            repro = "+ " + m.repro[len(base) + 1:]
        else:
            repro = f"repro: {m.repro}"
        console.print(escape(f"     {repro}"), style="dim")
    table = _matrix(run)
    if table is not None:
        console.print(table)
