"""Ids with Stripe's prefixes (from `core.ids.STRIPE_PREFIXES`) and Stripe-like lengths."""

from __future__ import annotations

import random
import secrets
import string

from core.ids import STRIPE_PREFIXES

_BASE62 = string.digits + string.ascii_letters
# Prefixes the shared table does not name (not retrievable objects, or replica-internal).
_EXTRA = {
    "request": "req_",
    "webhook_secret": "whsec_",
    "billing.meter_event_summary": "mtrusg_",
    "customer_cash_balance_transaction": "ccsbtxn_",
    "subscription_item": "si_",
    "line_item": "il_",
    "payment_intent_secret": "secret_",
}
# Stripe's own lengths of the random part: short for a few long-lived objects, 24 elsewhere.
_LENGTHS = {"cus_": 14, "prod_": 14, "acct_": 16, "req_": 14, "whsec_": 32, "evt_": 24}


def prefix_for(object_type: str) -> str:
    """First prefix the shared table lists for `object_type` (e.g. charge -> ``ch_``)."""
    if object_type in _EXTRA:
        return _EXTRA[object_type]
    for prefix, (kind, _path) in STRIPE_PREFIXES.items():
        if kind == object_type:
            return prefix
    raise KeyError(f"no id prefix known for {object_type!r}; add it to core/ids.py")


class IdFactory:
    """Random ids; pass a seed to make a replay of the same requests mint the same ids."""

    def __init__(self, seed: int | None = None) -> None:
        self._rng = random.Random(seed) if seed is not None else None

    def _chars(self, n: int) -> str:
        if self._rng is None:
            return "".join(secrets.choice(_BASE62) for _ in range(n))
        return "".join(self._rng.choice(_BASE62) for _ in range(n))

    def new(self, object_type: str, *, prefix: str | None = None) -> str:
        prefix = prefix or prefix_for(object_type)
        return prefix + self._chars(_LENGTHS.get(prefix, 24))

    def token(self, n: int, alphabet: str = string.digits + "ABCDEF") -> str:
        """Random characters from the same (maybe seeded) source, e.g. invoice prefixes."""
        pick = self._rng.choice if self._rng is not None else secrets.choice
        return "".join(pick(alphabet) for _ in range(n))

    def request_id(self) -> str:
        # Never seeded: request ids must differ between runs of the same script.
        return "req_" + "".join(secrets.choice(_BASE62) for _ in range(14))
