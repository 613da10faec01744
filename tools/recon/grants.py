"""Entitlements without a source column: which Stripe object paid for each grant, found
through the joins a version 2 mapping declares (`granted_by`).

Each rule names a Stripe object type, an optional `where`, and `match`: entitlement field →
Stripe expression (a list split by "," or as JSON when one object grants several values,
e.g. a plan's features). A grant's candidates are the objects whose values equal its
fields (`within`: whose time is close to its own, searched first; a grant with no free
candidate inside the window takes the closest free one outside it). Each grant takes its best
candidate — one that still pays (an active subscription, a succeeded payment), then one
the user system recorded (its id in a mirror table), then the closest in time, then the
newest — and each object backs one grant per matched value;
a grant left over takes its best candidate anyway, so the classifier sees two grants for
one source (DUPLICATE_LOCAL_EFFECT). A grant with no candidate has no source
(ORPHAN_APPLICATION). The result is the v1 shape — `source_type`, `source_id` — so
tools/recon/entitlements.py classifies both versions alike.

`unapplied_payments` is the other direction: a one-off payment the user system recorded,
that succeeded and was not refunded, yet backs no grant at all (UNAPPLIED_PAYMENT).
"""

from __future__ import annotations

import json

import polars as pl

from tools.recon.mapping import EntitySpec, GrantSpec
from tools.recon.mapping_expr import compile_sql
from tools.recon.rules import DISC_SCHEMA
from tools.recon.stripe_paths import ObjectSource, path_frame

__all__ = ["resolve_grants", "unapplied_payments"]

_PAYS = {"subscription": ("trialing", "active", "past_due"), "payment_intent": ("succeeded",),
         "checkout.session": ("paid", "no_payment_required")}


def _candidates(i: int, rule: GrantSpec, source: ObjectSource, where: str) -> pl.DataFrame:
    exprs = {f: compile_sql(m.expect, where=f"{where}.granted_by[{i}].match.{f}")
             for f, m in rule.match.items()}
    cond = compile_sql(rule.where, where=f"{where}.granted_by[{i}].where") \
        if rule.where else None
    names = {n for e in exprs.values() for n in e.names} | {"status"}
    names |= cond.names if cond else set()
    if rule.within:
        names.add(rule.within.stripe)
    objects = source(rule.stripe_object)
    schema = {"_src": pl.String, "_created": pl.Int64, "_status": pl.String,
              "_t": pl.Int64} | {f"_m_{f}": pl.String for f in rule.match}
    if objects.is_empty():
        return pl.DataFrame(schema=schema)
    cols = path_frame(objects.filter(~pl.col("deleted").fill_null(False))
                      if "deleted" in objects.columns else objects, sorted(names), source)
    if cond is not None:
        cols = cols.filter(cond.evaluate(cols).fill_null(False))
    out = cols.select(
        pl.col("id").alias("_src"), pl.col("created").alias("_created"),
        pl.col("status").cast(pl.String).alias("_status"),
        (pl.col(rule.within.stripe).cast(pl.Int64, strict=False) if rule.within
         else pl.lit(None, pl.Int64)).alias("_t"),
        *[e.expr.cast(pl.String).alias(f"_m_{f}") for f, e in exprs.items()])
    for f, m in rule.match.items():
        col = f"_m_{f}"
        if m.split == ",":
            out = out.with_columns(pl.col(col).str.split(",")).explode(col).with_columns(
                pl.col(col).str.strip_chars())
        elif m.split == "json":
            out = out.with_columns(pl.col(col).map_elements(_json_list,
                                                            return_dtype=pl.List(pl.String))
                                   ).explode(col)
    return out.filter(pl.all_horizontal(pl.col(f"_m_{f}").is_not_null()
                                        for f in rule.match)).cast(schema)  # type: ignore


def _json_list(text: str | None) -> list[str]:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def resolve_grants(name: str, spec: EntitySpec, grants: pl.DataFrame,
                   source: ObjectSource, recorded: set[str] | None = None) -> pl.DataFrame:
    """`grants` with `source_type` and `source_id` (null when nothing could pay for it)."""
    if "active" not in grants.columns:
        grants = grants.with_columns(active=pl.lit(True))
    if "feature" not in grants.columns:
        grants = grants.with_columns(feature=pl.lit(None, pl.String))
    pairs = []
    for i, rule in enumerate(spec.granted_by or []):
        cand = _candidates(i, rule, source, f"entities.{name}")
        keys = list(rule.match)
        left = grants.select("local_key", *[pl.col(k).cast(pl.String).alias(f"_m_{k}")
                                            for k in keys],
                             (pl.col(rule.within.field).cast(pl.Int64) if rule.within
                              else pl.lit(None, pl.Int64)).alias("_g"))
        hit = left.join(cand, on=[f"_m_{k}" for k in keys], how="inner")
        inside = pl.lit(True)
        if rule.within:
            inside = ((pl.col("_g") - pl.col("_t")).abs() <= rule.within.seconds
                      ).fill_null(False)
        pays = pl.col("_status").is_in(list(_PAYS.get(rule.stripe_object, ())))
        pairs.append(hit.join(grants.select("local_key", pl.col("active").fill_null(False)
                                            .alias("_active")), on="local_key").select(
            "local_key", "_active", inside.alias("_inside"), "_src",
            pl.lit(rule.stripe_object).alias("_type"),
            pl.concat_str([pl.col(f"_m_{k}") for k in keys], separator="\x1f").alias("_key"),
            pays.alias("_pays"), pl.col("_src").is_in(sorted(recorded or ())).alias("_rec"),
            (pl.col("_g") - pl.col("_t")).abs().alias("_dt"),
            "_created"))
    chosen = _assign(pl.concat(pairs) if pairs else None)
    return grants.join(chosen, on="local_key", how="left", maintain_order="left")


def _assign(pairs: pl.DataFrame | None) -> pl.DataFrame:
    empty = pl.DataFrame(schema={"local_key": pl.String, "source_type": pl.String,
                                 "source_id": pl.String})
    if pairs is None or pairs.is_empty():
        return empty
    # grants in force choose first: a revoked row must not take the source a live one needs
    ranked = pairs.sort(["_active", "_pays", "_rec", "_dt", "_created", "local_key"],
                        descending=[True, True, True, False, True, False], nulls_last=True)
    done: dict[str, tuple[str, str]] = {}
    taken: set[tuple[str, str]] = set()
    best: dict[str, tuple[str, str]] = {}
    rows = ranked.select("local_key", "_src", "_type", "_key", "_inside").rows()
    # first inside each rule's `within` window, then (a delayed payment method settles days
    # later) a grant still without a source takes the closest candidate nobody uses
    for outside_pass in (False, True):
        for key, src, kind, match, inside in rows:
            if inside == outside_pass:
                continue
            if not outside_pass:
                best.setdefault(key, (kind, src))
            if key in done or (src, match) in taken:
                continue
            done[key] = (kind, src)
            taken.add((src, match))
    for key, pick in best.items():
        done.setdefault(key, pick)  # every candidate taken: shares one (a duplicate grant)
    return pl.DataFrame({"local_key": list(done),
                         "source_type": [v[0] for v in done.values()],
                         "source_id": [v[1] for v in done.values()]}, schema=empty.schema)


def unapplied_payments(name: str, spec: EntitySpec, grants: pl.DataFrame,
                       source: ObjectSource, recorded: set[str]) -> pl.DataFrame:
    """DISC_SCHEMA rows: recorded one-off payments that succeeded, kept their money and back
    no grant (active or not)."""
    used = set(grants["source_id"].drop_nulls().to_list()) if "source_id" in grants.columns \
        else set()
    rows = []
    for i, rule in enumerate(spec.granted_by or []):
        if rule.stripe_object != "payment_intent":
            continue  # a subscription's missing grants show on its own mirror
        cand = _candidates(i, rule, source, f"entities.{name}").unique("_src")
        paid = cand.filter((pl.col("_status") == "succeeded") & pl.col("_src").is_in(
            sorted(recorded)) & ~pl.col("_src").is_in(sorted(used)))
        if paid.is_empty():
            continue
        money = path_frame(source("payment_intent").filter(pl.col("id").is_in(paid["_src"]
                                                                            .implode())),
                           ["amount_received", "currency", "latest_charge.amount_refunded"],
                           source)
        kept = money.filter(pl.col("latest_charge.amount_refunded").fill_null(0).cast(pl.Int64)
                            < pl.col("amount_received").cast(pl.Int64))
        for row in kept.iter_rows(named=True):
            rows.append({
                "class": "UNAPPLIED_PAYMENT", "entity": name, "stripe_id": row["id"],
                "local_key": None, "fields": [], "amount_minor": int(row["amount_received"]),
                "currency": str(row["currency"]).lower(), "s_contrib": 0, "s_cur": None,
                "l_contrib": 0, "l_cur": None, "ev_stripe": [row["id"]], "ev_local": [],
                "reason": "the payment succeeded and was recorded, but no grant in "
                          f"{spec.table} is backed by it",
                "needs_review": False, "confidence": None,
                "s_values": json.dumps({"amount_received": int(row["amount_received"])}),
                "l_values": "{}"})
    return pl.DataFrame(rows, schema=DISC_SCHEMA) if rows else pl.DataFrame(schema=DISC_SCHEMA)
