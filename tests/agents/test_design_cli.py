"""`fde design draft/show/approve` end to end in a fresh data dir."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_bad_input import fde

EXAMPLE = (Path(__file__).resolve().parents[2] / "agents" / "design" / "examples"
           / "jp-usage-api-konbini.yaml")


@pytest.mark.slow  # several CLI processes
def test_fde_design_draft_show_approve(replica):
    added = fde("engagement", "add", "kaisha", "--api-base", replica.url,
                env={"FDE_ENGAGEMENT_STRIPE_KEY": replica.api_key})
    assert added.returncode == 0, added.stderr
    drafted = fde("design", "draft", str(EXAMPLE), "--engagement", "kaisha", "--json")
    assert drafted.returncode == 0, drafted.stderr
    body = json.loads(drafted.stdout)
    assert body["status"] == "draft"
    shown = fde("design", "show", body["id"])
    assert shown.returncode == 0, shown.stderr
    assert "custom_logic (example: custom_minimum_commit_jpy.yaml)" in shown.stdout
    assert "because pricing_model=usage_based" in shown.stdout
    approved = fde("design", "approve", body["id"])
    assert approved.returncode == 0 and "approved by cli:" in approved.stdout
