"""Bad input to the `fde` CLI: one clear message naming the problem and the fix, a
non-zero exit, nothing written, and never a key in the output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import free_port

LIVE_KEY = "sk_live_" + "L1veK3y" * 4
TEST_KEY = "sk_test_" + "T3stK3y" * 4


def fde(*args: str, env: dict[str, str] | None = None,
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **(env or {})}
    return subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True,
                          env=full_env, timeout=60, input=stdin)


def assert_clear_failure(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    assert "error:" in result.stderr and "fix:" in result.stderr, output
    for needle in needles:
        assert needle in output, output
    for key in (LIVE_KEY, TEST_KEY):
        assert key not in output


def engagement_count(data_dir: Path) -> int:
    listing = fde("engagement", "list", env={"FDE_DATA_DIR": str(data_dir)})
    assert listing.returncode == 0, listing.stderr
    return listing.stdout.count("sk_")


@pytest.mark.parametrize(
    ("key", "needle"),
    [
        ("pk_test_" + "x" * 24, "publishable key"),
        ("sk_test_short", "too short"),
        ("hello", "does not start with sk_test_"),
        (TEST_KEY[:12] + " " + TEST_KEY[12:], "whitespace"),
    ],
)
def test_malformed_key_is_refused_and_nothing_written(_isolated_env: Path, key: str, needle: str):
    result = fde("engagement", "add", "acme", "--no-verify", env={"FDE_ENGAGEMENT_STRIPE_KEY": key})
    assert_clear_failure(result, needle)
    assert engagement_count(_isolated_env) == 0


def test_live_key_on_a_test_engagement_is_refused_before_any_request(_isolated_env: Path):
    closed = f"http://127.0.0.1:{free_port()}"
    result = fde("engagement", "add", "acme", "--mode", "test", "--api-base", closed,
                 env={"FDE_ENGAGEMENT_STRIPE_KEY": LIVE_KEY})
    assert_clear_failure(result, "declared test mode", "live-mode key")
    assert "cannot connect" not in result.stderr.lower()  # refused before the network
    assert engagement_count(_isolated_env) == 0


def test_unreachable_stripe_is_one_clear_error_and_nothing_written(_isolated_env: Path):
    closed = f"http://127.0.0.1:{free_port()}"
    result = fde("engagement", "add", "acme", "--api-base", closed,
                 env={"FDE_ENGAGEMENT_STRIPE_KEY": TEST_KEY, "FDE_STRIPE_MAX_RETRIES": "0"})
    assert_clear_failure(result, closed)
    assert engagement_count(_isolated_env) == 0


def test_unknown_object_prefix(_isolated_env: Path):
    result = fde("stripe", "get", "zz_123abc")
    assert_clear_failure(result, "zz_123abc", "prefix")


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("mysql://root@localhost/x", "unsupported database URL scheme 'mysql'"),
        ("postgresql://nobody@127.0.0.1:1/nothing", "cannot connect to the database"),
    ],
)
def test_bad_database_url(_isolated_env: Path, url: str, needle: str):
    result = fde("engagement", "list", env={"FDE_DATABASE_URL": url})
    assert_clear_failure(result, needle, "FDE_DATABASE_URL")
    assert not any(_isolated_env.iterdir())  # no SQLite file or key appeared


def test_doctor_reports_each_problem_with_a_fix(_isolated_env: Path):
    closed = f"http://127.0.0.1:{free_port()}"
    result = fde("doctor", env={"FDE_STRIPE_API_BASE": closed, "FDE_STRIPE_MAX_RETRIES": "0",
                                "FDE_STRIPE_API_KEY": TEST_KEY})
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith("✓ database") for line in lines), result.stdout
    assert any(line.startswith("✗ stripe reachable") for line in lines), result.stdout
    assert "fix:" in result.stdout
    assert TEST_KEY not in result.stdout + result.stderr
