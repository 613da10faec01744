"""`fde map show|drift` and `fde check` as a user runs them (subprocess) against the replica:
disabling an event type on the endpoint shows up as drift and as a finding.

The sub-apps are driven through a small wrapper until the lead wires them into `fde`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy.orm import Session

from core import engagements
from core.engagements import EngagementCreate
from core.secrets import secret_box
from core.settings import SANDBOX_API_KEY, load_settings
from core.storage import open_database
from sandbox.usersys import models as um
from tests.conftest import REPO

WRAPPER = ("import sys; from cli.main import fail; from core.errors import FdeError; "
           "from cli.{mod} import app\ntry:\n    app()\nexcept FdeError as exc:\n    fail(exc)")


def fde(data: Path, mod: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FDE_DATA_DIR": str(data), "NO_COLOR": "1", "COLUMNS": "200",
           "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", WRAPPER.format(mod=mod), *args],
                          capture_output=True, text=True, env=env, timeout=180, cwd=data)
    assert done.returncode == 0, done.stderr + done.stdout
    return done


def _json(out: str) -> dict:
    return json.loads(out[out.index("{"):])


def test_disabling_an_event_type_is_drift_and_a_finding(replica, tmp_path, _isolated_env):
    data = _isolated_env
    client = replica.client()
    endpoint = client.v1.webhook_endpoints.create(params={
        "url": "http://127.0.0.1:9/hooks", "enabled_events": ["invoice.paid",
                                                            "customer.created"]})
    user_url = f"sqlite:///{tmp_path / 'company.db'}"
    engine = um.make_engine(user_url)
    um.create_schema(engine)
    now = datetime.now(UTC)
    with Session(engine) as s, s.begin():  # the app applies both event types it subscribes to
        for i, etype in enumerate(("invoice.paid", "customer.created")):
            s.add(um.ProcessedWebhook(event_id=f"evt_{i}", type=etype, event_created=now,
                                      received_at=now, outcome="applied"))
    engine.dispose()
    settings = load_settings()
    db = open_database(settings)
    with db.session() as session:
        engagements.add(session, secret_box(settings), EngagementCreate(
            name="acme", stripe_key=SecretStr(SANDBOX_API_KEY), stripe_api_base=replica.url,
            user_db_dsn=SecretStr(user_url),
            mapping_path=str(REPO / "sandbox" / "usersys" / "mapping.yaml")), actor="test")
    db.dispose()

    first = _json(fde(data, "map", "drift", "--engagement", "acme").stdout)
    assert first["drift"] == [] and first["to"] == 1
    shown = json.loads(fde(data, "map", "show", "--engagement", "acme", "--stored").stdout)
    node = next(n for n in shown["nodes"] if n["id"] == f"endpoint:{endpoint.id}")
    assert node["attrs"]["enabled_events"] == ["customer.created", "invoice.paid"]
    clean = _json(fde(data, "check", "--engagement", "acme", "--only",
                      "webhook.handled_events_enabled", "--json").stdout)
    assert clean["findings"] == []

    client.v1.webhook_endpoints.update(endpoint.id, params={
        "enabled_events": ["customer.created"]})

    drifted = _json(fde(data, "map", "drift", "--engagement", "acme").stdout)
    assert (drifted["from"], drifted["to"]) == (1, 2)
    kinds = {(d["kind"], d["subject"]) for d in drifted["drift"]}
    assert ("event_type_dropped", f"endpoint:{endpoint.id}:invoice.paid") in kinds
    found = _json(fde(data, "check", "--engagement", "acme", "--only",
                      "webhook.handled_events_enabled", "--json").stdout)
    (finding,) = found["findings"]
    assert finding["subject"] == "type:invoice.paid" and endpoint.id in finding["evidence"]
    assert finding["first_seen"] and finding["resolved_at"] is None

    mermaid = fde(data, "map", "show", "--engagement", "acme", "--stored", "--format",
                  "mermaid").stdout
    assert mermaid.startswith("flowchart LR")
    fde(data, "map", "show", "--engagement", "acme", "--stored", "--format", "html", "--out",
        str(tmp_path / "map.html"))
    assert "<svg" in (tmp_path / "map.html").read_text()
