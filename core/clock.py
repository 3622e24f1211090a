"""The one clock convention: naive UTC datetimes, ISO text to the second."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Naive UTC, the convention of every timestamp in the catalog."""
    return datetime.now(UTC).replace(tzinfo=None)


def iso(ts: datetime) -> str:
    return ts.isoformat(timespec="seconds")
