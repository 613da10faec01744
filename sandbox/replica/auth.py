"""API keys (test mode only) and the ``Stripe-Account`` header.

Accepted: ``Authorization: Bearer sk_test_…|rk_test_…`` or HTTP basic with the key as user
(``curl -u sk_test_…:``). Any test key is valid — the replica has no key registry. Live keys
are refused, so nothing pointed at the replica can be mistaken for live mode.
"""

from __future__ import annotations

import base64
import binascii

from sandbox.replica.errors import ApiError
from sandbox.replica.store import Store

_TEST = ("sk_test_", "rk_test_")
_LIVE = ("sk_live_", "rk_live_")


def _redact(key: str) -> str:
    return key[:8] + "*" * max(len(key) - 12, 4) + key[-4:] if len(key) > 12 else key[:8] + "****"


def api_key(authorization: str | None) -> str:
    """The key from an Authorization header, or a Stripe-shaped 401."""
    if not authorization:
        raise ApiError(
            401,
            "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
            "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, "
            "or we can help at https://support.stripe.com/.",
        )
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    key = ""
    if scheme.lower() == "bearer":
        key = value
    elif scheme.lower() == "basic":
        try:
            key = base64.b64decode(value).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            key = ""
    if not key or " " in key:
        raise ApiError(
            401,
            "Invalid API Key provided: the Authorization header must be 'Bearer <key>' or "
            "HTTP basic auth with the key as the username.",
        )
    if key.startswith(_LIVE):
        raise ApiError(
            401,
            f"Invalid API Key provided: {_redact(key)}. This is a local Stripe replica: it "
            "serves test mode only and never accepts live keys.",
        )
    if not key.startswith(_TEST) or len(key) <= len("sk_test_"):
        raise ApiError(401, f"Invalid API Key provided: {_redact(key)}")
    return key


def resolve_account(store: Store, platform: str, header: str | None) -> str:
    """The account a request acts in: the platform, or a connected account it owns."""
    if not header or header == platform:
        return platform
    account = store.get(platform, header)
    if account is None or account.get("object") != "account" or account.get("deleted"):
        raise ApiError(
            403,
            f"The provided key does not have access to account '{header}' (or that account "
            "does not exist). Application access may have been revoked.",
            type="invalid_request_error",
            code="account_invalid",
        )
    return header
