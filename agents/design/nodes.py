"""Design nodes. Only `save` has a side effect (one stored draft + its audit entry)."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agents.design.state import DesignDeps, DesignState
from core.errors import ConfigError
from tools.design import store
from tools.design.draft import DesignDraft, Recommendation
from tools.design.requirements import Requirements
from tools.design.rules import draft_design
from tools.toolkit import MAX_PATTERN_HITS


def intake(state: DesignState) -> dict[str, Any]:
    req = Requirements.model_validate(state["requirements"])  # names any bad field
    return {"requirements": req.model_dump(mode="json"), "calls": []}


def rules(state: DesignState, runtime: Runtime[DesignDeps]) -> dict[str, Any]:
    draft = draft_design(Requirements.model_validate(state["requirements"]))
    unknown = sorted(set(draft.refs("pattern")) - runtime.context.pattern_ids)
    if unknown:  # a rule naming a pattern the library lacks is a defect, not a draft
        raise ConfigError(f"design rules name patterns missing from the library: {unknown}",
                          hint="add the pattern under knowledge/patterns or fix the rule")
    return {"draft": draft.model_dump(mode="json")}


def retrieve(state: DesignState, runtime: Runtime[DesignDeps]) -> dict[str, Any]:
    """Patterns the index finds for the intake's notes, beyond those the rules chose."""
    deps = runtime.context
    req = Requirements.model_validate(state["requirements"])
    draft = DesignDraft.model_validate(state["draft"])
    query = f"{req.business_model.replace('_', ' ')} {req.pricing_model.replace('_', ' ')}: " \
            f"{req.notes}"
    chosen = set(draft.refs("pattern"))
    # ask for enough hits to survive dropping the rules' own choices, within the tool's limit
    k = min(deps.k + len(chosen), MAX_PATTERN_HITS)
    call = deps.registry.call("search_patterns", {"query": query[:1000], "k": k}, deps.tools)
    deps.emit("tool_result", {"name": call.name, "status": call.result.status,
                              "message": call.result.message})
    hits = call.model_dump(mode="json")["result"]["data"] if call.result.status == "success" \
        else []
    if (failure := call.failure()) is not None:
        draft.tool_errors.append(failure)
    draft.related_patterns = [
        Recommendation(kind="pattern", ref=h["id"], reason=f"retrieved for the notes: {h['title']}",
                       because=["notes", f"business_model={req.business_model}",
                                f"pricing_model={req.pricing_model}"])
        for h in hits if h["id"] not in chosen][:deps.k]
    return {"draft": draft.model_dump(mode="json"),
            "calls": [*state.get("calls", []), call.model_dump(mode="json")]}


def save(state: DesignState, runtime: Runtime[DesignDeps]) -> dict[str, Any]:
    deps = runtime.context
    if deps.db is None:
        return {}
    with deps.db.session() as session:
        stored = store.create(session, engagement=deps.engagement,
                              requirements=Requirements.model_validate(state["requirements"]),
                              draft=DesignDraft.model_validate(state["draft"]), actor=deps.actor)
    return {"design_id": stored.id}
