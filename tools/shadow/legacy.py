"""The legacy side of a billing parallel run: the invoices the old billing system issued (or
would issue) per customer and period, from a CSV export or a Python plugin.

CSV (header required; amounts are integers in the currency's minor units, dates are UTC
``YYYY-MM-DD``; optional columns may be left out or blank):

    customer,period_start,period_end,currency,subtotal,total      required
    subscription      the Stripe subscription the customer was migrated to (previews use it)
    discount, tax     amounts (default 0); subtotal - discount + tax must equal total
    proration         amount of the prorations the legacy invoice itemised (blank: it does not
                      itemise them)
    usage             amount billed for metered usage (blank: not itemised)
    reference         the legacy invoice number, shown in reports

Plugin: ``module:function`` called with a `BillingWindow`, returning an iterable of
`LegacyInvoice` (or dicts with the CSV's fields), e.g.

    def invoices(window: BillingWindow) -> Iterable[LegacyInvoice]: ...
"""

from __future__ import annotations

import csv
import hashlib
import importlib
import json
import re
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError, field_validator, model_validator

from core.money import UnknownCurrency, exponent
from tools.shadow.errors import LegacyInputError

__all__ = ["BillingWindow", "LegacyInvoice", "LegacyPlugin", "legacy_hash", "load_legacy_csv",
           "run_plugin"]

REQUIRED = ("customer", "period_start", "period_end", "currency", "subtotal", "total")
OPTIONAL = ("subscription", "discount", "tax", "proration", "usage", "reference")


class BillingWindow(BaseModel):
    """The periods a plugin is asked to bill (inclusive dates), optionally for some customers."""

    start: date
    end: date
    customers: list[str] | None = None


class LegacyInvoice(BaseModel):
    customer: str
    period_start: date
    period_end: date
    currency: str
    subtotal: int
    total: int
    discount: int = 0
    tax: int = 0
    proration: int | None = None
    usage: int | None = None
    subscription: str | None = None
    reference: str | None = None
    source_line: int | None = None  # CSV line number (header is line 1)

    @field_validator("subtotal", "total", "discount", "tax", "proration", "usage",
                     mode="before")
    @classmethod
    def _minor_units(cls, value: Any) -> Any:
        # "19.00" must not become 19: an export in major units is a different file format.
        ok = isinstance(value, int) and not isinstance(value, bool) or value is None or \
            isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip())
        if not ok:
            raise ValueError(f"must be an integer number of minor units (1900 for 19.00), "
                             f"got {value!r}")
        return value

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        value = value.strip().lower()
        exponent(value)  # UnknownCurrency names it
        return value

    @field_validator("customer")
    @classmethod
    def _customer(cls, value: str) -> str:
        if not value.startswith("cus_"):
            raise ValueError(f"customer must be a Stripe customer id (cus_…), got {value!r}")
        return value

    @model_validator(mode="after")
    def _adds_up(self) -> LegacyInvoice:
        if self.period_end < self.period_start:
            raise ValueError(f"period_end {self.period_end} is before period_start "
                             f"{self.period_start}")
        expected = self.subtotal - self.discount + self.tax
        if expected != self.total:
            raise ValueError(f"total {self.total} is not subtotal - discount + tax "
                             f"({self.subtotal} - {self.discount} + {self.tax} = {expected})")
        return self


LegacyPlugin = Callable[[BillingWindow], Iterable[LegacyInvoice | dict[str, Any]]]


def _why(exc: ValidationError | UnknownCurrency | ValueError) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'row'}: "
                         f"{str(e['msg']).removeprefix('Value error, ')}" for e in exc.errors())
    return str(exc)


def _row(raw: dict[str, Any], where: str, line: int | None) -> LegacyInvoice:
    try:
        return LegacyInvoice.model_validate({**raw, "source_line": line})
    except (ValidationError, UnknownCurrency, ValueError) as exc:
        raise LegacyInputError(f"{where}: {_why(exc)}") from None


def load_legacy_csv(path: str | Path) -> list[LegacyInvoice]:
    """Every row of a legacy export; a bad row is named with its line number."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise LegacyInputError(f"legacy file {path} does not exist") from None
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in REQUIRED + OPTIONAL]
    if missing or unknown:
        raise LegacyInputError(
            f"{path} line 1: header " + "; ".join(
                p for p in (f"missing {', '.join(missing)}" if missing else "",
                            f"unknown {', '.join(unknown)}" if unknown else "") if p))
    out: list[LegacyInvoice] = []
    for raw in reader:
        line = reader.line_num
        if None in raw or any(v is None for v in raw.values()):
            raise LegacyInputError(f"{path} line {line}: expected {len(header)} columns")
        cleaned = {k.strip(): v.strip() for k, v in raw.items() if v is not None and v.strip()}
        out.append(_row(cleaned, f"{path} line {line}", line))
    if not out:
        raise LegacyInputError(f"legacy file {path} holds no invoices")
    return out


def run_plugin(spec: str, window: BillingWindow) -> list[LegacyInvoice]:
    """Import ``module:function`` and validate what it returns (bad rows named by index)."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise LegacyInputError(f"plugin {spec!r} is not module:function")
    try:
        fn = getattr(importlib.import_module(module_name), attr)
    except ImportError as exc:
        raise LegacyInputError(f"plugin module {module_name!r} cannot be imported: {exc}",
                               hint="put it on PYTHONPATH or install it") from None
    except AttributeError:
        raise LegacyInputError(f"plugin module {module_name!r} has no {attr!r}") from None
    if not callable(fn):
        raise LegacyInputError(f"plugin {spec!r} is not callable")
    out = []
    for n, item in enumerate(fn(window)):
        raw = item.model_dump() if isinstance(item, LegacyInvoice) else item
        if not isinstance(raw, dict):
            raise LegacyInputError(f"plugin {spec} item {n}: expected a LegacyInvoice or a "
                                   f"dict, got {type(item).__name__}")
        out.append(_row(raw, f"plugin {spec} item {n}", None))
    if not out:
        raise LegacyInputError(f"plugin {spec} returned no invoices for {window.start}.."
                               f"{window.end}")
    return out


def legacy_hash(invoices: list[LegacyInvoice]) -> str:
    """Content hash of the legacy input (names it in reports, like a corpus hash)."""
    digest = hashlib.sha256()
    for inv in invoices:
        digest.update(json.dumps(inv.model_dump(mode="json", exclude={"source_line"}),
                                 sort_keys=True).encode())
        digest.update(b"\n")
    return "sha256:" + digest.hexdigest()
