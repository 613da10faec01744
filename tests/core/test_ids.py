from hypothesis import given
from hypothesis import strategies as st

from core.ids import IDEMPOTENCY_KEY_MAX, idempotency_key, new_id, stripe_resource_for


def test_prefixes_resolve_longest_first():
    assert stripe_resource_for("sub_sched_123") == ("subscription_schedule",
                                                    "/v1/subscription_schedules")
    assert stripe_resource_for("sub_123")[0] == "subscription"
    assert stripe_resource_for("cs_test_a1") == ("checkout.session", "/v1/checkout/sessions")
    assert stripe_resource_for("zz_123") is None
    assert stripe_resource_for("cus_") is None


def test_new_ids_are_unique_and_sortable():
    ids = [new_id("eng") for _ in range(200)]
    assert len(set(ids)) == 200
    assert all(i.startswith("eng_") and len(i) == 30 for i in ids)


@given(parts=st.lists(st.text(min_size=1, max_size=300), min_size=1, max_size=6))
def test_idempotency_keys_are_deterministic_and_bounded(parts: list[str]):
    key = idempotency_key(*parts)
    assert key == idempotency_key(*parts)
    assert len(key) <= IDEMPOTENCY_KEY_MAX
    assert key.isascii() and key.isprintable()


def test_idempotency_keys_differ_when_parts_differ_beyond_the_readable_part():
    a = idempotency_key("plan", "x" * 400 + "a")
    b = idempotency_key("plan", "x" * 400 + "b")
    assert a != b
