"""Running a foreign webhook app the way its own `app.yaml` says, and scoring shadow runs
against its `answer_key.yaml`. Nothing here knows either app: everything comes from the
two files each app folder ships (written blind, with the app).

    app.yaml         start / init commands ({python} {port} {db_url} {variant} {secret}),
                     env, database kind, webhook / health / state paths, reset endpoint
    answer_key.yaml  per variant x fault: must_show | must_not_show | may_show
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from pydantic import BaseModel, SecretStr

from tests.conftest import REPO, free_port

FOLDER = Path(__file__).resolve().parent
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SECRET = "whsec_foreign_shadow_0000000000000000"
CLEAN = "none"  # the answer key's name for the clean replay


class ResetSpec(BaseModel):
    method: str = "POST"
    path: str
    headers: dict[str, str] = {}


class AppSpec(BaseModel):
    name: str
    start: list[str]
    env: dict[str, str] = {}
    database: str
    init: list[str] | None = None
    webhook_path: str
    health_path: str
    state_url_path: str | None = None
    reset: ResetSpec | None = None
    variants: dict[str, str]

    @classmethod
    def load(cls, app: str) -> AppSpec:
        return cls.model_validate(yaml.safe_load((FOLDER / app / "app.yaml").read_text()))


class AnswerKey(BaseModel):
    app: str
    faults: list[str]
    correct: dict[str, str]
    variants: dict[str, dict[str, str]]

    @classmethod
    def load(cls, app: str) -> AnswerKey:
        return cls.model_validate(yaml.safe_load((FOLDER / app / "answer_key.yaml").read_text()))

    def cells(self) -> dict[tuple[str, str], str]:
        out = {("correct", f): self.correct[f] for f in self.faults}
        for variant, row in self.variants.items():
            out.update({(variant, f): row[f] for f in self.faults})
        return out


@contextmanager
def database(kind: str, folder: Path, name: str) -> Iterator[str]:
    """A fresh, empty database of the kind the app asks for (SQLAlchemy URL)."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / f'{name}.db'}"
        return
    from sqlalchemy import create_engine, text

    db = f"fde_foreign_{name}_{uuid.uuid4().hex[:8]}".lower()
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{db}"
    finally:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n"), {"n": db})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}"'))
        admin.dispose()


@dataclass
class RunningApp:
    spec: AppSpec
    variant: str
    base: str
    db_url: str

    @property
    def webhook_url(self) -> str:
        return self.base + self.spec.webhook_path

    def state_and_reset(self) -> tuple[str, str | None, dict[str, str]]:
        """What a user would point the shadow tool at: the state (the app's JSON state URL
        when it has one, else its database), the reset (the app's reset endpoint when it
        has one, else nothing: the tool snapshots the database) and the reset's headers."""
        state = self.base + self.spec.state_url_path if self.spec.state_url_path else \
            self.db_url
        reset = self.base + self.spec.reset.path if self.spec.reset else None
        if reset is None and state != self.db_url:
            reset = self.db_url  # state over HTTP, restored from a snapshot of its database
        return state, reset, dict(self.spec.reset.headers) if self.spec.reset else {}


def _render(parts: list[str], values: dict[str, str]) -> list[str]:
    return [p.format(**values) for p in parts]


@contextmanager
def running_app(spec: AppSpec, variant: str, folder: Path) -> Iterator[RunningApp]:
    with database(spec.database, folder, f"{spec.name}_{variant}") as db_url:
        port = free_port()
        values = {"python": sys.executable, "port": str(port), "db_url": db_url,
                  "variant": variant, "secret": SECRET}
        env = {**os.environ, **{k: v.format(**values) for k, v in spec.env.items()}}
        if spec.init:
            subprocess.run(_render(spec.init, values), cwd=REPO, env=env, check=True,
                           capture_output=True, timeout=120)
        log = (folder / f"{spec.name}-{variant}.log").open("wb")
        proc = subprocess.Popen(_render(spec.start, values), cwd=REPO, env=env,
                                stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"{spec.name}/{variant} exited {proc.returncode}: "
                                       f"see {log.name}")
                try:
                    if httpx.get(base + spec.health_path, timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{spec.name}/{variant} not healthy after 60 s")
                time.sleep(0.2)
            yield RunningApp(spec=spec, variant=variant, base=base, db_url=db_url)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()


def secret() -> SecretStr:
    return SecretStr(SECRET)


# -- scoring -------------------------------------------------------------------------------
@dataclass
class Score:
    app: str
    faults: list[str]
    # variant -> fault -> (answer key, shown)
    rows: dict[str, dict[str, tuple[str, bool]]] = field(default_factory=dict)
    verdicts: dict[str, tuple[str, str]] = field(default_factory=dict)  # v -> (want, got)
    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, variant: str, verdict: str, shown: dict[str, bool], key: dict[str, str],
            seconds: float) -> None:
        want = "PASS" if variant == "correct" else "FAIL"
        self.verdicts[variant] = (want, verdict)
        self.rows[variant] = {f: (key[f], shown.get(f, False)) for f in self.faults}
        self.seconds[variant] = seconds

    def cells(self, expect: str) -> list[tuple[str, str, bool]]:
        return [(v, f, shown) for v, row in self.rows.items()
                for f, (key, shown) in row.items() if key == expect]

    @property
    def must_show(self) -> tuple[int, int]:
        cells = self.cells("must_show")
        return sum(s for _, _, s in cells), len(cells)

    @property
    def false_alarms(self) -> list[tuple[str, str]]:
        return [(v, f) for v, f, s in self.cells("must_not_show") if s]

    @property
    def wrong_verdicts(self) -> list[str]:
        return [v for v, (want, got) in self.verdicts.items() if want != got]

    def table(self) -> str:
        """One line per variant: per fault S (shown, must), . (quiet, must not), and the
        misses in capitals: M (missed a must-show), X (false alarm), s/- for may-show."""
        width = max(len(v) for v in self.rows) + 2
        head = "".join(f"{f[:9]:>10}" for f in self.faults)
        lines = [f"{self.app}: {'variant':<{width}}{head}   verdict  seconds"]
        mark = {("must_show", True): "S", ("must_show", False): "M",
                ("must_not_show", True): "X", ("must_not_show", False): ".",
                ("may_show", True): "s", ("may_show", False): "-"}
        for v, row in self.rows.items():
            want, got = self.verdicts[v]
            cells = "".join(f"{mark[row[f]]:>10}" for f in self.faults)
            ok = "" if want == got else f" (want {want})"
            lines.append(f"{'':{len(self.app) + 2}}{v:<{width}}{cells}   {got}{ok}  "
                         f"{self.seconds[v]:.1f}")
        shown, total = self.must_show
        lines.append(f"  must-show shown {shown}/{total} ({100 * shown / max(total, 1):.0f} %), "
                     f"false alarms {len(self.false_alarms)}, wrong verdicts "
                     f"{len(self.wrong_verdicts)}")
        return "\n".join(lines)


def shown_by_fault(report: Any, faults: list[str]) -> dict[str, bool]:
    """Which answer-key columns the report shows a difference in: `none` is the clean
    replay, every other column the run under that fault."""
    out = {f: False for f in faults}
    for m in report.mismatches:
        column = m.fault or CLEAN
        if column in out:
            out[column] = True
    return out
