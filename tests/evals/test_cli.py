"""`fde eval run` end to end: one scenario through the real CLI (reports written, compared
with the previous run), and bad input failing with the file and field named."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from evals.scenario import SCENARIOS_DIR, load_scenarios


def fde(*args: str, data: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "FDE_DATA_DIR": str(data)}
    env.pop("OPENAI_API_KEY", None)
    return subprocess.run([sys.executable, "-m", "cli", "eval", "run", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_malformed_scenario_and_bad_options(tmp_path: Path):
    (tmp_path / "sc").mkdir()
    (tmp_path / "sc" / "oops.yaml").write_text("id: oops\ntitle: t\n")
    result = fde("--scenarios", str(tmp_path / "sc"), data=tmp_path / "d", cwd=tmp_path)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "oops.yaml" in result.stderr and "field area" in result.stderr
    assert "fix:" in result.stderr
    result = fde("--planner", "llm", data=tmp_path / "d", cwd=tmp_path)
    assert result.returncode != 0 and "OPENAI_API_KEY" in result.stderr
    result = fde("--compare", str(tmp_path / "nope.json"), data=tmp_path / "d", cwd=tmp_path)
    assert result.returncode != 0 and "no previous report" in result.stderr


@pytest.mark.slow
def test_run_writes_reports_and_compares(tmp_path: Path, shared_tmp: Path, eval_worlds):
    scenarios = tmp_path / "sc"
    scenarios.mkdir()
    shutil.copy(SCENARIOS_DIR / "clean-numbers-feel-off.yaml", scenarios)
    eval_worlds.build(load_scenarios(scenarios)[0].world)
    data = tmp_path / "d"
    (data / "worlds").mkdir(parents=True)
    (data / "worlds" / "evals").symlink_to(shared_tmp / "worlds")  # reuse the session's build
    first = fde("--scenarios", str(scenarios), "--out", "r1", data=data, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "1/1 passed" in first.stdout
    report = json.loads((tmp_path / "r1" / "report.json").read_text())
    assert report["metrics"]["failure_mode_accuracy"] == 1.0
    html = (tmp_path / "r1" / "report.html").read_text()
    assert "clean-numbers-feel-off" in html and "<script src" not in html
    second = fde("--scenarios", str(scenarios), "--out", "r2", "--compare", "r1", data=data,
                 cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    md = (tmp_path / "r2" / "report.md").read_text()
    assert "## Against r1" in md and "No scenario changed result." in md
