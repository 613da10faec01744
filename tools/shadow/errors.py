"""Errors of the shadow room (subclasses of core.errors, each with a hint)."""

from __future__ import annotations

from core.errors import ConfigError, NotFoundError

__all__ = ["CorpusError", "LegacyInputError", "ShadowRunNotFound", "TargetError",
           "TargetUnreachable"]


class CorpusError(ConfigError):
    default_hint = ("a corpus is JSON Lines: one Stripe event object per line "
                    "(record one with `fde shadow record` or a scenario script)")


class TargetError(ConfigError):
    default_hint = "give each handler as NAME=URL with --secret and --state DSN"


class ShadowRunNotFound(NotFoundError):
    default_hint = "list runs with `fde shadow list`"


class LegacyInputError(ConfigError):
    default_hint = ("a legacy export is CSV with a header: customer, period_start, period_end, "
                    "currency, subtotal, total (+ optional subscription, discount, tax, "
                    "proration, usage, reference); amounts in integer minor units")


class TargetUnreachable(Exception):
    """A handler (or its state or reset URL) that cannot be reached at all: not a handler
    answer, so the shadow run is INCONCLUSIVE rather than failed."""

    def __init__(self, target: str, reason: str) -> None:
        super().__init__(f"{target}: {reason}")
        self.target = target
        self.reason = reason
