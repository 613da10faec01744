"""The user-system adapter over real SQLite and PostgreSQL databases built by hand, with
the sandbox's mapping file as the example mapping."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy.orm import Session

from sandbox.usersys import models as um
from tests.conftest import REPO, free_port
from tools.recon.adapter import open_user_system
from tools.recon.errors import MappingError, UserSystemUnreachable
from tools.recon.mapping import load_mapping
from tools.recon.models import Verdict
from tools.recon.run import run_recon
from tools.recon.sync.store import Snapshot

MAPPING_FILE = REPO / "sandbox" / "usersys" / "mapping.yaml"


def _fill(url: str) -> None:
    engine = um.make_engine(url)
    um.create_schema(engine)
    with Session(engine) as s, s.begin():
        acct = um.Account(stripe_customer_id="cus_1", email="a@x.io", livemode=False)
        s.add(acct)
        s.flush()
        s.add(um.Payment(account_id=acct.id, stripe_payment_intent_id="pi_1", status="succeeded",
                         amount=1000, amount_received=1000, currency="JPY", livemode=False))
        s.add(um.Subscription(account_id=acct.id, stripe_subscription_id="sub_1",
                              status="active", current_period_end=datetime(2026, 1, 1,
                                                                           tzinfo=UTC)))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def user_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    url = (f"sqlite:///{tmp_path / 'user.db'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_url"))
    _fill(url)
    return url


def test_loads_canonical_frames_with_refs_resolved(user_db: str):
    user = open_user_system(user_db, load_mapping(MAPPING_FILE))
    frames = user.load(["payment", "subscription"])
    pay = frames["payment"].row(0, named=True)
    assert pay["stripe_id"] == "pi_1" and pay["customer"] == "cus_1"
    assert pay["currency"] == "jpy" and pay["amount"] == 1000
    assert pay["local_key"].startswith("payments:")
    sub = frames["subscription"].row(0, named=True)
    assert sub["current_period_end"] == int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
    assert sub["cancel_at_period_end"] is False


def _broken_mapping(tmp_path: Path, *, table: str | None = None, column: str | None = None
                    ) -> Path:
    raw = yaml.safe_load(MAPPING_FILE.read_text())
    if table:
        raw["entities"]["payment"]["table"] = table
    if column:
        raw["entities"]["payment"]["fields"]["amount"]["column"] = column
    path = tmp_path / "mapping.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_mapping_naming_a_missing_table_or_column_is_an_error_naming_it(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'user.db'}"
    _fill(url)
    with pytest.raises(MappingError, match="payments.amount_cents"):
        open_user_system(url, load_mapping(_broken_mapping(tmp_path, column="amount_cents"))
                         ).check()
    with pytest.raises(MappingError, match="'payment_rows'"):
        open_user_system(url, load_mapping(_broken_mapping(tmp_path, table="payment_rows"))
                         ).check()


def test_malformed_mapping_file_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "m.yaml"
    path.write_text("version: 1\nentities:\n  payment:\n    fields: {}\n")
    with pytest.raises(MappingError, match="table"):
        load_mapping(path)


def test_unreachable_user_db_gives_incomplete_run(tmp_path: Path):
    dsn = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nope"
    user = open_user_system(dsn, load_mapping(MAPPING_FILE))
    with pytest.raises(UserSystemUnreachable, match="cannot reach the user database"):
        user.check()
    snap = Snapshot(tmp_path / "snap")
    with snap.editing() as cp:
        cp.complete = True
    run = run_recon(snapshot=snap, user=user, mapping=load_mapping(MAPPING_FILE))
    assert run.verdict == Verdict.INCOMPLETE
    assert run.discrepancies == [] and "cannot reach" in run.incomplete_reasons[0]
