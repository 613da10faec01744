"""SDK errors → `core.errors`, keeping code, http_status and request_id, never the key."""

from __future__ import annotations

import re

import stripe
from pydantic import SecretStr

from core.errors import (
    StripeAuthError,
    StripeError,
    StripeRateLimited,
    StripeRequestError,
    StripeUnreachable,
)
from tools.stripe.keys import redact_key, scrub_key

__all__ = ["map_sdk_error"]

_DETAIL_MAX = 300
_ERRNO = re.compile(r"\[Errno -?\d+\][^\"')]*|[Rr]ead timed out[^\"')]*|timed out")


def _sdk_message(exc: stripe.StripeError) -> str:
    message = exc.user_message
    if not message and isinstance(exc.json_body, dict):
        err = exc.json_body.get("error")
        if isinstance(err, dict):
            message = err.get("message")
    return str(message or type(exc).__name__)


def _network_reason(message: str) -> str:
    # The SDK wraps the HTTP library's error in a support blurb; keep the cause.
    _, found, cause = message.partition("Network error:")
    if not found:
        return message
    errno = _ERRNO.search(cause)
    return errno.group(0).strip() if errno else cause.strip().rstrip(")")


def _shorten(text: str) -> str:
    # A proxy or emulator may answer an HTML page; the first words are enough.
    text = " ".join(text.split())
    return text if len(text) <= _DETAIL_MAX else text[: _DETAIL_MAX - 1] + "…"


def _sdk_code(exc: stripe.StripeError) -> str | None:
    if exc.code:
        return exc.code
    if isinstance(exc.json_body, dict):
        err = exc.json_body.get("error")
        if isinstance(err, dict) and isinstance(err.get("code"), str):
            return err["code"]
    return None


def map_sdk_error(
    exc: stripe.StripeError,
    *,
    key: str | SecretStr,
    method: str,
    path: str,
    api_base: str,
) -> StripeError:
    """Translate one SDK exception; every message is scrubbed of the key."""
    status = exc.http_status
    code = _sdk_code(exc)
    what = f"{method.upper()} {path}"
    # Scrub before shortening: a key cut in half would no longer match.
    detail = _shorten(scrub_key(_sdk_message(exc), key))
    if exc.request_id:
        detail += f" (request {exc.request_id})"

    def build(kind: type[StripeError], message: str, hint: str | None = None) -> StripeError:
        return kind(
            scrub_key(message, key),
            hint=hint,
            code=code,
            http_status=status,
            request_id=exc.request_id,
        )

    if isinstance(exc, stripe.APIConnectionError):
        reason = _shorten(scrub_key(_network_reason(_sdk_message(exc)), key))
        return build(StripeUnreachable, f"cannot reach Stripe at {api_base} for {what}: {reason}")
    if isinstance(exc, stripe.AuthenticationError) or status == 401:
        return build(
            StripeAuthError,
            f"Stripe rejected the API key {redact_key(key)} on {what} (HTTP 401): {detail}",
        )
    if isinstance(exc, stripe.PermissionError) or status == 403:
        return build(
            StripeAuthError,
            f"the key {redact_key(key)} may not {what} (HTTP 403): {detail}",
            "a restricted key needs the permission for this resource (Dashboard → Developers "
            "→ API keys → edit the key), or the connected account is not reachable from this "
            "platform",
        )
    if isinstance(exc, stripe.RateLimitError) or status == 429:
        return build(
            StripeRateLimited, f"Stripe kept answering 429 to {what} after our retries: {detail}"
        )
    hint = None
    if status == 404:
        hint = "check the id, and that it belongs to this account and mode (test vs live)"
    elif status is not None and status >= 500:
        hint = "Stripe failed after our retries; try again later and quote the request id"
    elif status == 400 and code == "parameter_unknown":
        hint = "the API version or this Stripe emulator may not support that parameter"
    label = f"HTTP {status}" if status is not None else type(exc).__name__
    return build(
        StripeRequestError,
        f"Stripe refused {what} ({label}{', ' + code if code else ''}): {detail}",
        hint,
    )
