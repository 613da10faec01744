"""The tool catalogue: every tool the agents (and CLI/API) may call, with its JSON schema
(from its pydantic argument model), description (its docstring), permission tier and
output budget.

`Registry.call` is the one way a tool runs: it repairs or reports malformed arguments,
answers unknown tools, refuses write/money tools without approval (``approval_required``),
turns expected failures into error envelopes, and hands the data back as plain JSON (the
shape a checkpoint stores). `render_for_model` cuts an oversized result down to the budget,
keeping every id and saying what was left out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from core.errors import FdeError
from core.ids import new_id
from tools import toolkit
from tools.envelope import ToolContext, ToolResult, error

__all__ = ["Registry", "ToolCall", "ToolSpec", "default_registry", "render_for_model"]

Tier = Literal["read", "write", "money"]
DEFAULT_BUDGET = 6_000  # characters of JSON the model sees per tool result
_ID = re.compile(r"\b[a-z]{2,8}_(?=[A-Za-z0-9]*[A-Z0-9])[A-Za-z0-9]{6,}(?::\d+)?\b")


@dataclass(frozen=True)
class ToolSpec:
    name: str
    fn: Callable[[ToolContext, Any], ToolResult[Any]]
    args_model: type[BaseModel]
    tier: Tier = "read"
    budget: int = DEFAULT_BUDGET

    @property
    def description(self) -> str:
        return " ".join((self.fn.__doc__ or self.name).split())

    def json_schema(self) -> dict[str, Any]:
        schema = self.args_model.model_json_schema()
        schema.pop("title", None)
        return schema

    def openai_tool(self) -> dict[str, Any]:
        return {"type": "function", "function": {
            "name": self.name, "description": f"[{self.tier}] {self.description}",
            "parameters": self.json_schema()}}


class ToolCall(BaseModel):
    """One call as it happened: what was asked, and the envelope that came back."""

    id: str
    name: str
    tier: Tier | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    result: ToolResult[Any]

    def failure(self) -> str | None:
        """One line saying why the call failed, for whoever shows its caller's result."""
        if self.result.status != "error":
            return None
        hint = f" ({self.result.hint})" if self.result.hint else ""
        return f"{self.name} failed: {self.result.message}{hint}"


def _repair_json(raw: str) -> dict[str, Any] | None:
    """Common model slips: code fences, single quotes, trailing commas, Python literals."""
    text = raw.strip()
    text = re.sub(r"^```(?:json)?\s*|\s*```$", "", text)
    candidates = [text, re.sub(r",\s*([}\]])", r"\1", text)]
    candidates.append(candidates[-1].replace("'", '"').replace("True", "true")
                      .replace("False", "false").replace("None", "null"))
    if text and not text.startswith("{"):
        candidates.append("{" + candidates[-1] + "}")
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


class Registry:
    def __init__(self, specs: list[ToolSpec] | None = None) -> None:
        self._specs: dict[str, ToolSpec] = {}
        for spec in specs or []:
            self.register(spec)

    def register(self, spec: ToolSpec) -> None:
        if spec.name in self._specs:
            raise ValueError(f"tool {spec.name!r} is registered twice")
        self._specs[spec.name] = spec

    def get(self, name: str) -> ToolSpec | None:
        return self._specs.get(name)

    def names(self, *, tiers: tuple[Tier, ...] = ("read", "write", "money")) -> list[str]:
        return [n for n, s in self._specs.items() if s.tier in tiers]

    def specs(self) -> list[ToolSpec]:
        return list(self._specs.values())

    def openai_tools(self, *, tiers: tuple[Tier, ...] = ("read",)) -> list[dict[str, Any]]:
        return [s.openai_tool() for s in self._specs.values() if s.tier in tiers]

    def call(self, name: str, raw_args: str | dict[str, Any] | None, ctx: ToolContext, *,
             approved: bool = False, call_id: str | None = None) -> ToolCall:
        cid = call_id or new_id("call")
        spec = self._specs.get(name)
        if spec is None:
            known = ", ".join(self._specs)
            return ToolCall(id=cid, name=name, result=error(
                f"unknown tool {name!r}", hint=f"available tools: {known}"))
        if isinstance(raw_args, dict) or raw_args is None:
            args = dict(raw_args or {})
        else:
            repaired = _repair_json(raw_args) if raw_args.strip() else {}
            if repaired is None:
                return ToolCall(id=cid, name=name, tier=spec.tier, result=error(
                    f"the arguments for {name} are not valid JSON: {raw_args[:200]!r}",
                    hint=f"send a JSON object matching {json.dumps(spec.json_schema())}"))
            args = repaired
        try:
            parsed = spec.args_model.model_validate(args)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}"
                                 for e in exc.errors())
            return ToolCall(id=cid, name=name, tier=spec.tier, args=args, result=error(
                f"invalid arguments for {name}: {problems}",
                hint=f"schema: {json.dumps(spec.json_schema())}"))
        clean = parsed.model_dump(mode="json")
        if spec.tier != "read" and not approved:
            return ToolCall(id=cid, name=name, tier=spec.tier, args=clean,
                            result=ToolResult[Any](
                                status="approval_required",
                                message=f"{name} is a {spec.tier}-tier tool: an engineer must "
                                        "approve it before it runs"))
        try:
            result = spec.fn(ctx, parsed)
        except FdeError as exc:  # expected failures are data for the agent
            result = error(exc.message, hint=exc.hint)
        return ToolCall(id=cid, name=name, tier=spec.tier, args=clean, result=_plain(result))


def _plain(result: ToolResult[Any]) -> ToolResult[Any]:
    """The result with JSON data, as a checkpoint gives it back: a caller reads a call the
    same way whether it just ran or was reloaded after a resume (typed outputs such as a
    pattern hit would otherwise be models fresh and dicts once stored)."""
    return ToolResult[Any].model_validate(result.model_dump(mode="json"))


def _ids_in(value: Any) -> list[str]:
    return list(dict.fromkeys(_ID.findall(json.dumps(value, default=str))))


def render_for_model(call: ToolCall, budget: int = DEFAULT_BUDGET) -> str:
    """The result as JSON text within `budget` characters. Long lists are cut from the end;
    the ids of what was cut are kept and the model is told how much was left out."""
    doc = call.result.model_dump(mode="json")
    text = json.dumps(doc, default=str)
    if len(text) <= budget:
        return text
    omitted: dict[str, Any] = {}

    def biggest_list(node: Any, path: str) -> tuple[str, list[Any]] | None:
        best: tuple[str, list[Any]] | None = None
        items = node.items() if isinstance(node, dict) else (
            enumerate(node) if isinstance(node, list) else [])
        if isinstance(node, list) and len(node) > 1:
            best = (path, node)
        for key, child in items:
            if key == "_omitted":
                continue
            found = biggest_list(child, f"{path}.{key}" if path else str(key))
            if found and (best is None or len(json.dumps(found[1], default=str))
                          > len(json.dumps(best[1], default=str))):
                best = found
        return best

    def size() -> int:  # the id list of what was cut is not counted against the budget
        return len(json.dumps({k: v for k, v in doc.items() if k != "_omitted"}, default=str))

    while size() > budget:
        found = biggest_list(doc, "")
        if found is None or len(found[1]) <= 1:
            break
        path, items = found
        cut = max(1, len(items) // 2)
        dropped = items[len(items) - cut:]
        del items[len(items) - cut:]
        entry = omitted.setdefault(path, {"count": 0, "ids": []})
        entry["count"] += cut
        entry["ids"] = list(dict.fromkeys(entry["ids"] + _ids_in(dropped)))[:200]
        doc["_omitted"] = omitted
    text = json.dumps(doc, default=str)
    if size() > budget:  # one huge scalar: keep the head and every id
        head = text[: budget // 2]
        return json.dumps({"status": call.result.status, "truncated_head": head,
                           "ids": _ids_in(doc)[:300],
                           "_note": f"output was {len(text)} characters; cut to the budget"})
    doc["_note"] = ("output exceeded the budget: lists were shortened; _omitted gives how many "
                    "items were left out and their ids (call again with a narrower filter)")
    return json.dumps(doc, default=str)


def default_registry() -> Registry:
    """Every tool under tools/ that the agents may use."""
    return Registry(toolkit.TOOLS)
