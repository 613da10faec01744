"""The Stripe side of one version 2 entity: which objects the table mirrors and what each
compared field should hold.

- `stripe_where` marks the objects the table mirrors (only course-pack PaymentIntents, only
  finalized subscription invoices) in `_expected`: the rest are never reported missing, but
  one the table does hold is still compared (tools/recon/align.py);
- a field's value is its `stripe` path, or its `expect` expression over the object's paths
  and its `stripe_related` aggregates (a local status derived from several Stripe fields);
- `when` limits a field to the objects where it holds: elsewhere the field expects its
  `otherwise` value, or (without one) is not compared (a `_skip_<field>` column that
  tools/recon/align.py reads);
- a path that no object carries at all (a field this API version does not send) is not
  compared: a warning says so instead of a difference on every row.
"""

from __future__ import annotations

import polars as pl

from core.expr import ExpressionError
from tools.recon.mapping import EntitySpec, FieldSpec
from tools.recon.mapping_expr import compile_sql
from tools.recon.stripe_paths import ObjectSource, path_frame, path_present, related_values

__all__ = ["v2_entity_frame"]

_KIND: dict[str, pl.DataType] = {
    "int": pl.Int64(), "money": pl.Int64(), "timestamp": pl.Int64(), "bool": pl.Boolean(),
    "flag": pl.Boolean(),
}


def _cast(expr: pl.Expr, spec: FieldSpec) -> pl.Expr:
    if spec.type == "date":
        tz = spec.timezone or "UTC"
        return (pl.from_epoch(expr.cast(pl.Int64, strict=False), time_unit="s")
                .dt.replace_time_zone("UTC").dt.convert_time_zone(tz).dt.date()
                .cast(pl.String))
    if spec.type == "flag":
        return expr.is_not_null()
    if spec.type == "bool":
        return expr.cast(pl.Boolean, strict=False).fill_null(False)
    dtype = _KIND.get(spec.type)
    if dtype is not None:
        return expr.cast(pl.Float64, strict=False).cast(dtype, strict=False)
    return expr.cast(pl.String, strict=False)


def v2_entity_frame(name: str, entity: EntitySpec, source: ObjectSource,
                    warnings: list[str]) -> pl.DataFrame:
    where = f"entities.{name}"
    frame = source(entity.stripe_object or "")
    related = {r: related_values(r, spec, source, f"{where}.stripe_related.{r}")
               for r, spec in entity.stripe_related.items()}
    exprs = {}
    if entity.stripe_where:
        exprs["_filter"] = compile_sql(entity.stripe_where, where=f"{where}.stripe_where")
    fields: dict[str, FieldSpec] = {}
    for fname, spec in entity.compared_fields().items():
        at = f"{where}.fields.{fname}"
        if spec.expect is None and not path_present(frame, spec.stripe or fname):
            warnings.append(f"{name}.{fname} not compared: no Stripe {entity.stripe_object} "
                            f"in the snapshot has `{spec.stripe}` (not sent by this API "
                            "version?)")
            continue
        fields[fname] = spec
        exprs[fname] = compile_sql(spec.expect or f'"{spec.stripe}"', where=f"{at}.expect"
                                   if spec.expect else at)
        if spec.when:
            exprs[f"_when_{fname}"] = compile_sql(spec.when, where=f"{at}.when")
    paths = sorted({n for e in exprs.values() for n in e.names} - set(related))
    cols = path_frame(frame, paths, source) if frame.height else _empty(paths)
    for values in related.values():
        cols = cols.join(values, on="id", how="left")
    out = [pl.col("id").alias("stripe_id")] + [
        pl.col(c) for c in ("account", "livemode", "created", "deleted") if c in cols.columns]
    for fname, spec in fields.items():
        value = _cast(exprs[fname].expr, spec)
        skip = None
        if spec.when:
            cond = exprs[f"_when_{fname}"].expr.fill_null(False)
            if spec.has_otherwise:
                other = pl.lit(spec.otherwise)
                value = pl.when(cond).then(value).otherwise(_cast(other, spec))
            else:
                skip = ~cond
        if spec.expect is not None and "_filter" in exprs:
            # a derivation describes the objects the table mirrors, not one it merely holds
            outside = ~exprs["_filter"].expr.fill_null(False)
            skip = outside if skip is None else skip | outside
        if skip is not None:
            out.append(skip.alias(f"_skip_{fname}"))
        if fname == "currency":
            value = value.str.to_lowercase()
        out.append(value.alias(fname))
    if "_filter" in exprs:  # which objects the table is expected to hold (see align.py)
        out.append(exprs["_filter"].expr.fill_null(False).alias("_expected"))
    try:
        return cols.select(out)
    except pl.exceptions.PolarsError as exc:
        reason = str(exc).strip().splitlines()[0]
        raise ExpressionError(f"{where}: an expression cannot be computed on the Stripe "
                              f"{entity.stripe_object} objects: {reason}") from None


def _empty(paths: list[str]) -> pl.DataFrame:
    schema = {"id": pl.String, "account": pl.String, "livemode": pl.Boolean,
              "created": pl.Int64, "deleted": pl.Boolean}
    return pl.DataFrame(schema=schema | {p: pl.String for p in paths if p not in schema})
