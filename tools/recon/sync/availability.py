"""Object types a Stripe-compatible server cannot list, and why.

Not every server that speaks Stripe's API lists every type: an emulator (localstripe) has no
``/v1/prices``, an account may not have a product enabled (its list answers 404), a
restricted key may lack a resource's read permission (Stripe answers 403 and names the
permission, ``rak_charge_read``). None of these fails the sync: the type is recorded as
unavailable with its reason, the other types sync, and whatever reads the snapshot states
the type as not compared (a reconciliation run is INCOMPLETE for exactly those types).

A 404 is only trusted after a probe: the same list with nothing but ``limit=1`` (or, for a
list under a parent, the parent itself) — a 404 from a stale ``starting_after`` cursor or a
parent deleted since is not a missing endpoint.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

from core.errors import StripeAuthError, StripeError
from tools.recon.sync.types import SYNC_TYPES, ListSpec

if TYPE_CHECKING:  # the snapshot store imports this module; full.py imports the store
    from tools.recon.sync.full import Lister

__all__ = ["TypeUnavailable", "Unavailable", "judge"]

_PERMISSION = re.compile(r"\b(rak_[a-z0-9_]+)\b")


class Unavailable(BaseModel):
    """Why one object type could not be listed."""

    kind: Literal["not_available", "permission"]
    request: str  # "GET /v1/prices"
    http_status: int
    permission: str | None = None  # the restricted-key permission Stripe named, if it did
    account: str | None = None  # the connected account it applies to (None: the platform)

    def describe(self) -> str:
        where = f"connected account {self.account}" if self.account else "this account"
        if self.kind == "not_available":
            return f"not available on {where} ({self.request} answered 404)"
        needs = f"; grant {self.permission}" if self.permission else ""
        return (f"the key may not read it on {where} ({self.request} answered 403, a "
                f"restricted key without that permission{needs})")


class TypeUnavailable(Exception):
    """Raised out of a type's sync when its list turned out to be unavailable."""

    def __init__(self, object_type: str, reason: Unavailable) -> None:
        super().__init__(f"{object_type}: {reason.describe()}")
        self.object_type = object_type
        self.reason = reason


def _request(spec: ListSpec) -> str:
    return f"GET {spec.path.replace('{parent}', '{' + (spec.parent or 'parent') + '}')}"


def _answers_404(gateway: Lister, path: str, params: dict[str, int]) -> bool:
    try:
        gateway.get(path, params)
    except StripeError as exc:
        if exc.http_status == 404:
            return True
        raise
    return False


def judge(gateway: Lister, spec: ListSpec, exc: StripeError, *, account: str | None,
          parent: str | None = None) -> Unavailable | None:
    """The reason ``spec``'s list is unavailable, when ``exc`` says so; None when it is some
    other failure (the caller re-raises it, or skips a parent that no longer exists)."""
    request = _request(spec)
    if (isinstance(exc, StripeAuthError) and exc.http_status == 403
            and exc.code != "account_invalid"):  # account_invalid: the whole account is gone
        found = _PERMISSION.search(exc.message)
        return Unavailable(kind="permission", request=request, http_status=403,
                           permission=found.group(1) if found else None, account=account)
    if exc.http_status != 404:
        return None
    if "{" in spec.path:  # a list under an object ({parent}, or a meter of the parent's)
        if parent is None or spec.parent is None:
            return None
        # the parent still exists, so it is the list under it that the server does not have
        if _answers_404(gateway, f"{SYNC_TYPES[spec.parent].path}/{parent}", {}):
            return None
    elif not _answers_404(gateway, spec.path, {"limit": 1}):
        return None
    return Unavailable(kind="not_available", request=request, http_status=404, account=account)
