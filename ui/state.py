"""Session state and the (de)serialization of filters: one JSON form for cache keys and saved views."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from typing import Any

from core.query import ColumnFilter, JobFilter, Sort
from core.settings import Settings, load_settings

_DATE_FIELDS = ("posted_from", "posted_to", "seen_from", "seen_to")
_TUPLE_FIELDS = ("workplace", "countries", "companies", "sources", "employment_types", "seniorities", "stages")


def settings() -> Settings:
    """Parsed once per version of jobdash.toml (load_settings memoizes on the file's stat): a changed
    JOBDASH_DATA_DIR or config applies at once, and a bad config fails here with the key that is wrong."""
    return load_settings()


def filter_to_dict(flt: JobFilter) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(flt):
        value = getattr(flt, f.name)
        if value == f.default:
            continue
        if isinstance(value, date):
            value = value.isoformat()
        elif f.name == "column_filters":
            value = [dataclasses.asdict(cf) for cf in value]
        elif isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    return out


def filter_from_dict(doc: dict[str, Any]) -> JobFilter:
    """The inverse of ``filter_to_dict``; unknown fields are dropped (a view saved by an older version)."""
    names = {f.name for f in dataclasses.fields(JobFilter)}
    kw: dict[str, Any] = {}
    for name, value in doc.items():
        if name not in names:
            continue
        if name in _DATE_FIELDS and value is not None:
            value = date.fromisoformat(value)
        elif name == "column_filters":
            value = tuple(ColumnFilter(**cf) for cf in value)
        elif name in _TUPLE_FIELDS:
            value = tuple(value)
        kw[name] = value
    return JobFilter(**kw)


def filter_key(flt: JobFilter) -> str:
    """A stable text key for a filter (cache key, 'did the filter change?')."""
    return json.dumps(filter_to_dict(flt), sort_keys=True, default=str)


def sort_key(sort: Sort) -> str:
    return f"{sort.column}:{'desc' if sort.desc else 'asc'}"
