# ruff: noqa: S608  -- table and type names are generated here from core.schema names and a counter.
"""The dashboard's in-memory catalog: the hot columns of CURRENT in DuckDB plus a mirror of the user data.

One in-memory DuckDB connection per process, one ``cursor()`` per query, so any number of threads can
query at once. A new snapshot is loaded into a fresh table (low-cardinality text as ENUM, rows ordered by
``posted_at``) while queries keep using the old one; then the table name the queries use is swapped and
the old table dropped. Running queries finish on the old table; one that picked up the old name just
before the drop is retried on the new one.

The user data lives in SQLite (core.userdata) and is mirrored into a small ``user_jobs`` table, reloaded
whenever its revision counter moves, so an edit from the CLI or another process shows on the next query.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from itertools import count
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from core import query, schema, search, snapshots
from core.errors import ConfigError, JobdashError, NotFound, QueryError, StorageError
from core.instrumentation import metrics
from core.query import DEFAULT_SORT, JobFilter, Sort
from core.search import FTS_ID_SQL, DescriptionIndex
from core.settings import Settings
from core.snapshots import Snapshot
from core.userdata import USER_SCHEMA, UserData
from core.watches import WatchStore

log = logging.getLogger(__name__)
T = TypeVar("T")

_USER_ARROW = {f.name: f.type for f in USER_SCHEMA}
PAGE_SCHEMA = schema.arrow_schema(query.OUTPUT_COLUMNS)
for _name in query.USER_OUTPUT:
    PAGE_SCHEMA = PAGE_SCHEMA.append(pa.field(_name, _USER_ARROW[_name]))


@dataclass(frozen=True)
class Page:
    rows: pa.Table  # hot columns + user columns (+ dup_count when duplicates are collapsed)
    total: int  # exact count of the filtered set
    has_next: bool
    has_prev: bool
    first_key: tuple[Any, ...] | None  # keyset cursors: (sort value, job_id) of the first and last row
    last_key: tuple[Any, ...] | None
    elapsed_ms: float


@dataclass(frozen=True)
class _Loaded:
    snapshot: Snapshot
    table: str
    types: tuple[str, ...]
    load_ms: float


def _arrow(cur: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> pa.Table:
    """Run a read query straight into Arrow (a relation avoids the DB-API result's extra copy)."""
    rel = cur.sql(sql, params=params)
    if rel is None:  # only for a statement without a result set
        raise QueryError("catalog query returned no result set")
    return rel.to_arrow_table()


def _row_count(result: Any) -> int:
    """Rows a query returned, for the metrics: a table, a list, a (table, total) pair or a number."""
    if isinstance(result, tuple):
        result = result[0]
    if isinstance(result, pa.Table):
        return int(result.num_rows)
    if isinstance(result, list):
        return len(result)
    return 1


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: _json_value(v) for k, v in row.items()}


# OWASP CSV injection: a cell starting with one of these is read as a formula by spreadsheets (full-width
# forms too, which some spreadsheets fold). Such text cells get a leading apostrophe and stay text.
_FORMULA_START = r"^[=+\-@\t\r＝＋－＠]"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _csv_safe(name: str) -> str:
    """A text column of the export with formula-looking cells neutralized (``name`` is one of our columns)."""
    col = _ident(name)
    return f"CASE WHEN regexp_matches({col}, '{_FORMULA_START}') THEN chr(39) || {col} ELSE {col} END AS {col}"


PAGE_CACHE_ENTRIES = 64
ALLOCATOR_FLUSH_THRESHOLD = "8MB"


def release_memory() -> bool:
    """Hand freed heap memory back to the OS (glibc ``malloc_trim``); False where there is no glibc.

    A snapshot load allocates large transient buffers (Parquet decode, ENUM casts, the sort); glibc keeps
    freed chunks in its arenas, so the process RSS stays at the load's peak. Trimming after a load brings it
    down to what the tables use."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.malloc_trim(0))
    except (OSError, AttributeError):
        return False


BEST_FIRST_K = 1000  # "best match" pages start from the best thousand matches (17 ms at 1M)


class Catalog:
    """Query the current snapshot; see the module docstring for how loads, swaps and user data work."""

    def __init__(self, settings: Settings, memory_limit: str = "1GB", *, search_bitmaps: bool = False) -> None:
        """``search_bitmaps``: keep the words of description searches as bitmaps (core.term_bitmaps), as the
        dashboard does: a later search of the same words at 1M jobs takes ms instead of 100–300 ms."""
        self.settings = settings
        self.search_bitmaps = search_bitmaps
        try:
            # Spill (if ever) into the data folder, not into whatever the working directory is.
            config: dict[str, str | bool | int | float | list[str]] = {
                "memory_limit": memory_limit,
                "threads": 2,
                "temp_directory": str(settings.data_dir / "tmp"),
                # DuckDB's allocator keeps freed memory cached: after a load (Parquet decode, ENUM casts, the
                # sort) RSS stayed ~100 MB above the table's size at 100k. A low flush threshold and its
                # background threads hand that back within seconds (measured: 353 → 260 MB at 106k rows).
                "allocator_flush_threshold": ALLOCATOR_FLUSH_THRESHOLD,
                "allocator_background_threads": True,
            }
            self._con = duckdb.connect(":memory:", config=config)
        except duckdb.Error as e:
            raise ConfigError(f"memory_limit: {e}") from e
        self._load_lock = threading.Lock()  # one loader at a time; queries never wait for it
        self._counter = ThreadPoolExecutor(max_workers=2, thread_name_prefix="catalog-count")
        self._user_lock = threading.Lock()
        self._state: _Loaded | None = None
        self._seen_stat: tuple[int, int] | None = None  # pointer stat of the loaded snapshot
        self._failed_stat: tuple[int, int] | None = None  # pointer stat of the last failed load
        self._serial = count(1)
        self.load_error: str | None = None
        self._users = UserData(settings.db_path)
        self._watches = WatchStore(settings.db_path)
        self._user_rev: int | None = None
        self._index: DescriptionIndex | None = None
        # Exact totals by (table, user revision, filter): paging through one filter counts it once.
        self._counts: OrderedDict[tuple[str, int | None, int | None, JobFilter], int] = OrderedDict()
        self._counts_lock = threading.Lock()
        # Finished pages by (table, user revision, filter, sort, cursor, direction, limit): the default view's
        # first page is put here when a snapshot loads, the next page when a page is shown (prefetch).
        self._pages: OrderedDict[tuple[Any, ...], Page] = OrderedDict()
        self._pages_lock = threading.Lock()
        self._reload_users()
        self.refresh()

    # --- snapshot -------------------------------------------------------------------------------------

    @property
    def snapshot(self) -> Snapshot | None:
        st = self._state
        return st.snapshot if st else None

    @property
    def version(self) -> int | None:
        st = self._state
        return st.snapshot.version if st else None

    @property
    def last_load_ms(self) -> float | None:
        st = self._state
        return st.load_ms if st else None

    def refresh(self, *, wait: bool = True) -> bool:
        """Load and swap in a newly published snapshot; True if swapped. A cheap stat when nothing changed.

        With ``wait=False`` (the query path) a load already running in another thread is not waited for,
        and a snapshot that failed to load is not retried until CURRENT changes again."""
        stat = snapshots.pointer_stat(self.settings.snapshots_dir)
        if stat is None or stat == self._seen_stat or (not wait and stat == self._failed_stat):
            return False
        if not self._load_lock.acquire(blocking=wait):
            return False
        old = None
        try:
            if stat == self._seen_stat:
                return False
            snap = snapshots.current(self.settings.snapshots_dir)
            if snap is None:
                return False
            loaded = self._load(snap)
            t_swap = time.perf_counter()
            old, self._state = self._state, loaded  # the swap: queries read self._state once per run
            self._seen_stat, self._failed_stat, self.load_error = stat, None, None
        except JobdashError as e:
            self._failed_stat, self.load_error = stat, str(e)
            if wait:
                raise
            log.warning("snapshot not loaded: %s", e)
            return False
        finally:
            self._load_lock.release()
        if old is not None:
            self._drop(old)
        swap_ms = (time.perf_counter() - t_swap) * 1000
        metrics.record_snapshot_load(loaded.snapshot.version, loaded.snapshot.rows, loaded.load_ms, swap_ms)
        release_memory()  # the load's transient buffers go back to the OS instead of staying in malloc's arenas
        self._warm_first_page()
        self._keep_saved_searches()
        return True

    def _keep_saved_searches(self) -> None:
        """The description words of the saved views (and so of the watches) kept as bitmaps from the start."""
        if not self.search_bitmaps:
            return
        try:
            descs = [query.filter_from_json(self._users.view(name)).desc for name in self._users.views()]
            if any(d.strip() for d in descs):
                self._search_index().keep_words([d for d in descs if d.strip()])
        except (JobdashError, ValueError) as e:  # costs a later search its speed, nothing more
            log.warning("saved searches not kept: %s", e)

    def _warm_first_page(self) -> None:
        """The default view's first page, computed once per loaded snapshot (the first rows after navigation)."""
        try:
            self.page(JobFilter())
        except JobdashError as e:  # a warm-up that fails costs the first visitor a query, nothing more
            log.warning("first page not precomputed: %s", e)

    def _load(self, snap: Snapshot) -> _Loaded:
        t0 = time.perf_counter()
        n = next(self._serial)
        table = f"jobs_{n}"
        types = tuple(f"enum_{c}_{n}" for c in query.ENUM_COLUMNS)
        path = str(snap.jobs_path)
        cur = self._con.cursor()
        try:
            for col, typ in zip(query.ENUM_COLUMNS, types, strict=True):
                q = schema.quote(col)
                cur.execute(
                    f"CREATE TYPE {typ} AS ENUM (SELECT DISTINCT CAST({q} AS VARCHAR) FROM read_parquet(?)"
                    f" WHERE {q} IS NOT NULL ORDER BY 1)",
                    [path],
                )
            enum_of = dict(zip(query.ENUM_COLUMNS, types, strict=True))
            stored = set(pq.read_schema(path).names)  # a snapshot older than a column reads it as null
            cols = ", ".join(
                f"CAST({schema.quote(c)} AS {enum_of[c]}) AS {schema.quote(c)}"
                if c in enum_of
                else (schema.quote(c) if c in stored else f"NULL::{schema.column(c).sql} AS {schema.quote(c)}")
                for c in schema.HOT_COLUMNS
            )
            # Group sizes first (a small table of the groups with several postings), so collapsing
            # duplicates later only windows over those rows.
            cur.execute(
                f"CREATE TEMP TABLE {table}_dups AS SELECT dup_group, count(*) AS n FROM read_parquet(?)"
                " WHERE dup_group IS NOT NULL GROUP BY dup_group HAVING count(*) > 1",
                [path],
            )
            cur.execute(
                f"CREATE TABLE {table} AS SELECT {cols}, {schema.DESC_FILE},"
                f" {query.SEARCH_EXPR} AS {query.SEARCH_COLUMN}, coalesce(g.n, 1) AS {query.DUP_SIZE},"
                f" {FTS_ID_SQL} AS {query.FTS_ID}"
                f" FROM read_parquet(?) AS s LEFT JOIN {table}_dups AS g USING (dup_group)"
                " ORDER BY posted_at DESC NULLS LAST, job_id DESC",
                [path],
            )
            cur.execute(f"DROP TABLE {table}_dups")
        except duckdb.Error as e:
            self._drop(_Loaded(snap, table, types, 0.0))
            raise QueryError(f"could not load snapshot {snap.jobs_path.name}: {e}") from e
        finally:
            cur.close()
        ms = (time.perf_counter() - t0) * 1000
        log.info("loaded snapshot %s (%d rows) in %.0f ms", snap.version, snap.rows, ms)
        return _Loaded(snap, table, types, ms)

    def _drop(self, old: _Loaded) -> None:
        cur = self._con.cursor()
        try:
            cur.execute(f"DROP TABLE IF EXISTS {old.table}")
            for typ in old.types:
                cur.execute(f"DROP TYPE IF EXISTS {typ}")
        except duckdb.Error as e:  # a leftover costs memory, not correctness
            log.warning("could not drop %s: %s", old.table, e)
        finally:
            cur.close()

    def close(self) -> None:
        if self._index is not None and self._index.bitmaps is not None:
            self._index.bitmaps.close()
        self._counter.shutdown(wait=True)
        self._con.close()

    def forget_search_words(self) -> None:
        """Drop the description words' bitmaps (a benchmark's "first search of these words")."""
        if self._index is not None and self._index.bitmaps is not None:
            self._index.bitmaps.forget()

    def search_settled(self, timeout: float) -> bool:
        """Wait until the description searches' bitmaps are built, as a user's next search finds them (for
        benchmarks and tests); False on timeout."""
        bitmaps = self._index.bitmaps if self._index is not None else None
        return bitmaps is None or bitmaps.idle(timeout)

    # --- user data mirror -----------------------------------------------------------------------------

    def _reload_users(self) -> None:
        with self._user_lock:
            rev = self._users.revision()  # read before the rows: a write in between only causes a reload
            rows = self._users.table()
            cur = self._con.cursor()
            try:
                cur.register("user_rows", rows)
                cur.execute(
                    f"CREATE OR REPLACE TABLE {query.MIRROR} AS"
                    " SELECT *, coalesce(list_position(?, stage), 1) - 1 AS stage_rank FROM user_rows",
                    [list(schema.STAGES)],
                )
                cur.register("unseen_rows", self._watches.unseen_table())  # watches' unseen matches
                cur.execute(f"CREATE OR REPLACE TABLE {query.WATCH_UNSEEN} AS SELECT * FROM unseen_rows")
            finally:
                cur.close()
            self._user_rev = rev

    def _sync_users(self) -> None:
        if self._users.revision() != self._user_rev:
            self._reload_users()

    def set_user(self, job_id: str, **fields: Any) -> None:
        """Write through UserData (validation, stage history, revision) and update the mirror now."""
        self._require_jobs([job_id])
        self._users.set(job_id, **fields)
        self._reload_users()

    def set_user_bulk(self, job_ids: Sequence[str], **fields: Any) -> int:
        if isinstance(job_ids, str):
            raise QueryError("set_user_bulk takes a list of job ids, not one string")
        self._require_jobs(list(job_ids))
        written = self._users.set_bulk(job_ids, **fields)
        self._reload_users()
        return written

    def _require_jobs(self, job_ids: list[str]) -> None:
        """NotFound for ids that are not in the loaded catalog (typos in the CLI fail loudly)."""
        if self._state is None or not job_ids:
            return
        for j in job_ids:
            if not isinstance(j, str):
                raise QueryError(f"job_id: expected text, got {type(j).__name__}")

        def known(cur: duckdb.DuckDBPyConnection, table: str) -> set[str]:
            rows = cur.execute(
                f"SELECT job_id FROM {table} WHERE job_id IN (SELECT unnest(?::VARCHAR[]))", [job_ids]
            ).fetchall()
            return {r[0] for r in rows}

        found = self._run(known, refresh=False) or set()
        missing = [j for j in job_ids if j not in found]
        if missing:
            raise NotFound(
                f"no job {missing[0]!r} in the catalog"
                + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
            )

    # --- running queries ------------------------------------------------------------------------------

    def _search_index(self) -> DescriptionIndex:
        """The description index, opened on first use; raises while it is being rebuilt (never "0 matches")."""
        if self._index is None:
            self._index = DescriptionIndex(self.settings.search_path, bitmaps=self.search_bitmaps)
        if self._index.migrated is not None:  # emptied for a new schema, not yet rebuilt
            raise StorageError(
                "the search index is being rebuilt for this version of jobdash: description search works again"
                " once the next sync has indexed the snapshot (`python -m core sync`)",
                path=self._index.dir,
                code="INDEX_REBUILDING",
            )
        return self._index

    def _description_matches(self, flt: JobFilter, sort: Sort | None = None) -> pa.Table | None:
        if not flt.desc.strip():
            return None
        index = self._search_index()
        t0 = time.perf_counter()
        if sort is not None and sort.column == query.RELEVANCE:
            table = index.match_scores(flt.desc)  # (fts_id, score): the page orders by the score
        else:
            table = pa.table({"fts_id": index.match_ids(flt.desc)})
        metrics.record_query(
            "desc_search", (time.perf_counter() - t0) * 1000, table.num_rows, self.version, "tantivy ?", [flt.desc]
        )
        return table

    @staticmethod
    def snippet(description: str, desc: str) -> str:
        """``description`` (the text ``job()`` returned) around the words the search ``desc`` asks for, each
        marked «so» (plain text)."""
        return search.snippet(description, desc) if desc.strip() else ""

    def _run(
        self,
        work: Callable[[duckdb.DuckDBPyConnection, str], T],
        matches: pa.Table | None = None,
        *,
        refresh: bool = True,
        kind: str = "other",
        shape: tuple[str, Sequence[Any]] = ("", ()),
    ) -> T | None:
        """Run ``work(cursor, table)`` on a fresh cursor against the current table; None without a snapshot.

        Every run is timed into core.metrics under ``kind`` with the builder's SQL as its shape."""
        if refresh:
            self.refresh(wait=False)
            self._sync_users()
        for _attempt in range(3):
            st = self._state
            if st is None:
                return None
            cur = self._con.cursor()
            try:
                if matches is not None:
                    cur.register(query.DESC_MATCH, matches)
                t0 = time.perf_counter()
                result = work(cur, st.table)
                ms = (time.perf_counter() - t0) * 1000
                metrics.record_query(kind, ms, _row_count(result), st.snapshot.version, shape[0], shape[1])
                return result
            except duckdb.CatalogException as e:
                if self._state is st:
                    raise QueryError(f"catalog query failed: {e}") from e
                # swapped between reading the table name and running: run again on the new table
            except duckdb.Error as e:
                raise QueryError(f"catalog query failed: {e}") from e
            finally:
                cur.close()
        raise QueryError("catalog query failed: the snapshot kept changing; try again")

    # --- queries --------------------------------------------------------------------------------------

    def page(
        self,
        flt: JobFilter,
        sort: Sort = DEFAULT_SORT,
        cursor: tuple[Any, ...] | None = None,
        direction: str = "next",
        limit: int = 100,
    ) -> Page:
        """One page of the filtered set in sort order, with the exact total and keyset cursors.

        Pages are kept per loaded table and user-data revision (a small LRU): a prefetched or precomputed page
        is answered without a query. A description search is never kept (its index changes on its own)."""
        t0 = time.perf_counter()
        shape = query.build_page(flt, sort, cursor, direction, limit)  # validates before anything runs
        self.refresh(wait=False)
        self._sync_users()
        key = self._page_key(flt, sort, cursor, direction, limit)
        if key is not None:
            with self._pages_lock:
                hit = self._pages.get(key)
                if hit is not None:
                    self._pages.move_to_end(key)
            if hit is not None:
                ms = (time.perf_counter() - t0) * 1000
                return Page(hit.rows, hit.total, hit.has_next, hit.has_prev, hit.first_key, hit.last_key, ms)
        out = self._page(flt, sort, cursor, direction, limit, shape, t0)
        if key is not None and self._state is not None and key[0] == self._state.table:
            with self._pages_lock:
                self._pages[key] = out
                while len(self._pages) > PAGE_CACHE_ENTRIES:
                    self._pages.popitem(last=False)
        return out

    def _page_key(
        self, flt: JobFilter, sort: Sort, cursor: tuple[Any, ...] | None, direction: str, limit: int
    ) -> tuple[Any, ...] | None:
        st = self._state
        if st is None or flt.desc.strip():
            return None
        key = (st.table, self._user_rev, flt, sort, cursor, direction, limit)
        try:
            hash(key)
        except TypeError:
            return None
        return key

    def prefetch(
        self, flt: JobFilter, sort: Sort, cursor: tuple[Any, ...] | None, direction: str, limit: int
    ) -> threading.Thread | None:
        """Compute a page in a background thread (the next page while the user looks at this one)."""
        key = self._page_key(flt, sort, cursor, direction, limit)
        if key is None:
            return None
        with self._pages_lock:
            if key in self._pages:
                return None

        def work() -> None:
            try:
                self.page(flt, sort, cursor, direction, limit)
            except JobdashError as e:
                log.debug("prefetch failed: %s", e)

        t = threading.Thread(target=work, name="jobdash-prefetch", daemon=True)
        t.start()
        return t

    def _page(
        self,
        flt: JobFilter,
        sort: Sort,
        cursor: tuple[Any, ...] | None,
        direction: str,
        limit: int,
        shape: tuple[str, Sequence[Any]],
        t0: float,
    ) -> Page:
        def fetch(rows_of: pa.Table | None, count_of: pa.Table | None) -> tuple[pa.Table, int] | None:
            """The page's rows among the matches ``rows_of``, and its total over ``count_of``."""

            def work(cur: duckdb.DuckDBPyConnection, table: str) -> tuple[pa.Table, int]:
                sql, params = query.build_page(flt, sort, cursor, direction, limit, table=table)
                total = self._count_aside(table, flt, count_of)  # the two queries run at once, on two cores
                rows = _arrow(cur, sql, params)
                return rows, total.result()

            return self._run(work, rows_of, kind="page", shape=shape)

        if sort.column == query.RELEVANCE and sort.desc and flt.desc.strip() and not flt.collapse_dups:
            result = self._best_matches_page(flt, fetch, cursor, direction, limit)
        else:
            matches = self._description_matches(flt, sort)
            result = fetch(matches, matches)
        if result is None:
            return Page(PAGE_SCHEMA.empty_table(), 0, False, False, None, None, (time.perf_counter() - t0) * 1000)
        rows, total = result
        more = rows.num_rows > limit
        if direction == "next":
            rows = rows.slice(0, limit)
            has_next, has_prev = more, cursor is not None
        else:
            rows = rows.slice(rows.num_rows - min(limit, rows.num_rows))
            has_next, has_prev = cursor is not None, more
        first_key = last_key = None
        if rows.num_rows:
            keys, ids = rows.column(query.SORT_KEY), rows.column("job_id")
            first_key = (keys[0].as_py(), ids[0].as_py())
            last_key = (keys[-1].as_py(), ids[-1].as_py())
        rows = rows.drop_columns([query.SORT_KEY])
        return Page(rows, total, has_next, has_prev, first_key, last_key, (time.perf_counter() - t0) * 1000)

    def _best_matches_page(
        self,
        flt: JobFilter,
        fetch: Callable[[pa.Table | None, pa.Table | None], tuple[pa.Table, int] | None],
        cursor: tuple[Any, ...] | None,
        direction: str,
        limit: int,
    ) -> tuple[pa.Table, int] | None:
        """A "best match" page from the best-scored matches only, as many as it takes: the page is exact once
        it ends above the lowest score taken (every match left out scores lower) or every match is taken.
        Four times more each round; the count is over every match, beside it (collapsed duplicates pick
        their best row among all matches, so they take the full path)."""
        every = self._description_matches(flt)  # every match's id, timed like any description search
        index = self._search_index()
        k = BEST_FIRST_K
        while True:
            top, hits = index.top_scores(flt.desc, k)
            floor = top.column("score")[-1].as_py() if top.num_rows else 0.0
            result = fetch(top, every)
            if result is None or top.num_rows >= hits:
                return result
            keys = result[0].column(query.SORT_KEY)
            # Going back, the rows above the cursor are all taken once the cursor scores above the floor.
            edge = cursor[0] if direction != "next" and cursor is not None else (keys[-1].as_py() if keys else None)
            if (direction != "next" or len(keys) > limit) and edge is not None and edge > floor:
                return result
            k *= 4

    def count(self, flt: JobFilter) -> int:
        query.validate(flt)
        matches = self._description_matches(flt)
        shape = query.build_count(flt)
        return self._run(lambda cur, table: self._count_on(cur, table, flt), matches, kind="count", shape=shape) or 0

    def _count_aside(self, table: str, flt: JobFilter, matches: pa.Table | None) -> Future[int]:
        """``_count_on`` in the count thread, on a cursor of its own (a page's count beside its rows)."""

        def run() -> int:
            cur = self._con.cursor()
            try:
                if matches is not None:
                    cur.register(query.DESC_MATCH, matches)
                return self._count_on(cur, table, flt)
            finally:
                cur.close()

        return self._counter.submit(run)

    def _count_on(self, cur: duckdb.DuckDBPyConnection, table: str, flt: JobFilter) -> int:
        # The FTS index generation is part of the key: a description search sees index updates at once.
        generation = self._index.generation() if flt.desc.strip() and self._index is not None else None
        key: tuple[str, int | None, int | None, JobFilter] | None = (table, self._user_rev, generation, flt)
        try:
            hash(key)
        except TypeError:  # lists instead of tuples in the filter: count without the cache
            key = None
        if key is not None:
            with self._counts_lock:
                if key in self._counts:
                    self._counts.move_to_end(key)
                    return self._counts[key]
        (n,) = cur.execute(*query.build_count(flt, table=table)).fetchone() or (0,)
        if key is not None:
            with self._counts_lock:
                self._counts[key] = int(n)
                while len(self._counts) > 256:
                    self._counts.popitem(last=False)
        return int(n)

    def facet(self, flt: JobFilter, name: str, top: int = 20) -> list[tuple[str, int]]:
        """Most frequent values of ``name`` in the filtered set (blanks left out), ties by value."""
        shape = query.build_facet(flt, name, top)
        matches = self._description_matches(flt)

        def work(cur: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, int]]:
            rows = cur.execute(*query.build_facet(flt, name, top, table=table)).fetchall()
            return [(str(v), int(n)) for v, n in rows]

        return self._run(work, matches, kind="facet", shape=shape) or []

    def timeseries(self, flt: JobFilter, by: str = "first_seen_at", bucket: str = "day") -> list[tuple[date, int]]:
        shape = query.build_timeseries(flt, by, bucket)
        matches = self._description_matches(flt)

        def work(cur: duckdb.DuckDBPyConnection, table: str) -> list[tuple[date, int]]:
            rows = cur.execute(*query.build_timeseries(flt, by, bucket, table=table)).fetchall()
            return [(d, int(n)) for d, n in rows]

        return self._run(work, matches, kind="timeseries", shape=shape) or []

    def salary_distribution(self, flt: JobFilter, bins: int = 30) -> list[dict[str, Any]]:
        """Per currency histogram of annualized midpoints: {currency, bin, bin_start, bin_end, count}."""
        shape = query.build_salary_distribution(flt, bins)
        matches = self._description_matches(flt)

        def work(cur: duckdb.DuckDBPyConnection, table: str) -> list[dict[str, Any]]:
            res = cur.execute(*query.build_salary_distribution(flt, bins, table=table))
            names = [d[0] for d in res.description or []]
            return [dict(zip(names, r, strict=True)) for r in res.fetchall()]

        return self._run(work, matches, kind="salary", shape=shape) or []

    def rows(self, flt: JobFilter, sort: Sort = DEFAULT_SORT, limit: int | None = None) -> list[dict[str, Any]]:
        """Plain JSON-ready dicts (dates and times as ISO text): catalog columns + user fields."""
        shape = query.build_page(flt, sort, None, "next", limit, with_key=False)
        matches = self._description_matches(flt, sort)

        def work(cur: duckdb.DuckDBPyConnection, table: str) -> list[dict[str, Any]]:
            sql, params = query.build_page(flt, sort, None, "next", limit, table=table, with_key=False)
            return [_plain(r) for r in _arrow(cur, sql, params).to_pylist()]

        return self._run(work, matches, kind="rows", shape=shape) or []

    def job(self, job_id: str) -> dict[str, Any]:
        """All columns, the description, the user data and the other postings of its duplicate group."""

        def work(cur: duckdb.DuckDBPyConnection, table: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
            rows = _arrow(cur, *query.build_job(job_id, table=table)).to_pylist()
            dups = _arrow(cur, *query.build_duplicates(job_id, table=table)).to_pylist()
            return (rows[0] if rows else None), dups

        result = self._run(work, kind="job", shape=query.build_job(job_id))
        if result is None or result[0] is None:
            raise NotFound(f"no job {job_id!r} in the catalog")
        row, dups = result
        assert row is not None
        desc_file = row.pop(schema.DESC_FILE)
        try:  # one small row group of the segment (~3 ms; see snapshots.DESC_ROW_GROUP_ROWS)
            texts = snapshots.read_descriptions(self.settings.snapshots_dir, [(job_id, desc_file)] if desc_file else [])
        except (pa.ArrowException, OSError) as e:  # a truncated or missing description segment
            path = self.settings.snapshots_dir / str(desc_file)
            raise StorageError(
                f"{path.name}: cannot read the description ({e}); the snapshot file is damaged or missing ({path})",
                path=path,
                detail=str(e),
            ) from e
        out = _plain(row)
        out["description"] = texts.get(job_id, "")
        out["duplicates"] = dups
        return out

    def export_csv(self, flt: JobFilter, sort: Sort, path: Path) -> int:
        """Write the filtered set (catalog + user columns, with a header) to ``path``; returns the row count.

        Written to a temp name next to ``path`` and moved into place, so a reader never sees half a file."""
        shape = query.build_page(flt, sort, None, "next", None, with_key=False)
        path = Path(path)
        if not path.parent.is_dir():
            raise QueryError(f"export: folder {path.parent} does not exist")
        if path.is_dir():
            raise QueryError(f"export: {path} is a folder")
        matches = self._description_matches(flt, sort)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")

        def work(cur: duckdb.DuckDBPyConnection, table: str) -> int:
            sql, params = query.build_page(flt, sort, None, "next", None, table=table, with_key=False)
            cur.execute(f"SELECT * FROM ({sql}) LIMIT 0", params)
            cols = [(str(d[0]), str(d[1])) for d in cur.description or []]
            safe = ", ".join(_csv_safe(name) if typ == "VARCHAR" else _ident(name) for name, typ in cols)
            res = cur.execute(f"COPY (SELECT {safe} FROM ({sql})) TO ? (HEADER)", [*params, str(tmp)]).fetchone()
            return int(res[0]) if res else 0

        try:
            written = self._run(work, matches, kind="export", shape=shape)
            if written is None:  # no snapshot yet: an empty file with the header
                header = ",".join([*query.OUTPUT_COLUMNS, *query.USER_OUTPUT])
                tmp.write_text(header + "\n", encoding="utf-8")
                written = 0
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return written
