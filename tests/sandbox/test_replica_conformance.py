"""Shape conformance against references nobody here wrote.

For every resource the replica serves, an object created through the SDK must have the same
top-level keys as Stripe's published example (`fixtures3.json`) and the same JSON types:

* both values non-null  -> same JSON type (string/integer/number/boolean/object/array);
* ours null, example not -> allowed only if the SDK's typed class declares the field
  Optional (Stripe's "nullable"); a fresh object legitimately has no discount, no address;
* example null, ours not -> our JSON type must be one the SDK's annotation admits
  (``Union[str, "Price", None]`` admits string and object, ``Optional[int]`` integer).

Documented extras: a webhook endpoint's create answer has ``secret`` (create only); events
of connected accounts have ``account``. Nothing else may be added or missing.
"""

from __future__ import annotations

import decimal
import json
import typing
from pathlib import Path
from typing import Any, ForwardRef

import httpx
import pytest
from stripe import StripeObject
from stripe._object_classes import get_object_class

SHARED = Path(__file__).resolve().parents[3] / "shared" / "stripe" / "fixtures3.json"
VENDORED = (Path(__file__).resolve().parents[2] / "sandbox" / "replica" / "fixtures"
            / "fixtures3.json")
ALL = {"string", "integer", "number", "boolean", "object", "array", "null"}


def fixtures() -> dict[str, Any]:
    path = SHARED if SHARED.exists() else VENDORED
    return json.loads(path.read_text())["resources"]


def json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def annotation_kinds(ann: Any) -> set[str]:
    origin = typing.get_origin(ann)
    if ann is type(None) or ann is None:
        return {"null"}
    if origin is typing.Union:
        return set().union(*(annotation_kinds(a) for a in typing.get_args(ann)))
    if origin is typing.Literal:
        return {json_kind(v) for v in typing.get_args(ann)}
    if origin in (list, typing.List):  # noqa: UP006
        return {"array"}
    if origin in (dict, typing.Dict):  # noqa: UP006
        return {"object"}
    if isinstance(ann, ForwardRef | str):
        return {"object"}
    simple = {str: {"string"}, int: {"integer"}, float: {"number", "integer"},
              bool: {"boolean"}, decimal.Decimal: {"string"}}
    if ann in simple:
        return simple[ann]
    if isinstance(ann, type) and issubclass(ann, StripeObject):
        return {"object"}
    return ALL  # unknown annotation: no opinion


def sdk_annotations(object_type: str) -> dict[str, Any]:
    cls = get_object_class("V1", object_type)
    out: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        out.update(getattr(klass, "__annotations__", {}))
    return out


def conformance_problems(object_type: str, ours: dict[str, Any], *,
                         extras: frozenset[str] = frozenset(),
                         example_type: str | None = None) -> list[str]:
    example = fixtures()[example_type or object_type]
    sdk = sdk_annotations(object_type)
    problems = []
    missing = set(example) - set(ours)
    added = set(ours) - set(example) - extras
    if missing:
        problems.append(f"missing keys {sorted(missing)}")
    if added:
        problems.append(f"keys Stripe's example does not have {sorted(added)}")
    for key in sorted(set(example) & set(ours)):
        mine, theirs = json_kind(ours[key]), json_kind(example[key])
        allowed = annotation_kinds(sdk[key]) if key in sdk else ALL
        if mine == theirs:
            continue
        if mine == "null" and theirs != "null":
            if "null" not in allowed:
                problems.append(f"{key}: null but the SDK says it is not nullable")
        elif theirs == "null":
            if mine not in allowed:
                problems.append(f"{key}: {mine} but the SDK admits {sorted(allowed)}")
        elif {mine, theirs} == {"integer", "number"}:
            continue
        else:
            problems.append(f"{key}: {mine}, Stripe's example has {theirs}")
    return problems


def raw(replica, path: str, method: str = "GET", data: dict | None = None,
        account: str | None = None) -> dict[str, Any]:
    headers = {"Stripe-Account": account} if account else {}
    response = httpx.request(method, replica.url + path, data=data, headers=headers,
                             auth=(replica.api_key, ""))
    assert response.status_code == 200, response.text
    return response.json()


def body(obj: StripeObject) -> dict[str, Any]:
    """The JSON the replica answered for an SDK call (not the SDK's converted view)."""
    assert obj.last_response is not None
    return json.loads(obj.last_response.body)


@pytest.fixture
def world(replica, stripe_client) -> dict[str, dict[str, Any]]:
    c = stripe_client
    customer = c.v1.customers.create(params={"email": "shape@example.com", "name": "Shape"})
    product = c.v1.products.create(params={"name": "Shape"})
    recurring = c.v1.prices.create(params={"product": product.id, "currency": "usd",
                                           "unit_amount": 100, "recurring": {"interval": "month"}})
    one_time = c.v1.prices.create(params={"product": product.id, "currency": "usd",
                                          "unit_amount": 100})
    endpoint = c.v1.webhook_endpoints.create(params={"url": "https://example.com/h",
                                                     "enabled_events": ["*"]})
    account = c.v1.accounts.create(params={"type": "custom", "country": "US"})
    meter = c.v1.billing.meters.create(params={"display_name": "M", "event_name": "m",
                                               "default_aggregation": {"formula": "sum"}})
    meter_event = c.v1.billing.meter_events.create(params={
        "event_name": "m", "payload": {"stripe_customer_id": customer.id, "value": "1"}})
    now = replica.admin.now()
    summaries = c.v1.billing.meters.event_summaries.list(meter.id, params={
        "customer": customer.id, "start_time": now // 60 * 60 - 60,
        "end_time": now // 60 * 60 + 120})
    event = raw(replica, "/v1/events?type=customer.created")["data"][0]
    deleted_customer = c.v1.customers.delete(c.v1.customers.create().id)
    deleted_product = c.v1.products.delete(c.v1.products.create(params={"name": "x"}).id)
    deleted_endpoint = c.v1.webhook_endpoints.delete(c.v1.webhook_endpoints.create(
        params={"url": "https://example.com/x", "enabled_events": ["*"]}).id)
    deleted_account = c.v1.accounts.delete(c.v1.accounts.create(params={"type": "custom"}).id)
    return {
        "customer": body(customer), "product": body(product), "price": body(recurring),
        "price (one_time)": body(one_time), "webhook_endpoint": body(endpoint),
        "webhook_endpoint (retrieved)": raw(replica, f"/v1/webhook_endpoints/{endpoint.id}"),
        "account": body(account), "account (platform)": raw(replica, "/v1/account"),
        "billing.meter": body(meter), "billing.meter_event": body(meter_event),
        "billing.meter_event_summary": body(summaries)["data"][0], "event": event,
        "deleted_customer": body(deleted_customer), "deleted_product": body(deleted_product),
        "deleted_webhook_endpoint": body(deleted_endpoint),
        "deleted_account": body(deleted_account),
    }


CASES = {
    "customer": ("customer", None, frozenset()),
    "product": ("product", None, frozenset()),
    "price": ("price", None, frozenset()),
    "price (one_time)": ("price", None, frozenset()),
    "webhook_endpoint": ("webhook_endpoint", None, frozenset({"secret"})),
    "webhook_endpoint (retrieved)": ("webhook_endpoint", None, frozenset()),
    "account": ("account", None, frozenset()),
    "account (platform)": ("account", None, frozenset()),
    "billing.meter": ("billing.meter", None, frozenset()),
    "billing.meter_event": ("billing.meter_event", None, frozenset()),
    "billing.meter_event_summary": ("billing.meter_event_summary", None, frozenset()),
    "event": ("event", None, frozenset()),
    "deleted_customer": ("customer", "deleted_customer", frozenset()),
    "deleted_product": ("product", "deleted_product", frozenset()),
    "deleted_webhook_endpoint": ("webhook_endpoint", "deleted_webhook_endpoint", frozenset()),
    "deleted_account": ("account", "deleted_account", frozenset()),
}


def test_every_served_resource_matches_stripes_example(world):
    report = {}
    for name, (object_type, example_type, extras) in CASES.items():
        problems = conformance_problems(object_type, world[name], extras=extras,
                                        example_type=example_type)
        if problems:
            report[name] = problems
    assert report == {}


def test_the_rule_catches_drift():
    example = fixtures()["customer"]
    assert conformance_problems("customer", dict(example)) == []
    drifted = dict(example, balance="0", extra=1)
    del drifted["email"]
    problems = conformance_problems("customer", drifted)
    assert any("missing keys ['email']" in p for p in problems)
    assert any("['extra']" in p for p in problems)
    assert any(p.startswith("balance: string") for p in problems)
    assert conformance_problems("customer", dict(example, livemode=None)) == [
        "livemode: null but the SDK says it is not nullable"]
