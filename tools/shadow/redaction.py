"""A recorded corpus without the customers' personal data or any secret, still replayable.

PII is *pseudonymised*, not blanked: the same e-mail address becomes the same stand-in
everywhere (``u-3f2a9c1e@example.invalid``) and two different addresses stay different, so
a handler that keys on the address, or a typo and its fix arriving out of order, behave as
they did. Names and street lines get the same treatment; card numbers, IBANs and phone
numbers inside free text become typed placeholders, and secrets are cut (core.redact).
Kept: Stripe ids, amounts, currencies, countries, cities, metadata keys — what handlers
branch on. The stand-ins depend only on the value, so re-recording gives the same bytes.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from core.redact import SENSITIVE_FIELDS, redact

__all__ = ["redact_event"]

_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
# Fields whose whole value is a person's name or street address.
_PERSONAL = frozenset({"name", "line1", "line2", "postal_code", "customer_name",
                       "shipping_name", "receipt_email", "customer_email", "email",
                       "phone", "customer_phone"})
# Objects whose `name` is a catalogue label, not a person (a Product, a Price's nickname).
_CATALOGUE = frozenset({"product", "price", "plan", "coupon", "tax_rate", "shipping_rate",
                        "promotion_code", "billing.meter"})


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:8]


def _email(match: re.Match[str]) -> str:
    return f"u-{_digest(match.group(0).lower())}@example.invalid"


def _text(value: str) -> str:
    # redact() would blank the pseudonyms: they are put back after it ran
    kept: list[str] = []

    def hold(match: re.Match[str]) -> str:
        kept.append(_email(match))
        return f"\x00{len(kept) - 1}\x00"

    out = redact(_EMAIL.sub(hold, value))
    return re.sub("\x00(\\d+)\x00", lambda m: kept[int(m.group(1))], out)


def _personal(key: str, value: str) -> str:
    if _EMAIL.search(value):
        return _EMAIL.sub(_email, value)
    if key in ("phone", "customer_phone"):
        return f"+1555{int(_digest(value), 16) % 10_000_000:07d}"
    return f"{key}-{_digest(value)}"


def _walk(value: Any, catalogue: bool) -> Any:
    if isinstance(value, dict):
        kind = value.get("object")
        catalogue = kind in _CATALOGUE if isinstance(kind, str) else catalogue
        out: dict[str, Any] = {}
        for k, v in value.items():
            if str(k).lower() in SENSITIVE_FIELDS and v:
                out[k] = "[REDACTED]"
            elif isinstance(v, str) and k in _PERSONAL and not (k == "name" and catalogue):
                out[k] = _personal(k, v)
            else:
                out[k] = _walk(v, catalogue)
        return out
    if isinstance(value, list):
        return [_walk(v, catalogue) for v in value]
    if isinstance(value, str):
        return _text(value)
    return value


def redact_event(event: dict[str, Any]) -> dict[str, Any]:
    """The event with personal data pseudonymised and secrets cut (a new dict)."""
    return _walk(event, catalogue=False)
