"""``posted_at`` text → naive UTC timestamp.

Accepted: ISO 8601 (with or without offset; no offset means UTC), epoch seconds or milliseconds as
digits, relative phrases ("3 days ago", "Posted 30+ days ago", "today", "yesterday", "just posted",
"2 weeks ago") measured from the run's clock, and free-form dates python-dateutil understands
("March 5, 2024", RFC 2822). Anything else — and dates before 1990 or more than a day after ``now``,
which are data errors — becomes null, never a reject.

ISO and epoch values are parsed by Arrow in bulk; only the rest goes through Python, once per
distinct value.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from dateutil import parser as dateutil_parser

from core.normalize.text import as_array, clean_short_column, map_distinct

TIMESTAMP = pa.timestamp("us")
EARLIEST = datetime(1990, 1, 1)
FUTURE_SLACK = timedelta(days=1)

_UNITS = {
    "second": timedelta(seconds=1),
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
    "month": timedelta(days=30),
    "year": timedelta(days=365),
}
_UNIT_ALIASES = {
    "s": "second", "sec": "second", "secs": "second", "seconds": "second",
    "m": "minute", "min": "minute", "mins": "minute", "minutes": "minute",
    "h": "hour", "hr": "hour", "hrs": "hour", "hours": "hour",
    "d": "day", "days": "day",
    "w": "week", "wk": "week", "wks": "week", "weeks": "week",
    "mo": "month", "mos": "month", "months": "month",
    "y": "year", "yr": "year", "yrs": "year", "years": "year",
}  # fmt: skip
_RELATIVE = re.compile(
    r"\b(\d+|an?|one)\s*\+?\s*(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|wks?|w|"
    r"months?|mos?|years?|yrs?|y)\s+ago\b"
)
_NOW_WORDS = re.compile(r"\b(today|just posted|just now|right now|moments? ago|new)\b")
_YESTERDAY = re.compile(r"\byesterday\b")
_EPOCH = re.compile(r"\d{9,14}(?:\.\d+)?")
_COMPACT_DATE = re.compile(r"(19|20)\d{6}")

# RE2 patterns for the bulk paths.
_ISO_ZONED_RE2 = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}(:?\d{2})?)$"
_ISO_NAIVE_RE2 = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$"
_EPOCH_S_RE2 = r"^\d{9,11}$"
_EPOCH_MS_RE2 = r"^\d{12,14}$"


def _to_naive_utc(value: datetime) -> datetime:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def _plausible(value: datetime | None, now: datetime) -> datetime | None:
    if value is None or value < EARLIEST or value > now + FUTURE_SLACK:
        return None
    return value


def parse_posted(text: str | None, now: datetime) -> datetime | None:
    """One ``posted_at`` text → naive UTC datetime, or None when it cannot be understood."""
    if text is None:
        return None
    raw = text.strip()
    if not raw:
        return None
    return _plausible(_parse(raw, now), now)


def _parse(raw: str, now: datetime) -> datetime | None:
    if _EPOCH.fullmatch(raw):
        seconds = float(raw)
        if len(raw.split(".")[0]) >= 12:
            seconds /= 1000.0
        return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)
    if _COMPACT_DATE.fullmatch(raw):
        try:
            return datetime.strptime(raw, "%Y%m%d")
        except ValueError:
            return None
    try:
        return _to_naive_utc(datetime.fromisoformat(raw.replace("z", "Z")))
    except ValueError:
        pass
    lowered = raw.lower()
    relative = _RELATIVE.search(lowered)
    if relative:
        count_text, unit = relative.groups()
        count = int(count_text) if count_text.isdigit() else 1
        unit = _UNIT_ALIASES.get(unit, unit)
        return now - count * _UNITS[unit]
    if _YESTERDAY.search(lowered):
        return now - timedelta(days=1)
    if _NOW_WORDS.search(lowered):
        return now
    if not any(ch.isdigit() for ch in raw):
        return None  # dateutil would invent a date from a lone month name
    try:
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return _to_naive_utc(dateutil_parser.parse(raw, default=midnight))
    except (ValueError, OverflowError):
        return None


def posted_column(values: Any, now: datetime) -> Any:
    """The raw ``posted_at`` column → ``timestamp[us]`` (naive UTC)."""
    text = clean_short_column(as_array(values))
    if len(text) == 0:
        return pa.array([], TIMESTAMP)
    result = pa.nulls(len(text), TIMESTAMP)
    remaining = pc.is_valid(text)
    bulk = (
        (_EPOCH_S_RE2, _epoch_seconds),
        (_EPOCH_MS_RE2, _epoch_millis),
        (_ISO_ZONED_RE2, lambda a: a.cast(pa.timestamp("us", tz="UTC")).cast(TIMESTAMP)),
        (_ISO_NAIVE_RE2, lambda a: a.cast(TIMESTAMP)),
    )
    for pattern, convert in bulk:
        mask = pc.and_(remaining, pc.fill_null(pc.match_substring_regex(text, pattern), False))
        if not pc.any(mask).as_py():
            continue
        try:
            parsed = convert(text.filter(mask))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue  # e.g. month 13 somewhere: leave this group to the Python path
        result = pc.replace_with_mask(result, mask, parsed)
        remaining = pc.and_(remaining, pc.invert(mask))
    if pc.any(remaining).as_py():
        rest = text.filter(remaining)
        parsed = map_distinct(rest, lambda v: parse_posted(v, now), TIMESTAMP)
        result = pc.replace_with_mask(result, remaining, parsed)
    earliest = pa.scalar(EARLIEST, TIMESTAMP)
    latest = pa.scalar(now + FUTURE_SLACK, TIMESTAMP)
    implausible = pc.or_(pc.less(result, earliest), pc.greater(result, latest))
    return pc.if_else(pc.fill_null(implausible, False), pa.scalar(None, TIMESTAMP), result)


def _epoch_seconds(text: Any) -> Any:
    seconds = text.cast(pa.int64())
    return pc.multiply(seconds, 1_000_000).cast(TIMESTAMP)


def _epoch_millis(text: Any) -> Any:
    millis = text.cast(pa.int64())
    return pc.multiply(millis, 1_000).cast(TIMESTAMP)
