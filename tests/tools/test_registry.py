"""The tool registry: schemas, tiers, argument repair, unknown tools, budgets."""

from __future__ import annotations

import json

from tools.envelope import ToolContext, success
from tools.registry import Registry, ToolSpec, default_registry, render_for_model
from tools.toolkit import ReconArgs


def test_every_tool_has_schema_description_and_tier():
    reg = default_registry()
    tiers = {s.name: s.tier for s in reg.specs()}
    assert tiers["get_stripe_object"] == "read" and tiers["refund_payment"] == "money"
    assert tiers["annotate_customer"] == "write"
    for spec in reg.specs():
        tool = spec.openai_tool()["function"]
        assert tool["parameters"]["type"] == "object" and len(tool["description"]) > 20
    assert {t["function"]["name"] for t in reg.openai_tools()} == {
        n for n, t in tiers.items() if t == "read"}


def test_unknown_tool_malformed_and_invalid_args_are_results():
    reg, ctx = default_registry(), ToolContext(engagement="acme")
    assert reg.call("drop_tables", {}, ctx).result.status == "error"
    repaired = reg.call("get_stripe_object", "{'object_id': 'cus_ABC123456',}", ctx)
    assert repaired.args == {"object_id": "cus_ABC123456"}
    assert reg.call("get_stripe_object", "{{{not json", ctx).result.message.startswith(
        "the arguments")
    bad = reg.call("get_stripe_object", {"object_id": "nope"}, ctx).result
    assert bad.status == "error" and "object_id" in bad.message


def test_write_and_money_tools_need_approval():
    reg = default_registry()
    call = reg.call("refund_payment", {"payment_intent": "pi_ABC1234567"},
                    ToolContext(engagement="acme"))
    assert call.result.status == "approval_required"


def test_oversized_output_is_cut_keeping_ids():
    def big(ctx, args):  # noqa: ANN001, ANN202
        return success({"items": [{"id": f"in_Big{i:08d}", "blob": "x" * 200}
                                  for i in range(300)]})

    reg = Registry([ToolSpec("big", big, ReconArgs, budget=3000)])
    call = reg.call("big", {}, ToolContext(engagement="acme"))
    text = render_for_model(call, 3000)
    doc = json.loads(text)
    assert len(json.dumps({k: v for k, v in doc.items() if k != "_omitted"})) <= 3000 + 300
    omitted = doc["_omitted"]["data.items"]
    kept = {i["id"] for i in doc["data"]["items"]}
    assert omitted["count"] + len(kept) == 300
    assert "in_Big00000299" in omitted["ids"] and "_note" in doc
