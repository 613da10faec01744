"""A minimal SSE reader over httpx for tests that must control the connection themselves
(disconnect mid-stream); the SDK's own decoder is used where the SDK is under test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
from langgraph_sdk.sse import SSEDecoder


def events(response: httpx.Response) -> Iterator[tuple[str | None, str, object]]:
    """(id, event, data) for each event of a streaming response; comments skipped."""
    decoder = SSEDecoder()
    for line in response.iter_lines():
        part = decoder.decode(line.encode())
        if part is not None and part.event:
            yield part.id, part.event, part.data
