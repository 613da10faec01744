from hypothesis import given
from hypothesis import strategies as st

from core.redact import redact, redact_secrets, redact_value

ALNUM = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=8,
                max_size=99)


@given(body=ALNUM, prefix=st.sampled_from(["sk_live_", "sk_test_", "rk_live_", "rk_test_"]),
       before=st.text(max_size=20), after=st.sampled_from(["", " ", "\n", "'", '"', ",x"]))
def test_no_key_survives_redaction(body: str, prefix: str, before: str, after: str):
    key = prefix + body
    out = redact_secrets(f"{before} {key}{after}")
    assert key not in out
    assert f"{prefix}…{body[-4:]}" in out


def test_other_secrets_and_pii():
    text = ("whsec_abcdefgh12345 pi_123_secret_abc Bearer sk_abcdefghij "
            "mail jane.doe@example.com card 4242 4242 4242 4242 iban DE89 3704 0044 0532 0130 00 "
            "phone +49 30 1234567")
    out = redact(text)
    for leaked in ("whsec_abcdefgh12345", "secret_abc", "jane.doe", "4242 4242", "DE89",
                   "1234567"):
        assert leaked not in out, leaked
    assert "<email>" in out and "<card>" in out and "<iban>" in out and "<phone>" in out


def test_non_luhn_numbers_are_kept():
    assert redact("invoice 1234567890123") == "invoice 1234567890123"


def test_redact_value_blanks_sensitive_fields_recursively():
    data = {"api_key": "anything", "nested": [{"secret": "s", "note": "sk_test_abcdefgh"}]}
    out = redact_value(data)
    assert out["api_key"] == "[REDACTED]"
    assert out["nested"][0]["secret"] == "[REDACTED]"
    assert out["nested"][0]["note"] == "sk_test_…efgh"
