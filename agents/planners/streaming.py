"""One streamed chat completion over the openai SDK: token chunks go to `emit`, tool-call
fragments are stitched back together by index. Shared by the triage and chat planners;
callers map the SDK's errors to their own messages."""

from __future__ import annotations

from typing import Any

from agents.planners.base import Emit


def stream_completion(client: Any, kwargs: dict[str, Any],
                      emit: Emit) -> tuple[str, list[dict[str, str]]]:
    """(text, tool calls in index order as {id, name, arguments})."""
    text: list[str] = []
    calls: dict[int, dict[str, str]] = {}
    for chunk in client.chat.completions.create(**kwargs, stream=True):
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        if delta.content:
            text.append(delta.content)
            emit("token", {"text": delta.content})
        for tc in delta.tool_calls or []:
            slot = calls.setdefault(tc.index, {"id": "", "name": "", "arguments": ""})
            slot["id"] = tc.id or slot["id"]
            if tc.function and tc.function.name:
                slot["name"] += tc.function.name
            if tc.function and tc.function.arguments:
                slot["arguments"] += tc.function.arguments
    return "".join(text), [calls[i] for i in sorted(calls)]
