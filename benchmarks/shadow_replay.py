"""Shadow replay throughput: events/s replayed (signed, over real HTTP) into the sample
company's webhook handler, next to the raw request rate to the same handler (``GET
/healthz``: HTTP round trip, no processing) measured in the same run — once sequentially
(how the engine replays by default) and once with `--lanes` concurrent lanes (unrelated
customers in parallel, each customer's events in order; raw rate with as many threads).

    .venv/bin/python benchmarks/shadow_replay.py [--events 600] [--lanes 4]

The handler runs in its own process (uvicorn), as a user's app would; the replayer is this
process. CPU per event (handler process from /proc, replayer from process_time) says which
side bounds the rate. Goal: >= 500 events/s on 2 cores.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from pydantic import SecretStr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.recon.adapter import open_user_system  # noqa: E402
from tools.recon.mapping import load_mapping  # noqa: E402
from tools.shadow.corpus import Corpus  # noqa: E402
from tools.shadow.faults import plan_for  # noqa: E402
from tools.shadow.replay import Target, replay  # noqa: E402

SECRET = "whsec_bench000000000000000000"
SERVER = """
import sys, uvicorn
from pydantic import SecretStr
from sandbox.usersys.app import HandlerAppConfig, create_handler_app
app = create_handler_app(HandlerAppConfig(database_url=sys.argv[1],
                                          webhook_secrets=[SecretStr(sys.argv[2])]))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[3]), log_level="warning")
"""


def _corpus(n: int) -> Corpus:
    """Customer and subscription snapshots: every event written by the handler."""
    events = []
    for i in range(n):
        cid = f"cus_bench{i // 2:06d}"
        kind = "customer.created" if i % 2 == 0 else "customer.updated"
        events.append({"id": f"evt_bench{i:07d}", "object": "event", "type": kind,
                       "created": 1_790_000_000 + i, "livemode": False,
                       "api_version": "2026-10-28.endive",
                       "data": {"object": {"id": cid, "object": "customer",
                                           "email": f"{cid}@example.com", "name": cid,
                                           "metadata": {"user_id": cid}}}})
    return Corpus(events=tuple(events), source="benchmark")


def _deployment() -> str:
    """How the handler runs: uvicorn's "auto" picks uvloop and httptools when importable."""
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return f"uvicorn, 1 process, loop={loop}, http={http}; SQLite company DB (WAL)"


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process (Linux /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _raw(client: httpx.Client, url: str, n: int, lanes: int) -> float:
    def hit(count: int) -> None:
        for _ in range(count):
            client.get(url)

    started = time.perf_counter()
    with ThreadPoolExecutor(lanes) as pool:
        list(pool.map(hit, [n // lanes + (i < n % lanes) for i in range(lanes)]))
    return n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=600)
    parser.add_argument("--lanes", type=int, default=4)
    args = parser.parse_args()
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    folder = Path(tempfile.mkdtemp())
    dsn = f"sqlite:///{folder / 'company.db'}"
    proc = subprocess.Popen([sys.executable, "-c", SERVER, dsn, SECRET, str(port)], cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("handler did not start")
            time.sleep(0.05)
        corpus = _corpus(args.events)
        user = open_user_system(dsn, load_mapping(ROOT / "sandbox/usersys/mapping.yaml"))
        target = Target(name="bench", url=base + "/webhooks/stripe", secret=SecretStr(SECRET),
                        user=user)
        print(f"load average: {os.getloadavg()[0]:.2f}; cores: {os.cpu_count()}; handler: "
              f"{_deployment()}")
        with httpx.Client(timeout=30) as client:
            for lanes in (1, args.lanes):
                server0 = _cpu_seconds(proc.pid)
                raw = _raw(client, base + "/healthz", args.events, lanes)
                raw_ms = (_cpu_seconds(proc.pid) - server0) * 1000 / args.events
                server0, client0 = _cpu_seconds(proc.pid), time.process_time()
                capture = replay(target, corpus, plan_for(corpus, None, 0), http=client,
                                 read=False, lanes=lanes)
                server_ms = (_cpu_seconds(proc.pid) - server0) * 1000 / args.events
                client_ms = (time.process_time() - client0) * 1000 / args.events
                ok = sum(1 for a in capture.attempts if a.status == 200)
                rate = len(capture.attempts) / capture.seconds
                print(f"lanes={lanes}: raw GET /healthz {raw:6.0f} req/s | replayed "
                      f"{rate:6.0f} events/s ({ok}/{args.events} 2xx) | ratio "
                      f"{rate / raw:.2f} | handler CPU: {server_ms:.2f} ms/event, {raw_ms:.2f} "
                      f"ms/raw request; replayer {client_ms:.2f} ms/event | goal >= 500/s "
                      f"{'met' if rate >= 500 else 'not met'}")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
