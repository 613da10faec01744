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


# -- what a ticket really carries (issue 19.3) ---------------------------------------------
def test_a_ticket_keeps_what_the_agent_needs_and_nothing_secret():
    ticket = (
        "Our webhooks fail since we rotated whsec_Zq81mWcYbKx0PaLz3nTT to the new one; the "
        "server uses rk_live_51Hx0aBcDeFgHiJkLmN9xYz and sk_test_4eC39HqLyjWDarjtT1zdp7dc. "
        "Customer jane.doe@example.com (cus_Pq3ZxKZ8abcdEF) paid with 4000 0566 5566 5556 "
        "for pi_3Pq9Zx2eZvKYlo2C1abcdEFG. Call +44 20 7946 0958 or (415) 555-0132. "
        "IBAN GB82 WEST 1234 5698 7654 32. DATABASE_URL=postgres://app:hunter2pw@db:5432/app "
        "password=s3cretpass our pk_live_51HxPUBLISHABLEkey is in the page. "
        "Our fde token fde_Jx3QbWq1V0r-9T_kZpL8mNnYy2sAaBbCcDdEeFfGgHh leaked too."
    )
    out = redact(ticket)
    for leaked in ("Zq81mWcYbKx0PaLz", "51Hx0aBcDeFgHiJkLmN9", "4eC39HqLyjWDarjtT1z",
                   "jane.doe", "4000 0566 5566 5556", "7946 0958", "555-0132", "GB82",
                   "hunter2pw", "s3cretpass", "Jx3QbWq1V0r-9T_kZpL8"):
        assert leaked not in out, (leaked, out)
    # the last four tell an engineer which key or secret was meant
    for kept in ("whsec_…3nTT", "rk_live_…9xYz", "sk_test_…p7dc", "fde_…GgHh",
                 "postgres://app:…@db:5432/app", "password=…"):
        assert kept in out, (kept, out)
    # ids the agent works from, and the public publishable key, stay as written
    for kept in ("cus_Pq3ZxKZ8abcdEF", "pi_3Pq9Zx2eZvKYlo2C1abcdEFG", "pk_live_51HxPUBLISHABLEkey"):
        assert kept in out, (kept, out)
    assert out.count("<phone>") == 2 and "<iban>" in out and "<card>" in out


def test_amounts_dates_and_invalid_ibans_are_not_mistaken_for_pii():
    text = ("refund of $1,234.50 on 2026-03-01 for order 12345678, invoice in_1Abc2Def3Ghi, "
            "ref GB00 WEST 1234 5698 7654 32, token: expired, secret: unknown, 100 200 3000")
    assert redact(text) == text


def test_already_redacted_keys_keep_their_last_four():
    assert redact_secrets("api_key: sk_test_abcdefgh1234") == "api_key: sk_test_…1234"
    assert redact_secrets("secret = whsec_abcdefgh12") == "secret = whsec_…gh12"
