"""Eval scenarios: one YAML file each = a sandbox world + the ticket a user wrote + what the
right answer is. Adding a scenario is adding a file; a malformed file is an error naming the
file and the field.

The split between `CaseInput` (world + ticket) and `Expected` is the leakage guard's
foundation: the runner only ever hands a `CaseInput` to the graph.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.errors import ConfigError

__all__ = ["SCENARIOS_DIR", "CaseInput", "Engagement", "Expected", "MetadataInjection",
           "Scenario", "ScenarioError", "WorldSpec", "load_scenario", "load_scenarios"]

SCENARIOS_DIR = Path(__file__).with_name("scenarios")
EvidenceKind = Literal["finding", "discrepancy", "stripe_object", "local_record"]
Area = Literal["billing", "invoicing", "payments", "lpm", "checkout", "connect",
               "multi_product", "webhooks", "none"]


class ScenarioError(ConfigError):
    """A scenario file that cannot be used as it is."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Engagement(_Strict):
    name: str = "acme"
    livemode: bool = Field(default=False, description="the engagement is declared live")


class MetadataInjection(_Strict):
    """Text planted in the metadata of one Stripe object of the world (untrusted data)."""

    object_type: Literal["customer", "payment_intent", "invoice", "subscription", "charge"]
    nth: int = Field(default=0, ge=0, description="which object by created order")
    key: str
    value: str


class WorldSpec(_Strict):
    seed: int = Field(ge=0)
    size: Literal["tiny", "demo"] = "tiny"
    bugs: list[str] = Field(default_factory=list)
    engagement: Engagement = Engagement()
    inject_metadata: list[MetadataInjection] = Field(default_factory=list)

    @property
    def world_key(self) -> tuple[int, str, str]:
        """What a built world is cached by: injections are applied on a per-case copy."""
        return self.seed, ",".join(sorted(self.bugs)), self.size


class CaseInput(_Strict):
    """Everything the run may see: the world and the ticket. Nothing expected."""

    id: str
    world: WorldSpec
    ticket: str


class Expected(_Strict):
    outcome: Literal["diagnosed", "no_defect"]
    category: str | None = None
    failure_modes: list[str] = Field(default_factory=list)
    must_escalate: bool
    evidence_kinds: list[EvidenceKind] = Field(default_factory=list)
    forbidden_actions: list[str] = Field(default_factory=list)
    note: str = ""

    @field_validator("failure_modes")
    @classmethod
    def _ids(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if not (v.startswith("FM-") and v[3:].isdigit())]
        if bad:
            raise ValueError(f"not failure-mode ids (FM-NN): {bad}")
        return value


class Scenario(_Strict):
    id: str
    title: str
    area: Area
    tags: list[str] = Field(default_factory=list)
    world: WorldSpec
    ticket: str = Field(min_length=10)
    expected: Expected

    def input(self) -> CaseInput:
        return CaseInput(id=self.id, world=self.world, ticket=self.ticket)


def load_scenario(path: Path) -> Scenario:
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path.name}: not valid YAML: {exc}",
                            hint="fix the YAML syntax (see evals/scenarios/)") from None
    if not isinstance(doc, dict):
        raise ScenarioError(f"{path.name}: expected a mapping at the top level",
                            hint="a scenario has id, title, area, world, ticket, expected")
    try:
        scenario = Scenario.model_validate(doc)
    except ValidationError as exc:
        problems = "; ".join(f"field {'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}"
                             for e in exc.errors())
        raise ScenarioError(f"{path.name}: {problems}",
                            hint="compare with a working file in evals/scenarios/") from None
    if scenario.id != path.stem:
        raise ScenarioError(f"{path.name}: field id is {scenario.id!r} but the file is named "
                            f"{path.stem!r}", hint=f"set id: {path.stem}")
    _check_bugs(path, scenario)
    return scenario


def _check_bugs(path: Path, scenario: Scenario) -> None:
    from sandbox.bugs import parse_bugs

    try:
        parse_bugs(scenario.world.bugs)
    except ConfigError as exc:
        raise ScenarioError(f"{path.name}: field world.bugs: {exc.message}",
                            hint=exc.hint) from None


def load_scenarios(directory: Path = SCENARIOS_DIR, *, only: str | None = None
                   ) -> list[Scenario]:
    """Every `*.yaml` in `directory` (sorted by file name), filtered by tag or id."""
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise ScenarioError(f"no scenario files (*.yaml) in {directory}",
                            hint="pass --scenarios DIR pointing at evals/scenarios")
    scenarios = [load_scenario(f) for f in files]
    if only:
        scenarios = [s for s in scenarios if only in s.tags or s.id == only]
        if not scenarios:
            raise ScenarioError(f"no scenario has tag or id {only!r}",
                                hint="see the tags: lines in evals/scenarios/*.yaml")
    return scenarios
