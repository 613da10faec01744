"""Money going back: full and partial card refunds, a refund that fails a day after it
succeeded (``pm_card_refundFail``), and disputes (``pm_card_createDispute``) left open, under
review, won and lost."""

from __future__ import annotations

from sandbox.world import company
from sandbox.world.config import DAY
from sandbox.world.scenarios.payments import _pay
from sandbox.world.state import CustomerRef, World


def _refund(world: World, ref: CustomerRef, pi_id: str, partial: bool) -> None:
    pi = world.api.get(pi_id, account=ref.account)
    if pi["status"] != "succeeded":
        return
    params: dict = {"payment_intent": pi_id, "reason": "requested_by_customer"}
    if partial:
        params["amount"] = pi["amount"] // 2
    world.api.try_post("/v1/refunds", params, account=ref.account)


def _purchase_then_refund(world: World, ref: CustomerRef, order: str, pm: str,
                          partial: bool) -> None:
    pi = _pay(world, ref, pm, order, usd_cents=4900)
    if pi:
        world.at(world.api.now() + 2 * DAY, _refund, world, ref, pi["id"], partial)


def _dispute_outcome(world: World, ref: CustomerRef, pi_id: str, outcome: str) -> None:
    disputes = [d for d in world.api.store.iter_type(ref.account or world.api.platform,
                                                     "dispute")
                if d.get("payment_intent") == pi_id]
    for dispute in disputes:
        if outcome == "under_review":
            world.api.try_post(f"/v1/disputes/{dispute['id']}", {
                "evidence": {"uncategorized_text": "Signed contract attached."}},
                account=ref.account)
        elif outcome in ("won", "lost"):
            world.api.try_post(f"/_replica/test_helpers/disputes/{dispute['id']}/resolve",
                               {"status": outcome}, account=ref.account)


def _disputed(world: World, ref: CustomerRef, order: str, outcome: str) -> None:
    pi = _pay(world, ref, company.DISPUTE, order, usd_cents=19900, feature="onboarding")
    if pi and outcome != "needs_response":
        world.at(world.api.now() + 3 * DAY, _dispute_outcome, world, ref, pi["id"], outcome)


def plan(world: World) -> None:
    card_payers = world.customers
    n = max(1, world.config.spec.one_off // 2)
    k = 0
    for _ in range(n):
        for pm, partial in ((company.CARD, False), (company.CARD, True),
                            (company.REFUND_FAIL, False)):
            k += 1
            world.at(world.day(5, 50), _purchase_then_refund, world, world.pick(card_payers),
                     f"rev_{k:06d}", pm, partial)
        for outcome in ("needs_response", "under_review", "won", "lost"):
            k += 1
            world.at(world.day(5, 50), _disputed, world, world.pick(card_payers),
                     f"rev_{k:06d}", outcome)
