"""Schema and reference data for the Lumen webhook app.

    python -m tests.foreign.shadow.lumen.migrate --db postgresql://…

Safe to run twice (CREATE … IF NOT EXISTS; the tier catalogue is upserted).
"""

from __future__ import annotations

import argparse

import psycopg

from .db import libpq_url

# tier_key, quota_gb, max_galleries — the Stripe Product carries metadata.tier_key.
TIERS: list[tuple[str, int, int]] = [
    ("starter", 100, 20),
    ("pro", 1000, 200),
    ("studio", 5000, 2000),
]

SCHEMA = """
CREATE TABLE IF NOT EXISTS tier_catalog (
    tier_key       text PRIMARY KEY,
    quota_gb       integer NOT NULL,
    max_galleries  integer NOT NULL
);

-- Products as Stripe last described them (product.created / product.updated).
CREATE TABLE IF NOT EXISTS stripe_product (
    product_id  text PRIMARY KEY,
    name        text,
    tier_key    text,
    as_of       bigint NOT NULL            -- event.created of the snapshot we hold
);

CREATE TABLE IF NOT EXISTS studio_account (
    stripe_customer_id      text PRIMARY KEY,
    stripe_subscription_id  text,
    stripe_product_id       text,
    tier_key                text,
    subscription_status     text,          -- Stripe's word
    subscription_as_of      bigint,        -- event.created of the subscription snapshot held
    plan_state              text,          -- ours: ok / trialing / payment_issue / closed
    plan_signal             text,          -- what set it: a subscription status or invoice.*
    plan_state_as_of        bigint,
    billing_currency        text,
    paid_through            timestamptz,   -- current_period_end
    quota_gb                integer NOT NULL DEFAULT 0,
    topup_gb                integer NOT NULL DEFAULT 0,
    suspended               boolean NOT NULL DEFAULT false,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);

-- Append-only: one row per paid invoice, amounts as Stripe sends them (minor units) and
-- in major units for the finance export.
CREATE TABLE IF NOT EXISTS invoice_ledger (
    id                      bigserial PRIMARY KEY,
    stripe_invoice_id       text NOT NULL,
    stripe_customer_id      text NOT NULL,
    stripe_subscription_id  text,
    billing_reason          text,
    currency                text NOT NULL,
    amount_minor            bigint NOT NULL,
    amount_major            numeric NOT NULL,
    paid_at                 timestamptz,
    recorded_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS invoice_ledger_invoice_idx ON invoice_ledger (stripe_invoice_id);

-- Storage top-ups, one row per PaymentIntent. status only moves forward:
-- pending → failed → granted → refunded.
CREATE TABLE IF NOT EXISTS storage_topup (
    payment_intent_id   text PRIMARY KEY,
    stripe_customer_id  text,
    charge_id           text,
    gb                  integer NOT NULL DEFAULT 0,
    currency            text,
    amount_minor        bigint,
    status              text NOT NULL
        CHECK (status IN ('pending', 'failed', 'granted', 'refunded')),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS storage_topup_customer_idx ON storage_topup (stripe_customer_id);

-- Disputes on top-up charges; an account with an open or lost dispute is suspended.
CREATE TABLE IF NOT EXISTS topup_dispute (
    dispute_id          text PRIMARY KEY,
    payment_intent_id   text,
    charge_id           text,
    status              text NOT NULL,
    reason              text,
    as_of               bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS topup_dispute_pi_idx ON topup_dispute (payment_intent_id);

CREATE TABLE IF NOT EXISTS event_inbox (
    event_id     text PRIMARY KEY,
    event_type   text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    status       text NOT NULL CHECK (status IN ('done', 'skipped'))
);
"""


def migrate(db_url: str) -> None:
    with psycopg.connect(libpq_url(db_url)) as conn:
        conn.execute(SCHEMA)
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO tier_catalog (tier_key, quota_gb, max_galleries) VALUES (%s, %s, %s)"
                " ON CONFLICT (tier_key) DO UPDATE SET quota_gb = EXCLUDED.quota_gb,"
                " max_galleries = EXCLUDED.max_galleries",
                TIERS,
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Create Lumen's webhook tables")
    parser.add_argument("--db", required=True, help="PostgreSQL URL")
    args = parser.parse_args(argv)
    migrate(args.db)


if __name__ == "__main__":
    main()
