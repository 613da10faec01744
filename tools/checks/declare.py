"""`@check(...)`: declares a detector from a function ``(ctx, check) -> findings``."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from tools.checks.context import CheckContext
from tools.checks.model import Check, Finding, Input, Severity

__all__ = ["check"]

_STRIPE_LOCAL: frozenset[Input] = frozenset({"stripe", "local"})


def check(id: str, fm: str, title: str, *, severity: Severity, products: tuple[str, ...],
          patterns: tuple[str, ...], fix: str, systemic_fix: str,
          discrepancy_class: str | None = None,
          needs: frozenset[Input] = _STRIPE_LOCAL, needs_any: frozenset[Input] = frozenset(),
          ) -> Callable[[Callable[[CheckContext, Check], Iterable[Finding]]], Check]:
    def wrap(fn: Callable[[CheckContext, Check], Iterable[Finding]]) -> Check:
        return Check(id=id, failure_mode=fm, title=title, severity=severity, products=products,
                     fix=" ".join(fix.split()), systemic_fix=" ".join(systemic_fix.split()),
                     pattern_refs=patterns, evaluate_fn=fn, needs=needs, needs_any=needs_any,
                     discrepancy_class=discrepancy_class)
    return wrap
