"""Streaming API: time to first SSE event and 100 concurrent streaming runs, against a real
uvicorn in this process, each beside a baseline measured in the same run.

  first event   POST /threads/{id}/runs/stream for a `triage` run (offline planner) on the
                demo sandbox world; time from sending the request to the first event, and
                to the first event the graph itself produced. Baseline: a plain
                sse-starlette endpoint on the same kind of server that sends one event.
  concurrency   N runs streamed at once to their `end` (a small LangGraph graph registered
                through FDE_API_GRAPHS, so the figure is the API's and not the planner's),
                counting errors. Baseline: N concurrent plain SSE streams of the same
                number of events.

    .venv/bin/python benchmarks/api_stream.py [--samples 15] [--concurrent 100]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TypedDict

import httpx
from fastapi import FastAPI
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from sse_starlette import EventSourceResponse, ServerSentEvent

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

EVENTS_PER_RUN = 5  # custom events of the echo graph, and of the baseline stream


class EchoState(TypedDict, total=False):
    n: int
    done: bool


def _echo(state: EchoState) -> dict[str, Any]:
    write = get_stream_writer()
    for i in range(state.get("n", EVENTS_PER_RUN)):
        write({"i": i})
    return {"done": True}


def build_echo(checkpointer: Any) -> Any:
    g = StateGraph(EchoState)
    g.add_node("echo", _echo)
    g.add_edge(START, "echo")
    g.add_edge("echo", END)
    return g.compile(checkpointer=checkpointer)


def baseline_app() -> FastAPI:
    app = FastAPI()

    @app.get("/sse")
    async def sse(n: int = 1) -> EventSourceResponse:
        async def gen():  # noqa: ANN202
            for i in range(n):
                yield ServerSentEvent(data=f'{{"i":{i}}}', event="custom", id=str(i))
            yield ServerSentEvent(data="{}", event="end")
        return EventSourceResponse(gen())

    return app


async def _first_event(client: httpx.AsyncClient, method: str, url: str,
                       **kw: Any) -> tuple[float, float | None]:
    """(seconds to the first event, seconds to the first non-metadata event or None)."""
    started = time.perf_counter()
    first = graph = None
    async with client.stream(method, url, **kw) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                now = time.perf_counter() - started
                first = first if first is not None else now
                if line.split(":", 1)[1].strip() not in ("metadata",):
                    graph = now
                    break
    assert first is not None
    return first, graph


async def _stream_to_end(client: httpx.AsyncClient, method: str, url: str,
                         **kw: Any) -> int:
    count = 0
    async with client.stream(method, url, **kw) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                count += 1
                if line.split(":", 1)[1].strip() in ("end", "error"):
                    if "error" in line:
                        raise RuntimeError("run ended in error")
                    break
    return count


async def measure(api_url: str, base_url: str, auth: dict[str, str], engagement: str,
                  samples: int, concurrent: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    limits = httpx.Limits(max_connections=concurrent + 10)
    async with httpx.AsyncClient(timeout=300, limits=limits) as client:
        base = [(await _first_event(client, "GET", f"{base_url}/sse"))[0]
                for _ in range(samples)]
        firsts, graphs = [], []
        for _ in range(samples):
            tid = (await client.post(f"{api_url}/threads", json={}, headers=auth)
                   ).json()["thread_id"]
            first, graph = await _first_event(
                client, "POST", f"{api_url}/threads/{tid}/runs/stream", headers=auth,
                json={"assistant_id": "triage", "stream_mode": ["updates", "custom"],
                      "context": {"sync": False},
                      "input": {"ticket": "Some invoices are paid in Stripe but stay open "
                                          "in our system.", "engagement": engagement}})
            firsts.append(first)
            graphs.append(graph)
            # measured on an idle server: let this triage finish before the next sample
            runs = (await client.get(f"{api_url}/threads/{tid}/runs", headers=auth)).json()
            await client.get(f"{api_url}/threads/{tid}/runs/{runs[0]['run_id']}/join",
                             headers=auth)
        out["baseline_first_ms"] = statistics.median(base) * 1000
        out["first_ms"] = statistics.median(firsts) * 1000
        out["first_graph_ms"] = statistics.median([g for g in graphs if g]) * 1000

        started = time.perf_counter()
        await asyncio.gather(*(_stream_to_end(client, "GET", f"{base_url}/sse",
                                              params={"n": EVENTS_PER_RUN})
                               for _ in range(concurrent)))
        out["baseline_concurrent_s"] = time.perf_counter() - started

        async def one() -> int:
            tid = (await client.post(f"{api_url}/threads", json={}, headers=auth)
                   ).json()["thread_id"]
            return await _stream_to_end(
                client, "POST", f"{api_url}/threads/{tid}/runs/stream", headers=auth,
                json={"assistant_id": "echo", "stream_mode": ["custom"],
                      "input": {"n": EVENTS_PER_RUN}})

        started = time.perf_counter()
        results = await asyncio.gather(*(one() for _ in range(concurrent)),
                                       return_exceptions=True)
        out["concurrent_s"] = time.perf_counter() - started
        out["errors"] = [repr(r) for r in results if isinstance(r, BaseException)]
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=15)
    parser.add_argument("--concurrent", type=int, default=100)
    parser.add_argument("--workers", type=int, default=4)
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fde-bench-api-"))
    os.environ["FDE_DATA_DIR"] = str(work / "data")
    os.environ.pop("OPENAI_API_KEY", None)  # the offline planner, as the goal says

    from pydantic import SecretStr

    from api.auth import create_token
    from api.main import create_app
    from core import engagements
    from core.logging import configure_logging
    from core.secrets import secret_box
    from core.server_thread import ServerThread
    from core.settings import SANDBOX_API_KEY, load_settings
    from sandbox.world.config import WorldConfig
    from sandbox.world.serve import running_world

    configure_logging("WARNING", "console")
    settings = load_settings(api_graphs="echo=benchmarks.api_stream:build_echo",
                             api_workers=opts.workers)
    config = WorldConfig.parse(seed=0, size="tiny", bugs="FM-02,FM-04,FM-13,FM-15")
    app = create_app(settings)
    mapping = Path(__file__).resolve().parents[1] / "sandbox" / "usersys" / "mapping.yaml"
    with running_world(config, work / "worlds", log=lambda _: None) as world, \
            ServerThread(app) as api, ServerThread(baseline_app()) as base:
        with app.state.db.session() as session:
            engagements.add(session, secret_box(settings), engagements.EngagementCreate(
                name="demo", stripe_key=SecretStr(SANDBOX_API_KEY),
                stripe_api_base=world.replica_url,
                user_db_dsn=SecretStr(f"sqlite:///{world.user_db.resolve()}"),
                mapping_path=str(mapping)), actor="bench")
            token = create_token(session, "bench", "admin", actor="bench").token
        auth = {"Authorization": f"Bearer {token}"}
        r = asyncio.run(measure(api.url, base.url, auth, "demo", opts.samples,
                                opts.concurrent))
    print(f"time to first SSE event, p50 over {opts.samples} triage runs "  # noqa: T201
          f"(offline planner, SQLite, idle server):\n"
          f"  fde-ops          {r['first_ms']:8.1f} ms   (goal < 50 ms)\n"
          f"  baseline         {r['baseline_first_ms']:8.1f} ms   (plain SSE, one event)\n"
          f"  ratio            {r['first_ms'] / r['baseline_first_ms']:8.2f}x\n"
          f"  first graph event {r['first_graph_ms']:7.1f} ms   (a worker picked it up and the "
          f"graph emitted)\n"
          f"{opts.concurrent} concurrent streaming runs ({EVENTS_PER_RUN} custom events each, "
          f"{opts.workers} workers):\n"
          f"  fde-ops          {r['concurrent_s']:8.2f} s    errors: {len(r['errors'])}\n"
          f"  baseline         {r['baseline_concurrent_s']:8.2f} s    (plain SSE streams)\n"
          f"  ratio            {r['concurrent_s'] / r['baseline_concurrent_s']:8.2f}x")
    for err in r["errors"][:5]:
        print("  error:", err)  # noqa: T201


if __name__ == "__main__":
    main()
