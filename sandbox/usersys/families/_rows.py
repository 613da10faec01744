"""Get-or-create of rows keyed by a Stripe id (shared by the family modules)."""

from __future__ import annotations

from typing import Any, TypeVar

from sandbox.usersys.context import Ctx
from sandbox.usersys.models import by_key

T = TypeVar("T")


def get_row(ctx: Ctx, model: type[T], column: Any, key: str) -> T | None:
    return ctx.session.scalar(by_key(model, column.key), {"key": key})


def get_or_new(ctx: Ctx, model: type[T], column: Any, key: str) -> tuple[T, bool]:
    """(row, created). New rows are added to the session, not yet flushed."""
    row = get_row(ctx, model, column, key)
    if row is not None:
        return row, False
    return new_row(ctx, model, column, key), True


def new_row(ctx: Ctx, model: type[T], column: Any, key: str) -> T:
    row = model(**{column.key: key})
    ctx.session.add(row)
    return row
