"""`fde recon run` exit codes a CI job gates on: 0 clean, 1 at or above --fail-on, 3 INCOMPLETE."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from sandbox.usersys import models as um
from tests.cli.inprocess import fde_in_process, fresh_context
from tests.conftest import REPO


@pytest.fixture
def acme(replica, tmp_path: Path, _isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An engagement whose one Stripe customer matches its user row."""
    now = replica.admin.now()
    replica.admin.bulk_insert([{"id": "cus_E1", "object": "customer", "created": now - 10,
                                "livemode": False, "email": "a@x.io"}])
    url = f"sqlite:///{tmp_path / 'user.db'}"
    engine = um.make_engine(url)
    um.create_schema(engine)
    with Session(engine) as s, s.begin():
        s.add(um.Account(stripe_customer_id="cus_E1", email="a@x.io", livemode=False))
    engine.dispose()
    monkeypatch.setenv("FDE_ENGAGEMENT_STRIPE_KEY", replica.api_key + "0" * 12)
    with fresh_context():
        code, out = fde_in_process(
            "engagement", "add", "acme", "--no-verify", "--api-base", replica.url,
            "--user-db", url, "--mapping", str(REPO / "sandbox" / "usersys" / "mapping.yaml"))
    assert code == 0, out
    return url


def _run(*args: str) -> tuple[int, str]:
    with fresh_context():
        return fde_in_process("recon", "run", "--engagement", "acme", "--types", "customer",
                              *args)


def test_incomplete_then_clean_then_breaks(acme: str):
    code, out = _run("--no-sync")  # nothing synced yet: the run cannot vouch for anything
    assert (code, "INCOMPLETE" in out) == (3, True), out
    code, out = _run()
    assert (code, "RECONCILED" in out) == (0, True), out
    engine = um.make_engine(acme)
    with Session(engine) as s, s.begin():
        s.query(um.Account).update({"email": "old@x.io"})
    engine.dispose()
    code, out = _run()
    assert (code, "BREAKS" in out) == (1, True), out
    code, out = _run("--fail-on", "nonsense")
    assert code == 2, out
