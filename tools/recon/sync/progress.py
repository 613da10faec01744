"""Progress display for syncs: a protocol, a silent default and a Rich progress bar."""

from __future__ import annotations

from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

__all__ = ["NullProgress", "RichProgress", "SyncProgress"]


class SyncProgress(Protocol):
    def start(self, name: str) -> None: ...
    def advance(self, name: str, n: int) -> None: ...
    def finish(self, name: str) -> None: ...


class NullProgress:
    def start(self, name: str) -> None:
        return None

    def advance(self, name: str, n: int) -> None:
        return None

    def finish(self, name: str) -> None:
        return None


class RichProgress:
    """One row per object type; totals are unknown up front (Stripe lists have no count)."""

    def __init__(self, console: Console | None = None) -> None:
        self._progress = Progress(
            SpinnerColumn(), TextColumn("{task.description:<18}"), BarColumn(),
            MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=False,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def start(self, name: str) -> None:
        if name not in self._tasks:
            self._tasks[name] = self._progress.add_task(name, total=None)

    def advance(self, name: str, n: int) -> None:
        self.start(name)
        self._progress.advance(self._tasks[name], n)

    def finish(self, name: str) -> None:
        if name in self._tasks:
            task = self._tasks[name]
            done = self._progress.tasks[self._tasks[name]].completed
            self._progress.update(task, total=done, completed=done)
