"""A run's discrepancies stay columnar until read: decided, counted and stored without a
model per row; stored runs read back the same; lists of models (older stored runs, API
clients) still validate."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from core.settings import load_settings
from core.storage import open_database
from tests.tools.recon.conftest import run_engine
from tools.recon import store
from tools.recon.models import DiscrepancyList, ReconRun

PI = {"status": "succeeded", "currency": "usd", "amount": 1000, "amount_received": 1000}


def _run() -> ReconRun:
    stripe = [{"stripe_id": f"pi_{i}", **PI} for i in range(5)]
    local = [{"stripe_id": f"pi_{i}", **PI, "amount": 1000 + i} for i in range(5)]
    return run_engine({"payment": stripe}, {"payment": local})


def test_counts_and_verdict_come_from_the_rows_and_models_are_built_on_reading():
    run = _run()
    rows = run.discrepancies
    assert isinstance(rows, DiscrepancyList) and rows.frame is not None
    assert len(rows) == 4 and run.counts == {"AMOUNT_MISMATCH.other": 3,
                                             "AMOUNT_MISMATCH.rounding": 1}
    page = rows[1:3]
    assert [d.id for d in page] == [f"{run.id}:000001", f"{run.id}:000002"]
    assert rows[-1].id == f"{run.id}:000003" and rows[1] is page[0]  # built once
    dumped = run.model_dump(mode="json", by_alias=True)["discrepancies"]
    assert [d["id"] for d in dumped] == [d.id for d in rows]


def test_stored_run_keeps_rows_columnar_and_reads_back_equal(tmp_path: Path):
    run = _run()
    db = open_database(load_settings(database_url=f"sqlite:///{tmp_path / 'app.db'}"))
    with db.session() as session:
        store.save_run(session, run)
    with db.session() as session:
        body = session.execute(select(store.runs.c.body)).scalar_one()
        loaded = store.load_run(session, run.id)
    assert "discrepancies" not in body and isinstance(body["discrepancy_rows"], str)
    assert loaded.discrepancies.frame is not None and loaded == run


def test_a_list_of_models_still_validates_and_round_trips():
    run = _run()
    plain = ReconRun.model_validate(run.model_dump(mode="json", by_alias=True))
    assert plain.discrepancies.frame is None and plain == run
    assert ReconRun.model_validate_json(run.model_dump_json(by_alias=True)) == run
