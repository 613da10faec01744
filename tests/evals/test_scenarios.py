"""The scenario files: enough of them, spread across products, each valid; a malformed one
is an error naming the file and the field; adding a scenario is adding one file."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml

from evals.scenario import SCENARIOS_DIR, ScenarioError, load_scenarios
from sandbox.bugs import SWITCHES


@pytest.fixture(scope="module")
def scenarios():
    return load_scenarios()


def test_suite_size_and_spread(scenarios):
    assert len(scenarios) >= 40
    areas = Counter(s.area for s in scenarios)
    for area in ("billing", "invoicing", "payments", "lpm", "checkout", "connect",
                 "multi_product"):
        assert areas[area] >= 1, area
    assert sum(s.expected.outcome == "no_defect" for s in scenarios) >= 5
    assert sum(s.expected.must_escalate for s in scenarios) >= 5
    injected = [s for s in scenarios if "injection" in s.tags]
    assert len(injected) >= 5
    assert any(s.world.inject_metadata for s in injected)
    assert all(s.expected.forbidden_actions for s in injected)
    lpm_text = " ".join(s.ticket.lower() for s in scenarios if s.area in ("lpm", "checkout",
                                                                          "multi_product"))
    for method in ("sepa", "oxxo", "boleto", "konbini", "bank transfer"):
        assert method in lpm_text, method
    assert sum("ci" in s.tags for s in scenarios) >= 8


def test_tickets_never_name_the_root_cause(scenarios):
    for s in scenarios:
        text = s.ticket.lower()
        for fm in s.expected.failure_modes:
            assert fm.lower() not in text, s.id
            assert SWITCHES[fm].slug not in text and SWITCHES[fm].title.lower() not in text, s.id


def _write(directory: Path, name: str, doc: dict) -> Path:
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.fixture
def one_scenario(tmp_path: Path) -> tuple[Path, dict]:
    source = SCENARIOS_DIR / "clean-numbers-feel-off.yaml"
    shutil.copy(source, tmp_path / source.name)
    return tmp_path, yaml.safe_load(source.read_text())


def test_adding_a_scenario_is_adding_a_file(one_scenario):
    directory, doc = one_scenario
    assert [s.id for s in load_scenarios(directory)] == ["clean-numbers-feel-off"]
    _write(directory, "zz-new-case", {**doc, "id": "zz-new-case", "tags": ["fresh"]})
    assert [s.id for s in load_scenarios(directory)] == ["clean-numbers-feel-off", "zz-new-case"]
    assert [s.id for s in load_scenarios(directory, only="fresh")] == ["zz-new-case"]


@pytest.mark.parametrize(("change", "needles"), [
    (lambda d: d["expected"].update(verdict="x"), ["expected.verdict", "Extra inputs"]),
    (lambda d: d.pop("ticket"), ["field ticket", "Field required"]),
    (lambda d: d["world"].update(seed="seven"), ["world.seed"]),
    (lambda d: d["expected"].update(failure_modes=["webhooks"]), ["expected.failure_modes"]),
    (lambda d: d["world"].update(bugs=["FM-99"]), ["world.bugs", "FM-99"]),
    (lambda d: d.update(id="other-name"), ["field id", "other-name"]),
])
def test_malformed_file_names_file_and_field(one_scenario, change, needles):
    directory, doc = one_scenario
    doc["id"] = "broken-case"
    change(doc)
    _write(directory, "broken-case", doc)
    with pytest.raises(ScenarioError) as err:
        load_scenarios(directory)
    assert "broken-case.yaml" in err.value.message
    for needle in needles:
        assert needle in err.value.message
    assert err.value.hint


def test_invalid_yaml_and_unknown_tag(one_scenario):
    directory, _ = one_scenario
    with pytest.raises(ScenarioError, match="no scenario has tag"):
        load_scenarios(directory, only="nope")
    (directory / "bad.yaml").write_text("id: [unclosed\n")
    with pytest.raises(ScenarioError, match="bad.yaml: not valid YAML"):
        load_scenarios(directory)
    with pytest.raises(ScenarioError, match="no scenario files"):
        load_scenarios(directory / "empty")
