"""The sandbox world generator: a demo company's Stripe account and its own database, built
deterministically from (seed, size, bug switches).

    info = build_world(WorldConfig.parse(seed=7, size="demo", bugs="FM-04,FM-11"), directory)

The company ("Relay Analytics", `company.py`): B2B SaaS with flat, per-seat, tiered and
metered prices (lookup keys ``{plan}_{currency}``), customers in ten countries paying in USD,
EUR, GBP, JPY, BRL, MXN and BHD, and a marketplace side with two connected accounts.

How a build works (`build.py`)
    The replica engine runs in-process (`api.WorldApi`: real route handlers and behaviours,
    no HTTP) on a frozen clock from T-60 days to T (`config.WORLD_NOW`) with ``id_seed`` =
    seed. Scenario scripts (`scenarios/`: catalog, customers, connect, lifecycle, invoicing,
    payments, reversals, usage, payouts) plan actions on a timeline; `World.run` plays them in
    time order, running due work (debits settling, vouchers expiring, renewals, dunning) as
    the clock passes it. Every request moves the clock one second. Then `delivery.py`
    delivers every event to the company's endpoint as Stripe would (attempts recorded in the
    replica's ``deliveries``; retries; a little timeout noise) and applies
    `sandbox.usersys.handler.apply_event` in delivery order to a fresh company DB, with
    rows stamped in world time.

Sizes (`config.SIZES`): tiny (every fate and payment path once; per-switch tests), demo
(~4k objects+events, ~2 s), medium, large.

World directory
    replica.sqlite3   the replica store (load with `running_replica` / `fde sandbox up`)
    company.sqlite3   the company DB (sandbox/usersys/models.py)
    snapshot.jsonl    canonical export: sorted JSON lines of objects, events, delivery
                      attempts, pending due work and company rows ("same seed → same bytes")
    manifest.json     GROUND TRUTH for tests and evals — product code never reads it
    world.json        `WorldInfo`: what serving needs (endpoint id/secret, counts, seconds)

manifest.json (sorted keys)
    {"generator_version", "seed", "size", "bugs": [...], "window": {"start", "end"},
     "switches": {"FM-xx": {"title", "layer", "expected_classes",
                            "affected": [{"object_id", "how", ...}],   # sorted
                            "objects": [ids],                          # sorted, unique
                            "recon_none": [{"object_id", "why"}],      # no recon class
                                                                       # (recon_truth.py)
                            ...switch extras (FM-04 window/dropped_events, FM-05 endpoint)}}}
    Handler-layer entries come from `HandlerOutcome.bug_hits` during delivery. ``affected``
    logs every bent decision; ``objects`` are the ids whose final company rows the switch
    changed: for switches acting in delivery, those differing from a shadow delivery with
    a correct handler (shadow.py).

Account/history-layer switches implemented here
    FM-04  endpoint down days 40-45 and disabled: window events get one failed attempt, never
           applied (delivery.py)
    FM-05  the endpoint is created with api_version 2024-06-20; deliveries render invoices and
           subscriptions in that shape (versioning.py); the handler stores NULL links/periods
    FM-06  the replica holds automatic drafts 72 h (invoice.created answered 500)
    FM-07  a third of card orders re-sent without Idempotency-Key: a second succeeded
           PaymentIntent for the same metadata.order_id (the DB keeps one payment per order)
    FM-08  staging wrote test-mode accounts/payments/entitlements whose ids Stripe lacks
    FM-25  handler live from day 3; the backfill of what came before stopped halfway
    FM-26  some signups created two customers (same email and metadata.user_id); the DB
           links the first (one account per user)
    FM-30  some usage reports resent with a fresh identifier (Stripe counts twice; DB once)
    FM-01  (handler layer) played in the simulation: every attempt answers 400
"""

from sandbox.world.build import WorldInfo, build_world, load_info
from sandbox.world.config import SIZES, WorldConfig

__all__ = ["SIZES", "WorldConfig", "WorldInfo", "build_world", "load_info"]
