"""posted_at text → naive UTC timestamps, one value at a time and as a column (bulk and Python paths)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pyarrow as pa
import pytest

from core.normalize.dates import parse_posted, posted_column

NOW = datetime(2026, 3, 15, 12, 0, 0)
N = None
CASES = [
    ("2026-03-01T10:00:00Z", datetime(2026, 3, 1, 10)),
    ("2026-03-01T10:00:00+02:00", datetime(2026, 3, 1, 8)),
    ("2026-03-01T10:00:00-0500", datetime(2026, 3, 1, 15)),
    ("2026-03-01T10:00:00.123456+00:00", datetime(2026, 3, 1, 10, 0, 0, 123456)),
    ("2026-03-01 10:00:00", datetime(2026, 3, 1, 10)),
    ("2026-03-01", datetime(2026, 3, 1)),
    ("20260301", datetime(2026, 3, 1)),
    ("1772359200", datetime(2026, 3, 1, 10)),  # epoch seconds
    ("1772359200000", datetime(2026, 3, 1, 10)),  # epoch milliseconds
    ("1772359200123", datetime(2026, 3, 1, 10, 0, 0, 123000)),
    ("3 days ago", NOW - timedelta(days=3)),
    ("Posted 30+ days ago", NOW - timedelta(days=30)),
    ("2 weeks ago", NOW - timedelta(weeks=2)),
    ("an hour ago", NOW - timedelta(hours=1)),
    ("5h ago", NOW - timedelta(hours=5)),
    ("1 month ago", NOW - timedelta(days=30)),
    ("today", NOW),
    ("Today", NOW),
    ("just posted", NOW),
    ("Just now", NOW),
    ("yesterday", NOW - timedelta(days=1)),
    ("Posted yesterday", NOW - timedelta(days=1)),
    ("March 5, 2026", datetime(2026, 3, 5)),
    ("5 Mar 2026", datetime(2026, 3, 5)),
    ("Thu, 05 Mar 2026 09:30:00 GMT", datetime(2026, 3, 5, 9, 30)),
    ("recently", N),
    ("not a date 42", N),
    ("", N),
    ("2026-13-45", N),
    ("1899-01-01", N),  # implausibly old
    ("2030-01-01T00:00:00Z", N),  # in the future
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] or "empty" for c in CASES])
def test_parse_posted(text: str, expected: datetime | None) -> None:
    assert parse_posted(text, NOW) == expected


def test_column_matches_scalar_parser_on_every_path() -> None:
    texts = [c[0] for c in CASES] + [None, "  2026-03-01T10:00:00Z  "]
    out = posted_column(pa.array(texts, pa.string()), NOW)
    assert out.type == pa.timestamp("us")
    assert out.to_pylist() == [c[1] for c in CASES] + [None, datetime(2026, 3, 1, 10)]


def test_column_with_one_bad_iso_value_still_parses_the_rest() -> None:
    out = posted_column(pa.array(["2026-03-01T10:00:00Z", "2026-02-30T10:00:00Z"]), NOW)
    assert out.to_pylist() == [datetime(2026, 3, 1, 10), None]


def test_empty_column() -> None:
    assert posted_column(pa.array([], pa.string()), NOW).to_pylist() == []
