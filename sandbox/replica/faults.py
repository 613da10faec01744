"""Fault injection: per-route rules that fail or slow requests before any state changes.

Rules come from `ReplicaConfig.faults` and ``POST /_replica/faults``; the first matching
rule that fires wins. Randomness comes from one `random.Random(seed)`, so the same request
sequence meets the same faults on every run.
"""

from __future__ import annotations

import fnmatch
import random

from sandbox.replica.config import FaultRule
from sandbox.replica.errors import ApiError


class Faults:
    def __init__(self, rules: list[FaultRule], seed: int) -> None:
        self.rules = [r.model_copy() for r in rules]
        self._rng = random.Random(seed)

    def add(self, rule: FaultRule) -> None:
        self.rules.append(rule)

    def clear(self) -> None:
        self.rules.clear()

    def pick(self, method: str, path: str) -> FaultRule | None:
        """The rule that hits this request, if any (counts the hit)."""
        for rule in self.rules:
            if rule.method not in ("*", method) or not fnmatch.fnmatchcase(path, rule.path):
                continue
            if rule.count is not None and rule.hits >= rule.count:
                continue
            if rule.rate < 1.0 and self._rng.random() >= rule.rate:
                continue
            rule.hits += 1
            return rule
        return None


def fault_error(rule: FaultRule) -> ApiError:
    if rule.kind == "rate_limit":
        return ApiError(
            429,
            "Request rate limit exceeded. Learn more about rate limits here "
            "https://stripe.com/docs/rate-limits.",
            code="rate_limit",
            headers={"Retry-After": str(rule.retry_after)},
        )
    if rule.kind == "lock_timeout":
        return ApiError(
            429,
            "This object cannot be accessed right now because another API request or Stripe "
            "process is currently accessing it. If you see this error intermittently, retry "
            "the request. If you see this error frequently and are making multiple concurrent "
            "requests to a single object, make your requests serially or at a lower rate.",
            code="lock_timeout",
            headers={"Stripe-Should-Retry": "true"},
        )
    if rule.kind == "server_error":
        return ApiError(500, "An unknown error occurred", type="api_error")
    raise ValueError(f"{rule.kind} is not an error fault")
