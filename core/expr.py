"""Expressions that users write in their own files: SQL scalar expressions run by Polars.

A mapping (derived local values, conditions, row filters) or a shadow invariant (the value
an entity should hold) needs a small computed value over named fields — "the payment is
`refunded` when the PaymentIntent succeeded and its charge has money refunded". Users write
that as the SQL they already know::

    CASE WHEN status = 'succeeded' AND charge.amount_refunded > 0 THEN 'refunded'
         WHEN status = 'succeeded' THEN 'paid' ELSE 'pending' END
    GREATEST(created, status_transitions.paid_at)
    metadata.plan IS NOT NULL

Polars parses it (`pl.sql_expr`) into a vectorised expression, so one compiled expression
serves a million-row frame as well as a handful of webhook objects. `a.b` reads field `b`
of struct column `a` (nested Stripe objects). Why this language and not JMESPath or DuckDB:
docs/decisions/0001-expression-language.md.

Every mistake is a `ConfigError` that names where the expression came from (file, entity,
field), what is wrong and the columns that exist — never a Polars traceback.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from core.errors import ConfigError

__all__ = ["Expression", "ExpressionError", "compile_expression", "frame_of"]


class ExpressionError(ConfigError):
    default_hint = (
        "write one SQL scalar expression, e.g. CASE WHEN status = 'paid' THEN 1 ELSE 0 END; "
        "a.b reads field b of a nested object"
    )


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its source text, the Polars expression and the names it reads."""

    source: str
    where: str
    expr: pl.Expr
    names: frozenset[str]

    def evaluate(self, frame: pl.DataFrame) -> pl.Series:
        """One value per row of `frame`; a missing column or a type clash is an
        `ExpressionError` naming `where`."""
        missing = sorted(self.names - set(frame.columns))
        if missing:
            raise _unknown(self, missing, frame.columns)
        try:
            return frame.select(self.expr.alias("value")).to_series()
        except pl.exceptions.PolarsError as exc:
            raise ExpressionError(
                f"{self.where}: `{self.source}` cannot be computed: {_first_line(exc)}"
            ) from None

    def evaluate_records(self, records: Iterable[Mapping[str, Any]]) -> list[Any]:
        """The expression over plain objects (e.g. Stripe JSON), one value per record."""
        return self.evaluate(frame_of(records, self.names)).to_list()


def compile_expression(
    source: str, *, where: str, names: Collection[str] | None = None
) -> Expression:
    """Parse `source`; `names` (when given) are the only top-level names it may read.

    `where` locates the expression for error messages, e.g.
    ``"mapping.yaml: entities.payment.fields.status.expect"``.
    """
    text = (source or "").strip()
    if not text:
        raise ExpressionError(f"{where}: the expression is empty")
    try:
        expr = pl.sql_expr(text)
    except (pl.exceptions.PolarsError, ValueError, TypeError) as exc:
        raise ExpressionError(f"{where}: cannot parse `{text}`: {_first_line(exc)}") from None
    # `CASE WHEN` alone parses as the column CASE aliased WHEN: a scalar expression that
    # names its own result is always a typo here.
    if str(expr.meta.undo_aliases()) != str(expr):
        raise ExpressionError(
            f"{where}: cannot parse `{text}`: it reads as a column with an alias "
            "(two words side by side, or AS); finish the expression or quote the value"
        )
    compiled = Expression(text, where, expr, frozenset(expr.meta.root_names()))
    if names is not None:
        missing = sorted(compiled.names - set(names))
        if missing:
            raise _unknown(compiled, missing, names)
    return compiled


def frame_of(records: Iterable[Mapping[str, Any]], names: Collection[str] = ()) -> pl.DataFrame:
    """A frame over `records` (nested dicts become struct columns) that has at least the
    columns in `names` (absent ones are nulls), so `a.b IS NULL` works on objects without
    `a`."""
    rows = [dict(r) for r in records]
    frame = pl.DataFrame(rows, infer_schema_length=None, strict=False)
    if frame.height < len(rows):  # records without any field: keep one row each
        frame = pl.DataFrame({"_row": range(len(rows))})
    absent = [n for n in names if n not in frame.columns]
    return frame.with_columns(pl.lit(None).alias(n) for n in absent) if absent else frame


def _unknown(expression: Expression, missing: list[str], known: Collection[str]) -> ExpressionError:
    shown = ", ".join(sorted(known)) or "none"
    return ExpressionError(
        f"{expression.where}: `{expression.source}` reads {', '.join(missing)}, "
        f"which is not a known name (known: {shown})"
    )


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
