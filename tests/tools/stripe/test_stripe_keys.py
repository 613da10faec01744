"""Key parsing, mode checks and redaction — all offline."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from core.errors import StripeKeyError
from tools.stripe.keys import BODY_MIN, check_mode, parse_key, redact_key, scrub_key

ALNUM = string.ascii_letters + string.digits
PREFIXES = {
    "sk_test_": ("secret", "test"),
    "sk_live_": ("secret", "live"),
    "rk_test_": ("restricted", "test"),
    "rk_live_": ("restricted", "live"),
}
bodies = st.text(alphabet=ALNUM, min_size=BODY_MIN, max_size=200)
valid_keys = st.tuples(st.sampled_from(sorted(PREFIXES)), bodies)


@pytest.mark.parametrize(("prefix", "expected"), PREFIXES.items())
def test_the_four_key_kinds(prefix: str, expected: tuple[str, str]) -> None:
    info = parse_key(prefix + "abcdEFGH12345678wxyz")
    assert (info.kind, info.mode) == expected
    assert info.prefix == prefix
    assert info.redacted == f"{prefix}…wxyz"


def test_accepts_secretstr() -> None:
    assert parse_key(SecretStr("rk_live_" + "a" * 30)).mode == "live"


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("", "empty"),
        ("pk_test_abcdefghijklmnopqrstuvwx", "publishable"),
        ("pk_live_abcdefghijklmnopqrstuvwx", "publishable"),
        ("whsec_abcdefghijklmnopqrstuvwx", "webhook signing secret"),
        ("sk_prod_abcdefghijklmnopqrstuvwx", "does not start with"),
        ("xk_test_abcdefghijklmnopqrstuvwx", "does not start with"),
        (" sk_test_abcdefghijklmnopqrstuvwx", "whitespace"),
        ("sk_test_abcdefghijklmnopqrstuvwx\n", "whitespace"),
        ("sk_test_abcdefghijkl mnopqrstuvwx", "whitespace"),
        ("sk_test_", "nothing after its prefix"),
        ("sk_test_" + "a" * 300, "too long"),
        ("sk_test_abcdefghijklmnop-qrstuvwx", "letters and digits"),
    ],
)
def test_malformed_keys_say_what_is_wrong(key: str, problem: str) -> None:
    with pytest.raises(StripeKeyError) as caught:
        parse_key(key)
    assert problem in caught.value.message
    assert caught.value.hint  # always tells the operator what to do
    if len(key.strip()) > 12:
        assert key.strip() not in caught.value.message


@given(valid_keys)
def test_valid_keys_parse_and_redact_to_prefix_and_last_four(parts: tuple[str, str]) -> None:
    prefix, body = parts
    info = parse_key(prefix + body)
    assert (info.kind, info.mode) == PREFIXES[prefix]
    assert info.redacted == f"{prefix}…{body[-4:]}"
    assert body[:-4] not in info.redacted


@given(st.text(max_size=300))
def test_anything_else_is_a_key_error_never_a_crash(text: str) -> None:
    try:
        info = parse_key(text)
    except StripeKeyError:
        return
    assert text[: len(info.prefix)] in PREFIXES
    assert all(ch in ALNUM for ch in text[len(info.prefix) :])


@given(
    st.sampled_from([*PREFIXES, "pk_test_", "pk_live_", "xx_", ""]),
    bodies,
    st.sampled_from([" ", "\t", "-", "!", "é", ""]),
    st.integers(min_value=0, max_value=200),
)
def test_errors_never_repeat_the_key(prefix: str, body: str, junk: str, at: int) -> None:
    at = at % (len(body) + 1)
    key = prefix + body[:at] + junk + body[at:]
    try:
        parse_key(key)
    except StripeKeyError as exc:
        assert key not in exc.message and key.strip() not in exc.message
        assert body not in exc.message and body not in exc.hint


@given(valid_keys, st.sampled_from(["test", "live"]))
def test_mode_check_refuses_exactly_the_other_mode(parts: tuple[str, str], expected: str) -> None:
    info = parse_key("".join(parts))
    if info.mode == expected:
        check_mode(info, expected)  # type: ignore[arg-type]
        return
    with pytest.raises(StripeKeyError) as caught:
        check_mode(info, expected)  # type: ignore[arg-type]
    assert f"declared {expected}" in caught.value.message
    assert parts[1] not in caught.value.message


def test_live_key_for_test_engagement_message() -> None:
    with pytest.raises(StripeKeyError, match=r"declared test mode .* live-mode key"):
        check_mode(parse_key("sk_live_" + "z" * 24 + "9876"), "test")


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        ("sk_live_abcdefghijklmnop1234", "sk_live_…1234"),
        ("rk_test_abcdefghijklmnop5678", "rk_test_…5678"),
        ("sk_test_short", "sk_test_…"),  # too short to hide anything behind the last four
        ("whatever-this-is-0000", "…0000"),
        ("", "…"),
    ],
)
def test_redact_key(key: str, shown: str) -> None:
    assert redact_key(key) == shown


def test_scrub_key_replaces_the_key_and_anything_key_shaped() -> None:
    key = "sk_test_abcdefghijklmnop1234"
    text = f"bad key {key}; also rk_live_ZZZZZZZZZZZZZZZZ9999 and whsec_abcdefghijkl"
    clean = scrub_key(text, key)
    assert key not in clean and "ZZZZZZZZ" not in clean and "whsec_abcdefghijkl" not in clean
    assert "sk_test_…1234" in clean and "rk_live_…9999" in clean


def test_a_short_key_is_marked_not_refused() -> None:
    # stripe-mock and other Stripe-compatible servers take keys such as sk_test_123; only the
    # server can say whether it accepts one (`fde engagement add --verify` asks it)
    info = parse_key("sk_test_123")
    assert info.short and info.mode == "test" and info.kind == "secret"
    assert "shorter than any key Stripe issues" in info.short_note()
    assert not parse_key("sk_test_" + "a" * BODY_MIN).short
