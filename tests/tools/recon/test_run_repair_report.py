"""End to end without Stripe: a hand-built snapshot and user DB → run → stored run →
reports → approved repair plan applied once, with audit entries."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.settings import load_settings
from core.storage import open_database
from sandbox.usersys import models as um
from tests.conftest import REPO
from tools.recon import store
from tools.recon.adapter import open_user_system
from tools.recon.apply import apply_plan, make_plan
from tools.recon.mapping import load_mapping
from tools.recon.models import Verdict
from tools.recon.report import write_reports
from tools.recon.run import run_recon
from tools.recon.sync.store import Snapshot

MAPPING = load_mapping(REPO / "sandbox" / "usersys" / "mapping.yaml")


def _world(tmp_path: Path) -> tuple[str, Snapshot]:
    url = f"sqlite:///{tmp_path / 'user.db'}"
    engine = um.make_engine(url)
    um.create_schema(engine)
    with Session(engine) as s, s.begin():
        acct = um.Account(stripe_customer_id="cus_1", email="a@x.io", livemode=False)
        s.add(acct)
        s.flush()
        s.add(um.Subscription(account_id=acct.id, stripe_subscription_id="sub_1",
                              status="active", seats=3, livemode=False, currency="usd"))
    engine.dispose()
    snap = Snapshot(tmp_path / "snap")
    snap.append("customer", [
        {"id": "cus_1", "object": "customer", "email": "a@x.io", "livemode": False,
         "created": 10},
        {"id": "cus_2", "object": "customer", "email": "b@x.io", "livemode": False,
         "created": 20}], version=1, source=0)
    snap.append("subscription", [{
        "id": "sub_1", "object": "subscription", "customer": "cus_1", "status": "active",
        "currency": "usd", "livemode": False, "created": 10, "cancel_at_period_end": False,
        "items": {"data": [{"price": {"id": None}, "quantity": 5}]}}], version=1, source=0)
    with snap.editing() as cp:
        cp.complete = True
    return url, snap


def test_run_store_reports_and_idempotent_repair(tmp_path: Path):
    url, snap = _world(tmp_path)
    user = open_user_system(url, MAPPING)
    run = run_recon(snapshot=snap, user=user, mapping=MAPPING, engagement="acme",
                    expected_livemode=False)
    got = sorted((d.class_.value, d.stripe_id, tuple(d.fields)) for d in run.discrepancies)
    assert got == [("MISSING_LOCAL", "cus_2", ()), ("STALE_STATE", "sub_1", ("quantity",))]
    assert run.verdict == Verdict.BREAKS

    db = open_database(load_settings(database_url=f"sqlite:///{tmp_path / 'app.db'}"))
    with db.session() as session:
        store.save_run(session, run)
    with db.session() as session:
        assert store.load_run(session, run.id) == run

    paths = write_reports(run, tmp_path / "out")
    html = paths["html"].read_text()
    assert "STALE_STATE" in html and "<script" not in html and "http" not in html.split(
        "<body>")[0]
    assert "## Bridge" in paths["md"].read_text()

    plan = make_plan(run)
    for item in plan.items:
        item.approved = item.repair.kind == "upsert_local"
    first = {r.discrepancy_id: r for r in apply_plan(plan, run, user=user, db=db,
                                                      actor="test")}
    by_class = {d.class_.value: d.id for d in run.discrepancies}
    assert first[by_class["STALE_STATE"]].status == "applied"
    assert first[by_class["MISSING_LOCAL"]].status == "applied"
    second = {r.discrepancy_id: r.status for r in apply_plan(plan, run, user=user, db=db,
                                                             actor="test")}
    assert second[by_class["STALE_STATE"]] == "already_applied"
    assert second[by_class["MISSING_LOCAL"]] == "already_applied"
    engine = um.make_engine(url)
    with Session(engine) as s:
        assert s.scalar(select(um.Subscription.seats)) == 5
        assert s.scalar(select(um.Account.stripe_customer_id).where(
            um.Account.stripe_customer_id == "cus_2")) == "cus_2"  # inserted once
    engine.dispose()
    with db.session() as session:
        actions = sorted(e.action for e in audit.entries(session)
                         if e.action.startswith("recon.repair"))
    assert actions == ["recon.repair.applied", "recon.repair.applied"]
    again = run_recon(snapshot=snap, user=user, mapping=MAPPING, expected_livemode=False)
    assert again.discrepancies == [] and again.verdict == Verdict.RECONCILED
    assert all(b.residual == 0 for b in again.bridge)
