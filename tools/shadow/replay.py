"""Webhook replay: a delivery plan sent, signed, to one handler over HTTP, the way Stripe
sends it — raw JSON body, ``Stripe-Signature: t=…,v1=…`` over ``"{t}.{body}"``, non-2xx
answers and timeouts retried after the rest of the plan, up to `MAX_ATTEMPTS`.

A handler that cannot be reached at all (connection refused, DNS) is not a handler answer:
the run stops with `TargetUnreachable` and the shadow run is INCONCLUSIVE.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from stripe import WebhookSignature

from tools.recon.adapter import UserSystem
from tools.shadow.corpus import Corpus
from tools.shadow.faults import Delivery
from tools.shadow.lanes import split_lanes
from tools.shadow.state import StateView, read_state, reset_state
from tools.shadow.versions import render_old

__all__ = ["MAX_ATTEMPTS", "Attempt", "Capture", "Target", "TargetUnreachable", "replay"]

MAX_ATTEMPTS = 3
Event = dict[str, Any]
AfterDelivery = Callable[[Event, "Capture"], None]


class Target(BaseModel):
    """A handler under test: its webhook URL, the secret it verifies with, and its own copy
    of the user state (DSN, read through the mapping)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str
    url: str
    secret: SecretStr
    user: UserSystem | None = Field(default=None, exclude=True)
    timeout: float = 10.0


class TargetUnreachable(Exception):
    def __init__(self, target: str, reason: str) -> None:
        super().__init__(f"{target}: {reason}")
        self.target = target
        self.reason = reason


class Attempt(BaseModel):
    position: int  # index in the plan
    index: int  # index in the corpus
    event_id: str
    event_type: str
    attempt: int
    status: int | None  # None: timed out
    body: Any = None
    note: str | None = None  # "upstream 502", "answer lost (timeout)"


class Capture(BaseModel):
    """What one replay of one plan into one handler produced."""

    target: str
    attempts: list[Attempt] = Field(default_factory=list)
    state: StateView = Field(default_factory=dict)
    probes: list[tuple[str, str, str]] = Field(default_factory=list)  # (invariant, src, evt)
    seconds: float = 0.0

    def first(self) -> dict[int, Attempt]:
        out: dict[int, Attempt] = {}
        for a in self.attempts:
            out.setdefault(a.position, a)
        return out

    def acknowledged(self) -> dict[int, bool]:
        """Per plan position: did any attempt get a 2xx."""
        out: dict[int, bool] = {}
        for a in self.attempts:
            ok = a.status is not None and 200 <= a.status < 300 and a.note is None
            out[a.position] = out.get(a.position, False) or ok
        return out

    def handled_order(self) -> list[int]:
        """Corpus indices in the order the handler saw them (attempts that reached it)."""
        return [a.index for a in self.attempts if a.note != "upstream 502"]


def _normalise(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text.strip()


def sign(body: str, secret: str, timestamp: int) -> str:
    return WebhookSignature.generate_signature_header(body, secret, timestamp=timestamp)


def replay(
    target: Target, corpus: Corpus, plan: list[Delivery], *,
    http: httpx.Client | None = None, after_delivery: AfterDelivery | None = None,
    read: bool = True, reset: bool = True, lanes: int = 1,
) -> Capture:
    """Reset the target's state, deliver `plan`, read the state it left.

    ``lanes > 1`` delivers unrelated events concurrently (`lanes.split_lanes`: related
    events keep their order); attempts are recorded in the order they were sent."""
    if reset and target.user is not None:
        reset_state(target.user)
    client = http or httpx.Client(timeout=target.timeout)
    capture = Capture(target=target.name)
    secret = target.secret.get_secret_value()
    bodies: dict[tuple[int, bool], tuple[Event, str]] = {}
    sent = itertools.count()
    stop = threading.Event()

    def payload(d: Delivery) -> tuple[Event, str]:
        key = (d.index, d.old_version)
        if key not in bodies:
            event = corpus.events[d.index]
            if d.old_version:
                event, _ = render_old(event)
            bodies[key] = (event, json.dumps(event, indent=2))
        return bodies[key]

    def deliver(positions: list[int]) -> list[tuple[int, Attempt]]:
        out: list[tuple[int, Attempt]] = []
        queue = deque((pos, plan[pos], 1) for pos in positions)
        while queue and not stop.is_set():
            pos, d, attempt = queue.popleft()
            event, body = payload(d)
            record = Attempt(position=pos, index=d.index, event_id=event["id"],
                             event_type=event["type"], attempt=attempt, status=None)
            if d.upstream_5xx and attempt == 1:
                record.status, record.note = 502, "upstream 502"
            else:
                header = sign(body, secret, int(time.time()) + d.skew)
                try:
                    response = client.post(target.url, content=body.encode(), headers={
                        "Content-Type": "application/json; charset=utf-8",
                        "Stripe-Signature": header, "User-Agent": "fde-shadow/1"})
                    record.status, record.body = response.status_code, _normalise(response)
                except httpx.TimeoutException:
                    record.note = "timeout"
                except httpx.TransportError as exc:
                    stop.set()
                    raise TargetUnreachable(target.name, f"{target.url} unreachable: "
                                            f"{exc.__class__.__name__}: {exc}") from None
                if d.lose_answer and attempt == 1:
                    record.note = "answer lost (timeout)"
                applied = record.status is not None and 200 <= record.status < 300
                if applied and after_delivery is not None:  # a lost answer was still applied
                    after_delivery(event, capture)
            out.append((next(sent), record))
            ok = record.status is not None and 200 <= record.status < 300 and record.note is None
            if not ok and attempt < MAX_ATTEMPTS:
                queue.append((pos, d, attempt + 1))  # Stripe retries after a back-off
        return out

    started = time.perf_counter()
    try:
        if lanes <= 1:
            records = deliver(list(range(len(plan))))
        else:
            with ThreadPoolExecutor(lanes, thread_name_prefix="shadow-lane") as pool:
                records = [r for lane in pool.map(deliver, split_lanes(corpus, plan, lanes))
                           for r in lane]
    finally:
        if http is None:
            client.close()
    capture.seconds = time.perf_counter() - started
    capture.attempts = [a for _, a in sorted(records, key=lambda r: r[0])]
    if read and target.user is not None:
        capture.state = read_state(target.user)
    return capture
