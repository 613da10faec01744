"""Deterministic evaluators: one per checklist check id that an architecture description
can answer. Each returns None (not applicable / not described), PASS, or a violation with
evidence that quotes the description (`path = value`). Checks without an evaluator here
need runtime evidence and are listed as "to verify" in the report."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

from knowledge.review.model import Architecture

__all__ = ["RULES", "Outcome", "bad", "evaluate", "flag", "ok", "rule"]


class Outcome(BaseModel):
    violated: bool
    evidence: list[str]


Rule = Callable[[Architecture], Outcome | None]
RULES: dict[str, Rule] = {}

VOUCHERS = {"oxxo", "boleto", "konbini"}
DEBITS = {"sepa_debit", "us_bank_account", "bacs_debit", "au_becs_debit", "acss_debit"}
ASYNC = VOUCHERS | DEBITS | {"customer_balance"}
ZERO_OR_THREE_DECIMAL = {"jpy", "krw", "vnd", "clp", "bhd", "kwd", "omr", "jod", "tnd"}


def rule(check: str) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        RULES[check] = fn
        return fn
    return register


def ok(*evidence: str) -> Outcome:
    return Outcome(violated=False, evidence=list(evidence))


def bad(*evidence: str) -> Outcome:
    return Outcome(violated=True, evidence=list(evidence))


def flag(value: bool | None, path: str) -> Outcome | None:
    """A yes/no capability: None when not described, violated when false."""
    if value is None:
        return None
    return ok(f"{path} = true") if value else bad(f"{path} = false")


def evaluate(arch: Architecture) -> dict[str, Outcome]:
    results = {}
    for check, fn in RULES.items():
        outcome = fn(arch)
        if outcome is not None:
            results[check] = outcome
    return results




# The family modules register their evaluators with @rule; imported last because they
# import the helpers above.
from knowledge.review.rules import billing, finance, payments, platform, webhooks  # noqa: E402,F401,I001
