"""The `fde` app run inside the test process (a subprocess would pay the imports again)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def fresh_context() -> Iterator[None]:
    """`cli.context` caches settings and the database per process: reset around the test so
    the isolated data dir of this test is the one used."""
    from cli import context

    context.settings.cache_clear()
    context.database.cache_clear()
    try:
        yield
    finally:
        if context.database.cache_info().currsize:
            context.database().dispose()
        context.settings.cache_clear()
        context.database.cache_clear()


def fde_in_process(*args: str, stdin: str | None = None) -> tuple[int, str]:
    """Exit code and everything printed (stdout and stderr); unexpected exceptions raise."""
    from typer.testing import CliRunner

    from cli.main import app

    result = CliRunner().invoke(app, list(args), input=stdin)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output
