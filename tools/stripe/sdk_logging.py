"""Redaction for the Stripe SDK's own log records.

The SDK logs response bodies and error messages on the stdlib logger ``stripe``. Stripe
masks keys in its error messages, but an emulator, a proxy or a future API change might
not; a filter on that logger scrubs key-shaped strings from every record before any
handler (ours, pytest's, a third party's) sees it. The SDK's console mode (``stripe.log``
or ``STRIPE_LOG=debug``) prints with ``print`` and bypasses logging: leave it unset.
"""

from __future__ import annotations

import logging

from core.redact import redact_secrets

__all__ = ["RedactingFilter", "install_sdk_log_redaction"]

SDK_LOGGER = "stripe"


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is logging's problem, not ours
            return True
        clean = redact_secrets(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def install_sdk_log_redaction() -> None:
    """Idempotent: adds the filter to the ``stripe`` logger once per process."""
    logger = logging.getLogger(SDK_LOGGER)
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
