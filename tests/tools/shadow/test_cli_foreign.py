"""The user's workflow end to end, as a new user runs it, on two apps written blind by
others (tests/foreign/shadow, started as their app.yaml says, as their own processes):
the scenario runs on the replica, `fde shadow record` records the corpus through an
engagement's gateway (redacted), `fde shadow run` replays it into two running apps — no
Python from the user, no mapping — and the verdict is right.

Pantry Box (Flask, SQLite, a seeded `plan` table): state read from the database file,
reset by its own reset endpoint (primary) and by our snapshot (candidate). Lumen (ASGI,
PostgreSQL, a seeded `tier_catalog`): state read from its JSON state URL, reset from a
snapshot of its database (it has no reset endpoint).

The two foreign runs take minutes on a loaded machine: they are marked `foreign_shadow`
(``pytest -m foreign_shadow tests/tools/shadow/test_cli_foreign.py``); recording and an
unreachable app run by default."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import create_engine, text

from tests.conftest import PG_ADMIN_URL, REPO, free_port

SECRET = "whsec_foreignshadow000000000000"
RK_TEST = "rk_test_" + "F0reignSh4d" * 3
FOREIGN = REPO / "tests" / "foreign" / "shadow"


def fde(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True,
                          text=True, cwd=REPO, timeout=600,
                          env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **env})


@contextmanager
def running_app(name: str, variant: str, db_url: str) -> Iterator[str]:
    """The app started from its app.yaml (init, then start); yields its base URL."""
    spec = yaml.safe_load((FOREIGN / name / "app.yaml").read_text())
    port = free_port()
    fill = {"python": sys.executable, "port": str(port), "db_url": db_url,
            "variant": variant, "secret": SECRET}
    env = {**os.environ, **{k: v.format(**fill) for k, v in spec["env"].items()}}
    if spec.get("init"):
        subprocess.run([a.format(**fill) for a in spec["init"]], cwd=REPO, env=env,
                       check=True, capture_output=True)
    proc = subprocess.Popen([a.format(**fill) for a in spec["start"]], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + spec["health_path"], timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, f"{name} exited"
            assert time.monotonic() < deadline, f"{name} not healthy in 60 s"
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _record(name: str, folder: Path, env: dict[str, str]) -> Path:
    """The app's scenario on a fresh replica, recorded by `fde shadow record`."""
    import importlib

    from sandbox.replica.testing import running_replica

    drive = importlib.import_module(f"tests.foreign.shadow.{name}.scenario").drive
    with running_replica(folder / "replica.sqlite") as replica:
        drive(replica.client(), seed=3, advance_clock=replica.admin.advance_clock)
        added = fde("engagement", "add", name, "--api-base", replica.url,
                    env={**env, "FDE_ENGAGEMENT_STRIPE_KEY": RK_TEST})
        assert added.returncode == 0, added.stderr
        out = folder / f"{name}.jsonl"
        recorded = fde("shadow", "record", "--engagement", name, "--since", "30d",
                       "--out", str(out), env=env)
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    assert "personal data pseudonymised" in recorded.stdout
    return out


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"FDE_DATA_DIR": str(tmp_path / "data"), "FDE_SHADOW_WEBHOOK_SECRET": SECRET}


def _verdict(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return result.stdout.split(": ", 1)[1].split(" ", 1)[0]


@pytest.mark.foreign_shadow
def test_pantrybox_end_to_end_from_the_cli(tmp_path, env):
    corpus = _record("pantrybox", tmp_path, env)
    text_ = corpus.read_text()
    assert "@pantrybox.exmaple" not in text_ and "example.invalid" in text_  # redacted
    dbs = {v: f"sqlite:///{tmp_path / f'{v}.db'}" for v in ("a", "b", "c")}
    with running_app("pantrybox", "correct", dbs["a"]) as primary, \
            running_app("pantrybox", "correct", dbs["b"]) as same, \
            running_app("pantrybox", "refund_in_major_units", dbs["c"]) as buggy:
        common = ["shadow", "run", "--corpus", str(corpus), "--only", "clean",
                  "--primary", primary + "/webhooks/stripe", "--primary-state", dbs["a"],
                  "--primary-reset", primary + "/admin/reset",
                  "--reset-header", "X-Pantry-Admin-Token: pantry-staging-reset"]
        passed = fde(*common, "--candidate", same + "/webhooks/stripe",
                     "--candidate-state", dbs["b"], env=env)
        assert _verdict(passed) == "PASS", passed.stdout
        assert "events replayed" in passed.stderr  # the progress bar
        failed = fde(*common, "--candidate", buggy + "/webhooks/stripe",
                     "--candidate-state", dbs["c"], "--out", str(tmp_path / "report"),
                     env=env)
        assert _verdict(failed) == "FAIL", failed.stdout
        assert "refund_note" in failed.stdout and "repro: fde shadow run" in failed.stdout
        assert "pantry-staging-reset" not in failed.stdout  # header values stay out
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    fields = {(d["entity"], d["field"]) for d in report["state_diffs"]}
    assert ("refund_note", "amount") in fields or any(
        e == "refund_note" for e, _ in fields)
    # boxes were shipped, so the seeded plans were there (the primary, reset by its own
    # endpoint, keeps its last replay); the snapshotted candidate is left as it was found
    for db, shipments in ((dbs["a"], lambda n: n > 0), (dbs["c"], lambda n: n == 0)):
        engine = create_engine(db)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM plan")).scalar() == 3
            assert shipments(conn.execute(text("SELECT count(*) FROM shipment")).scalar())
        engine.dispose()


@contextmanager
def _pg_database() -> Iterator[str]:
    name = f"fde_lumen_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.mark.foreign_shadow
@pytest.mark.postgres
def test_lumen_end_to_end_through_its_state_url(tmp_path, env):
    corpus = _record("lumen", tmp_path, env)
    with _pg_database() as db_a, _pg_database() as db_b, \
            running_app("lumen", "correct", db_a) as primary, \
            running_app("lumen", "yen_divided_by_100", db_b) as buggy:
        result = fde("shadow", "run", "--corpus", str(corpus), "--only", "clean",
                     "--primary", primary + "/hooks/stripe",
                     "--primary-state", primary + "/internal/state", "--primary-reset", db_a,
                     "--candidate", buggy + "/hooks/stripe",
                     "--candidate-state", buggy + "/internal/state",
                     "--candidate-reset", db_b, env=env)
        assert _verdict(result) == "FAIL", result.stdout
        assert "amount_major" in result.stdout
        tiers = create_engine(db_b)
        with tiers.connect() as conn:  # the seeded tiers survived every reset
            assert conn.execute(text("SELECT count(*) FROM tier_catalog")).scalar() == 3
        tiers.dispose()


def test_an_unreachable_candidate_is_inconclusive(tmp_path, env):
    corpus = tmp_path / "one.jsonl"
    corpus.write_text(json.dumps({"id": "evt_1", "type": "customer.created", "created": 1,
                                  "data": {"object": {"id": "cus_1"}}}) + "\n")
    db = f"sqlite:///{tmp_path / 'a.db'}"
    create_engine(db).connect().close()
    dead = f"http://127.0.0.1:{free_port()}/hook"
    result = fde("shadow", "run", "--corpus", str(corpus), "--primary", dead,
                 "--primary-state", db, "--candidate", dead, "--candidate-state", db, env=env)
    assert _verdict(result) == "INCONCLUSIVE"
    assert "could not be reached" in result.stdout


def test_record_pseudonymises_what_it_writes(replica, env, tmp_path):
    client = replica.client()
    for email in ("ada@shop.example", "ada@shop.exmaple"):
        client.v1.customers.create(params={"email": email, "name": "Ada Lovelace"})
    added = fde("engagement", "add", "shop", "--api-base", replica.url,
                env={**env, "FDE_ENGAGEMENT_STRIPE_KEY": RK_TEST})
    assert added.returncode == 0, added.stderr
    out = tmp_path / "c.jsonl"
    recorded = fde("shadow", "record", "-e", "shop", "--since", "1d", "--type",
                   "customer.created", "--out", str(out), env=env)
    assert recorded.returncode == 0, recorded.stderr
    events = [json.loads(line) for line in out.read_text().splitlines()]
    emails = [e["data"]["object"]["email"] for e in events]
    assert len(events) == 2 and len(set(emails)) == 2
    assert all(m.endswith("@example.invalid") for m in emails)
    assert "Ada" not in out.read_text() and "shop.ex" not in out.read_text()
    bad = fde("shadow", "record", "-e", "shop", "--since", "lately", env=env)
    assert bad.returncode != 0 and "--since" in bad.stderr and "Traceback" not in bad.stderr
