"""A plan as text, the way Terraform shows one: a symbol per action and field diffs."""

from __future__ import annotations

import json

from tools.blueprints.plan import Plan, Scalar

__all__ = ["render_plan"]

_SYMBOL = {"create": "+", "update": "~", "replace": "-/+", "deactivate": "-", "delete": "-",
           "skip": "!", "no-op": " "}


def _show(value: Scalar) -> str:
    if isinstance(value, str):  # lists and mappings arrive as canonical JSON: show them bare
        return value if value[:1] in "[{" else repr(value)
    return json.dumps(value)


def render_plan(plan: Plan, *, show_unchanged: bool = False) -> str:
    lines = [f"blueprint {plan.blueprint} ({plan.kind}) on engagement {plan.engagement}"]
    for item in plan.items:
        if item.action == "no-op" and not show_unchanged:
            continue
        target = f" [{item.target_id}]" if item.target_id and item.action != "create" else ""
        lines.append(f"{_SYMBOL[item.action]:>3} {item.action:10} {item.key}{target}")
        for change in item.changes:
            if item.action == "create":
                lines.append(f"        {change.field} = {_show(change.after)}")
            else:
                lines.append(f"        {change.field}: {_show(change.before)} -> "
                             f"{_show(change.after)}")
        if item.note:
            lines.append(f"        # {item.note}")
    counts = plan.summary()
    if not plan.changes:
        lines.append("No changes. The account matches the blueprint.")
    else:
        parts = [f"{counts[a]} to {a}" for a in ("create", "update", "replace", "deactivate",
                                                  "delete") if counts.get(a)]
        lines.append(f"Plan: {', '.join(parts)}. digest {plan.digest}")
    if counts.get("skip"):
        lines.append(f"{counts['skip']} item(s) skipped (see the notes above).")
    return "\n".join(lines)
