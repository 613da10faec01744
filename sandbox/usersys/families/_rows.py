"""Get-or-create of rows keyed by a Stripe id (shared by the family modules)."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select

from sandbox.usersys.context import Ctx

T = TypeVar("T")


def get_row(ctx: Ctx, model: type[T], column: Any, key: str) -> T | None:
    return ctx.session.scalar(select(model).where(column == key))


def get_or_new(ctx: Ctx, model: type[T], column: Any, key: str) -> tuple[T, bool]:
    """(row, created). New rows are added to the session, not yet flushed."""
    row = get_row(ctx, model, column, key)
    if row is not None:
        return row, False
    row = model(**{column.key: key})
    ctx.session.add(row)
    return row, True
