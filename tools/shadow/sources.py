"""Where a handler's state comes from and how it goes back to where the run started: one
`StateSource` per target, built from what a user can point at without writing Python.

    state                         read                         reset (default)
    sqlite:///… / postgresql://…  every table (or the mapping)  snapshot taken before the run
    http(s)://…/state             GET, a JSON document          none: a reset must be given

A reset given explicitly replaces the snapshot: an ``http(s)://`` URL is POSTed (the app's
own reset endpoint), a database URL is snapshotted and restored (an app whose state is
read over HTTP but lives in a database we can reach), anything else is a shell command
(``dropdb app && createdb -T app_seed app``). A snapshot is taken the first time the
target is reset, i.e. before its first replay; every later reset restores it, and so does
closing the source at the end of the run, so the next run starts from the same state.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import httpx
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError

from tools.recon.adapter import UserSystem, open_user_system
from tools.recon.mapping import Mapping
from tools.shadow.errors import TargetError, TargetUnreachable
from tools.shadow.snapshot import DatabaseSnapshot, take_snapshot
from tools.shadow.state import StateView, flatten_document, read_state, read_tables

__all__ = ["Reset", "StateSource", "is_database_url", "open_state"]

RESET_TIMEOUT = 120.0


def is_database_url(value: str) -> bool:
    if value.startswith(("http://", "https://")) or "://" not in value:
        return False
    try:
        make_url(value)
    except ArgumentError:
        return False
    return True


class Reset:
    """Puts a target's state back to the start of the run."""

    def __init__(self, describe: str, run: Callable[[], None],
                 close: Callable[[], None] = lambda: None) -> None:
        self.describe, self._run, self._close = describe, run, close

    def __call__(self) -> None:
        self._run()

    def close(self) -> None:
        self._close()


def _snapshot_reset(engine: Engine) -> Reset:
    held: list[DatabaseSnapshot] = []

    def run() -> None:
        if held:
            held[0].restore()
        else:  # the first reset is before the first replay: the state to come back to
            held.append(take_snapshot(engine))

    def close() -> None:
        for snap in held:  # leave the app as it was found: the next run snapshots it again
            try:
                snap.restore()
            finally:
                snap.close()

    return Reset(f"snapshot of {engine.url.render_as_string(hide_password=True)}", run, close)


def _http_reset(url: str, headers: dict[str, str], name: str) -> Reset:
    def run() -> None:
        try:
            response = httpx.post(url, headers=headers, json={}, timeout=RESET_TIMEOUT)
        except httpx.TransportError as exc:
            raise TargetUnreachable(name, f"reset {url} unreachable: {exc}") from None
        if not response.is_success:
            raise TargetError(f"{name}: reset {url} answered {response.status_code}",
                              hint="check the reset URL and its headers (--reset-header)")

    return Reset(f"POST {url}", run)


def _command_reset(command: str, name: str) -> Reset:
    def run() -> None:
        try:
            done = subprocess.run(command, shell=True, capture_output=True, text=True,
                                  timeout=RESET_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            raise TargetError(f"{name}: reset command did not finish in {RESET_TIMEOUT:.0f} s: "
                              f"{command}") from None
        if done.returncode != 0:
            last = (done.stderr or done.stdout).strip().splitlines()[-1:] or [""]
            raise TargetError(f"{name}: reset command exited {done.returncode}: {command}"
                              f" ({last[0]})", hint="run it by hand to see why")

    return Reset(f"command {command}", run)


class StateSource:
    """A target's state: `reset()` before each replay, `read()` after it."""

    def __init__(self, describe: str, read: Callable[[], StateView], reset: Reset | None,
                 *, user: UserSystem | None = None, engines: tuple[Engine, ...] = ()) -> None:
        self.describe = describe
        self._read, self._reset = read, reset
        self.user = user  # the mapped database, when there is one (invariants read it)
        self._engines = engines  # opened for this source: disposed with it

    def reset(self) -> None:
        if self._reset is not None:
            self._reset()

    def read(self) -> StateView:
        return self._read()

    def close(self) -> None:
        if self._reset is not None:
            self._reset.close()
        for engine in self._engines:
            engine.dispose()

    @classmethod
    def of_user(cls, user: UserSystem) -> StateSource:
        """A mapped database, reset from a snapshot (the engine is the caller's)."""
        return cls(f"{user.engine.url.render_as_string(hide_password=True)} (mapped)",
                   lambda: read_state(user), _snapshot_reset(user.engine), user=user)


def _http_reader(url: str, headers: dict[str, str], name: str) -> Callable[[], StateView]:
    def read() -> StateView:
        try:
            response = httpx.get(url, headers=headers, timeout=RESET_TIMEOUT)
        except httpx.TransportError as exc:
            raise TargetUnreachable(name, f"state {url} unreachable: {exc}") from None
        if not response.is_success:
            raise TargetError(f"{name}: state {url} answered {response.status_code}")
        try:
            return flatten_document(response.json())
        except ValueError:
            raise TargetError(f"{name}: state {url} did not answer JSON",
                              hint="a state URL returns the app's state as a JSON document"
                              ) from None

    return read


def _safe(dsn: str) -> str:
    return make_url(dsn).render_as_string(hide_password=True)


def _engine(dsn: str) -> Engine:
    try:
        return create_engine(dsn, pool_pre_ping=True)
    except (ArgumentError, ImportError) as exc:
        raise TargetError(f"cannot open database URL {dsn!r}: {exc}") from None


def open_state(state: str, *, name: str, mapping: Mapping | None = None,
               reset: str | None = None, headers: dict[str, str] | None = None) -> StateSource:
    """A target's state from what the user typed (see the module docstring)."""
    headers = dict(headers or {})
    reset_hook: Reset | None = None
    owned: list[Engine] = []
    if reset:
        if reset.startswith(("http://", "https://")):
            reset_hook = _http_reset(reset, headers, name)
        elif is_database_url(reset):
            owned.append(_engine(reset))
            reset_hook = _snapshot_reset(owned[-1])
        else:
            reset_hook = _command_reset(reset, name)
    if state.startswith(("http://", "https://")):
        if reset_hook is None:
            raise TargetError(
                f"{name}: state is read from {state}, but nothing says how to reset it",
                hint="add a reset: the app's reset URL, a shell command, or the database "
                     "URL to snapshot (--primary-reset / --candidate-reset)")
        return StateSource(f"GET {state}", _http_reader(state, headers, name), reset_hook,
                           engines=tuple(owned))
    if not is_database_url(state):
        raise TargetError(f"{name}: state {state!r} is neither a database URL nor an "
                          "http(s) URL", hint="e.g. sqlite:////srv/app/app.db, "
                          "postgresql://user@host/db or http://127.0.0.1:8001/internal/state")
    if mapping is not None:
        user = open_user_system(state, mapping)
        user.check()
        return StateSource(f"{_safe(state)} (mapped)", lambda: read_state(user),
                           reset_hook or _snapshot_reset(user.engine), user=user,
                           engines=(user.engine, *owned))
    engine = _engine(state)
    return StateSource(_safe(state), lambda: read_tables(engine),
                       reset_hook or _snapshot_reset(engine), engines=(engine, *owned))
