"""The builds of the webhook service that `--variant` selects.

`correct` is what Pantry Box runs in production. Each other name is the same code with one
bug that real teams ship (docs/failure-modes.md); the code marks each with `BUG(<name>)`.
"""

from __future__ import annotations

VARIANTS: dict[str, str] = {
    "correct": "the production build",
    "no_dedupe": "processed_event is written but never checked and shipping/dunning do not "
                 "look for an existing row, so a redelivered event ships boxes again (FM-03)",
    "trust_arrival_order": "households, subscriptions, gift orders and refund totals take "
                           "whatever snapshot arrives last, with no event.created watermark, "
                           "so an older event arriving late overwrites newer state (FM-02)",
    "ship_on_checkout_completed": "the gift box is packed on checkout.session.completed even "
                                  "when payment_status is unpaid (SEPA still processing), "
                                  "so a debit that later fails was shipped (FM-13/FM-14)",
    "newest_shape_only": "reads the subscription of an invoice only from "
                         "parent.subscription_details and current_period_end only from the "
                         "items, so events in an older API version's shape ship nothing "
                         "and blank the period end (FM-05)",
    "ignore_refunds": "charge.refunded is not handled: refunded shipments and gift orders "
                      "stay to_pack/paid and no refund_note is written (FM-24/FM-32 class)",
    "refund_in_major_units": "refund_note.amount stores amount_refunded / 100 (pounds, "
                             "euros) instead of minor units (FM-11 class)",
    "slow_courier_booking": "books the pallet courier for family_plus boxes inside the "
                            "invoice.paid request; the courier API takes 12 s, so Stripe "
                            "times out and retries",
    "strict_signature_window": "after verifying the signature, rejects any Stripe-Signature "
                               "timestamp more than 60 s from the server clock (Stripe "
                               "allows 300 s), answering 400",
}


def check(name: str) -> str:
    if name not in VARIANTS:
        raise SystemExit(f"unknown variant {name!r}; one of: {', '.join(VARIANTS)}")
    return name
