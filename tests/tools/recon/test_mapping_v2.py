"""Mapping format v2: strict validation (every mistake names the file, the entity and the
field, never a traceback) and version 1 files still loading."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tools.recon.errors import MappingError
from tools.recon.mapping import load_mapping

REPO = Path(__file__).resolve().parents[3]

BASE = {
    "version": 2,
    "entities": {
        "customer": {"table": "customers", "stripe_object": "customer", "key": "cus_id",
                     "fields": {"email": "email"}},
        "payment": {
            "table": "payments", "stripe_object": "payment_intent", "key": "pi_id",
            "fields": {
                "customer": {"column": "customer_id", "type": "ref", "entity": "customer"},
                "status": {"column": "state", "values": {"paid": "succeeded"}},
                "amount": {"column": "amount", "type": "money", "currency": "ccy",
                           "unit": "major"},
            },
        },
        "grant": {"table": "grants", "role": "entitlement", "active": "revoked IS NULL",
                  "fields": {"customer": {"column": "customer_id", "type": "ref",
                                          "entity": "customer"}, "feature": "feature"},
                  "granted_by": [{"stripe_object": "payment_intent",
                                  "match": {"customer": "customer",
                                            "feature": "metadata.feature"}}]},
    },
}


def _with(path: str, value: object) -> dict:
    """BASE with the key at dotted `path` set to `value` (None deletes it)."""
    doc = yaml.safe_load(yaml.safe_dump(BASE))
    *parents, last = path.split(".")
    node = doc
    for p in parents:
        node = node[int(p)] if isinstance(node, list) else node[p]
    if value is None:
        del node[last]
    else:
        node[last] = value
    return doc


BROKEN = [
    # (what is broken, the change, words the error must contain)
    ("unknown field key", ("entities.payment.fields.amount.colour", "red"),
     ["payment", "amount", "colour", "unknown key"]),
    ("unknown entity key", ("entities.customer.filter", "x = 1"),
     ["customer", "filter", "unknown key"]),
    ("money without currency", ("entities.payment.fields.amount.currency", None),
     ["payment", "amount", "currency"]),
    ("ref to an undefined entity", ("entities.payment.fields.customer.entity", "account"),
     ["payment", "customer", "account"]),
    ("stripe path and expect together", ("entities.payment.fields.status",
                                         {"column": "state", "stripe": "status",
                                          "expect": "status"}),
     ["payment", "status", "expect"]),
    ("expression that does not parse", ("entities.payment.fields.status.when", "status = "),
     ["payment", "status", "when"]),
    ("otherwise without when", ("entities.payment.fields.amount.otherwise", 0),
     ["payment", "amount", "otherwise"]),
    ("timezone on a string", ("entities.customer.fields.email",
                              {"column": "email", "timezone": "UTC"}),
     ["customer", "email", "timezone"]),
    ("values on a money field", ("entities.payment.fields.amount.values", {"a": "b"}),
     ["payment", "amount", "values"]),
    ("stripe_where on an entitlement", ("entities.grant.stripe_where", "status = 'paid'"),
     ["grant", "stripe_where"]),
    ("granted_by matching an unmapped field", ("entities.grant.granted_by.0.match",
                                               {"customer": "customer", "plan": "x"}),
     ["grant", "granted_by", "plan"]),
    ("mirror without key", ("entities.payment.key", None), ["payment", "key"]),
    ("applied payments without applies_to",
     ("entities.grant", {"table": "pays", "role": "applied_payments", "fields": {}}),
     ["grant", "applies_to"]),
    ("a bad null_key word", ("entities.customer.null_key", "skip"),
     ["customer", "null_key"]),
    ("unknown field type", ("entities.customer.fields.email", {"column": "e", "type": "uuid"}),
     ["customer", "email", "type"]),
    ("a CASE left unfinished", ("entities.payment.fields.status",
                                {"column": "state", "expect": "CASE WHEN status"}),
     ["payment", "status", "expect"]),
]


@pytest.mark.parametrize("what,change,words", BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_mapping_is_an_error_naming_file_entity_and_field(
        tmp_path: Path, what: str, change: tuple[str, object], words: list[str]):
    path = tmp_path / "mapping.yaml"
    path.write_text(yaml.safe_dump(_with(*change)))
    with pytest.raises(MappingError) as err:
        load_mapping(path)
    message = str(err.value)
    assert str(path) in message
    for word in words:
        assert word in message, (what, message)
    assert "Traceback" not in message and "polars" not in message.lower()


def test_v2_keys_in_a_version_1_file_name_the_version(tmp_path: Path):
    doc = _with("entities.customer.where", "closed = false")
    doc["version"] = 1
    del doc["entities"]["grant"]
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(MappingError, match=r"entities\.customer\.where.*version: 2"):
        load_mapping(path)


def test_the_base_mapping_and_the_shipped_files_load():
    from tools.recon.mapping import parse_mapping

    assert parse_mapping(BASE).entities["grant"].kind == "entitlement"
    v1 = load_mapping(REPO / "sandbox" / "usersys" / "mapping.yaml")
    assert v1.version == 1 and v1.entities["payment"].kind == "mirror"
    for system in ("fernhill", "orbitdesk"):
        v2 = load_mapping(REPO / "tests" / "foreign" / "recon" / system / "mapping.yaml")
        assert v2.version == 2
        assert v2.event_log() is not None
