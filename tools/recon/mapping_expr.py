"""Mapping expressions: core/expr.py's SQL, with Stripe paths as names.

A mapping writes Stripe fields the way the docs show them — `metadata.kind`,
`latest_charge.amount_refunded`, `items.data[0].price.metadata.features` — inside SQL.
Before parsing, each dotted (or indexed) name outside a string literal becomes one quoted
name (`"metadata.kind"`), so the expression reads flat columns that the Stripe side
extracts path by path (through expandable ids; tools/recon/stripe_paths.py). Plain names
stay plain: a table column in `where`, a top-level Stripe field elsewhere.
"""

from __future__ import annotations

import re

from core.expr import Expression, compile_expression

__all__ = ["column_names", "compile_sql", "quote_paths"]

_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])+")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def quote_paths(source: str) -> str:
    """`metadata.kind = 'x'` → `"metadata.kind" = 'x'` (string literals left alone)."""
    out: list[str] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch in ("'", '"'):  # a literal or an already quoted name: copy to its end
            j = i + 1
            while j < n:
                if source[j] == ch:
                    if j + 1 < n and source[j + 1] == ch:  # doubled quote = escaped
                        j += 2
                        continue
                    break
                j += 1
            out.append(source[i:j + 1])
            i = j + 1
            continue
        if ch.isalpha() or ch == "_":
            prev = source[i - 1] if i else " "
            match = _PATH.match(source, i) if not (prev.isalnum() or prev == "_") else None
            if match:
                out.append(f'"{match.group(0)}"')
                i = match.end()
                continue
            word = _WORD.match(source, i)
            end = word.end() if word else i + 1
            out.append(source[i:end])
            i = end
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def compile_sql(source: str, *, where: str) -> Expression:
    """Parse a mapping expression (paths quoted first); errors name `where`."""
    return compile_expression(quote_paths(source), where=where)


def column_names(source: str) -> set[str]:
    """The names an expression reads (paths as dotted strings)."""
    return set(compile_sql(source, where="expression").names)
