-- Fernhill Languages: billing tables (PostgreSQL).
--
-- History: the first version was a Rails app (hence `members`, text timestamps and a few
-- habits below); the Python rewrite (2024) kept the tables and added the newer ones
-- (course_access with real timestamptz columns, stripe_events_seen).
--
-- Money is NUMERIC in MAJOR units everywhere (19.90 EUR is 19.90; 2,900 JPY is 2900.00).
-- Timestamps the Rails app wrote are ISO-8601 TEXT. Nothing here records livemode.

CREATE TABLE members (
    id            serial PRIMARY KEY,
    email         text NOT NULL,
    display_name  text,
    stripe_ref    text,                      -- Stripe customer (cus_...); NULL = free member
    joined        text NOT NULL,             -- e.g. 2026-03-04T10:15:00+01:00 (member's zone)
    closed        boolean NOT NULL DEFAULT false   -- soft delete; closed rows stay forever
);
CREATE UNIQUE INDEX members_email_idx ON members (lower(email));
CREATE INDEX members_stripe_ref_idx ON members (stripe_ref);

-- One row per Stripe subscription.
--   state: trialling (trialing) | live (active) | grace (past_due) | on_hold (paused)
--          | lapsed (canceled, unpaid, incomplete_expired) | pending (incomplete)
CREATE TABLE memberships (
    id                   serial PRIMARY KEY,
    member_id            integer NOT NULL REFERENCES members (id),
    stripe_subscription  text NOT NULL,      -- sub_...
    plan_code            text NOT NULL,      -- starter | plus | tutor_pro (Price metadata.plan_code)
    state                text NOT NULL,
    renews_on            text,               -- 2026-04-04: end of the current period (UTC date)
    updated              text NOT NULL,      -- 2026-03-04T10:15:02Z
    CONSTRAINT memberships_state_check CHECK (
        state IN ('trialling', 'live', 'grace', 'on_hold', 'lapsed', 'pending'))
);
CREATE UNIQUE INDEX memberships_stripe_subscription_idx ON memberships (stripe_subscription);
CREATE INDEX memberships_member_idx ON memberships (member_id);

-- One row per FINALIZED Stripe invoice (drafts are never copied).
--   state: due (open) | settled (paid) | cancelled (void) | bad_debt (uncollectible)
CREATE TABLE bills (
    id              serial PRIMARY KEY,
    member_id       integer REFERENCES members (id),
    stripe_invoice  text NOT NULL,           -- in_...
    number          text,                    -- Stripe's invoice number
    total           numeric(12, 2) NOT NULL, -- major units
    ccy             varchar(3) NOT NULL,     -- upper case: EUR, GBP, JPY
    state           text NOT NULL,
    issued          text,                    -- finalization time, 2026-03-04T10:15:00+00:00
    CONSTRAINT bills_state_check CHECK (state IN ('due', 'settled', 'cancelled', 'bad_debt'))
);
CREATE UNIQUE INDEX bills_stripe_invoice_idx ON bills (stripe_invoice);
CREATE INDEX bills_member_idx ON bills (member_id);

-- Money applied to a bill. A bill is settled when its payments reach its total
-- (a 0.00 trial bill is settled with no payment row). No Stripe id on purpose.
CREATE TABLE bill_payments (
    id          serial PRIMARY KEY,
    bill_id     integer NOT NULL REFERENCES bills (id),
    amount      numeric(12, 2) NOT NULL,     -- major units
    applied_at  text NOT NULL                -- Stripe's paid_at, 2026-03-04T10:15:00+00:00
);
CREATE INDEX bill_payments_bill_idx ON bill_payments (bill_id);

-- One row per course-pack PaymentIntent (metadata.kind = 'course_pack').
-- Gift-card PaymentIntents (metadata.kind = 'gift_card') are NOT recorded here.
--   status (derived from the PaymentIntent and its charge):
--     paid (succeeded, nothing refunded) | part_refunded | refunded (fully)
--     | waiting (processing, requires_action, requires_payment_method, requires_confirmation)
--     | failed (canceled)
-- A member holds at most one open order per pack_code (the checkout refuses a second one).
CREATE TABLE pack_orders (
    id              serial PRIMARY KEY,
    member_id       integer REFERENCES members (id),
    stripe_payment  text NOT NULL,           -- pi_...
    pack_code       text NOT NULL,           -- BUSINESS_EN, JLPT_N3, DELE_B2 (metadata.pack_code)
    price           numeric(12, 2) NOT NULL, -- major units, written when the order is created
    ccy             varchar(3) NOT NULL,
    status          text NOT NULL,
    updated         text NOT NULL,           -- latest of the PI's created and its refund time
    CONSTRAINT pack_orders_status_check CHECK (
        status IN ('paid', 'part_refunded', 'refunded', 'waiting', 'failed'))
);
CREATE INDEX pack_orders_stripe_payment_idx ON pack_orders (stripe_payment);
CREATE INDEX pack_orders_member_idx ON pack_orders (member_id);

-- What a member may use. No column says what granted it. The school's rules:
--   * a membership in trialling / live / grace grants the features in its Price's
--     metadata.features (comma separated); they are revoked when it leaves those states;
--   * a course pack grants 'pack:<pack_code>' once its PaymentIntent succeeded; a full
--     refund revokes it.
CREATE TABLE course_access (
    id          serial PRIMARY KEY,
    member_id   integer NOT NULL REFERENCES members (id),
    feature     text NOT NULL,               -- live_classes, library, pack:JLPT_N3, ...
    granted_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz                  -- NULL while active
);
CREATE INDEX course_access_member_idx ON course_access (member_id);

-- The webhook endpoint's log: one row per delivery the handler processed. The endpoint
-- is subscribed to every event type; types it does not use are logged 'ignored'.
CREATE TABLE stripe_events_seen (
    event_id    text NOT NULL,
    event_type  text NOT NULL,
    received    text NOT NULL,               -- 2026-03-04T10:15:02.137Z
    result      text NOT NULL,
    CONSTRAINT stripe_events_seen_result_check CHECK (result IN ('ok', 'ignored', 'error'))
);
CREATE INDEX stripe_events_seen_event_idx ON stripe_events_seen (event_id);
