"""Redaction of secrets and PII from anything that leaves the process or is stored: logs,
CLI output, API responses, LLM prompts, and user text at the door (a ticket or a chat
message is redacted before it is checkpointed or written to the database).

What a ticket really carries, and what happens to it:

- secret and restricted keys (``sk_``/``rk_``, live or test), webhook signing secrets
  (``whsec_``) and fde API tokens (``fde_``): prefix and last four kept (``sk_test_…abcd``),
  so an engineer can still tell which key or secret was meant;
- client secrets (``pi_…_secret_…``): the object id kept, the secret dropped;
- bearer/basic credentials, JWTs, passwords in URLs (``postgres://user:…@host``) and
  ``password=…``/``api_key: …`` assignments with a secret-looking value: the value dropped;
- e-mail addresses, card numbers (Luhn-valid, 13–19 digits), IBANs (mod-97 valid) and
  phone numbers (international ``+…`` and North American ``(415) 555-0100`` forms): replaced
  by a typed placeholder (``<email>``, ``<card>``, ``<iban>``, ``<phone>``).

Kept on purpose: publishable keys (``pk_``: public by design, they sit in every checkout
page) and Stripe object ids (``cus_``, ``pi_``…: the agent needs them and they are not
secrets).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_KEY = re.compile(r"\b((?:sk|rk)_(?:live|test))_([A-Za-z0-9]{4,})")
_WEBHOOK_SECRET = re.compile(r"\bwhsec_([A-Za-z0-9+/=]{6,})")
_API_TOKEN = re.compile(r"\bfde_([A-Za-z0-9_-]{32,})")
_CLIENT_SECRET = re.compile(r"\b((?:pi|seti|cs_(?:test|live))_[A-Za-z0-9]+)_secret_[A-Za-z0-9]+")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+")
_URL_PASSWORD = re.compile(r"\b([a-z][a-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+@", re.I)
# `password=hunter2`, `"api_key": "abc123…"`: only values that look like a secret (a digit
# in them), so "token: expired" stays readable; a value already redacted (`sk_test_…abcd`)
# keeps its last four.
_ASSIGNED = re.compile(
    r"(?i)\b((?:password|passwd|pwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token|"
    r"client[_-]?secret)[\"']?\s*[:=]\s*[\"']?)(?=[^\s\"',;…]*\d)[^\s\"',;…]{6,}"
    r"(?![^\s\"',;])")
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")
_CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
_PHONE = re.compile(r"(?<![\w/])\+\d[\d ()-]{7,}\d\b")
_NANP_PHONE = re.compile(r"(?<![\w.+-])\(?[2-9]\d{2}\)?[ .-]\d{3}[ .-]\d{4}(?![\w-])")

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


def _iban(match: re.Match[str]) -> str:
    """ISO 13616: move the first four characters to the end, letters to 10..35, mod 97 == 1."""
    compact = match.group(0).replace(" ", "")
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return "<iban>" if int(number) % 97 == 1 else match.group(0)


def redact_secrets(text: str) -> str:
    """Keys, webhook secrets, API tokens, client secrets and credentials; leaves PII alone."""
    text = _KEY.sub(lambda m: f"{m.group(1)}_…{m.group(2)[-4:]}", text)
    text = _WEBHOOK_SECRET.sub(lambda m: f"whsec_…{m.group(1)[-4:]}", text)
    text = _API_TOKEN.sub(lambda m: f"fde_…{m.group(1)[-4:]}", text)
    text = _CLIENT_SECRET.sub(r"\1_secret_…", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} …", text)
    text = _JWT.sub("<jwt>", text)
    text = _URL_PASSWORD.sub(r"\1…@", text)
    return _ASSIGNED.sub(r"\1…", text)


def redact_pii(text: str) -> str:
    """E-mail addresses, card numbers (Luhn-valid), IBANs and phone numbers."""
    text = _EMAIL.sub("<email>", text)
    text = _IBAN.sub(_iban, text)
    text = _CARD.sub(_card, text)
    text = _PHONE.sub("<phone>", text)
    return _NANP_PHONE.sub("<phone>", text)


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
