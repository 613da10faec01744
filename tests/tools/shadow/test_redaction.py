"""A recorded corpus is pseudonymised, not blanked: the same address is the same stand-in,
two addresses stay two, catalogue names and Stripe ids stay, secrets go."""

from __future__ import annotations

from tools.shadow.redaction import redact_event


def _event(email: str, name: str) -> dict:
    return {"id": "evt_1Qa2b3c4d5e6f7", "type": "customer.updated", "created": 1,
            "data": {"object": {"id": "cus_Qa2b3c4d5e6f7", "object": "customer",
                                "email": email, "name": name, "phone": "+44 20 7946 0958",
                                "address": {"line1": "1 Mill Lane", "country": "GB"},
                                "metadata": {"note": "call ada@shop.example, key "
                                             "sk_test_abcdefgh12345678"}},
                     "previous_attributes": {"email": "ada@shop.exmaple"}}}


def test_pseudonyms_are_stable_and_distinct_and_secrets_are_cut():
    a = redact_event(_event("ada@shop.example", "Ada Lovelace"))
    b = redact_event(_event("ada@shop.example", "Ada Lovelace"))
    obj = a["data"]["object"]
    assert a == b  # the same bytes every time
    assert obj["email"].endswith("@example.invalid") and "ada" not in obj["email"]
    assert a["data"]["previous_attributes"]["email"] != obj["email"]  # typo != fix
    assert obj["name"] != "Ada Lovelace" and obj["address"]["line1"] != "1 Mill Lane"
    assert obj["address"]["country"] == "GB" and obj["id"] == "cus_Qa2b3c4d5e6f7"
    assert obj["email"] in obj["metadata"]["note"]  # the same address inside free text
    assert "abcdefgh1234" not in obj["metadata"]["note"]
    assert "7946" not in obj["phone"]
    product = redact_event({"id": "evt_2", "type": "product.created", "created": 1,
                            "data": {"object": {"object": "product", "name": "Family box"}}})
    assert product["data"]["object"]["name"] == "Family box"
