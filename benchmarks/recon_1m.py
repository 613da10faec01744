"""Reconciliation engine at 1,000,000 records per side vs a plain Polars join on the ids.

Generates 1M Stripe-side and 1M user-side records (customers, invoices, payments, refunds)
with ~1% defects spread over the classes, runs `tools.recon.engine.reconcile` + `to_run`
(match, classify, bridge, verdict, pydantic discrepancies) and, in the same process on the
same in-memory frames, a plain full join per entity on the Stripe id. Prints both times,
the ratio (goal ≤ 1.5) and peak RSS (goal ≤ 2 GiB).

    .venv/bin/python benchmarks/recon_1m.py [--records 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import numpy as np
import polars as pl

from tools.recon.engine import ReconInput, ReconOptions, reconcile, to_run
from tools.recon.mapping import Mapping

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
    },
})
SHARE = {"customer": 0.3, "invoice": 0.3, "payment": 0.3, "refund": 0.1}
PREFIX = {"customer": "cus_", "invoice": "in_", "payment": "pi_", "refund": "re_"}
STATUS = {"invoice": ["paid", "open"], "payment": ["succeeded", "processing"],
          "refund": ["succeeded", "pending"]}


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
            cols["amount_received"] = amount
        else:
            cols["amount"] = amount
    stripe = base.with_columns(**{k: pl.Series(k, v) for k, v in cols.items()})
    stripe = stripe.with_columns(account=pl.lit(None, pl.String), created=pl.lit(0, pl.Int64))
    local = stripe.drop("created").with_columns(
        local_key=pl.lit(entity + ":") + pl.col("stripe_id"))
    # ~1% defects, spread over the classes the data can show
    defect = rng.random(n)
    d = pl.Series("d", defect)
    local = local.with_columns(_d=d)
    missing = local.filter(pl.col("_d") < 0.002).height
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
    local = pl.concat([local, orphans, envs]).drop("_d")
    del missing
    return stripe, local


def _generate(records: int, seed: int = 7):
    rng = np.random.default_rng(seed)
    stripe, local = {}, {}
    for entity, share in SHARE.items():
        stripe[entity], local[entity] = _sides(entity, int(records * share), rng)
    return stripe, local


def _core(stripe, local):
    return reconcile(ReconInput(mapping=MAPPING, stripe=stripe, objects={}, local=local),
                     ReconOptions(expected_livemode=False))


def _engine(stripe, local):
    return to_run(_core(stripe, local))


def _baseline(stripe, local):
    total = 0
    for entity in stripe:
        joined = stripe[entity].join(local[entity], on="stripe_id", how="full", coalesce=True)
        total += joined.height
    return total


def _timed(fn, *args, repeat: int):
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn(*args)
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    t0 = time.perf_counter()
    stripe, local = _generate(args.records)
    n_s = sum(f.height for f in stripe.values())
    n_l = sum(f.height for f in local.values())
    print(f"generated {n_s:,} Stripe-side and {n_l:,} user-side records "
          f"in {time.perf_counter() - t0:.1f} s")
    _baseline(stripe, local)  # warm-up (thread pool, allocator)
    base_t, _ = _timed(_baseline, stripe, local, repeat=args.repeat)
    core_t, _ = _timed(_core, stripe, local, repeat=args.repeat)
    eng_t, run = _timed(_engine, stripe, local, repeat=args.repeat)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"verdict {run.verdict}, {len(run.discrepancies):,} discrepancies: "
          + ", ".join(f"{k} {v}" for k, v in sorted(run.counts.items())))
    print("bridge residuals: " + ", ".join(f"{b.currency} {b.residual}" for b in run.bridge))
    print(f"baseline (plain full join on ids): {base_t:.3f} s (median of {args.repeat})")
    print(f"engine core (match+classify+bridge frames): {core_t:.3f} s")
    print(f"engine + run model ({len(run.discrepancies):,} pydantic discrepancies, verdict): "
          f"{eng_t:.3f} s")
    print(f"ratio engine core/baseline: {core_t / base_t:.2f} (goal <= 1.5)")
    print(f"ratio engine with models/baseline: {eng_t / base_t:.2f}")
    print(f"peak RSS: {rss:.2f} GiB (goal <= 2 GiB)")


if __name__ == "__main__":
    main()
