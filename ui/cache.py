"""Cached access to the catalog: one Catalog per process and data folder, query results keyed by filter + version.

Every query function is declared once with ``@cached()``: it takes the snapshot version and the user-data
revision, so a new snapshot or an edit invalidates old results by construction. Arguments are keyed by their
stable text form (a filter by its JSON) and passed unhashed. Hits and misses are counted in core.instrumentation.metrics: the
cached body sets a thread-local flag that only a miss can set.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, TypeVar, cast

import pyarrow as pa
import streamlit as st

from core import query, schema
from core.catalog import Catalog, Page
from core.instrumentation import metrics
from core.query import JobFilter, Sort
from core.settings import Settings
from core.userdata import DEFAULT_STAGE, UserData
from ui import state

TTL_S = 600
MAX_ENTRIES = 256
_miss = threading.local()
Versions = tuple[int | None, int]  # (snapshot version, user-data revision)
_F = TypeVar("_F", bound=Callable[..., Any])


@st.cache_resource(show_spinner=False)
def _catalog(data_dir: str, _settings: Settings) -> Catalog:
    return Catalog(_settings, search_bitmaps=True)


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


def versions() -> Versions:
    """(snapshot version, user-data revision) after picking up a newly published snapshot: the cache keys."""
    cat = catalog()
    cat.refresh(wait=False)
    return cat.version, user_data().revision()


def _key_of(value: Any) -> str:
    """A stable text key for one argument: filters by their JSON form, views by theirs, the rest by repr."""
    if isinstance(value, JobFilter):
        return state.filter_key(value)
    if isinstance(value, View):
        return value.key()
    return repr(value)


def cached(*, max_entries: int = MAX_ENTRIES, snapshot: bool = True, user: bool = True) -> Callable[[_F], _F]:
    """Cache a query function ``fn(*args, version)`` in st.cache_data, counting hits and misses in core.metrics.

    The key is the arguments' stable text form, the snapshot version (unless ``snapshot=False``: results that
    depend on user data only), the user-data revision (unless ``user=False``: results that do not show user
    data) and the data folder, so a new snapshot or an edit invalidates old results by construction. The
    arguments themselves are passed unhashed.
    """

    def wrap(fn: _F) -> _F:
        signature = inspect.signature(fn)

        def body(key: str, version: int | None, rev: int, data_dir: str, _args: inspect.BoundArguments) -> Any:
            _miss.flag = True
            return fn(*_args.args, **_args.kwargs)

        # st.cache_data tells functions apart by module and qualified name: give each its own cache.
        body.__qualname__ = body.__name__ = f"{fn.__name__}_cached"
        inner = st.cache_data(ttl=TTL_S, max_entries=max_entries, show_spinner=False)(body)

        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            snap, rev = bound.arguments["version"]
            key = "|".join(f"{k}={_key_of(v)}" for k, v in bound.arguments.items() if k != "version")
            _miss.flag = False
            result = inner(key, snap if snapshot else None, rev if user else -1, _data_dir(), bound)
            metrics.record_cache(fn.__name__, hit=not _miss.flag)
            return result

        return cast(_F, call)

    return wrap


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


@cached()
def jobs(view: View, version: Versions) -> Page:
    """One page of the filtered catalog (about 100 rows), never the whole catalog."""
    return catalog().page(view.flt, view.sort, view.cursor, view.direction, view.limit)


def prefetch_next(view: View, page: Page, version: Versions) -> None:
    """Start computing the next page in the background (the catalog keeps it per snapshot and user revision),
    so "Next" is answered without a query. Only when there is a next page and it is not cached already."""
    if not page.has_next or page.last_key is None:
        return
    catalog().prefetch(view.flt, view.sort, page.last_key, "next", view.limit)


@cached()
def count(flt: JobFilter, version: Versions) -> int:
    return catalog().count(flt)


@cached()
def facet(flt: JobFilter, name: str, version: Versions, top: int = 20) -> list[tuple[str, int]]:
    return catalog().facet(flt, name, top)


@cached()
def timeseries(flt: JobFilter, by: str, bucket: str, version: Versions) -> list[tuple[date, int]]:
    return catalog().timeseries(flt, by, bucket)


@cached()
def salary(flt: JobFilter, version: Versions, bins: int = 30) -> list[dict[str, Any]]:
    return catalog().salary_distribution(flt, bins)


@cached(user=False)
def posting(job_id: str, version: Versions) -> dict[str, Any]:
    """One job's posting: facts, description and duplicates, per snapshot (its user fields may be stale)."""
    return catalog().job(job_id)


def job(job_id: str, version: Versions) -> dict[str, Any]:
    """One job with its description, user data and duplicates (raises NotFound).

    The posting is cached per snapshot and the user fields are read from SQLite on each call (a primary-key
    read, ~0.3 ms): a star or stage change does not fetch the posting again (two catalog scans and the
    description, ~20 ms at 100k)."""
    out = dict(posting(job_id, version))
    row = user_data().get(job_id)
    fields = row if row is not None else _NO_USER_DATA
    for name in query.USER_OUTPUT:
        value = fields.get(name)
        out[name] = value.isoformat() if isinstance(value, datetime | date) else value
    return out


_NO_USER_DATA: dict[str, Any] = {"starred": False, "stage": DEFAULT_STAGE, "notes": "", "hidden": False}


@cached()
def moved_ids(flt: JobFilter, version: Versions) -> list[str]:
    """Ids of the filtered jobs the user moved out of the inbox (the funnel's population; small)."""
    out_of_inbox = tuple(s for s in schema.STAGES if s != "inbox" and (not flt.stages or s in flt.stages))
    if not out_of_inbox:
        return []
    rows = catalog().rows(replace(flt, stages=out_of_inbox), limit=None)
    return [str(r["job_id"]) for r in rows]


@cached(max_entries=16, snapshot=False)
def history(version: Versions) -> pa.Table:
    return user_data().all_history()


@cached(max_entries=16, snapshot=False)
def user_table(version: Versions) -> pa.Table:
    return user_data().table()


def _data_dir() -> str:
    return str(state.settings().data_dir)
