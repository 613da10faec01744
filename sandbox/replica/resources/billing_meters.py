"""Billing meters (``/v1/billing/meters``), meter events and event summaries.

Meters: create/retrieve/list/update (display_name), ``deactivate``/``reactivate``; an active
meter's ``event_name`` is unique. Meter events (``POST /v1/billing/meter_events``) have no id
and no GET in Stripe; they are stored under ``mev:{identifier}`` so a repeated identifier
answers the first event again instead of counting twice. Summaries aggregate stored events
(sum / count / last) for one customer over ``[start_time, end_time)``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from decimal import Decimal

from sandbox.replica import crud
from sandbox.replica.context import Ctx
from sandbox.replica.crud import check_params
from sandbox.replica.errors import ApiError, invalid_param, missing_param
from sandbox.replica.forms import as_int
from sandbox.replica.listing import list_object, page_of, parse_page_query
from sandbox.replica.registry import Obj, Params, Registry, ResourceSpec
from sandbox.replica.templates import template

_FORMULAS = ("sum", "count", "last")


def _prepare(ctx: Ctx, obj: Obj, params: Params, creating: bool) -> None:
    if not creating:
        return
    formula = (params.get("default_aggregation") or {}).get("formula")
    if formula not in _FORMULAS:
        raise invalid_param("default_aggregation[formula]", "Invalid formula: must be one of "
                            "sum, count, last")
    obj["default_aggregation"] = {"formula": formula}
    mapping = params.get("customer_mapping") or {}
    obj["customer_mapping"] = {"event_payload_key": mapping.get("event_payload_key")
                               or "stripe_customer_id", "type": "by_id"}
    value = params.get("value_settings") or {}
    obj["value_settings"] = {"event_payload_key": value.get("event_payload_key") or "value"}
    for other in ctx.engine.store.iter_type(ctx.account, "billing.meter"):
        if other["event_name"] == obj["event_name"] and other["status"] == "active":
            raise ApiError(400, f"An active meter with event_name `{obj['event_name']}` "
                           "already exists.", param="event_name")


SPEC = ResourceSpec(
    object="billing.meter",
    path="/v1/billing/meters",
    defaults={"event_time_window": None, "status": "active",
              "status_transitions": {"deactivated_at": None}},
    fields=frozenset({"display_name", "event_name", "event_time_window"}),
    create_params=frozenset({"customer_mapping", "default_aggregation", "display_name",
                             "event_name", "event_time_window", "value_settings"}),
    update_params=frozenset({"display_name"}),
    required=("default_aggregation", "display_name", "event_name"),
    filters={"status": "status"},
    prepare=_prepare,
    events=frozenset({"created", "updated"}),
)


def _set_status(ctx: Ctx, id: str, status: str) -> Obj:
    meter = crud.load(ctx, SPEC, id)
    if meter["status"] != status:
        before = {"status": meter["status"], "status_transitions": meter["status_transitions"]}
        meter["status"] = status
        meter["status_transitions"] = {
            "deactivated_at": ctx.now() if status == "inactive" else None}
        meter["updated"] = ctx.now()
        ctx.replace(meter)
        kind = "deactivated" if status == "inactive" else "reactivated"
        ctx.emit(f"billing.meter.{kind}", meter, previous=before)
    return meter


def deactivate(ctx: Ctx, params: Params, id: str) -> Obj:
    return _set_status(ctx, id, "inactive")


def reactivate(ctx: Ctx, params: Params, id: str) -> Obj:
    return _set_status(ctx, id, "active")


def create_event(ctx: Ctx, params: Params) -> Obj:
    check_params(params, frozenset({"event_name", "payload", "identifier", "timestamp"}),
                 ("event_name", "payload"))
    identifier = str(params.get("identifier") or uuid.uuid4())
    key = f"mev:{identifier}"
    existing = ctx.engine.store.get(ctx.account, key)
    if existing is not None:
        return existing
    now = ctx.now()
    ts = as_int(params, "timestamp", default=now)
    if ts < now - 35 * 86400 or ts > now + 300:
        raise invalid_param("timestamp", "Timestamp must be within the past 35 calendar days "
                            "and no more than 5 minutes in the future.")
    payload = params["payload"]
    if not isinstance(payload, dict) or not payload:
        raise missing_param("payload")
    event = template("billing.meter_event")
    event.update(created=now, event_name=params["event_name"], identifier=identifier,
                 livemode=False, payload={k: str(v) for k, v in payload.items()}, timestamp=ts)
    return ctx.insert(event, object_id=key)


def usage(ctx: Ctx, meter: Obj, customer: str, start: int,
          end: int) -> list[tuple[int, Decimal]]:
    """(timestamp, value) of `customer`'s events on `meter` in ``[start, end)``, in order."""
    ckey = (meter.get("customer_mapping") or {}).get("event_payload_key") or "stripe_customer_id"
    vkey = (meter.get("value_settings") or {}).get("event_payload_key") or "value"
    rows = ctx.engine.store.conn.execute(
        "SELECT json_extract(data, '$.timestamp'), json_extract(data, '$.payload') FROM objects"
        " WHERE account=? AND type='billing.meter_event' AND"
        " json_extract(data, '$.event_name')=? AND json_extract(data, '$.timestamp') >= ? AND"
        " json_extract(data, '$.timestamp') < ? ORDER BY json_extract(data, '$.timestamp'), seq",
        (ctx.account, meter["event_name"], start, end),
    ).fetchall()
    values = []
    for ts, raw in rows:
        payload = json.loads(raw)
        if payload.get(ckey) == customer:
            try:
                values.append((ts, Decimal(str(payload.get(vkey) or 0))))
            except ArithmeticError:
                continue
    return values


def combine(meter: Obj, values: list[Decimal]) -> Decimal:
    """The meter's formula (sum / count / last) over values in event order (exact)."""
    formula = (meter.get("default_aggregation") or {}).get("formula") or "sum"
    if formula == "count":
        return Decimal(len(values))
    if formula == "last":
        return values[-1] if values else Decimal(0)
    return sum(values, Decimal(0))


def aggregate(ctx: Ctx, meter: Obj, customer: str, start: int, end: int) -> Decimal:
    """The meter's formula over `customer`'s events in ``[start, end)``."""
    return combine(meter, [v for _, v in usage(ctx, meter, customer, start, end)])


_WINDOWS = {"hour": 3600, "day": 86400}


def _aligned(params: Params, name: str, step: int, unit: str) -> int:
    value = as_int(params, name)
    if value % step:
        raise invalid_param(name, f"`{name}` must be aligned with {unit} boundaries.")
    return value


def _summary_id(meter: str, customer: str, start: int, end: int) -> str:
    # Stripe's summary ids encode what was asked for; the same window gets the same id, so
    # a paging cursor survives between requests.
    digest = hashlib.sha256(f"{meter}|{customer}|{start}|{end}".encode()).hexdigest()[:24]
    return f"mtrusg_{digest}"


def event_summaries(ctx: Ctx, params: Params, id: str) -> Obj:
    """One summary for ``[start_time, end_time)``, or one per hour/day window with
    ``value_grouping_window`` (windows without events are left out), newest first."""
    meter = crud.load(ctx, SPEC, id)
    check_params(params, frozenset({"customer", "start_time", "end_time",
                                    "value_grouping_window", "limit", "starting_after",
                                    "ending_before"}),
                 ("customer", "start_time", "end_time"))
    grouping = params.get("value_grouping_window")
    if grouping is not None and grouping not in _WINDOWS:
        raise invalid_param("value_grouping_window", "Invalid value_grouping_window: must be "
                            "one of day, hour")
    step, unit = (_WINDOWS[grouping], f"{grouping} (UTC)") if grouping else (60, "minute")
    start = _aligned(params, "start_time", step, unit)
    end = _aligned(params, "end_time", step, unit)
    if end <= start:
        raise invalid_param("end_time", "`end_time` must be after `start_time`.")
    if grouping and (end - start) // step > 10_000:
        raise invalid_param("start_time", "Too many windows: narrow the time range.")
    buckets: dict[int, list[Decimal]] = {} if grouping else {start: []}
    for ts, value in usage(ctx, meter, params["customer"], start, end):
        buckets.setdefault(start + (ts - start) // step * step if grouping else start,
                           []).append(value)
    summaries = []
    for lo in sorted(buckets, reverse=True):
        hi = min(lo + step, end) if grouping else end
        total = combine(meter, buckets[lo])
        summaries.append({
            "aggregated_value": int(total) if total == total.to_integral_value()
            else float(total),
            "end_time": hi, "id": _summary_id(id, params["customer"], lo, hi), "livemode": False,
            "meter": id, "object": "billing.meter_event_summary", "start_time": lo,
        })
    return list_object(f"/v1/billing/meters/{id}/event_summaries",
                       page_of(summaries, parse_page_query(params)))


def register(reg: Registry) -> None:
    reg.resource(SPEC)
    reg.route("POST", SPEC.path + "/{id}/deactivate", deactivate)
    reg.route("POST", SPEC.path + "/{id}/reactivate", reactivate)
    reg.route("GET", SPEC.path + "/{id}/event_summaries", event_summaries)
    reg.route("POST", "/v1/billing/meter_events", create_event)
