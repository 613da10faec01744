"""Reconciliation at 1,000,000 records per side: the path users run vs a plain Polars join.

Generates 1M Stripe-side and 1M user-side records (customers, invoices, payments, refunds)
plus the Stripe objects and user tables every other rule reads — payment intents with
retried-create twins (DUPLICATE_REMOTE), refunds and disputes, events and the user's
processed-webhook log with an outage window and replayed old events (WEBHOOK_GAP,
STATE_REGRESSION), payouts with their balance transactions (PAYOUT_BREAK), entitlements
(APPLIED_BEFORE_FINAL, REVERSED_AFTER_APPLICATION, ORPHAN_APPLICATION, duplicates) — with
~1% defects spread over the classes.

Timed, in one process on the same in-memory frames:

- baseline: a plain full join per entity on the Stripe id;
- product path: `reconcile` → `to_run` (verdict, counts) → `store.save_run` into a SQLite
  database (the discrepancies stored), i.e. what `fde recon run` does before the reports;
- for information: building every discrepancy model (what showing all of them costs).

Prints the times, the ratio product/baseline (goal ≤ 1.5) and the process's peak RSS
(goal ≤ 2 GiB at 1M × 1M).

    .venv/bin/python benchmarks/recon_1m.py [--records 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from core.settings import load_settings
from core.storage import open_database
from tools.recon import store
from tools.recon.engine import ReconInput, ReconOptions, reconcile, to_run
from tools.recon.mapping import Mapping
from tools.recon.stripe_frames import OBJECT_FIELDS, _empty

MAPPING = Mapping.model_validate({
    "version": 1,
    "entities": {
        "customer": {"table": "accounts", "stripe_object": "customer", "key": "sid",
                     "livemode": "livemode", "fields": {"email": "email"}},
        "invoice": {"table": "invoices", "stripe_object": "invoice", "key": "sid",
                    "livemode": "livemode", "fields": {
                        "status": "status", "currency": "currency",
                        "total": {"column": "total", "type": "money", "currency": "currency"}}},
        "payment": {"table": "payments", "stripe_object": "payment_intent", "key": "sid",
                    "livemode": "livemode", "fields": {
                        "status": "status", "currency": "currency",
                        "amount": {"column": "amount", "type": "money", "currency": "currency"},
                        "amount_received": {"column": "amount_received", "type": "money",
                                            "currency": "currency"}}},
        "refund": {"table": "refunds", "stripe_object": "refund", "key": "sid",
                   "livemode": "livemode", "fields": {
                       "status": "status", "currency": "currency",
                       "amount": {"column": "amount", "type": "money", "currency": "currency"}}},
        "entitlement": {"table": "entitlements", "fields": {
            "feature": "feature", "active": {"column": "active", "type": "bool"},
            "source_type": "source_type", "source_id": "source_id"}},
        "processed_event": {"table": "processed_webhooks", "stripe_object": "event",
                            "key": "event_id", "fields": {
                                "type": "type",
                                "created": {"column": "event_created", "type": "timestamp"},
                                "outcome": {"column": "outcome", "stripe": None}}},
    },
})
SHARE = {"customer": 0.3, "invoice": 0.3, "payment": 0.3, "refund": 0.1}
PREFIX = {"customer": "cus_", "invoice": "in_", "payment": "pi_", "refund": "re_"}
STATUS = {"invoice": ["paid", "open"], "payment": ["succeeded", "processing"],
          "refund": ["succeeded", "pending"]}
T0 = 1_700_000_000


def _sides(entity: str, n: int, rng: np.random.Generator) -> tuple[pl.DataFrame, pl.DataFrame]:
    ids = pl.Series("stripe_id", np.arange(n)).cast(pl.String)
    base = pl.DataFrame({"stripe_id": PREFIX[entity] + ids, "livemode": np.zeros(n, bool)})
    cols: dict[str, object] = {}
    if entity == "customer":
        cols["email"] = pl.Series(np.arange(n)).cast(pl.String) + "@example.com"
    else:
        cols["status"] = rng.choice(STATUS[entity], n, p=[0.97, 0.03])
        cols["currency"] = rng.choice(["usd", "eur", "jpy", "bhd"], n, p=[.6, .25, .1, .05])
        amount = rng.integers(100, 100_000, n) * 10
        if entity == "invoice":
            cols["total"] = amount
        elif entity == "payment":
            cols["amount"] = amount
            cols["amount_received"] = np.where(cols["status"] == "succeeded", amount, 0)
        else:
            cols["amount"] = amount
    stripe = base.with_columns(**{k: pl.Series(k, v) for k, v in cols.items()})
    stripe = stripe.with_columns(account=pl.lit(None, pl.String),
                                 created=T0 + pl.int_range(pl.len(), dtype=pl.Int64),
                                 deleted=pl.lit(False))
    local = stripe.drop("created", "deleted").with_columns(
        local_key=pl.lit(entity + ":") + pl.col("stripe_id"))
    # ~1% defects, spread over the classes the data can show
    local = local.with_columns(_d=pl.Series("d", rng.random(n)))
    local = local.filter(pl.col("_d") >= 0.002)  # MISSING_LOCAL / UNAPPLIED_PAYMENT
    if entity != "customer":
        money = "total" if entity == "invoice" else "amount"
        local = local.with_columns(
            pl.when(pl.col("_d") < 0.004).then(pl.col(money) // 100)  # exponent
            .when(pl.col("_d") < 0.005).then(pl.col(money) + 1)  # rounding
            .when(pl.col("_d") < 0.006).then(pl.col(money) + 777)  # other
            .otherwise(pl.col(money)).alias(money),
            pl.when((pl.col("_d") >= 0.006) & (pl.col("_d") < 0.008)).then(pl.lit("stale"))
            .otherwise(pl.col("status")).alias("status"),  # STALE_STATE
            pl.when((pl.col("_d") >= 0.008) & (pl.col("_d") < 0.0085)).then(pl.lit("xts"))
            .otherwise(pl.col("currency")).alias("currency"))  # unknown currency
    orphans = local.filter(pl.col("_d") > 0.998).with_columns(
        stripe_id=pl.col("stripe_id") + "_orphan", local_key=pl.col("local_key") + "_o")
    envs = local.filter((pl.col("_d") > 0.997) & (pl.col("_d") <= 0.998)).with_columns(
        stripe_id=pl.col("stripe_id") + "_test", local_key=pl.col("local_key") + "_t",
        livemode=pl.lit(True))
    # a retried handler inserted the row twice (DUPLICATE_LOCAL_EFFECT)
    twice = local.filter((pl.col("_d") > 0.996) & (pl.col("_d") <= 0.9965)).with_columns(
        local_key=pl.col("local_key") + "_again")
    local = pl.concat([local, orphans, envs, twice]).drop("_d")
    return stripe, local


def _objects(stripe: dict[str, pl.DataFrame], rng: np.random.Generator
             ) -> tuple[dict[str, pl.DataFrame], dict[str, pl.DataFrame]]:
    """Stripe objects the rules read (object_frames shape) and the user tables beside them."""
    def shaped(otype: str, frame: pl.DataFrame) -> pl.DataFrame:
        empty = _empty(OBJECT_FIELDS[otype])
        return frame.select([pl.col(c) if c in frame.columns
                             else pl.lit(None, empty.schema[c]).alias(c)
                             for c in empty.columns]).cast(empty.schema)  # type: ignore[arg-type]

    pay = stripe["payment"]
    n = pay.height
    pis = pay.rename({"stripe_id": "id"}).with_columns(
        customer=pl.lit("cus_") + (pl.int_range(pl.len()) % 50_000).cast(pl.String),
        order_ref=pl.lit("ord_") + pl.int_range(pl.len()).cast(pl.String))
    # a create retried without an idempotency key: a second intent for one order
    twins = pis.sample(max(1, n // 2000), seed=1).with_columns(
        id=pl.col("id") + "_retry", created=pl.col("created") + 60,
        status=pl.lit("succeeded"), amount_received=pl.col("amount"))
    pis = pl.concat([pis, twins])
    stripe["payment"] = pl.concat([pay, twins.rename({"id": "stripe_id"}).select(pay.columns)])
    refunds = stripe["refund"].rename({"stripe_id": "id"}).with_columns(
        payment_intent=pl.lit("pi_") + (pl.int_range(pl.len()) * 3).cast(pl.String))
    # events: two per invoice for a sample, processed except an outage window; a few
    # invoices got their old 'open' snapshot replayed after 'paid' (STATE_REGRESSION)
    inv = stripe["invoice"].head(max(10, n // 3))
    opened = inv.select(id=pl.lit("evt_o_") + pl.col("stripe_id"),
                        type=pl.lit("invoice.finalized"), object_id="stripe_id",
                        status=pl.lit("open"), created="created")
    paid = inv.select(id=pl.lit("evt_p_") + pl.col("stripe_id"), type=pl.lit("invoice.paid"),
                      object_id="stripe_id", status="status",
                      created=pl.col("created") + 3600)
    events = pl.concat([opened, paid])
    lo, hi = T0 + inv.height // 2, T0 + inv.height // 2 + 200
    processed = events.filter(~pl.col("created").is_between(lo, hi)).select(
        pl.col("id").alias("stripe_id"), "type", "created", pl.lit("applied").alias("outcome"),
        local_key=pl.lit("processed_webhooks:") + pl.col("id"))
    # entitlements: one per 20th payment, planted against pending, refunded, unknown sources
    ents = pay.gather_every(20).select(
        pl.col("stripe_id").alias("source_id"), pl.lit("payment_intent").alias("source_type"),
        pl.lit("pro").alias("feature"), pl.lit(True).alias("active"))
    ghosts = ents.head(max(1, ents.height // 500)).with_columns(
        source_id=pl.col("source_id") + "_ghost")
    again = ents.tail(max(1, ents.height // 500))
    ents = pl.concat([ents, ghosts, again]).with_columns(
        local_key=pl.lit("entitlements:") + pl.int_range(pl.len()).cast(pl.String))
    # payouts: each settles three balance transactions; one in 200 does not add up
    n_po = max(10, n // 300)
    payouts = pl.DataFrame({"id": [f"po_{i}" for i in range(n_po)],
                            "amount": rng.integers(1000, 100000, n_po) * 3,
                            "currency": ["usd"] * n_po, "status": ["paid"] * n_po,
                            "automatic": [True] * n_po})
    txns = payouts.select(pl.col("id").alias("payout"), "amount", "currency").join(
        pl.DataFrame({"k": [0, 1, 2]}), how="cross").with_columns(
        id=pl.lit("txn_") + pl.col("payout") + "_" + pl.col("k").cast(pl.String),
        type=pl.lit("charge"), net=pl.col("amount") // 3 + pl.when(
            (pl.col("k") == 0) & (pl.col("payout").str.slice(3).cast(pl.Int64) % 200 == 0))
        .then(5).otherwise(0), fee=pl.lit(0)).select(
        "id", "payout", "type", "amount", "fee", "net", "currency")
    objects = {
        "payment_intent": shaped("payment_intent", pis),
        "refund": shaped("refund", refunds),
        "event": shaped("event", events),
        "webhook_endpoint": shaped("webhook_endpoint", pl.DataFrame(
            {"id": ["we_1"], "status": ["enabled"]})).with_columns(events=pl.lit('["*"]')),
        "payout": shaped("payout", payouts),
        "balance_transaction": txns,
    }
    return objects, {"entitlement": ents, "processed_event": processed}


def _generate(records: int, seed: int = 7):
    rng = np.random.default_rng(seed)
    stripe, local = {}, {}
    for entity, share in SHARE.items():
        stripe[entity], local[entity] = _sides(entity, int(records * share), rng)
    objects, tables = _objects(stripe, rng)
    local |= tables
    # the regression: local invoices whose replayed 'open' snapshot won
    regressed = stripe["invoice"].head(50).filter(pl.col("status") == "paid")["stripe_id"]
    local["invoice"] = local["invoice"].with_columns(
        status=pl.when(pl.col("stripe_id").is_in(regressed.implode())).then(pl.lit("open"))
        .otherwise(pl.col("status")))
    return stripe, local, objects


def _core(stripe, local, objects):
    return reconcile(ReconInput(mapping=MAPPING, stripe=stripe, objects=objects, local=local),
                     ReconOptions(expected_livemode=False, gap_grace_seconds=0))


def _product(stripe, local, objects, db):
    run = to_run(_core(stripe, local, objects), engagement="bench")
    with db.session() as session:
        store.save_run(session, run)
    return run


def _baseline(stripe, local):
    total = 0
    for entity in stripe:
        joined = stripe[entity].join(local[entity], on="stripe_id", how="full", coalesce=True)
        total += joined.height
    return total


def _timed(fn, *args, repeat: int):
    """Median wall time and median CPU time (all threads of this process): on a machine
    shared with other work, CPU time is the steadier figure of the two."""
    walls, cpus, out = [], [], None
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        out = fn(*args)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return (statistics.median(walls), statistics.median(cpus)), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    t0 = time.perf_counter()
    stripe, local, objects = _generate(args.records)
    n_s = sum(stripe[e].height for e in SHARE)
    n_l = sum(local[e].height for e in SHARE)
    print(f"generated {n_s:,} Stripe-side and {n_l:,} user-side records (+ "
          f"{sum(f.height for f in objects.values()):,} Stripe objects, "
          f"{local['entitlement'].height:,} entitlements, "
          f"{local['processed_event'].height:,} processed events) "
          f"in {time.perf_counter() - t0:.1f} s")
    entities = {e: stripe[e] for e in SHARE}
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(load_settings(database_url=f"sqlite:///{Path(tmp) / 'bench.db'}"))
        _baseline(entities, local)  # warm-up (thread pool, allocator)
        _product(stripe, local, objects, db)
        base_t, _ = _timed(_baseline, entities, local, repeat=args.repeat)
        core_t, _ = _timed(_core, stripe, local, objects, repeat=args.repeat)
        prod_t, run = _timed(_product, stripe, local, objects, db, repeat=args.repeat)
        start = time.perf_counter()
        shown = len(list(run.discrepancies))
        models_t = time.perf_counter() - start
        with db.session() as session:
            stored = len(json.dumps(session.execute(
                store.select(store.runs.c.body).where(store.runs.c.id == run.id)).scalar_one()))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"verdict {run.verdict}, {len(run.discrepancies):,} discrepancies: "
          + ", ".join(f"{k} {v}" for k, v in sorted(run.counts.items())))
    print("bridge residuals: " + ", ".join(f"{b.label} {b.residual}" for b in run.bridge))
    for label, (wall, cpu) in (
            ("baseline (plain full join on ids)", base_t),
            ("engine core (reconcile: match, classify, every rule, bridge)", core_t),
            (f"product path (reconcile -> run with verdict -> stored run, {stored / 1e6:.1f} "
             "MB body)", prod_t)):
        print(f"{label}: {wall:.3f} s wall, {cpu:.3f} s CPU (median of {args.repeat})")
    print(f"for information: building all {shown:,} discrepancy models (showing them all): "
          f"{models_t:.3f} s")
    for what, i in (("wall", 0), ("CPU", 1)):
        print(f"ratio {what}: engine core/baseline {core_t[i] / base_t[i]:.2f}, "
              f"product path/baseline {prod_t[i] / base_t[i]:.2f} (goal <= 1.5)")
    print(f"peak RSS: {rss:.2f} GiB (goal <= 2 GiB)")


if __name__ == "__main__":
    main()
