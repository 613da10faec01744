"""`fde sandbox up --help` names each option once (`--seed N` is the world's seed; the small
fixture is switched off with `--no-seed`)."""

from __future__ import annotations

import re

from tests.cli.inprocess import fde_in_process


def test_sandbox_up_help_lists_seed_once():
    code, out = fde_in_process("sandbox", "up", "--help")
    assert code == 0, out
    options = re.findall(r"^[^\w-]*(--[a-z][a-z-]*)", out, re.M)  # the option rows only
    assert options.count("--seed") == 1, out
    assert options.count("--no-seed") == 1, out
