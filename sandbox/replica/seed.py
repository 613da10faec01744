"""`seed_small`: a small, deterministic fixture created through the official SDK over HTTP.

N customers in several countries, three products with monthly/yearly prices (lookup keys
``{product}_{interval}``), a usage meter with a metered price, and one webhook endpoint.
Same seed → same content and same idempotency keys, so seeding the same replica twice
creates nothing new (and a replica started with ``id_seed`` mints the same ids).
"""

from __future__ import annotations

import random

import stripe
from pydantic import BaseModel, Field

_FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia",
          "Tim", "Margaret", "Linus", "Hedy", "John", "Sophie", "Yukihiro", "Guido", "Anita"]
_LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson",
         "Perlman", "Berners-Lee", "Hamilton", "Torvalds", "Lamarr", "Backus", "Wilson",
         "Matsumoto", "van Rossum", "Borg"]
# country, city, postal code, locale, email domain
_PLACES = [
    ("US", "San Francisco", "94107", "en-US", "example.com"),
    ("GB", "London", "EC1A 1BB", "en-GB", "example.co.uk"),
    ("DE", "Berlin", "10115", "de-DE", "example.de"),
    ("FR", "Paris", "75001", "fr-FR", "example.fr"),
    ("NL", "Amsterdam", "1011", "nl-NL", "example.nl"),
    ("JP", "Tokyo", "100-0001", "ja-JP", "example.jp"),
    ("BR", "São Paulo", "01000-000", "pt-BR", "example.com.br"),
    ("AU", "Sydney", "2000", "en-AU", "example.com.au"),
]
_PLANS = [("starter", "Starter", 900), ("pro", "Pro", 2900), ("business", "Business", 9900)]


class SeedResult(BaseModel):
    customers: list[str] = Field(default_factory=list)
    products: list[str] = Field(default_factory=list)
    prices: dict[str, str] = Field(default_factory=dict, description="lookup_key -> price id")
    meter: str | None = None
    webhook_endpoint: str | None = None
    webhook_secret: str | None = None


def seed_small(
    client: stripe.StripeClient,
    *,
    customers: int = 250,
    seed: int = 0,
    webhook_url: str | None = None,
) -> SeedResult:
    """Create the fixture. Without `webhook_url` the endpoint is created disabled (it points
    at example.com), so seeding does not fan out deliveries to nowhere."""
    rng = random.Random(seed)
    out = SeedResult()

    def key(*parts: object) -> dict[str, str]:
        return {"idempotency_key": "seed-" + "-".join(str(p) for p in (seed, *parts))}

    for name, label, amount in _PLANS:
        product = client.v1.products.create(
            params={"name": label, "metadata": {"plan": name}}, options=key("product", name)
        )
        out.products.append(product.id)
        for interval, factor in (("month", 1), ("year", 10)):
            lookup = f"{name}_{interval}"
            price = client.v1.prices.create(
                params={"product": product.id, "currency": "usd",
                        "unit_amount": amount * factor, "lookup_key": lookup,
                        "recurring": {"interval": interval}, "nickname": f"{label} {interval}ly"},
                options=key("price", lookup),
            )
            out.prices[lookup] = price.id
        client.v1.products.update(product.id, params={"default_price": out.prices[f"{name}_month"]},
                                  options=key("product-default", name))

    meter = client.v1.billing.meters.create(
        params={"display_name": "API calls", "event_name": "api_calls",
                "default_aggregation": {"formula": "sum"}},
        options=key("meter"),
    )
    out.meter = meter.id
    usage = client.v1.products.create(params={"name": "API usage"}, options=key("product", "usage"))
    out.products.append(usage.id)
    metered = client.v1.prices.create(
        params={"product": usage.id, "currency": "usd", "unit_amount_decimal": "0.5",
                "lookup_key": "api_calls_metered",
                "recurring": {"interval": "month", "usage_type": "metered", "meter": meter.id}},
        options=key("price", "metered"),
    )
    out.prices["api_calls_metered"] = metered.id

    for i in range(customers):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        country, city, postal, locale, domain = rng.choice(_PLACES)
        email = f"{first}.{last}.{i}@{domain}".lower().replace(" ", "")
        customer = client.v1.customers.create(
            params={
                "name": f"{first} {last}", "email": email, "preferred_locales": [locale],
                "address": {"country": country, "city": city, "postal_code": postal,
                            "line1": f"{rng.randint(1, 200)} Main Street"},
                "metadata": {"seed": str(seed), "index": str(i),
                             "plan": rng.choice(_PLANS)[0]},
            },
            options=key("customer", i),
        )
        out.customers.append(customer.id)

    endpoint = client.v1.webhook_endpoints.create(
        params={"url": webhook_url or "https://example.com/fde/webhooks", "enabled_events": ["*"],
                "description": "fde sandbox seed"},
        options=key("webhook"),
    )
    if webhook_url is None:
        client.v1.webhook_endpoints.update(endpoint.id, params={"disabled": True},
                                           options=key("webhook-off"))
    out.webhook_endpoint, out.webhook_secret = endpoint.id, endpoint.secret
    return out
