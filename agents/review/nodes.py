"""Review nodes (read-only: nothing here has side effects)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime

from agents.review.state import ReviewDeps, ReviewState
from knowledge.review import ReviewReport, load_architecture, review_architecture
from knowledge.review.model import Architecture
from knowledge.review.report import render_markdown


def load(state: ReviewState) -> dict[str, Any]:
    arch = load_architecture(Path(state["path"]))  # ConfigError names the bad fields
    return {"architecture": arch.model_dump(mode="json", by_alias=True)}


def review(state: ReviewState, runtime: Runtime[ReviewDeps]) -> dict[str, Any]:
    arch = Architecture.model_validate(state["architecture"])
    report = review_architecture(arch, runtime.context.patterns)
    return {"report": report.model_dump(mode="json"), "related": {}, "calls": []}


def retrieve(state: ReviewState, runtime: Runtime[ReviewDeps]) -> dict[str, Any]:
    """For each violated item: the patterns the index finds for its text, beyond the ones
    whose checklist already names it (through the registry's `search_patterns` tool)."""
    deps = runtime.context
    related: dict[str, list[dict[str, Any]]] = {}
    calls, failures = [], []
    for v in state["report"]["violations"]:
        query = f"{v['check'].replace('.', ' ').replace('_', ' ')}: {v['item']}"
        call = deps.registry.call("search_patterns", {"query": query[:1000], "k": deps.k + 2},
                                  deps.tools)
        deps.emit("tool_result", {"name": call.name, "status": call.result.status,
                                  "message": call.result.message})
        calls.append(call.model_dump(mode="json"))
        hits = call.model_dump(mode="json")["result"]["data"] \
            if call.result.status == "success" else []
        related[v["check"]] = [h for h in hits if h["id"] not in v["patterns"]][:deps.k]
        if (failure := call.failure()) is not None:
            failures.append(f"`{v['check']}`: {failure}")
    return {"related": related, "calls": calls, "tool_errors": failures}


def report(state: ReviewState) -> dict[str, Any]:
    text = render_markdown(ReviewReport.model_validate(state["report"]))
    related = state.get("related", {})
    if related:
        lines = ["", "## Related patterns (retrieved per violated item)", ""]
        for check, hits in related.items():
            found = ", ".join(f"{h['id']} ({h['title']})" for h in hits) or "none found"
            lines.append(f"- `{check}`: {found}")
        text += "\n".join(lines) + "\n"
    failures = state.get("tool_errors", [])
    if failures:  # an empty list above may mean "the search failed", never leave that unsaid
        text += "\n".join(["", "## Incomplete: tools that failed", "",
                           *(f"- {f}" for f in failures)]) + "\n"
    return {"markdown": text}
