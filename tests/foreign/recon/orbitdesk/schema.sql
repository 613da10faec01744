-- OrbitDesk billing tables (SQLite). Grown by accretion; see the migrations log in the
-- app repo. Times: created_ts / at / since are epoch seconds; period_end / last_sync are
-- 'YYYY-MM-DD HH:MM:SS' (UTC); changed_at is 'YYYY-MM-DDTHH:MM:SS' (UTC, no zone).
PRAGMA foreign_keys = OFF;

CREATE TABLE IF NOT EXISTS workspace (
    ws_id               TEXT PRIMARY KEY,            -- uuid4 text
    name                TEXT NOT NULL,
    billing_email       TEXT,
    stripe_customer_id  TEXT,                        -- NULL on the free tier
    tier                TEXT NOT NULL DEFAULT 'free',-- 'free' | 'paid'
    created_ts          INTEGER NOT NULL,
    archived_at         TEXT                         -- NULL unless archived (then ignore)
);
CREATE INDEX IF NOT EXISTS ix_workspace_cus ON workspace (stripe_customer_id);

CREATE TABLE IF NOT EXISTS plan_catalog (
    slug                  TEXT PRIMARY KEY,          -- team | business | enterprise_lite
    display_name          TEXT NOT NULL,
    seat_price_usd_cents  INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS seat_subscription (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    ws_id       TEXT NOT NULL,
    sub_key     TEXT NOT NULL,                       -- sub_...
    plan_slug   TEXT NOT NULL,
    seats       INTEGER NOT NULL DEFAULT 1,
    phase       TEXT NOT NULL,                       -- TRIAL CURRENT OVERDUE STOPPED SETUP
    period_end  TEXT,
    last_sync   TEXT
);
CREATE INDEX IF NOT EXISTS ix_seat_subscription_key ON seat_subscription (sub_key);

CREATE TABLE IF NOT EXISTS invoice_mirror (
    inv_no             TEXT,                         -- Stripe's invoice number
    stripe_inv         TEXT NOT NULL,                -- in_...
    ws_id              TEXT NOT NULL,
    amount_due_cents   INTEGER NOT NULL DEFAULT 0,
    amount_paid_cents  INTEGER NOT NULL DEFAULT 0,
    currency           TEXT NOT NULL,
    status             TEXT NOT NULL,                -- awaiting paid voided writeoff
    changed_at         TEXT
);
CREATE INDEX IF NOT EXISTS ix_invoice_mirror_inv ON invoice_mirror (stripe_inv);

CREATE TABLE IF NOT EXISTS credit_purchases (
    purchase_id  TEXT PRIMARY KEY,                   -- 'CP-' + 8 hex, sent as PI metadata
    ws_id        TEXT NOT NULL,
    payment_ref  TEXT,                               -- pi_...
    credits      INTEGER NOT NULL,
    amount_cents INTEGER NOT NULL,
    currency     TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'processing', -- complete processing declined reversed
    invoice_ref  TEXT                                -- in_... only when billed via invoice and paid
);

CREATE TABLE IF NOT EXISTS credit_ledger (
    entry_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    ws_id       TEXT NOT NULL,
    delta       INTEGER NOT NULL,
    reason      TEXT NOT NULL,                       -- purchase | reversal
    created_ts  INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS ws_features (
    ws_id    TEXT NOT NULL,
    feature  TEXT NOT NULL,
    "on"     INTEGER NOT NULL DEFAULT 1,
    since    INTEGER,
    PRIMARY KEY (ws_id, feature)
);

CREATE TABLE IF NOT EXISTS hook_log (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    evt      TEXT NOT NULL,
    kind     TEXT NOT NULL,
    at       INTEGER NOT NULL,
    outcome  TEXT NOT NULL                           -- handled skipped crashed
);
CREATE INDEX IF NOT EXISTS ix_hook_log_evt ON hook_log (evt);
