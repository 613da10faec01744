"""A scripted OpenAI-compatible model behind httpx.MockTransport: each request pops the
next scripted turn and answers in the chat-completions streaming wire format (SSE)."""

from __future__ import annotations

import json
from typing import Any

import httpx


def text_turn(text: str) -> dict[str, Any]:
    return {"content": text}


def tool_turn(*calls: tuple[str, str]) -> dict[str, Any]:
    return {"tool_calls": [{"name": n, "arguments": a} for n, a in calls]}


class ScriptedModel:
    def __init__(self, turns: list[dict[str, Any]]) -> None:
        self.turns = list(turns)
        self.requests: list[dict[str, Any]] = []

    def _chunks(self, turn: dict[str, Any]) -> list[dict[str, Any]]:
        base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0,
                "model": "fake"}
        out = []
        if turn.get("content"):
            for piece in [turn["content"][i:i + 20] for i in range(0, len(turn["content"]), 20)]:
                out.append({**base, "choices": [{"index": 0, "delta": {"content": piece},
                                                 "finish_reason": None}]})
        for i, call in enumerate(turn.get("tool_calls", [])):
            out.append({**base, "choices": [{"index": 0, "finish_reason": None, "delta": {
                "tool_calls": [{"index": i, "id": f"call_{i}", "type": "function",
                                "function": {"name": call["name"],
                                             "arguments": call["arguments"]}}]}}]})
        out.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        return out

    def handler(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.requests.append(body)
        turn = self.turns.pop(0) if self.turns else text_turn(
            '{"outcome": "cannot_prove", "category": "unknown"}')
        sse = "".join(f"data: {json.dumps(c)}\n\n" for c in self._chunks(turn)) + \
            "data: [DONE]\n\n"
        return httpx.Response(200, content=sse.encode(),
                              headers={"content-type": "text/event-stream"})

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handler))
