"""Interrupt → the process exits → a new process resumes from the checkpoint and finishes;
the money action runs exactly once. An LLM run killed mid-run continues from its last
step in a new process (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from agents.triage import build_triage_graph, resume_triage, start_triage
from core.errors import ConfigError
from tests.agents.resume_proc import deps
from tests.conftest import REPO


def _run(env: dict[str, str], *args: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "tests.agents.resume_proc", *args], cwd=REPO,
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres",
                                                            marks=pytest.mark.postgres)])
def test_exit_and_resume_in_a_new_process_runs_the_side_effect_once(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest):
    env = {**os.environ, "FDE_DATA_DIR": str(tmp_path / "data")}
    if backend == "postgres":
        env["FDE_DATABASE_URL"] = request.getfixturevalue("pg_url")
    counter = tmp_path / "counter.txt"
    first = _run(env, "start", "thr_resume1", str(counter))
    assert first["status"] == "escalated" and not counter.exists()
    payload = first["interrupt"]["value"]
    assert {"action_requests", "review_configs"} <= set(payload)
    assert payload["action_requests"][0]["name"] == "refund_payment"
    second = _run(env, "resume", "thr_resume1", str(counter), first["interrupt"]["id"])
    assert second["status"] == "resolved"
    assert counter.read_text().splitlines() == ["pi_Dup0000001"]
    # resuming again is an error, and nothing runs twice
    out = subprocess.run([sys.executable, "-m", "tests.agents.resume_proc", "resume",
                          "thr_resume1", str(counter), first["interrupt"]["id"]], cwd=REPO,
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and "not waiting" in out.stderr
    assert counter.read_text().splitlines() == ["pi_Dup0000001"]


def test_wrong_interrupt_id_is_an_error(tmp_path: Path):
    graph = build_triage_graph(InMemorySaver())
    d = deps(tmp_path / "c.txt")
    result = start_triage(graph, d, ticket="charged twice", engagement="acme", thread_id="t1")
    with pytest.raises(ConfigError, match="not pending"):
        resume_triage(graph, d, thread_id="t1", interrupt_id="nope",
                      decision={"type": "approve", "action": "refund_payment"})
    assert not (tmp_path / "c.txt").exists()
    done = resume_triage(graph, d, thread_id="t1", interrupt_id=result.interrupt.id,
                         decision={"type": "reject"})
    assert done.status == "rejected" and not (tmp_path / "c.txt").exists()


def test_empty_ticket_is_a_clear_error(tmp_path: Path):
    with pytest.raises(ConfigError, match="empty"):
        start_triage(build_triage_graph(InMemorySaver()), deps(tmp_path / "c"), ticket="  ",
                     engagement="acme")


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres",
                                                            marks=pytest.mark.postgres)])
def test_llm_run_killed_mid_run_resumes_from_its_last_step(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest):
    """The conversation is in the checkpoint: a process killed while waiting for the model
    leaves its two finished tool rounds behind, and a new process continues from them
    (neither the model's earlier turns nor the tools run again)."""
    env = {**os.environ, "FDE_DATA_DIR": str(tmp_path / "data")}
    if backend == "postgres":
        env["FDE_DATABASE_URL"] = request.getfixturevalue("pg_url")
    proc = "tests.agents.llm_resume_proc"
    died = subprocess.run([sys.executable, "-m", proc, "start", "thr_llm1", str(tmp_path)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert died.returncode == -signal.SIGKILL, died.stderr[-3000:]
    result = subprocess.run([sys.executable, "-m", proc, "resume", "thr_llm1", str(tmp_path)],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    done = json.loads(result.stdout)
    sent = [json.loads(line) for line in (tmp_path / "requests.jsonl").read_text().splitlines()]
    assert [s["mode"] for s in sent] == ["start", "start", "start", "resume"]
    resumed = sent[-1]["messages"]
    assert [m["role"] for m in resumed] == ["system", "user", "assistant", "tool",
                                            "assistant", "tool"]
    assert resumed == sent[2]["messages"]  # exactly where the killed run was
    assert (tmp_path / "probe.txt").read_text().split() == ["pi_First000001", "pi_Second00001"]
    assert done["diagnosis"]["evidence_ids"] == ["pi_First000001", "pi_Second00001"]
    assert [c["name"] for c in done["tool_calls"]] == ["get_stripe_object"] * 2
