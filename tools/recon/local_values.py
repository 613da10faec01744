"""Local column values → canonical values: timestamps in any common form, dates, money in
minor or major units, booleans written as text.

A company database stores time as epoch seconds (or milliseconds), SQL datetimes, ISO-8601
text with or without a zone, or a DATE; every form becomes unix seconds (a naive value is
read in the field's `timezone`, UTC by default). A value that is none of these is not a
crash: it becomes NULL and the caller records a warning naming the entity and column.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.money import UnknownCurrency, exponent

__all__ = ["BadValue", "to_bool", "to_date", "to_epoch", "to_minor", "zone"]

_MS_THRESHOLD = 100_000_000_000  # epoch values above this are milliseconds (year 5138+ in s)


class BadValue(ValueError):
    """A value that cannot be read as the field's type."""


@lru_cache(maxsize=64)
def zone(name: str | None) -> tzinfo:
    if not name or name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadValue(f"unknown timezone {name!r} (use an IANA name such as Europe/Dublin)"
                       ) from None


def _number(value: Any) -> int:
    seconds = float(value)
    if abs(seconds) >= _MS_THRESHOLD:
        seconds /= 1000
    return int(seconds)


def _parse_text(text: str, tz: tzinfo) -> datetime:
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise BadValue(f"{text!r} is not a timestamp (epoch seconds, SQL datetime or "
                       "ISO-8601)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def to_epoch(value: Any, tz_name: str | None = None) -> int | None:
    """Unix seconds from any common timestamp form; BadValue when it is none of them."""
    if value is None:
        return None
    tz = zone(tz_name)
    if isinstance(value, bool):
        raise BadValue(f"{value!r} is a boolean, not a timestamp")
    if isinstance(value, int | float | Decimal):
        return _number(value)
    if isinstance(value, datetime):
        return int((value if value.tzinfo else value.replace(tzinfo=tz)).timestamp())
    if isinstance(value, date):
        return int(datetime.combine(value, time(), tz).timestamp())
    text = str(value).strip()
    if not text:
        return None
    try:
        return _number(text)
    except ValueError:
        return int(_parse_text(text, tz).timestamp())


def to_date(value: Any, tz_name: str | None = None) -> str | None:
    """'YYYY-MM-DD' (the calendar day in the field's timezone) from a date, a timestamp or
    date text."""
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    text = value.strip() if isinstance(value, str) else None
    if text is not None and len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise BadValue(f"{value!r} is not a date (YYYY-MM-DD)") from None
    seconds = to_epoch(value, tz_name)
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, zone(tz_name)).date().isoformat()


def to_minor(value: Any, currency: Any, unit: str | None) -> int | None:
    """Integer minor units; `unit: major` scales by the currency's exponent (core.money).
    An unknown currency gives None (the classifier reports it as UNCLASSIFIED)."""
    if value is None:
        return None
    if unit != "major":
        try:
            return int(Decimal(str(value)))
        except InvalidOperation:
            raise BadValue(f"{value!r} is not an amount") from None
    if currency is None:
        return None
    try:
        return int(Decimal(str(value)).scaleb(exponent(str(currency))))
    except UnknownCurrency:
        return None
    except InvalidOperation:
        raise BadValue(f"{value!r} is not an amount") from None


_TRUE = {"1", "t", "true", "y", "yes", "on"}
_FALSE = {"0", "f", "false", "n", "no", "off", ""}


def to_bool(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise BadValue(f"{value!r} is not a boolean")
    return bool(value)
