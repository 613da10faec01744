"""Reconciliation on company systems nobody here shaped the engine for (issue 20).

For each foreign system (tests/foreign/recon/<system>/, written blind, with a mapping
written blind by a second author): build its planted world and its clean world on the
replica over HTTP, sync through the product path (the recon sync through the gateway, the
platform and every connected account, read back as one `SnapshotSet`), reconcile with the
blind mapping through `run_recon`, and score per class against the answer key
(tests/foreign/recon/scoring.py). Run with -s to see the per-class tables.

Built worlds are cached under .pytest_cache, keyed by the generator's own files and the
seed, so a second run only syncs and reconciles (building a world takes 20-80 s).
localstripe is not used here: it is not installed in every environment and its worlds
hold a subset of the classes (the generators' `not_planted`).
"""

from __future__ import annotations

import hashlib
import json
import pickle
import shutil
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import MetaData, create_engine, insert, text

from sandbox.replica.config import ReplicaConfig
from sandbox.replica.testing import TEST_KEY, running_replica
from tests.foreign.recon.scoring import Score, score
from tools.recon.adapter import open_user_system
from tools.recon.mapping import load_mapping
from tools.recon.models import ReconRun
from tools.recon.run import run_recon
from tools.recon.sync import Snapshot, run_sync
from tools.recon.sync.connect import SnapshotSet, connected_accounts, sync_connected
from tools.stripe import GatewayConfig, RateLimiterRegistry, StripeGateway

HERE = Path(__file__).parent
SEED = 7
SYSTEMS = {"fernhill": "postgres", "orbitdesk": "sqlite"}
# Classes point 2 of issue 20 (another helper) makes the engine produce; until they land a
# miss there is reported, not failed (see the report line printed with the table).
ENGINE_TARGET = 0.95
# What a blind mapping says that its own system contradicts (reported, never fixed by
# editing the foreign files or by tuning the engine to them).
BLIND_MAPPING_GAPS = {
    "orbitdesk": "the blind mapping reads credit_ledger with `where: reason = 'purchase'`, so "
                 "the ledger's reversal rows (schema.sql: reason purchase | reversal; the prose "
                 "never mentions them) are invisible and a correctly reversed purchase looks "
                 "still granted; and its granted_by `where: metadata.purpose = 'credits'` "
                 "cannot see credits bought through an invoice (the invoice's PaymentIntent "
                 "carries no metadata), so that grant has no source",
}


def _world_key(system: str, plant: bool) -> str:
    digest = hashlib.sha256()
    for path in sorted((HERE / system).glob("*")):
        if path.suffix in (".py", ".sql") and not path.name.startswith("test_"):
            digest.update(path.read_bytes())
    return f"{system}-{int(plant)}-{SEED}-{digest.hexdigest()[:12]}"


def _dump_pg(url: str) -> dict[str, list[dict[str, Any]]]:
    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        out = {t.name: [dict(r._mapping) for r in conn.execute(t.select())]
               for t in meta.sorted_tables}
    engine.dispose()
    return out


def _restore_pg(url: str, rows: dict[str, list[dict[str, Any]]]) -> None:
    from tests.foreign.recon.fernhill import fernhill as fh

    engine = create_engine(url)
    with engine.begin() as conn:
        fh.apply_schema(conn)
        conn.execute(text("SET session_replication_role = replica"))  # no FK order needed
        meta = MetaData()
        meta.reflect(conn)
        for name, data in rows.items():
            if data:
                conn.execute(insert(meta.tables[name]), data)
    engine.dispose()


def _build(system: str, plant: bool, cache: Path, db_url: str) -> None:
    """Build the world into `cache` (replica store, the user DB or its dump, the key)."""
    cache.mkdir(parents=True, exist_ok=True)
    store = cache / "replica.sqlite"
    config = ReplicaConfig(db_path=store, webhook_retry_schedule=[0.05, 0.1, 0.2],
                           webhook_timeout=2.0, tick_seconds=0.05)
    with running_replica(store, config=config) as replica:
        if system == "fernhill":
            from tests.foreign.recon.fernhill.generate import build
        else:
            from tests.foreign.recon.orbitdesk.generate import build
        key = build(api_base=replica.url, api_key=TEST_KEY, db_url=db_url, seed=SEED,
                    plant=plant, server="replica")
    if system == "fernhill":
        (cache / "user.pickle").write_bytes(pickle.dumps(_dump_pg(db_url)))
    (cache / "key.json").write_text(json.dumps(key, default=str))


def _world(system: str, plant: bool, request: pytest.FixtureRequest,
           tmp_path: Path) -> tuple[Path, str, dict[str, Any]]:
    """(a copy of the replica store, the user DB url, the answer key)."""
    cache = Path(request.config.cache.mkdir("foreign-recon-worlds")) / _world_key(system, plant)
    work = tmp_path / f"{system}-{int(plant)}"
    work.mkdir()
    if system == "fernhill":
        db_url = request.getfixturevalue("pg_url") if plant else _second_pg(request)
    else:
        db_url = f"sqlite:///{work / 'user.db'}"
    built = False
    if not (cache / "key.json").exists():
        shutil.rmtree(cache, ignore_errors=True)
        sqlite_target = None if system == "fernhill" else cache / "user.db"
        _build(system, plant, cache, db_url if sqlite_target is None
               else f"sqlite:///{sqlite_target}")
        built = True
    if system != "fernhill":
        shutil.copy(cache / "user.db", work / "user.db")
    elif not built:  # a fresh build already wrote this database
        _restore_pg(db_url, pickle.loads((cache / "user.pickle").read_bytes()))
    for path in cache.glob("replica.sqlite*"):
        shutil.copy(path, work / path.name)
    return work / "replica.sqlite", db_url, json.loads((cache / "key.json").read_text())


def _second_pg(request: pytest.FixtureRequest) -> str:
    """pg_url is one database per test; the clean world needs its own."""
    import uuid

    from tests.conftest import PG_ADMIN_URL

    name = f"fde_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
    request.addfinalizer(drop)
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def _reconcile(system: str, store: Path, db_url: str, snap_root: Path) -> ReconRun:
    """Sync the replica through the gateway (platform + connected accounts), reconcile."""
    with running_replica(store, config=ReplicaConfig(db_path=store)) as replica:
        config = GatewayConfig(api_base=replica.url, api_key=SecretStr(TEST_KEY + "0" * 12),
                               expected_mode="test", rate_limit=1000.0)
        limiters = RateLimiterRegistry()
        opened = [StripeGateway(config, limiters=limiters, sleep=lambda s: None)]

        def gateway_for(account: str) -> StripeGateway:
            opened.append(StripeGateway(config.model_copy(update={"stripe_account": account}),
                                        limiters=limiters, sleep=lambda s: None))
            return opened[-1]
        try:
            report = run_sync(opened[0], Snapshot(snap_root))
            assert report.complete, report
            accounts = connected_accounts(opened[0])
            for sub in sync_connected(gateway_for, snap_root, accounts).values():
                assert sub.complete, sub
        finally:
            for gateway in opened:
                gateway.close()
    mapping = load_mapping(HERE / system / "mapping.yaml")
    return run_recon(snapshot=SnapshotSet(snap_root, accounts=accounts),
                     user=open_user_system(db_url, mapping), mapping=mapping)


def _report(system: str, run: ReconRun, result: Score) -> None:
    print()  # noqa: T201 - the per-class table is the test's output (pytest -s)
    print(result.table(f"== {system}: planted world (replica), {len(run.discrepancies)} "  # noqa: T201
                       f"findings, verdict {run.verdict.value}"))
    for entry in result.missed:
        print(f"  missed {entry['class']} {entry['stripe_id']} "  # noqa: T201
              f"{entry['local']}: {entry['why'][:100]}")
    for line in result.false:
        print(f"  false  {line[:160]}")  # noqa: T201
    for warning in run.warnings:
        print(f"  warning {warning[:160]}")  # noqa: T201


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("system", list(SYSTEMS))
def test_foreign_system_planted_and_clean(system: str, request: pytest.FixtureRequest,
                                          tmp_path: Path):
    store, db_url, key = _world(system, True, request, tmp_path)
    run = _reconcile(system, store, db_url, tmp_path / "snap-planted")
    result = score(run, key)
    _report(system, run, result)

    below = {c: (round(result.precision(c), 2), round(result.recall(c), 2))
             for c in result.classes()
             if min(result.precision(c), result.recall(c)) < ENGINE_TARGET}
    print(f"== {system}: classes below {ENGINE_TARGET}: {below}")  # noqa: T201
    # Floors over all classes, so the test fails when the engine regresses on a system it
    # was never fitted to; the per-class figures against the 0.95 target are printed above
    # (classes another part of issue 20 owns, e.g. ENV_MISMATCH, may still be below it).
    total_tp = sum(result.tp.values())
    assert total_tp / (total_tp + sum(result.fn.values())) >= 0.75, result.table(system)
    assert total_tp / (total_tp + sum(result.fp.values())) >= 0.85, result.table(system)

    clean_store, clean_url, clean_key = _world(system, False, request, tmp_path)
    clean = _reconcile(system, clean_store, clean_url, tmp_path / "snap-clean")
    print(f"== {system}: clean world, {len(clean.discrepancies)} findings "  # noqa: T201
          f"{sorted({d.class_.value for d in clean.discrepancies})}")
    assert not clean_key["planted"]
    false_alarms = [f"{d.class_.value} {d.stripe_id} {d.local_key}: {d.reason}"
                    for d in clean.discrepancies]
    for line in false_alarms:
        print(f"  clean  {line[:160]}")  # noqa: T201
    if false_alarms and system in BLIND_MAPPING_GAPS:
        pytest.xfail(BLIND_MAPPING_GAPS[system])
    assert false_alarms == []
