"""Session state and the (de)serialization of filters: one JSON form for cache keys and saved views."""

from __future__ import annotations

import json

from core.query import JobFilter, Sort, filter_from_dict, filter_to_dict
from core.settings import Settings, load_settings

__all__ = [
    "filter_from_dict",
    "filter_key",
    "filter_to_dict",
    "settings",
    "sort_key",
]  # (de)serialization lives in core.query


def settings() -> Settings:
    """Parsed once per version of jobdash.toml (load_settings memoizes on the file's stat): a changed
    JOBDASH_DATA_DIR or config applies at once, and a bad config fails here with the key that is wrong."""
    return load_settings()


def filter_key(flt: JobFilter) -> str:
    """A stable text key for a filter (cache key, 'did the filter change?')."""
    return json.dumps(filter_to_dict(flt), sort_keys=True, default=str)


def sort_key(sort: Sort) -> str:
    return f"{sort.column}:{'desc' if sort.desc else 'asc'}"
