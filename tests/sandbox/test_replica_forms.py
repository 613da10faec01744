"""Stripe form encoding, decoded (no server)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from stripe._encode import _api_encode

from sandbox.replica.errors import ApiError
from sandbox.replica.forms import as_bool, as_int, coerce_like, decode
from sandbox.replica.listing import parse_page_query


def encode_like_sdk(params: dict) -> str:
    return urlencode(list(_api_encode(params)))


def test_nested_hashes_arrays_and_metadata_round_trip_through_the_sdk_encoder():
    params = {
        "email": "a@b.c",
        "metadata": {"plan": "pro", "empty": ""},
        "items": [{"price": "price_1", "quantity": 2}, {"price": "price_2"}],
        "expand": ["customer", "data.customer"],
        "address": {"city": "Berlin", "country": "DE"},
        "deep": {"a": {"b": {"c": "x"}}},
        "flag": True,
    }
    decoded = decode(encode_like_sdk(params))
    assert decoded == {
        "email": "a@b.c",
        "metadata": {"plan": "pro", "empty": ""},
        "items": [{"price": "price_1", "quantity": "2"}, {"price": "price_2"}],
        "expand": ["customer", "data.customer"],
        "address": {"city": "Berlin", "country": "DE"},
        "deep": {"a": {"b": {"c": "x"}}},
        "flag": "true",
    }


def test_curl_style_brackets_and_empty_values():
    assert decode("expand[]=a&expand[]=b&description=") == {"expand": ["a", "b"], "description": ""}
    assert decode("created[gte]=10&created[lt]=20") == {"created": {"gte": "10", "lt": "20"}}
    assert decode(b"items[1][price]=p2&items[0][price]=p1")["items"] == [
        {"price": "p1"}, {"price": "p2"}]


def test_coercion_follows_the_template_and_explicit_helpers():
    assert coerce_like({"a": "3", "b": "true", "c": "x"}, {"a": 1, "b": False, "c": "s"}) == {
        "a": 3, "b": True, "c": "x"}
    assert as_int({"n": "42"}, "n") == 42
    assert as_bool({"b": "false"}, "b") is False
    with pytest.raises(ApiError) as err:
        as_int({"n": "x"}, "n")
    assert err.value.param == "n"


@pytest.mark.parametrize("limit", ["0", "101", "-1"])
def test_limit_out_of_range_is_a_400_on_limit(limit):
    with pytest.raises(ApiError) as err:
        parse_page_query({"limit": limit})
    assert (err.value.status, err.value.param) == (400, "limit")
