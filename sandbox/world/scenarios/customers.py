"""Customers of the platform: spread over `company.PLACES` (ten countries, seven
currencies), created in the first days of the window. FM-26 (account layer): signup does
search-then-create, so some signups made two customers with the same email and
``metadata.user_id`` seconds apart."""

from __future__ import annotations

from sandbox.world.company import COMPANY, FIRST, PLACES
from sandbox.world.config import DAY
from sandbox.world.state import CustomerRef, World

DUPLICATE_EVERY = 9  # FM-26: one signup in this many went through a stale search


def make_customer(world: World, index: int, place, *, account: str | None = None,
                  prefix: str = "user") -> CustomerRef:
    first, org = FIRST[index % len(FIRST)], COMPANY[(index // 3) % len(COMPANY)]
    email = f"{first}.{prefix}{index}@{org.lower()}.{place.domain}".lower()
    params = {
        "name": f"{first} {org} {place.country}", "email": email,
        "address": {"country": place.country, "city": place.city, "line1": f"{index} Main St"},
        "preferred_locales": ["en"],
        "metadata": {"user_id": f"{prefix}_{index:06d}", "country": place.country},
    }
    cus = world.api.post("/v1/customers", params, account=account)
    return CustomerRef(id=cus["id"], place=place, email=email, account=account, index=index)


def _signup(world: World, index: int) -> None:
    place = PLACES[index % len(PLACES)]
    ref = make_customer(world, index, place)
    world.customers.append(ref)
    if world.bug("FM-26") and index % DUPLICATE_EVERY == 4:
        world.api.advance_to(world.api.now() + 3)
        dup = make_customer(world, index, place)
        world.note("FM-26", dup.id, "second customer for the same signup (search lag)",
                   duplicate_of=ref.id, email=ref.email)


def plan(world: World) -> None:
    n = world.config.spec.customers
    for i in range(n):
        # Signups arrive over the first day; everything they do is planned later than that.
        world.api.advance_to(world.start + (i * DAY) // max(n, 1))
        _signup(world, i)
