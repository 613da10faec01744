"""Stripe API keys: what kind and mode a key is, whether it fits the engagement, and how to
show it without showing it.

Everything here is offline: a key is judged by its shape before any request is made, so a
live key handed to a test engagement is refused before it can touch Stripe.

Length is not judged here: Stripe's own keys carry 24 to ~100 characters after the prefix,
but a Stripe-compatible server (stripe-mock takes ``sk_test_123``) may accept shorter ones,
and only the server can say. A short key is marked (`KeyInfo.short`); `fde engagement add`
refuses it only when it is not allowed to ask the server (``--no-verify``).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, SecretStr

from core.errors import StripeKeyError
from core.redact import redact_secrets

__all__ = [
    "KeyInfo",
    "KeyKind",
    "KeyMode",
    "check_mode",
    "parse_key",
    "redact_key",
    "scrub_key",
]

KeyKind = Literal["secret", "restricted"]
KeyMode = Literal["test", "live"]

_PREFIXES: dict[str, tuple[KeyKind, KeyMode]] = {
    "sk_test_": ("secret", "test"),
    "sk_live_": ("secret", "live"),
    "rk_test_": ("restricted", "test"),
    "rk_live_": ("restricted", "live"),
}
# Prefixes we recognise well enough to name in an error (and to redact), but never accept.
_KNOWN_OTHER = ("pk_test_", "pk_live_", "whsec_", "sk_", "rk_", "pk_")

BODY_MIN = 16
"""A body (after the prefix) shorter than this is not one of Stripe's own keys (they carry 24
to ~100 characters): a truncated copy, or a key of a server that is not Stripe."""
KEY_MAX = 255
_BODY = re.compile(r"[A-Za-z0-9]+")

_HINT = (
    "use a secret (sk_test_/sk_live_) or, better, a restricted (rk_test_/rk_live_) key "
    "copied whole from the Stripe dashboard (Developers → API keys)"
)


class KeyInfo(BaseModel):
    """What a key is, judged from its shape; carries only the redacted form."""

    model_config = ConfigDict(frozen=True)

    kind: KeyKind
    mode: KeyMode
    prefix: str
    redacted: str
    short: bool = False  # shorter than any key Stripe issues: truncated, or not Stripe's

    def short_note(self) -> str:
        return (f"the key {self.redacted} is shorter than any key Stripe issues; if it is "
                "not a Stripe-compatible server's own short key, it was cut when copied")


def _secret(key: str | SecretStr) -> str:
    return key.get_secret_value() if isinstance(key, SecretStr) else key


def _prefix_of(key: str) -> str:
    for prefix in (*_PREFIXES, *_KNOWN_OTHER):
        if key.startswith(prefix):
            return prefix
    return ""


def redact_key(key: str | SecretStr) -> str:
    """``sk_test_…abcd``: the prefix and the last four characters, never more.

    A body too short to hide anything behind its last four shows no characters at all.
    """
    raw = _secret(key).strip()
    prefix = _prefix_of(raw)
    body = raw[len(prefix) :]
    if len(body) < 12:
        return f"{prefix}…"
    return f"{prefix}…{body[-4:]}"


def scrub_key(text: str, key: str | SecretStr) -> str:
    """Replace every occurrence of ``key`` (and anything key-shaped) in ``text``."""
    raw = _secret(key)
    if raw:
        text = text.replace(raw, redact_key(raw))
        stripped = raw.strip()
        if stripped and stripped != raw:
            text = text.replace(stripped, redact_key(stripped))
    return redact_secrets(text)


def parse_key(key: str | SecretStr) -> KeyInfo:
    """Classify a key by its prefix; raise StripeKeyError naming what is wrong with it."""
    raw = _secret(key)
    shown = redact_key(raw)
    if not raw:
        raise StripeKeyError("the Stripe API key is empty", hint=_HINT)
    if raw != raw.strip():
        raise StripeKeyError(
            f"the Stripe API key {shown} has leading or trailing whitespace",
            hint="remove the spaces or newline around the key (a copy-paste artefact); " + _HINT,
        )
    if any(ch.isspace() for ch in raw):
        raise StripeKeyError(f"the Stripe API key {shown} contains whitespace", hint=_HINT)
    prefix = _prefix_of(raw)
    if prefix.startswith("pk_"):
        raise StripeKeyError(
            f"{shown} is a publishable key; it cannot read or write through the API",
            hint=_HINT,
        )
    if prefix == "whsec_":
        raise StripeKeyError(f"{shown} is a webhook signing secret, not an API key", hint=_HINT)
    if prefix not in _PREFIXES:
        raise StripeKeyError(
            f"the Stripe API key {shown} does not start with sk_test_, sk_live_, rk_test_ "
            "or rk_live_",
            hint=_HINT,
        )
    body = raw[len(prefix) :]
    if not body:
        raise StripeKeyError(f"the Stripe API key {shown} has nothing after its prefix",
                             hint=_HINT)
    if len(raw) > KEY_MAX:
        raise StripeKeyError(
            f"the Stripe API key {shown} is too long ({len(raw)} characters)", hint=_HINT
        )
    if not _BODY.fullmatch(body):
        raise StripeKeyError(
            f"the Stripe API key {shown} contains characters other than letters and digits",
            hint=_HINT,
        )
    kind, mode = _PREFIXES[prefix]
    return KeyInfo(kind=kind, mode=mode, prefix=prefix, redacted=shown,
                   short=len(body) < BODY_MIN)


def check_mode(info: KeyInfo, expected: KeyMode) -> None:
    """Refuse a key whose mode contradicts the engagement's declared mode."""
    if info.mode != expected:
        raise StripeKeyError(
            f"the engagement is declared {expected} mode but the key {info.redacted} is a "
            f"{info.mode}-mode key",
            hint=(
                f"use a {expected}-mode key ({'rk' if info.kind == 'restricted' else 'sk'}_"
                f"{expected}_…), or change the engagement's mode if {info.mode} is intended"
            ),
        )
