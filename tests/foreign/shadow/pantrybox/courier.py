"""The pallet courier's booking API (family_plus boxes travel on a pallet).

Production books pallet slots from the nightly packing run, not from the webhook. The
courier's API answers in about 12 seconds; here that call is simulated by a sleep.
"""

from __future__ import annotations

import time

COURIER_LATENCY_SECONDS = 12.0


def book_pallet_slot(customer_id: str | None, week: str, boxes: int) -> str:
    time.sleep(COURIER_LATENCY_SECONDS)
    return f"slot-{customer_id}-{week}-{boxes}"
