"""Every bug switch alone, in a tiny world: the objects on which the company DB and Stripe
disagree (field by field through the mapping, missing and orphan rows, entitlements) are
exactly the objects the manifest lists for that switch, and there is at least one."""

from __future__ import annotations

import json

import pytest

from sandbox.bugs import SWITCHES
from sandbox.world.build import MANIFEST, build_world
from sandbox.world.config import WorldConfig
from tests.sandbox.world.compare import differing_objects


@pytest.mark.parametrize("bug", sorted(SWITCHES))
def test_switch_changes_exactly_what_the_manifest_lists(bug, tmp_path):
    world = tmp_path / "world"
    build_world(WorldConfig.parse(seed=11, size="tiny", bugs=bug), world)
    section = json.loads((world / MANIFEST).read_text())["switches"][bug]
    found = differing_objects(world)
    listed = set(section["objects"])
    assert found, f"{bug} changed nothing visible"
    unexplained = {oid: found[oid] for oid in set(found) - listed}
    assert unexplained == {}
    assert listed - set(found) == set()
