"""What resource modules register: resources (CRUD for free), extra routes, due-work kinds.

A resource module exposes ``register(reg: Registry) -> None``. `ResourceSpec` describes a
collection; `Registry.resource` adds its standard routes (list, create, retrieve, update,
delete - each only if enabled) served by the generic handlers in `crud.py`.
`Registry.route` adds any other endpoint (``POST /v1/payment_intents/{id}/confirm``);
`Registry.on_due` names a kind of delayed work that `Ctx.schedule` can plan. See the package
docstring for a worked example.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.replica.context import Ctx

Obj = dict[str, Any]
Params = dict[str, Any]
# handler(ctx, params, **path_params) -> Stripe object (or list object) to answer
Handler = Callable[..., Obj]
# prepare(ctx, obj, params, creating) -> None: validate, fill derived fields, raise ApiError
Prepare = Callable[["Ctx", Obj, Params, bool], None]
DueHandler = Callable[["Ctx", Obj], None]

CRUD = frozenset({"list", "create", "retrieve", "update", "delete"})


@dataclass(frozen=True)
class ResourceSpec:
    """One Stripe collection served by the generic CRUD handlers.

    object        Stripe object type, also the key of its example in fixtures3.json and the
                  event prefix (``customer`` -> ``customer.created``).
    path          collection path (``/v1/customers``); the item path is ``{path}/{id}``.
    defaults      written over the example for a new object (blank the example's values).
    fields        params written straight onto the object (default: every template key
                  except id/object/created/livemode); others reach `prepare` only.
    create_params / update_params
                  allowed params (``expand`` always is); None accepts anything.
    required      params a create must have.
    filters       list param -> field path (``{"customer": "customer",
                  "lookup_keys[]": "lookup_key"}``; ``[]`` means a list of values).
    prepare       hook run after params are applied on create and update.
    operations    which of list/create/retrieve/update/delete exist.
    retrieve_deleted
                  a retrieve of a deleted object answers its ``{"deleted": true}`` stub
                  (customers) instead of 404.
    platform_scoped
                  objects live in the platform account whatever Stripe-Account says
                  (connected accounts themselves).
    events        which of ``{object}.created/updated/deleted`` to emit.
    """

    object: str
    path: str
    defaults: Obj = field(default_factory=dict)
    fields: frozenset[str] | None = None
    create_params: frozenset[str] | None = None
    update_params: frozenset[str] | None = None
    required: tuple[str, ...] = ()
    filters: dict[str, str] = field(default_factory=dict)
    prepare: Prepare | None = None
    operations: frozenset[str] = CRUD - {"delete"}
    retrieve_deleted: bool = False
    platform_scoped: bool = False
    events: frozenset[str] = frozenset({"created", "updated", "deleted"})
    id_prefix: str | None = None


@dataclass(frozen=True)
class RouteDef:
    method: str
    path: str  # Starlette template, e.g. /v1/customers/{id}
    handler: Handler
    mutates: bool  # POST/DELETE: idempotency, events, faults that skip side effects


@dataclass
class Registry:
    resources: dict[str, ResourceSpec] = field(default_factory=dict)
    routes: list[RouteDef] = field(default_factory=list)
    due: dict[str, DueHandler] = field(default_factory=dict)

    def resource(self, spec: ResourceSpec) -> ResourceSpec:
        from sandbox.replica import crud

        if spec.object in self.resources:
            raise ValueError(f"resource {spec.object} registered twice")
        self.resources[spec.object] = spec
        ops, item = spec.operations, spec.path + "/{id}"
        if "list" in ops:
            self.route("GET", spec.path, crud.list_handler(spec))
        if "create" in ops:
            self.route("POST", spec.path, crud.create_handler(spec))
        if "retrieve" in ops:
            self.route("GET", item, crud.retrieve_handler(spec))
        if "update" in ops:
            self.route("POST", item, crud.update_handler(spec))
        if "delete" in ops:
            self.route("DELETE", item, crud.delete_handler(spec))
        return spec

    def route(self, method: str, path: str, handler: Handler) -> None:
        """Add an endpoint. Literal paths win over templated ones whatever the order, so
        ``/v1/invoices/create_preview`` is not taken by ``/v1/invoices/{id}``."""
        method = method.upper()
        if any(r.method == method and r.path == path for r in self.routes):
            raise ValueError(f"route {method} {path} registered twice")
        self.routes.append(RouteDef(method, path, handler, mutates=method != "GET"))
        self.routes.sort(key=lambda r: r.path.count("{"))

    def on_due(self, kind: str, handler: DueHandler) -> None:
        if kind in self.due:
            raise ValueError(f"due-work kind {kind} registered twice")
        self.due[kind] = handler

    def spec_for(self, object_type: str) -> ResourceSpec | None:
        return self.resources.get(object_type)
