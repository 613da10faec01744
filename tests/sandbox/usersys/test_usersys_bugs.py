"""The bug-switch registry and its parser."""

from __future__ import annotations

import pytest

from core.errors import ConfigError
from sandbox.bugs import SWITCHES, handler_bugs, parse_bugs

REQUIRED = ["FM-01", "FM-02", "FM-03", "FM-04", "FM-05", "FM-07", "FM-08", "FM-11", "FM-13",
            "FM-14", "FM-15", "FM-16", "FM-17", "FM-19", "FM-22"]


def test_registry_covers_the_required_failure_modes() -> None:
    assert len(SWITCHES) >= 15
    assert set(REQUIRED) <= set(SWITCHES)
    for switch in SWITCHES.values():
        assert switch.id.startswith("FM-") and switch.slug and switch.title
        assert "\n" not in switch.description and len(switch.description) > 40
        assert switch.layer in ("handler", "account", "history")
        assert switch.expected_classes


def test_failure_mode_slugs_match_the_catalogue() -> None:
    catalogue = (__import__("pathlib").Path(__file__).resolve().parents[3] / ".." / "shared"
                 / "failure-modes.md")
    if not catalogue.exists():
        pytest.skip("shared catalogue not available")
    text = catalogue.read_text()
    for switch in SWITCHES.values():
        assert f"### {switch.id} {switch.slug}" in text


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("none", set()),
        ("", set()),
        (None, set()),
        ("FM-02,FM-13", {"FM-02", "FM-13"}),
        (" fm-02 , FM-13 ", {"FM-02", "FM-13"}),
        ("out-of-order-events", {"FM-02"}),
        (["FM-11"], {"FM-11"}),
    ],
)
def test_parse_bugs(spec: object, expected: set[str]) -> None:
    assert parse_bugs(spec) == frozenset(expected)  # type: ignore[arg-type]


def test_parse_all() -> None:
    assert parse_bugs("all") == frozenset(SWITCHES)
    assert parse_bugs("ALL") == frozenset(SWITCHES)


def test_unknown_bug_id_lists_valid_ids() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_bugs("FM-02,FM-99")
    message = str(caught.value)
    assert "'FM-99'" in message
    for bug_id in SWITCHES:
        assert bug_id in message


def test_handler_layer_subset() -> None:
    assert handler_bugs(["FM-02", "FM-04", "FM-07"]) == {"FM-02"}
