"""Disputes: opened later on charges paid with ``pm_card_createDispute`` (card
4000000000000259), answered with evidence, closed (accepted) or resolved won/lost.

`DELAY` after the charge succeeds (due work) a dispute opens in ``needs_response`` for
the whole amount: ``charge.disputed = true``, an ``adjustment`` balance transaction
(reporting category ``dispute``) withdraws the amount plus the dispute fee of `fees`,
events ``charge.dispute.created`` and ``charge.dispute.funds_withdrawn``.

    POST /v1/disputes/{id}            evidence[...], metadata, submit (default true):
                                      submitted -> under_review, charge.dispute.updated;
                                      uncategorized_text "winning_evidence" /
                                      "losing_evidence" resolves it a day later (Stripe's
                                      test convention)
    POST /v1/disputes/{id}/close      accept: lost, charge.dispute.closed
    POST /_replica/test_helpers/disputes/{id}/resolve   status=won|lost
                                      won: funds reinstated (``dispute_reversal``
                                      transaction, charge.dispute.funds_reinstated; the
                                      fee is not returned), then charge.dispute.closed
"""

from __future__ import annotations

import copy

from sandbox.replica import crud
from sandbox.replica.context import Ctx, public
from sandbox.replica.crud import check_params
from sandbox.replica.errors import ApiError, invalid_param
from sandbox.replica.forms import as_bool
from sandbox.replica.registry import Obj, Params, Registry, ResourceSpec
from sandbox.replica.resources import balance_transactions, charges, fees
from sandbox.replica.templates import apply_metadata, template

DAY = 86_400
DELAY = DAY
RESPONSE_DAYS = 7
_OPEN = ("needs_response", "warning_needs_response", "under_review", "warning_under_review")


def schedule(ctx: Ctx, charge: Obj) -> None:
    ctx.schedule(ctx.now() + DELAY, "dispute.opens", {"charge": charge["id"]})


def _opens(ctx: Ctx, payload: Obj) -> None:
    charge = ctx.find(payload["charge"])
    if charge is None or charge.get("disputed"):
        return
    amount, currency = charge["amount_captured"], charge["currency"]
    card = charge["payment_method_details"].get("card") or {}
    dispute = ctx.new_object("dispute")
    evidence = {k: None for k in template("dispute")["evidence"]} | {"enhanced_evidence": {}}
    dispute.update(
        amount=amount, charge=charge["id"], currency=currency, evidence=evidence,
        evidence_details={"due_by": ctx.now() + RESPONSE_DAYS * DAY, "has_evidence": False,
                          "past_due": False, "submission_count": 0,
                          "enhanced_eligibility": {}},
        is_charge_refundable=False, metadata={}, payment_intent=charge.get("payment_intent"),
        payment_method_details={"card": {"brand": card.get("brand"), "case_type": "chargeback",
                                         "network_reason_code": "10.4",
                                         "network": card.get("network")}, "type": "card"},
        reason="fraudulent", status="needs_response", enhanced_eligibility_types=[],
    )
    fee = fees.dispute_fee(currency)
    txn = balance_transactions.record(
        ctx, amount=-amount, currency=currency, type="adjustment", source=dispute["id"],
        reporting_category="dispute", description=f"Chargeback withdrawal for {charge['id']}",
        fee_details=[balance_transactions.fee_detail(fee, currency, "Dispute fee")],
        source_type=balance_transactions.source_type(charge["_method_type"]))
    dispute["balance_transactions"] = [public(txn)]
    ctx.insert(dispute)
    charge["disputed"] = True
    ctx.replace(charge)
    ctx.emit("charge.dispute.created", dispute)
    ctx.emit("charge.dispute.funds_withdrawn", dispute)


def _load(ctx: Ctx, id: str) -> Obj:
    return crud.load(ctx, SPEC, id)


def _closed(dispute: Obj) -> ApiError:
    return ApiError(400, f"This dispute ({dispute['id']}) is already closed with status "
                    f"{dispute['status']}.", code="dispute_already_closed")


def resolve(ctx: Ctx, dispute: Obj, *, won: bool) -> Obj:
    if dispute["status"] not in _OPEN:
        raise _closed(dispute)
    if won:
        charge = charges.load(ctx, dispute["charge"])
        txn = balance_transactions.record(
            ctx, amount=dispute["amount"], currency=dispute["currency"], type="adjustment",
            source=dispute["id"], reporting_category="dispute_reversal",
            description=f"Chargeback reversal for {dispute['charge']}",
            source_type=balance_transactions.source_type(charge["_method_type"]))
        dispute["balance_transactions"].append(public(txn))
        dispute["status"] = "won"
        ctx.replace(dispute)
        ctx.emit("charge.dispute.funds_reinstated", dispute)
    else:
        dispute["status"] = "lost"
        ctx.replace(dispute)
    ctx.emit("charge.dispute.closed", dispute)
    return dispute


def _update(ctx: Ctx, params: Params, id: str) -> Obj:
    check_params(params, frozenset({"evidence", "metadata", "submit",
                                    "intended_submission_method"}))
    dispute = _load(ctx, id)
    before = copy.deepcopy(dispute)
    if "metadata" in params:
        dispute["metadata"] = apply_metadata(dispute.get("metadata"), params["metadata"])
    evidence = params.get("evidence")
    if evidence:
        if dispute["status"] not in _OPEN:
            raise _closed(dispute)
        if not isinstance(evidence, dict):
            raise invalid_param("evidence", "evidence must be a hash")
        for key, value in evidence.items():
            if key not in dispute["evidence"]:
                raise invalid_param(f"evidence[{key}]",
                                    f"Received unknown parameter: evidence[{key}]")
            dispute["evidence"][key] = value or None
        dispute["evidence_details"]["has_evidence"] = True
        if as_bool(params, "submit", default=True):
            dispute["evidence_details"]["submission_count"] += 1
            dispute["status"] = ("warning_under_review" if dispute["status"].startswith("warning")
                                 else "under_review")
            text = dispute["evidence"].get("uncategorized_text")
            if text in ("winning_evidence", "losing_evidence"):
                ctx.schedule(ctx.now() + DAY, "dispute.resolves",
                             {"id": id, "won": text == "winning_evidence"})
    changed = crud.diff(public(before), public(dispute))
    if changed:
        ctx.replace(dispute)
        ctx.emit("charge.dispute.updated", dispute, previous=changed)
    return dispute


def _close(ctx: Ctx, params: Params, id: str) -> Obj:
    check_params(params, frozenset())
    return resolve(ctx, _load(ctx, id), won=False)


def _resolve(ctx: Ctx, params: Params, id: str) -> Obj:
    check_params(params, frozenset({"status"}))
    status = params.get("status")
    if status not in ("won", "lost"):
        raise invalid_param("status", "status must be won or lost")
    return resolve(ctx, _load(ctx, id), won=status == "won")


def _resolves(ctx: Ctx, payload: Obj) -> None:
    dispute = ctx.find(payload["id"])
    if dispute is not None and dispute.get("status") in _OPEN:
        resolve(ctx, dispute, won=bool(payload["won"]))


SPEC = ResourceSpec(
    object="dispute",
    path="/v1/disputes",
    filters={"charge": "charge", "payment_intent": "payment_intent"},
    operations=frozenset({"list", "retrieve"}),
    events=frozenset(),
)


def register(reg: Registry) -> None:
    reg.resource(SPEC)
    reg.route("POST", SPEC.path + "/{id}", _update)
    reg.route("POST", SPEC.path + "/{id}/close", _close)
    reg.route("POST", "/_replica/test_helpers/disputes/{id}/resolve", _resolve)
    reg.on_due("dispute.opens", _opens)
    reg.on_due("dispute.resolves", _resolves)
