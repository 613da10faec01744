"""Products: CRUD, custom ids, ``default_price_data`` (creates the price), guarded delete."""

from __future__ import annotations

from sandbox.replica import crud
from sandbox.replica.context import Ctx
from sandbox.replica.errors import ApiError
from sandbox.replica.listing import PageQuery
from sandbox.replica.registry import CRUD, Obj, Params, Registry, ResourceSpec

_WRITABLE = frozenset({
    "active", "description", "images", "marketing_features", "metadata", "name",
    "package_dimensions", "shippable", "statement_descriptor", "tax_code", "unit_label", "url",
})


def _prepare(ctx: Ctx, obj: Obj, params: Params, creating: bool) -> None:
    if creating and params.get("id"):
        if ctx.find(params["id"]) is not None:
            raise ApiError(400, f"Product already exists: {params['id']}",
                           code="resource_already_exists", param="id")
        obj["id"] = params["id"]
    if params.get("default_price"):
        ctx.get(params["default_price"], "price", param="default_price")
        obj["default_price"] = params["default_price"]
    elif params.get("default_price") == "":
        obj["default_price"] = None


SPEC = ResourceSpec(
    object="product",
    path="/v1/products",
    defaults={
        "description": None, "default_price": None, "images": [], "package_dimensions": None,
        "shippable": None, "type": "service",
    },
    fields=_WRITABLE,
    create_params=_WRITABLE | {"id", "default_price_data", "type", "tax_details"},
    update_params=_WRITABLE | {"default_price"},
    required=("name",),
    filters={"active": "active", "ids[]": "id", "shippable": "shippable", "url": "url"},
    prepare=_prepare,
    operations=CRUD - {"create", "delete"},
)


def create(ctx: Ctx, params: Params) -> Obj:
    params = dict(params)
    price_data = params.pop("default_price_data", None)
    product = crud.create(ctx, SPEC, params)
    if price_data:
        from sandbox.replica.resources import prices

        price = crud.create(ctx, prices.SPEC, {**price_data, "product": product["id"]})
        product["default_price"] = price["id"]
        ctx.replace(product)
    return product


def delete(ctx: Ctx, params: Params, id: str) -> Obj:
    product = crud.load(ctx, SPEC, id)
    query = PageQuery(limit=1, types=["price"], filters={"product": id})
    if ctx.engine.store.list(ctx.account, query).data:
        raise ApiError(
            400, "This product cannot be deleted because it has one or more user-created prices.",
        )
    return crud.delete(ctx, SPEC, product)


def register(reg: Registry) -> None:
    reg.resource(SPEC)
    reg.route("POST", SPEC.path, create)
    reg.route("DELETE", SPEC.path + "/{id}", delete)
