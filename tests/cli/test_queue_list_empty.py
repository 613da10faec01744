"""`fde queue list` with nothing to show says so in one line instead of an empty table."""

from __future__ import annotations

from pathlib import Path

from tests.cli.inprocess import fde_in_process, fresh_context


def test_an_empty_queue_says_so(_isolated_env: Path):
    with fresh_context():
        code, out = fde_in_process("queue", "list")
        assert (code, out.strip()) == (0, "no open escalations")
        code, out = fde_in_process("queue", "list", "--severity", "critical")
        assert (code, out.strip()) == (0, "no escalations match these filters")
        code, out = fde_in_process("queue", "list", "--json")
        assert (code, out.strip()) == (0, "[]")
