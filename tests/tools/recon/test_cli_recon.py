"""`fde recon ...` as a user runs it (subprocess), against the replica and a SQLite user DB.

The sub-app is driven through a two-line wrapper until the lead wires it into `fde`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from sqlalchemy.orm import Session

from sandbox.usersys import models as um
from tests.conftest import REPO

WRAPPER = ("import sys; from cli.main import fail; from core.errors import FdeError; "
           "from cli.recon import app\ntry:\n    app()\nexcept FdeError as exc:\n    fail(exc)")


def _env(data: Path) -> dict[str, str]:
    return {**os.environ, "FDE_DATA_DIR": str(data), "NO_COLOR": "1", "COLUMNS": "200",
            "PYTHONPATH": str(REPO)}


def recon(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", WRAPPER, *args], capture_output=True,
                          text=True, env=_env(data), timeout=120, cwd=data)


def test_recon_run_show_plan_via_cli(replica, tmp_path: Path, _isolated_env: Path):
    data = _isolated_env
    now = replica.admin.now()
    replica.admin.bulk_insert([{"id": "cus_C1", "object": "customer", "created": now - 10,
                                "livemode": False, "email": "a@x.io"}])
    url = f"sqlite:///{tmp_path / 'user.db'}"
    engine = um.make_engine(url)
    um.create_schema(engine)
    with Session(engine) as s, s.begin():
        s.add(um.Account(stripe_customer_id="cus_C1", email="old@x.io", livemode=False))
    engine.dispose()
    add = subprocess.run(
        [sys.executable, "-m", "cli", "engagement", "add", "acme", "--no-verify",
         "--api-base", replica.url, "--user-db", url,
         "--mapping", str(REPO / "sandbox" / "usersys" / "mapping.yaml")],
        capture_output=True, text=True, timeout=60, cwd=data,
        env={**_env(data), "FDE_ENGAGEMENT_STRIPE_KEY": replica.api_key + "0" * 12})
    assert add.returncode == 0, add.stderr
    result = recon(data, "run", "--engagement", "acme", "--types", "customer")
    assert result.returncode == 1, result.stdout + result.stderr  # BREAKS gates
    assert "BREAKS" in result.stdout and "STALE_STATE 1" in result.stdout
    run_id = re.search(r"run (rcn_\w+)", result.stdout).group(1)  # type: ignore[union-attr]
    html = next((data / "recon" / "acme" / "runs" / run_id).glob("report.html"))
    assert "STALE_STATE" in html.read_text()
    shown = recon(data, "show", run_id, "--format", "json")
    assert shown.returncode == 0 and '"STALE_STATE"' in shown.stdout
    missing = recon(data, "show", "rcn_nope")
    assert missing.returncode != 0 and "no reconciliation run" in missing.stderr


def test_recon_run_syncs_the_engagements_connected_accounts(replica, stripe_client,
                                                            tmp_path: Path, _isolated_env: Path):
    data = _isolated_env
    account = stripe_client.v1.accounts.create({"type": "express", "country": "US"}).id
    platform = stripe_client.v1.customers.create({"email": "p@x.io"}).id
    connected = stripe_client.v1.customers.create({"email": "c@x.io"},
                                                  {"stripe_account": account}).id
    url = f"sqlite:///{tmp_path / 'user.db'}"
    engine = um.make_engine(url)
    um.create_schema(engine)
    with Session(engine) as s, s.begin():
        s.add(um.Account(stripe_customer_id=platform, email="p@x.io", livemode=False))
    engine.dispose()
    add = subprocess.run(
        [sys.executable, "-m", "cli", "engagement", "add", "market", "--no-verify",
         "--api-base", replica.url, "--user-db", url, "--connect", account,
         "--mapping", str(REPO / "sandbox" / "usersys" / "mapping.yaml")],
        capture_output=True, text=True, timeout=60, cwd=data,
        env={**_env(data), "FDE_ENGAGEMENT_STRIPE_KEY": replica.api_key + "0" * 12})
    assert add.returncode == 0, add.stderr
    result = recon(data, "run", "--engagement", "market", "--types", "customer")
    assert result.returncode == 1, result.stdout + result.stderr  # BREAKS gates
    # the connected account's customer was synced (its own snapshot) and has no local row
    assert "MISSING_LOCAL 1" in result.stdout and "discrepancies (MISSING_LOCAL 1)" in \
        result.stdout, result.stdout
    assert (data / "recon" / "market" / "snapshot" / "accounts" / account).is_dir()
    run_id = re.search(r"run (rcn_\w+)", result.stdout).group(1)  # type: ignore[union-attr]
    shown = recon(data, "show", run_id, "--format", "json")
    found = json.loads(shown.stdout)["discrepancies"]
    assert [(d["class"], d["stripe_id"]) for d in found] == [("MISSING_LOCAL", connected)]
