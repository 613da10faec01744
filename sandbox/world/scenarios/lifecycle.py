"""Subscriptions in every status, reached through real transitions on the replica clock.

Customer i gets the fate ``FATES[i % len(FATES)]``; each fate is a short script (attach a
payment method, subscribe, maybe swap to a declining card before the renewal, cancel...)
timed so that the status it is named after is the one the subscription holds at the end of
the window (dunning: retries 3/5/7 days after the first failure; incomplete expires after
23 h; trials of 30 days).
"""

from __future__ import annotations

from sandbox.world import company
from sandbox.world.config import DAY
from sandbox.world.state import CustomerRef, World

FATES = (
    "active", "active_debit", "trialing", "past_due", "active", "unpaid", "canceled",
    "incomplete", "active_metered", "incomplete_expired", "paused", "canceled_dunning",
    "cancel_at_period_end", "debit_fails", "upgrade", "active_metered", "send_invoice",
    "active", "trial_converts", "active_debit",
)
PLANS = ("starter_monthly", "team_monthly", "enterprise_monthly")


def _attach(world: World, ref: CustomerRef, pm: str, *, default: bool = True) -> str:
    attached = world.customer_post(ref, f"/v1/payment_methods/{pm}/attach",
                                   {"customer": ref.id})
    if default:
        world.customer_post(ref, f"/v1/customers/{ref.id}",
                            {"invoice_settings": {"default_payment_method": attached["id"]}})
    return attached["id"]


def _debit_pm(ref: CustomerRef, ok: bool) -> str:
    if ref.place.debit == "sepa":
        return company.SEPA_OK if ok else company.SEPA_FAIL
    if ref.place.debit == "ach":
        return company.ACH_OK if ok else company.ACH_FAIL
    return company.CARD if ok else company.DECLINE


def _items(world: World, ref: CustomerRef, *, metered: bool = False) -> list[dict]:
    plan_key = PLANS[ref.index % len(PLANS)]
    quantity = 1 if plan_key == "starter_monthly" else 2 + ref.index % 14
    items = [{"price": world.prices[f"{plan_key}_{ref.place.currency}"], "quantity": quantity}]
    if metered:
        items.append({"price": world.prices[f"api_calls_{ref.place.currency}"]})
    return items


def subscribe(world: World, ref: CustomerRef, pm: str | None, *, metered: bool = False,
              **params: object) -> dict:
    if pm is not None:
        _attach(world, ref, pm)
    sub = world.customer_post(ref, "/v1/subscriptions", {
        "customer": ref.id, "items": _items(world, ref, metered=metered),
        "metadata": {"user_id": f"user_{ref.index:06d}", "fate": params.pop("fate", "")},
        **params})
    if metered:
        world.metered.append((ref, sub["id"]))
    return sub


def _swap_to_declining(world: World, ref: CustomerRef, sub_id: str) -> None:
    pm = _attach(world, ref, company.DECLINE, default=False)
    world.customer_post(ref, f"/v1/subscriptions/{sub_id}", {"default_payment_method": pm})


def _cancel(world: World, ref: CustomerRef, sub_id: str) -> None:
    world.api.request("DELETE", f"/v1/subscriptions/{sub_id}", account=ref.account)


def _fate(world: World, ref: CustomerRef, fate: str) -> None:
    w, d = world, world.day
    if fate in ("active", "active_metered"):
        w.at(d(1, 28), subscribe, w, ref, company.CARD, metered=fate == "active_metered",
             fate=fate)
    elif fate == "active_debit":
        w.at(d(1, 30), subscribe, w, ref, _debit_pm(ref, True), fate=fate)
    elif fate == "debit_fails":
        w.at(d(1, 50), subscribe, w, ref, _debit_pm(ref, False), fate=fate)
    elif fate == "trialing":
        w.at(d(32, 58), subscribe, w, ref, company.CARD, trial_period_days=30, fate=fate)
    elif fate == "trial_converts":
        w.at(d(1, 25), subscribe, w, ref, company.CARD, trial_period_days=14, fate=fate)
    elif fate == "paused":
        w.at(d(2, 40), subscribe, w, ref, None, trial_period_days=7, fate=fate,
             trial_settings={"end_behavior": {"missing_payment_method": "pause"}})
    elif fate == "incomplete":
        w.at(w.end - int(w.rng.uniform(2, 20) * 3600), subscribe, w, ref, company.DECLINE,
             fate=fate)
    elif fate == "incomplete_expired":
        w.at(d(1, 55), subscribe, w, ref, company.DECLINE, fate=fate)
    elif fate == "canceled":
        t = d(1, 30)
        w.at(t, _subscribe_then, w, ref, company.CARD, fate,
             [(t + int(w.rng.uniform(2, 25) * DAY), _cancel)])
    elif fate == "cancel_at_period_end":
        t = d(1, 40)
        w.at(t, _subscribe_then, w, ref, company.CARD, fate, [(t + 2 * DAY, _cancel_at_end)])
    elif fate == "upgrade":
        t = d(1, 40)
        w.at(t, _subscribe_then, w, ref, company.CARD, fate, [(t + 9 * DAY, _add_seats)])
    elif fate == "past_due":  # renewal fails 2-5 days before the end; retries still pending
        t = d(25, 28)
        w.at(t, _subscribe_then, w, ref, company.CARD, fate, [(t + DAY, _swap_to_declining)])
    elif fate == "unpaid":
        t = d(3, 20)
        w.at(t, _subscribe_then, w, ref, company.CARD, fate, [(t + DAY, _swap_to_declining)],
             {"replica_dunning_end": "unpaid", "replica_dunning_retry_days": "1,2"})
    elif fate == "canceled_dunning":
        t = d(1, 12)
        w.at(t, _subscribe_then, w, ref, company.CARD, fate, [(t + DAY, _swap_to_declining)])
    elif fate == "send_invoice":
        w.at(d(1, 40), subscribe, w, ref, None, collection_method="send_invoice",
             days_until_due=14, fate=fate)
    else:  # pragma: no cover - FATES and this switch are edited together
        raise ValueError(fate)


def _subscribe_then(world: World, ref: CustomerRef, pm: str, fate: str, later: list,
                    metadata: dict | None = None) -> None:
    sub = subscribe(world, ref, pm, fate=fate)
    if metadata:
        world.customer_post(ref, f"/v1/subscriptions/{sub['id']}", {"metadata": metadata})
    for t, fn in later:
        world.at(t, fn, world, ref, sub["id"])


def _cancel_at_end(world: World, ref: CustomerRef, sub_id: str) -> None:
    world.customer_post(ref, f"/v1/subscriptions/{sub_id}", {"cancel_at_period_end": True})


def _add_seats(world: World, ref: CustomerRef, sub_id: str) -> None:
    sub = world.api.get(sub_id, account=ref.account)
    item = sub["items"]["data"][0]
    world.customer_post(ref, f"/v1/subscriptions/{sub_id}", {
        "items": [{"id": item["id"], "quantity": int(item.get("quantity") or 1) + 3}],
        "proration_behavior": "always_invoice"})


def plan(world: World) -> None:
    for ref in world.customers:
        _fate(world, ref, FATES[ref.index % len(FATES)])
