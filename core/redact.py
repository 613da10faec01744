"""Redaction of secrets and PII from anything that leaves the process: logs, CLI output,
API responses, and (later) LLM prompts.

Keys keep their prefix and last four characters so an operator can still tell which key
was used; PII is replaced by a typed placeholder.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_KEY = re.compile(r"\b((?:sk|rk)_(?:live|test))_([A-Za-z0-9]{4,})")
_WEBHOOK_SECRET = re.compile(r"\bwhsec_[A-Za-z0-9+/=]{6,}")
_CLIENT_SECRET = re.compile(r"\b((?:pi|seti|cs_(?:test|live))_[A-Za-z0-9]+)_secret_[A-Za-z0-9]+")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")
_CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
_PHONE = re.compile(r"(?<![\w/])\+\d[\d ()-]{7,}\d\b")

SENSITIVE_FIELDS = frozenset(
    {"api_key", "authorization", "password", "secret", "secret_key", "stripe_api_key",
     "client_secret", "token", "webhook_secret", "stripe-signature"}
)


def _luhn_ok(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for i, ch in enumerate(digits):
        d = int(ch)
        if i % 2 == parity:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "<card>" if 13 <= len(digits) <= 19 and _luhn_ok(digits) else match.group(0)


def redact_secrets(text: str) -> str:
    """Keys, webhook secrets, client secrets and bearer tokens; leaves PII alone."""
    text = _KEY.sub(lambda m: f"{m.group(1)}_…{m.group(2)[-4:]}", text)
    text = _WEBHOOK_SECRET.sub("whsec_…", text)
    text = _CLIENT_SECRET.sub(r"\1_secret_…", text)
    return _BEARER.sub(lambda m: f"{m.group(1)} …", text)


def redact_pii(text: str) -> str:
    """E-mail addresses, card numbers (Luhn-valid), IBANs and phone numbers."""
    text = _EMAIL.sub("<email>", text)
    text = _IBAN.sub("<iban>", text)
    text = _CARD.sub(_card, text)
    return _PHONE.sub("<phone>", text)


def redact(text: str) -> str:
    return redact_pii(redact_secrets(text))


def redact_value(value: Any, *, pii: bool = True) -> Any:
    """Recursively redact strings inside dicts/lists; sensitive field names are blanked."""
    scrub = redact if pii else redact_secrets
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return {
            k: ("[REDACTED]" if str(k).lower() in SENSITIVE_FIELDS and v else
                redact_value(v, pii=pii))
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(redact_value(v, pii=pii) for v in value)
    return value
