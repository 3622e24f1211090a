"""Cached access to the catalog: one Catalog per process and data folder, query results keyed by filter + version.

Every cached function takes the snapshot version and the user-data revision, so a new snapshot or an edit
invalidates old results by construction. The filter object itself is passed unhashed (``_flt``) next to its
stable JSON key. Hits and misses are counted in core.metrics: the cached body sets a thread-local flag that
only a miss can set.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import pyarrow as pa
import streamlit as st

from core import schema
from core.catalog import Catalog, Page
from core.instrumentation import metrics
from core.query import JobFilter, Sort
from core.settings import Settings
from core.userdata import UserData
from ui import state

TTL_S = 600
MAX_ENTRIES = 256
_miss = threading.local()


@st.cache_resource(show_spinner=False)
def _catalog(data_dir: str, _settings: Settings) -> Catalog:
    return Catalog(_settings)


@st.cache_resource(show_spinner=False)
def _user_data(data_dir: str, _settings: Settings) -> UserData:
    return UserData(_settings.db_path)


def catalog(settings: Settings | None = None) -> Catalog:
    """The process-wide catalog for this data folder (loaded once; later snapshots are swapped in)."""
    s = settings or state.settings()
    return _catalog(str(s.data_dir), s)


def user_data(settings: Settings | None = None) -> UserData:
    s = settings or state.settings()
    return _user_data(str(s.data_dir), s)


def versions() -> tuple[int | None, int]:
    """(snapshot version, user-data revision) after picking up a newly published snapshot: the cache keys."""
    cat = catalog()
    cat.refresh(wait=False)
    return cat.version, user_data().revision()


def _counted(name: str, fn: Any, *args: Any) -> Any:
    _miss.flag = False
    result = fn(*args)
    metrics.record_cache(name, hit=not getattr(_miss, "flag", False))
    return result


def _missed() -> None:
    _miss.flag = True


# --- the grid window ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class View:
    """What the grid shows: the filter (sidebar + header filters), the sort and the keyset position."""

    flt: JobFilter
    sort: Sort = Sort()
    cursor: tuple[Any, ...] | None = None
    direction: str = "next"
    page_no: int = 1
    limit: int = 100

    def key(self) -> str:
        return f"{state.filter_key(self.flt)}|{state.sort_key(self.sort)}|{self.cursor!r}|{self.direction}|{self.limit}"


@st.cache_data(ttl=TTL_S, max_entries=MAX_ENTRIES, show_spinner=False)
def _jobs(key: str, version: int | None, rev: int, data_dir: str, _view: View) -> Page:
    _missed()
    v = _view
    return catalog().page(v.flt, v.sort, v.cursor, v.direction, v.limit)


def jobs(view: View, version: tuple[int | None, int]) -> Page:
    """One page of the filtered catalog (about 100 rows), never the whole catalog."""
    return _counted("jobs", _jobs, view.key(), version[0], version[1], _data_dir(), view)  # type: ignore[no-any-return]


@st.cache_data(ttl=TTL_S, max_entries=MAX_ENTRIES, show_spinner=False)
def _count(key: str, version: int | None, rev: int, data_dir: str, _flt: JobFilter) -> int:
    _missed()
    return catalog().count(_flt)


def count(flt: JobFilter, version: tuple[int | None, int]) -> int:
    return _counted("count", _count, state.filter_key(flt), version[0], version[1], _data_dir(), flt)  # type: ignore[no-any-return]


@st.cache_data(ttl=TTL_S, max_entries=MAX_ENTRIES, show_spinner=False)
def _facet(
    key: str, name: str, top: int, version: int | None, rev: int, data_dir: str, _flt: JobFilter
) -> list[tuple[str, int]]:
    _missed()
    return catalog().facet(_flt, name, top)


def facet(flt: JobFilter, name: str, version: tuple[int | None, int], top: int = 20) -> list[tuple[str, int]]:
    return _counted("facet", _facet, state.filter_key(flt), name, top, version[0], version[1], _data_dir(), flt)  # type: ignore[no-any-return]


@st.cache_data(ttl=TTL_S, max_entries=MAX_ENTRIES, show_spinner=False)
def _timeseries(
    key: str, by: str, bucket: str, version: int | None, rev: int, data_dir: str, _flt: JobFilter
) -> list[tuple[date, int]]:
    _missed()
    return catalog().timeseries(_flt, by, bucket)


def timeseries(flt: JobFilter, by: str, bucket: str, version: tuple[int | None, int]) -> list[tuple[date, int]]:
    return _counted(  # type: ignore[no-any-return]
        "timeseries", _timeseries, state.filter_key(flt), by, bucket, version[0], version[1], _data_dir(), flt
    )


@st.cache_data(ttl=TTL_S, max_entries=MAX_ENTRIES, show_spinner=False)
def _salary(key: str, bins: int, version: int | None, rev: int, data_dir: str, _flt: JobFilter) -> list[dict[str, Any]]:
    _missed()
    return catalog().salary_distribution(_flt, bins)


def salary(flt: JobFilter, version: tuple[int | None, int], bins: int = 30) -> list[dict[str, Any]]:
    return _counted("salary", _salary, state.filter_key(flt), bins, version[0], version[1], _data_dir(), flt)  # type: ignore[no-any-return]


@st.cache_data(ttl=TTL_S, max_entries=MAX_ENTRIES, show_spinner=False)
def _job(job_id: str, version: int | None, rev: int, data_dir: str) -> dict[str, Any]:
    _missed()
    return catalog().job(job_id)


def job(job_id: str, version: tuple[int | None, int]) -> dict[str, Any]:
    """One job with its description, user data and duplicates (raises NotFound)."""
    return _counted("job", _job, job_id, version[0], version[1], _data_dir())  # type: ignore[no-any-return]


@st.cache_data(ttl=TTL_S, max_entries=MAX_ENTRIES, show_spinner=False)
def _moved_ids(key: str, version: int | None, rev: int, data_dir: str, _flt: JobFilter) -> list[str]:
    _missed()
    out_of_inbox = tuple(s for s in schema.STAGES if s != "inbox" and (not _flt.stages or s in _flt.stages))
    if not out_of_inbox:
        return []
    rows = catalog().rows(replace(_flt, stages=out_of_inbox), limit=None)
    return [str(r["job_id"]) for r in rows]


def moved_ids(flt: JobFilter, version: tuple[int | None, int]) -> list[str]:
    """Ids of the filtered jobs the user moved out of the inbox (the funnel's population; small)."""
    return _counted("moved_ids", _moved_ids, state.filter_key(flt), version[0], version[1], _data_dir(), flt)  # type: ignore[no-any-return]


@st.cache_data(ttl=TTL_S, max_entries=16, show_spinner=False)
def _history(rev: int, data_dir: str) -> pa.Table:
    _missed()
    return user_data().all_history()


def history(version: tuple[int | None, int]) -> pa.Table:
    return _counted("history", _history, version[1], _data_dir())  # type: ignore[no-any-return]


@st.cache_data(ttl=TTL_S, max_entries=16, show_spinner=False)
def _user_table(rev: int, data_dir: str) -> pa.Table:
    _missed()
    return user_data().table()


def user_table(version: tuple[int | None, int]) -> pa.Table:
    return _counted("user_table", _user_table, version[1], _data_dir())  # type: ignore[no-any-return]


def _data_dir() -> str:
    return str(state.settings().data_dir)
