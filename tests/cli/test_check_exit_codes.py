"""`fde check` exit codes a CI job gates on: 1 when a finding is at or above --fail-on
(default critical), 0 otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from sandbox.usersys import models as um
from tests.cli.inprocess import fde_in_process, fresh_context
from tests.conftest import REPO


def _fde(*args: str) -> tuple[int, str]:
    with fresh_context():
        return fde_in_process(*args)


def test_a_critical_finding_fails_the_check(replica, tmp_path: Path, _isolated_env: Path,
                                            monkeypatch: pytest.MonkeyPatch):
    now = replica.admin.now()
    replica.admin.bulk_insert([{"id": "cus_K1", "object": "customer", "created": now - 10,
                                "livemode": False, "email": "a@x.io"}])
    url = f"sqlite:///{tmp_path / 'user.db'}"
    engine = um.make_engine(url)
    um.create_schema(engine)
    with Session(engine) as s, s.begin():  # a live row in a test-mode engagement: critical
        s.add(um.Account(stripe_customer_id="cus_K1", email="a@x.io", livemode=True))
    monkeypatch.setenv("FDE_ENGAGEMENT_STRIPE_KEY", replica.api_key + "0" * 12)
    code, out = _fde("engagement", "add", "acme", "--no-verify", "--api-base", replica.url,
                     "--user-db", url,
                     "--mapping", str(REPO / "sandbox" / "usersys" / "mapping.yaml"))
    assert code == 0, out
    only = ("check", "--engagement", "acme", "--only", "ops.test_live_separation")
    code, out = _fde(*only)
    assert (code, "critical" in out) == (1, True), out
    code, out = _fde(*only, "--json")
    assert (code, '"critical"' in out) == (1, True), out
    code, out = _fde(*only, "--no-sync", "--fail-on", "medium")
    assert code == 1, out
    with Session(engine) as s, s.begin():
        s.query(um.Account).update({"livemode": False})
    engine.dispose()
    code, out = _fde(*only, "--no-sync")
    assert (code, "0 findings" in out) == (0, True), out
    code, out = _fde(*only, "--fail-on", "severe")
    assert code == 2, out


def test_no_error_exits_with_the_incomplete_code():
    import tools.recon.errors
    import tools.workspace.errors  # noqa: F401  (their FdeError subclasses count too)
    from cli import gate
    from core.errors import FdeError

    def codes(cls: type[FdeError]) -> set[int]:
        return {cls.exit_code}.union(*(codes(sub) for sub in cls.__subclasses__()))

    assert gate.INCOMPLETE not in codes(FdeError)
