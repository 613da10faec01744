"""What a plan or an apply needs: the engagement, its gateway, the app DB, a clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import StripeRequestError
from core.storage import Database
from tools.stripe.gateway import StripeGateway

__all__ = ["BlueprintContext"]


@dataclass
class BlueprintContext:
    engagement: str
    gateway: StripeGateway
    db: Database
    base_dir: Path = Path(".")
    actor: str = "unknown"
    clock: Callable[[], float] | None = None  # pinned by tests; else Stripe's own clock
    _cache: dict[str, Any] = field(default_factory=dict)

    def now(self) -> int:
        """Stripe's "now" (its ``Date`` header), which decides whether usage is late; a
        test clock or a sandbox may be far from this machine's wall clock."""
        if self.clock is not None:
            return int(self.clock())
        if self.gateway.server_time() is None:
            self.gateway.get("/v1/balance")  # any answer carries Stripe's Date header
        stripe_now = self.gateway.server_time()
        return stripe_now if stripe_now is not None else int(time.time())

    def fetch(self, path: str) -> dict[str, Any] | None:
        """GET one object, None when Stripe answers 404."""
        try:
            return self.gateway.get(path)
        except StripeRequestError as exc:
            if exc.http_status == 404:
                return None
            raise

    def customers(self) -> list[dict[str, Any]]:
        if "customers" not in self._cache:
            self._cache["customers"] = list(self.gateway.list_all("/v1/customers"))
        return self._cache["customers"]

    def customer_by_email(self, email: str) -> dict[str, Any] | None:
        found = list(self.gateway.list_all("/v1/customers", {"email": email}, page_size=10))
        return found[0] if found else None
