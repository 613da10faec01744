"""Does the server accept this key? One cheap read, on whatever the server has.

``GET /v1/account`` answers best (it names the account), but not every server has it (an
emulator such as localstripe answers 404) and not every key may call it (a restricted key
needs a permission for it, and Stripe answers 403). Then the next read is tried —
``GET /v1/balance`` (every Stripe account has one), then ``GET /v1/customers?limit=1`` —
and the result says which call accepted the key. A 401 ends it at once: the key is refused,
whatever endpoint asks.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from core.errors import StripeAuthError, StripeError
from tools.stripe.gateway import AccountSummary, StripeGateway

__all__ = ["KeyVerification", "verify_key"]

_FALLBACKS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("/v1/balance", {}),
    ("/v1/customers", {"limit": 1}),
)


class KeyVerification(BaseModel):
    """The server accepted the key; ``account`` only when ``GET /v1/account`` answered."""

    via: str  # the call that accepted it: "GET /v1/account", "GET /v1/balance", …
    account: AccountSummary | None = None
    skipped: list[str] = []  # calls the server did not answer, with their status

    def describe(self) -> str:
        if self.account is not None:
            return f"verified with {self.via}: account {self.account.id}"
        return (f"verified with {self.via} ({'; '.join(self.skipped)}): the account id is "
                "unknown")


def _unanswered(exc: StripeError) -> bool:
    """No such endpoint here, or not for this key: try the next one."""
    return exc.http_status in (403, 404) and exc.code != "account_invalid"


def verify_key(gateway: StripeGateway) -> KeyVerification:
    """One accepted read proves the key; StripeError when none is accepted."""
    skipped: list[str] = []
    last: StripeError | None = None
    try:
        return KeyVerification(via="GET /v1/account", account=gateway.account())
    except StripeError as exc:
        _stop_unless_unanswered(gateway, exc)
        skipped.append(f"GET /v1/account answered {exc.http_status}")
        last = exc
    for path, params in _FALLBACKS:
        try:
            gateway.get(path, params)
        except StripeError as exc:
            _stop_unless_unanswered(gateway, exc)
            skipped.append(f"GET {path} answered {exc.http_status}")
            last = exc
            continue
        return KeyVerification(via=f"GET {path}", skipped=skipped)
    assert last is not None  # the loop ran and every call failed
    raise type(last)(
        f"the server at {gateway.config.api_base} answered none of the reads that prove a key "
        f"({'; '.join(skipped)})",
        hint="a restricted key needs read access to at least the balance or customers; "
             "check that the address is a Stripe-compatible API",
        code=last.code, http_status=last.http_status, request_id=last.request_id)


def _stop_unless_unanswered(gateway: StripeGateway, exc: StripeError) -> None:
    """Re-raise anything but "no such endpoint here / not for this key"; a refused key
    that is also short says it may have been cut."""
    if _unanswered(exc):
        return
    if isinstance(exc, StripeAuthError) and exc.http_status == 401 and gateway.key_info.short:
        raise StripeAuthError(exc.message, hint=gateway.key_info.short_note(), code=exc.code,
                              http_status=exc.http_status, request_id=exc.request_id) from None
    raise exc
