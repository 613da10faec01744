"""The catalog and custom-logic blueprints on localstripe (an independent Stripe emulator).

localstripe has products, customers and invoice items but no /v1/prices and no billing
meters, so the catalog runs with its products only; the price half is covered on the
replica (test_examples.py).
"""

from __future__ import annotations

import uuid

import pytest

from tests.tools.blueprints.conftest import EXAMPLES, changes, example, gateway_for
from tools.blueprints import BlueprintContext, apply_plan, make_plan, parse_blueprint
from tools.blueprints.loader import LoadedBlueprint

pytestmark = pytest.mark.localstripe


@pytest.fixture
def lctx(localstripe: str, db) -> BlueprintContext:
    gateway = gateway_for(localstripe, "sk_test_" + "L0calStripeBlueprint0000")
    yield BlueprintContext(engagement="ls", gateway=gateway, db=db, base_dir=EXAMPLES,
                           actor="test")
    gateway.close()


def test_catalog_products_on_localstripe(lctx, converge) -> None:
    # the emulator is shared by the session: unique product ids keep this test's objects apart
    suffix = uuid.uuid4().hex[:8]
    spec = example("catalog.yaml").spec.model_dump(mode="json")
    spec["name"] = f"ls-{suffix}"
    for product in spec["products"]:
        product["id"] += f"_{suffix}"
        product["prices"] = []
    loaded = LoadedBlueprint(spec=parse_blueprint(spec), base_dir=EXAMPLES, source="t")
    assert [i.action for i in make_plan(loaded, lctx).changes] == ["create", "create"]
    token = converge(loaded, lctx)
    assert make_plan(loaded, lctx).changes == []
    assert apply_plan(loaded, lctx, approval=token).applied == []
    pro = f"prod_fde_api_pro_{suffix}"
    lctx.gateway.write("post", f"/v1/products/{pro}", {"name": "drifted"},
                       idempotency_key=f"drift-{suffix}")
    assert changes(make_plan(loaded, lctx)) == [(f"product:{pro}", "update", ["name"])]


def test_minimum_commit_invoice_items_on_localstripe(lctx, converge) -> None:
    suffix = uuid.uuid4().hex[:8]
    email = f"ops-{suffix}@acme.example"
    customer = lctx.gateway.write("post", "/v1/customers", {"email": email},
                                  idempotency_key=f"cus-{suffix}")["id"]
    spec = example("custom_minimum_commit_eur.yaml").spec.model_dump(mode="json")
    spec["customers"][0]["email"] = email
    loaded = LoadedBlueprint(spec=parse_blueprint(spec), base_dir=EXAMPLES, source="t")
    token = converge(loaded, lctx)
    assert make_plan(loaded, lctx).changes == []
    assert apply_plan(loaded, lctx, approval=token).applied == []
    items = lctx.gateway.list_all("/v1/invoiceitems", {"customer": customer})
    assert sorted((i["amount"], i["currency"]) for i in items) == [(6792, "eur"), (43208, "eur")]
