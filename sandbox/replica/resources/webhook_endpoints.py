"""Webhook endpoints: CRUD; the ``whsec_`` secret is answered on create only (kept private).

``enabled_events`` may be ``["*"]``; ``disabled=true`` sets status ``disabled`` (no
deliveries, pending retries stop); ``connect=true`` on a platform endpoint also receives the
events of connected accounts. Stripe emits no events about endpoints.
"""

from __future__ import annotations

from urllib.parse import urlparse

from sandbox.replica import crud
from sandbox.replica.context import Ctx
from sandbox.replica.errors import invalid_param
from sandbox.replica.forms import as_bool, as_list
from sandbox.replica.registry import CRUD, Obj, Params, Registry, ResourceSpec

_WRITABLE = frozenset({"description", "enabled_events", "metadata", "url"})


def _prepare(ctx: Ctx, obj: Obj, params: Params, creating: bool) -> None:
    url = urlparse(str(obj.get("url") or ""))
    if url.scheme not in ("http", "https") or not url.netloc:
        raise invalid_param("url", f"Invalid URL: {obj.get('url')}")
    events = as_list(params, "enabled_events") if "enabled_events" in params else None
    if events is not None:
        bad = [e for e in events if e != "*" and "." not in str(e)]
        if not events or bad:
            raise invalid_param("enabled_events", f"Invalid event type(s): {bad or events}")
        obj["enabled_events"] = [str(e) for e in events]
    if creating:
        obj["_secret"] = ctx.new_id("webhook_secret")
        obj["_connect"] = bool(as_bool(params, "connect", default=False))
        obj["api_version"] = params.get("api_version") or None
    disabled = as_bool(params, "disabled")
    if disabled is not None:
        obj["status"] = "disabled" if disabled else "enabled"


SPEC = ResourceSpec(
    object="webhook_endpoint",
    path="/v1/webhook_endpoints",
    defaults={"description": None, "enabled_events": [], "url": None, "status": "enabled",
              "api_version": None, "application": None},
    fields=_WRITABLE,
    create_params=_WRITABLE | {"api_version", "connect"},
    update_params=_WRITABLE | {"disabled"},
    required=("url", "enabled_events"),
    prepare=_prepare,
    operations=CRUD - {"create"},
    events=frozenset(),
)


def create(ctx: Ctx, params: Params) -> Obj:
    endpoint = crud.create(ctx, SPEC, params)
    return {**endpoint, "secret": endpoint["_secret"]}


def register(reg: Registry) -> None:
    reg.resource(SPEC)
    reg.route("POST", SPEC.path, create)
