"""Tax rates (``/v1/tax_rates``): create, retrieve, list, update; and exclusive tax on draft
invoice lines, the way Stripe computes it — per line, rounded half up to the currency's
minor unit, then summed into ``total_taxes``.

A subscription keeps the rates it was created with (``default_tax_rates``, as objects);
only previews apply them (``subscription_details[default_tax_rates]`` or the
subscription's own): invoices the replica stores stay tax-free as before.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sandbox.replica.context import Ctx
from sandbox.replica.errors import ApiError
from sandbox.replica.registry import CRUD, Obj, Params, Registry, ResourceSpec

_WRITABLE = frozenset({"active", "country", "description", "display_name", "jurisdiction",
                       "metadata", "state", "tax_type"})


def _prepare(ctx: Ctx, obj: Obj, params: Params, creating: bool) -> None:
    if not creating:
        return
    if str(params.get("inclusive")).lower() in ("true", "1"):
        raise ApiError(400, "The replica applies exclusive tax rates only.", param="inclusive")
    try:
        obj["percentage"] = float(params["percentage"])
    except (TypeError, ValueError):
        raise ApiError(400, "Invalid decimal: percentage", param="percentage") from None
    obj["inclusive"] = False
    obj["effective_percentage"] = obj["percentage"]


SPEC = ResourceSpec(
    object="tax_rate",
    path="/v1/tax_rates",
    defaults={"country": None, "description": None, "jurisdiction": None, "state": None,
              "tax_type": None, "flat_amount": None, "rate_type": "percentage",
              "jurisdiction_level": None},
    fields=_WRITABLE,
    create_params=_WRITABLE | {"percentage", "inclusive"},
    update_params=_WRITABLE,
    required=("display_name", "percentage", "inclusive"),
    filters={"active": "active", "inclusive": "inclusive"},
    prepare=_prepare,
    operations=CRUD - {"delete"},
    id_prefix="txr_",
)


def _line_tax(amount: int, rate: Obj) -> int:
    exact = Decimal(amount) * Decimal(str(rate["percentage"])) / 100
    return int(exact.to_integral_value(rounding=ROUND_HALF_UP))


def resolve(ctx: Ctx, raw: object, *, param: str) -> list[Obj]:
    """Tax rate ids from a form list (``x[0]=…`` decodes as a dict) → the rate objects."""
    if not raw:
        return []
    ids = list(raw.values()) if isinstance(raw, dict) else raw
    if not isinstance(ids, list):
        raise ApiError(400, f"Invalid array: {param}", param=param)
    return [ctx.get(str(r), "tax_rate", param=param) for r in ids if r]


def apply_taxes(ctx: Ctx, invoice: Obj, rate_ids: list[str], *, param: str) -> None:
    """Exclusive tax on every taxable line of a draft `invoice` (totals included)."""
    rates = resolve(ctx, rate_ids, param=param)
    totals: dict[str, int] = {}
    taxable: dict[str, int] = {}
    for line in invoice["lines"]["data"]:
        line["taxes"] = []
        for rate in rates:
            tax = _line_tax(int(line["amount"]), rate)
            line["taxes"].append({"amount": tax, "tax_behavior": "exclusive",
                                  "tax_rate_details": {"tax_rate": rate["id"]},
                                  "taxability_reason": "standard_rated",
                                  "taxable_amount": int(line["amount"]),
                                  "type": "tax_rate_details"})
            totals[rate["id"]] = totals.get(rate["id"], 0) + tax
            taxable[rate["id"]] = taxable.get(rate["id"], 0) + int(line["amount"])
    invoice["total_taxes"] = [{"amount": totals[r], "tax_behavior": "exclusive",
                               "tax_rate_details": {"tax_rate": r},
                               "taxability_reason": "standard_rated",
                               "taxable_amount": taxable[r], "type": "tax_rate_details"}
                              for r in totals]
    invoice["default_tax_rates"] = rates
    tax = sum(totals.values())
    invoice.update(total=invoice["subtotal"] + tax,
                   total_excluding_tax=invoice["subtotal"])
    due = max(0, invoice["total"])
    invoice.update(amount_due=due, amount_remaining=due)


def register(reg: Registry) -> None:
    reg.resource(SPEC)
