"""`fde demo` end to end, as `make demo` runs it: the world is served, the API answers,
`fde doctor` is green against it, and the demo engagement points at all of it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.cli.test_bad_input import assert_clear_failure, fde
from tests.conftest import free_port


def test_demo_serves_world_and_api_and_doctor_is_green(_isolated_env: Path, tmp_path: Path):
    ports = {"FDE_API_PORT": free_port(), "FDE_REPLICA_PORT": free_port(),
             "FDE_HANDLER_PORT": free_port()}
    # no FDE_STRIPE_API_BASE: the CLI and `fde doctor` find the replica by its port alone
    env = {**os.environ, **{k: str(v) for k, v in ports.items()}, "NO_COLOR": "1",
           "COLUMNS": "200"}
    log = (tmp_path / "demo.log").open("w+")
    proc = subprocess.Popen([sys.executable, "-m", "cli", "demo"], stdout=log,
                            stderr=subprocess.STDOUT, env=env)
    api = f"http://127.0.0.1:{ports['FDE_API_PORT']}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{api}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, (tmp_path / "demo.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "demo.log").read_text()
            time.sleep(0.2)
        banner = (tmp_path / "demo.log").read_text()
        for name in ("Stripe replica", "company app", "API"):
            assert name in banner, banner
        assert f"127.0.0.1:{ports['FDE_REPLICA_PORT']}" in banner
        doctor = fde("doctor", env={"FDE_REPLICA_PORT": env["FDE_REPLICA_PORT"]})
        assert doctor.returncode == 0, doctor.stdout
        assert f"127.0.0.1:{ports['FDE_REPLICA_PORT']} answers as acct_" in doctor.stdout
        shown = json.loads(fde("engagement", "show", "demo").stdout)
        assert shown["has_user_db"] and shown["mapping_path"].endswith("mapping.yaml")
        handler = shown["webhook_urls"][0].removesuffix("/webhooks/stripe")
        assert httpx.get(f"{handler}/healthz", timeout=5).status_code == 200
        customers = httpx.get(f"http://127.0.0.1:{ports['FDE_REPLICA_PORT']}/v1/customers",
                              auth=("sk_test_anything0000000000", ""), timeout=5).json()
        assert len(customers["data"]) == 10 and customers["has_more"]
        # the company's tracing export, on the world's clock: advice over weeks, not seconds
        advice = fde("advise", "--engagement", "demo", "--json")
        assert advice.returncode == 0, advice.stderr
        found = json.loads(advice.stdout)
        assert found["window_seconds"] > 7 * 86_400 and found["findings"], found
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.mark.parametrize(("command", "variable"), [
    (("demo",), "FDE_API_PORT"), (("demo",), "FDE_REPLICA_PORT"), (("demo",), "FDE_HANDLER_PORT"),
    (("serve",), "FDE_API_PORT"), (("sandbox", "up"), "FDE_REPLICA_PORT")])
def test_a_port_in_use_is_one_line_and_a_fix(command, variable):
    """A real listener holds the port; the command names it and the setting to change,
    and nothing starts (no world build, no traceback)."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {"FDE_API_PORT": str(free_port()), "FDE_REPLICA_PORT": str(free_port()),
               "FDE_HANDLER_PORT": str(free_port()), variable: str(port)}
        result = fde(*command, env=env)
    assert_clear_failure(result, f"port {port} on 127.0.0.1 is already in use", variable)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 2 and lines[1].lstrip().startswith("fix:"), result.stderr
    assert "building world" not in result.stdout
