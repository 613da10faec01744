"""Webhook replay: a delivery plan sent, signed, to one handler over HTTP, the way Stripe
sends it — raw JSON body, ``Stripe-Signature: t=…,v1=…`` over ``"{t}.{body}"``.

Like Stripe, the replayer waits `Target.timeout` seconds for an answer; a slower answer is
a failed delivery (outcome ``timeout``) and is retried after the rest of its lane, up to
`MAX_ATTEMPTS`. The request itself is left to finish in the background (the handler keeps
working, as it does in production): its late answer is recorded, and the state is read
only once every request has finished or `DRAIN_SECONDS` has passed.

Deliveries go out in lanes (`lanes.split_lanes`): events about related objects share a
lane and keep their plan order; lanes run concurrently, so a slow handler holds up only
its own lane. A wall-time budget stops sending; what was not sent is recorded as such.

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
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Protocol

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from stripe import WebhookSignature

from tools.recon.adapter import UserSystem
from tools.shadow.corpus import Corpus
from tools.shadow.errors import TargetUnreachable
from tools.shadow.faults import Delivery
from tools.shadow.lanes import split_lanes
from tools.shadow.sources import StateSource
from tools.shadow.state import StateView
from tools.shadow.versions import OldShape

__all__ = ["DEFAULT_LANES", "DRAIN_SECONDS", "MAX_ATTEMPTS", "STRIPE_TIMEOUT", "Attempt",
           "BudgetSpent", "Capture", "Observer", "Target", "TargetUnreachable", "replay"]

MAX_ATTEMPTS = 3
# Stripe publishes no number; third-party tables put its wait between 10 and 30 s. The
# shortest is the safe reading: a handler slower than 10 s is one Stripe may time out.
STRIPE_TIMEOUT = 10.0
DEFAULT_LANES = 8
DRAIN_SECONDS = 60.0  # how long a timed-out request may keep running before the state read
CONNECT_PAUSES = (0.2, 0.5, 1.0, 2.0)  # then a refused connection means unreachable
Event = dict[str, Any]
AfterDelivery = Callable[[Event, "Capture"], None]


class Target(BaseModel):
    """A handler under test: its webhook URL, the secret it verifies with, and its own copy
    of the user state (`state`: read after a replay, reset before one). Given only `user`
    (a mapped database), the state is that database, reset from a snapshot."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str
    url: str
    secret: SecretStr
    user: UserSystem | None = Field(default=None, exclude=True)
    state: StateSource | None = Field(default=None, exclude=True)
    timeout: float = STRIPE_TIMEOUT

    def model_post_init(self, context: Any, /) -> None:
        if self.state is None and self.user is not None:
            self.state = StateSource.of_user(self.user)
        elif self.user is None and self.state is not None:
            self.user = self.state.user


class Observer(Protocol):
    """Told what a replay is doing (the CLI's progress bars)."""

    def started(self, target: str, lanes: list[int]) -> None:
        """A replay into `target` begins; `lanes` holds each lane's number of events."""

    def delivered(self, target: str, lane: int, attempt: Attempt) -> None:
        """One delivery attempt finished (or was recorded as not sent)."""


class BudgetSpent(Exception):
    def __init__(self, target: str, seconds: float) -> None:
        super().__init__(f"{target}: wall-time budget of {seconds:.0f} s spent")
        self.target, self.seconds = target, seconds


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


def _ok(record: Attempt) -> bool:
    return record.status is not None and 200 <= record.status < 300


def replay(
    target: Target, corpus: Corpus, plan: list[Delivery], *,
    http: httpx.Client | None = None, after_delivery: AfterDelivery | None = None,
    read: bool = True, reset: bool = True, lanes: int = DEFAULT_LANES,
    observer: Observer | None = None, budget: float | None = None,
) -> Capture:
    """Reset the target's state, deliver `plan` in `lanes` concurrent lanes (related events
    in order), read the state it left. Attempts are recorded in the order they were sent.
    `budget` (seconds) stops sending once spent: `BudgetSpent` after the requests in flight
    have settled."""
    if reset and target.state is not None:
        target.state.reset()
    # The client waits for late answers; Stripe's timeout is applied to the wait below.
    client = http or httpx.Client(timeout=DRAIN_SECONDS)
    capture = Capture(target=target.name)
    secret = target.secret.get_secret_value()
    bodies: dict[tuple[int, bool], tuple[Event, str]] = {}
    old_shape = OldShape(corpus)
    sent = itertools.count()
    stop = threading.Event()
    started = time.perf_counter()
    deadline = None if budget is None else started + budget
    split = split_lanes(corpus, plan, lanes) if lanes > 1 else [list(range(len(plan)))]
    # Requests run here so a lane can stop waiting at Stripe's timeout while the request
    # finishes; spare workers carry the requests still running after their timeout.
    # Threads are made only when needed: a lane has one request waiting at a time, plus at
    # most DRAIN_SECONDS / timeout requests still running after their timeout.
    pool = ThreadPoolExecutor(len(split) * (int(DRAIN_SECONDS / target.timeout) + 2),
                              thread_name_prefix="shadow-http")
    late: list[tuple[Attempt, Future[tuple[httpx.Response, float]], float]] = []

    def payload(d: Delivery) -> tuple[Event, str]:
        key = (d.index, d.old_version)
        if key not in bodies:
            event = corpus.events[d.index]
            if d.old_version:
                event, _ = old_shape(event)
            bodies[key] = (event, json.dumps(event, indent=2))
        return bodies[key]

    def post(body: str, header: str) -> tuple[httpx.Response, float]:
        # A refused connection is retried a few times before the app counts as unreachable
        # (a loaded machine's full accept queue); a connection dropped mid-request (a stale
        # keep-alive the server just closed) is sent again once on a fresh one.
        pauses = list(CONNECT_PAUSES)
        resent = False
        while True:
            try:
                response = client.post(
                    target.url, content=body.encode(), timeout=DRAIN_SECONDS,
                    headers={"Content-Type": "application/json; charset=utf-8",
                             "Stripe-Signature": header, "User-Agent": "fde-shadow/1"})
                return response, time.perf_counter()
            except httpx.ConnectError:
                if not pauses:
                    raise
                time.sleep(pauses.pop(0))
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
                if resent:
                    raise
                resent = True

    def deliver(lane: int, positions: list[int]) -> list[tuple[int, Attempt]]:
        out: list[tuple[int, Attempt]] = []
        queue = deque((pos, plan[pos], 1) for pos in positions)
        while queue and not stop.is_set():
            pos, d, attempt = queue.popleft()
            event, body = payload(d)
            record = Attempt(position=pos, index=d.index, event_id=event["id"],
                             event_type=event["type"], attempt=attempt, status=None)
            if deadline is not None and time.perf_counter() > deadline:
                stop.set()
                break
            if d.upstream_5xx and attempt == 1:
                record.status, record.note = 502, "upstream 502"
            else:
                header = sign(body, secret, int(time.time()) + d.skew)
                future, sent_at = pool.submit(post, body, header), time.perf_counter()
                try:
                    response, _ = future.result(timeout=target.timeout)
                    record.status, record.body = response.status_code, _normalise(response)
                except FutureTimeout:
                    record.note = "timeout"
                    late.append((record, future, sent_at))
                except httpx.TimeoutException:
                    record.note = "timeout"
                except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
                    record.note = f"connection dropped ({exc.__class__.__name__})"
                except httpx.TransportError as exc:
                    stop.set()
                    raise TargetUnreachable(target.name, f"{target.url} unreachable: "
                                            f"{exc.__class__.__name__}: {exc}") from None
                if d.lose_answer and attempt == 1:
                    record.note = "answer lost (timeout)"
                if _ok(record) and after_delivery is not None:  # a lost answer was applied
                    after_delivery(event, capture)
            out.append((next(sent), record))
            if observer is not None:
                observer.delivered(target.name, lane, record)
            retry = not (_ok(record) and record.note is None) and attempt < MAX_ATTEMPTS
            if retry and not (attempt == 1 and d.retried):  # a planned retry is in the plan
                queue.append((pos, d, attempt + 1))  # Stripe retries after a back-off
        return out

    if observer is not None:
        observer.started(target.name, [len(lane) for lane in split])
    try:
        if len(split) == 1:
            records = deliver(0, split[0])
        else:
            with ThreadPoolExecutor(len(split), thread_name_prefix="shadow-lane") as lanes_pool:
                records = [r for lane in lanes_pool.map(deliver, range(len(split)), split)
                           for r in lane]
        _settle(late)
        if stop.is_set():
            raise BudgetSpent(target.name, budget or 0.0)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        if http is None:
            client.close()
    capture.seconds = time.perf_counter() - started
    capture.attempts = [a for _, a in sorted(records, key=lambda r: r[0])]
    if read and target.state is not None:
        capture.state = target.state.read()
    return capture


def _settle(late: list[tuple[Attempt, Future[tuple[httpx.Response, float]], float]]) -> None:
    """Wait (bounded) for requests that outlived Stripe's timeout, so the state read after
    the replay includes what they did; record how they finally answered."""
    for record, future, sent_at in late:
        try:
            response, answered = future.result(timeout=max(
                0.0, DRAIN_SECONDS + 1.0 - (time.perf_counter() - sent_at)))
            record.note = f"timeout (answered {response.status_code} after " \
                f"{answered - sent_at:.1f} s)"
        except (FutureTimeout, httpx.HTTPError):
            record.note = "timeout (no answer)"
