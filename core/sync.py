# ruff: noqa: S608  -- identifiers come from core.schema (quoted) and module constants; values and paths are parameters.
"""The sync: fetch → normalize → hash-diff against the current snapshot → publish a new snapshot.

Every outcome is computed set-based in DuckDB over Arrow, never row by row. Per run, each job gets
exactly one outcome (DESIGN.md): new, updated, unchanged, relisted, delisted, untouched (its source
failed, so nothing of it is delisted), purged (delisted past retention and without user data).
Jobs of sources outside this run (``--source``) are carried over as they are and not counted.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import psutil
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from core import backup, lock, schema, snapshots, watches
from core.clock import iso, utcnow
from core.errors import JobdashError, StorageError, SyncBusy
from core.normalize import normalize
from core.runs import RunLog, SourceOutcome
from core.settings import Settings
from core.sources import build
from core.sources.base import FetchContext, Source, SourceConfig
from core.userdata import UserData

OUTCOMES = ("new", "updated", "unchanged", "relisted", "delisted", "untouched", "purged")
DUP_WINDOW_DAYS = 30
# Stored beside desc_file in the jobs file so unchanged rows never recompute their duplicate key.
DUP_KEY = "dup_key"
RESTORED = "restored by doctor without its descriptions"  # why a readable segment is rewritten (classify)

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class SyncResult:
    run_id: int
    status: str  # ok | partial | failed
    version: int | None
    counts: dict[str, int]
    rejected: int
    reject_reasons: dict[str, int]
    sources: tuple[SourceOutcome, ...]
    phases: dict[str, float]
    jobs_in: int
    jobs_per_s: float
    peak_rss_mb: float
    demo: bool
    collapsed: int = 0  # duplicate rows inside the batch folded into one
    error: str | None = None
    warnings: tuple[str, ...] = ()  # published, but something was repaired or left for later (said in words)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "status": self.status,
            "snapshot_version": self.version,
            "demo": self.demo,
            "counts": {**self.counts, "rejected": self.rejected},
            "reject_reasons": self.reject_reasons,
            "collapsed": self.collapsed,
            "sources": [
                {
                    "name": s.name,
                    "kind": s.kind,
                    "status": s.status,
                    "error": s.error,
                    "fetched": s.fetched,
                    "warnings": list(s.warnings),
                }  # fmt: skip
                for s in self.sources
            ],
            "phases": self.phases,
            "jobs_in": self.jobs_in,
            "jobs_per_s": self.jobs_per_s,
            "peak_rss_mb": self.peak_rss_mb,
            "error": self.error,
            "warnings": list(self.warnings),
        }


class PeakRss:
    """Samples this process's RSS in the background; the peak of a run, not of the process's life."""

    def __init__(self, interval: float = 0.05) -> None:
        self._proc = psutil.Process()
        self.peak: int = int(self._proc.memory_info().rss)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)

    def _run(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self.peak = max(self.peak, int(self._proc.memory_info().rss))

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, int(self._proc.memory_info().rss))

    @property
    def mb(self) -> float:
        return round(self.peak / 2**20, 1)


GRACE_S = 1.0  # past its deadline a fetch gets this long to stop by itself and say why (a partial, a reason)


@dataclass
class _Fetch:
    config: SourceConfig
    table: pa.Table | None = None
    partial: str | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()
    started: float = 0.0
    seconds: float = 0.0
    done: threading.Event = field(default_factory=threading.Event)
    cancel: threading.Event = field(default_factory=threading.Event)  # tells the fetch to stop now
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def finish(self, table: pa.Table | None, partial: str | None, warnings: tuple[str, ...], error: str | None) -> bool:
        """Record the outcome once: a fetch that ends after the sync gave up on it changes nothing."""
        with self._lock:
            if self.done.is_set():
                return False
            self.table, self.partial, self.warnings, self.error = table, partial, warnings, error
            self.seconds = time.perf_counter() - self.started if self.started else 0.0
            self.done.set()
            return True


def _fetch_one(src: Source, job: _Fetch, ctx: FetchContext, gate: threading.Semaphore) -> None:
    with gate:
        if job.cancel.is_set():  # the sync stopped while this source waited for its turn
            job.finish(None, None, (), "not started: the sync was stopped")
            return
        job.started = time.perf_counter()
        # Its own context: the deadline counts from its start, and the HTTP client honours it and the flag.
        own = FetchContext(
            ctx.now_iso, ctx.progress, deadline=time.monotonic() + job.config.timeout_s, cancel=job.cancel
        )
        table: pa.Table | None = None
        partial: str | None = None
        warnings: tuple[str, ...] = ()
        error: str | None = None
        try:
            out = src.fetch(own)
            # Types are conformed by normalize, which repairs a mistyped column instead of failing the source.
            table = out.table.drop_columns([c for c in ("source",) if c in out.table.column_names])
            table = table.append_column("source", pa.array([job.config.name] * table.num_rows, pa.string()))
            partial, warnings = out.partial, out.warnings
        except JobdashError as e:  # a failing source is a recorded reason, never a failed run
            error = str(e)
        except Exception as e:
            error = f"{type(e).__name__}: {e}"
        finally:
            job.finish(table, partial, (*warnings, *own.warnings), error)


def fetch_all(
    configs: Sequence[SourceConfig],
    ctx: FetchContext,
    parallel: int,
    built: dict[str, Source] | None = None,
    cancel: threading.Event | None = None,
) -> list[_Fetch]:
    """Fetch concurrently with a bound; a source past its timeout is stopped and failed.

    Each fetch gets a deadline (its ``timeout_s`` from its start) and a cancel flag in its context; the
    shared HTTP client stops at either and closes its sockets, so its thread ends within about a second.
    A source that ignores both is failed after ``GRACE_S`` more and left behind — in a daemon thread, not
    an executor, so a hung source cannot keep the process alive at exit.
    """
    gate = threading.Semaphore(parallel)
    jobs = [_Fetch(c) for c in configs]
    for job in jobs:
        try:
            src = (built or {}).get(job.config.name) or build(job.config)
        except Exception as e:
            job.finish(None, None, (), str(e))
            continue
        threading.Thread(
            target=_fetch_one, args=(src, job, ctx, gate), daemon=True, name=f"fetch-{job.config.name}"
        ).start()
    try:
        for n, job in enumerate(jobs, 1):
            # The timeout counts from when the source started, not from when it queued behind the gate.
            while not job.done.wait(0.05):
                if cancel is not None and cancel.is_set():
                    raise Cancelled("stopped while fetching")
                if job.started and time.perf_counter() - job.started > job.config.timeout_s:
                    # The fetch knows its deadline and stops by itself, with its own reason; if it has not
                    # within the grace, tell it to stop now and fail it here.
                    if not job.done.wait(GRACE_S):
                        job.cancel.set()
                        job.finish(None, None, job.warnings, f"timed out after {job.config.timeout_s:g} s")
                        job.seconds = job.config.timeout_s
                    break
            rows = sum(j.table.num_rows for j in jobs[:n] if j.table is not None)
            ctx.progress(n / len(jobs), f"fetched {n}/{len(jobs)} sources, {rows:,} jobs")
    except BaseException:
        for job in jobs:  # cancelled (or a progress callback raised): no fetch goes on in the background
            job.cancel.set()
        raise
    return jobs


def _content_hash_sql() -> str:
    parts = ", ".join(f"coalesce(CAST({schema.quote(c)} AS VARCHAR), '')" for c in schema.CONTENT_COLUMNS)
    return f"md5(concat_ws(chr(31), {parts}))"


def _dup_key_sql(alias: str) -> str:
    """Same posting on several boards: normalized company + title + place."""
    company = (
        f"regexp_replace(regexp_replace(lower(coalesce({alias}.company, '')),"
        r" '\b(inc|llc|ltd|gmbh|corp|corporation|co|plc|sa|ag|bv)\b\.?', '', 'g'), '[^a-z0-9]+', '', 'g')"
    )
    title = f"regexp_replace(lower(coalesce({alias}.title, '')), '[^a-z0-9]+', '', 'g')"
    place = f"lower(coalesce({alias}.city, CASE WHEN {alias}.is_remote THEN 'remote' END, {alias}.country, {alias}.location, ''))"
    return f"md5({company} || '|' || {title} || '|' || {place})"


class _Engine:
    """One sync's DuckDB session: registers the batch, computes outcomes, writes files."""

    def __init__(self, settings: Settings, now: datetime) -> None:
        self.settings = settings
        self.now = now
        tmp = settings.data_dir / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        config: dict[str, str | bool | int | float | list[str]] = {
            "memory_limit": settings.memory_limit,
            "threads": 2,
            "preserve_insertion_order": False,
            "temp_directory": str(tmp),
        }
        self.con = duckdb.connect(":memory:", config=config)
        self.damaged: dict[str, str] = {}  # description segments of the previous snapshot that cannot be read

    def close(self) -> None:
        self.con.close()

    def load_batch(self, batch: pa.Table) -> int:
        """Hash content, collapse duplicates inside the batch (last one wins); returns rows collapsed."""
        if pc.count_distinct(batch.column("job_id"), mode="all").as_py() == batch.num_rows:
            # No repeated id (the usual batch): no collapsing window, and no copy either: ``classify`` reads
            # the batch's Arrow buffers through a view (registered for the engine's life).
            self.con.register("batch_rows", batch)
            self.con.execute(f"CREATE VIEW inc AS SELECT *, {_content_hash_sql()} AS content_hash FROM batch_rows")
            return 0
        # An explicit ordinal: with preserve_insertion_order off, row_number() OVER () has no order.
        ordinal = pa.array(np.arange(batch.num_rows, dtype=np.int64))
        self.con.register("batch_in", batch.append_column("_ord", ordinal))
        self.con.execute(
            f"""
            CREATE TABLE inc AS
            SELECT * EXCLUDE (_ord), {_content_hash_sql()} AS content_hash FROM batch_in
            QUALIFY row_number() OVER (PARTITION BY job_id ORDER BY _ord DESC) = 1
            """
        )
        self.con.unregister("batch_in")
        n = _scalar(self.con, "SELECT count(*) FROM inc")
        return int(batch.num_rows) - int(n)

    def load_previous(self, snap: snapshots.Snapshot | None) -> None:
        if snap is None:
            cols = ", ".join(f"NULL::{c.sql} AS {schema.quote(c.name)}" for c in schema.COLUMNS if c.hot)
            self.con.execute(
                f"CREATE VIEW prev AS SELECT {cols}, NULL::VARCHAR AS desc_file, NULL::VARCHAR AS {DUP_KEY} WHERE false"
            )
        else:
            # Snapshots written before the key was stored get it computed once, in assign_dup_groups.
            prev = self.con.read_parquet(str(snap.jobs_path))
            stored = pq.read_schema(snap.jobs_path).names
            if DUP_KEY not in stored:
                prev = prev.select(f"*, NULL::VARCHAR AS {DUP_KEY}")
            added = [c for c in schema.COLUMNS if c.hot and c.name not in stored]  # columns newer than the file
            if added:
                prev = prev.select("*, " + ", ".join(f"NULL::{c.sql} AS {schema.quote(c.name)}" for c in added))
            prev.create_view("prev")
        self.damaged = self._damaged_segments()

    def _damaged_segments(self) -> dict[str, str]:
        """The description segments the previous snapshot points at that cannot be read (footer unreadable:
        truncated, garbled or missing) or that doctor restored without their descriptions, with why.
        ``classify`` rewrites the descriptions of the jobs this run sees again that point at one of them into
        this run's segment, so a damaged folder heals by syncing."""
        rows = self.con.execute("SELECT DISTINCT desc_file FROM prev WHERE desc_file IS NOT NULL").fetchall()
        damaged: dict[str, str] = {}
        for (name,) in rows:
            try:
                if snapshots.restored_without_descriptions(self.settings.snapshots_dir / str(name)):
                    damaged[str(name)] = RESTORED
            except (OSError, pa.ArrowException) as e:
                damaged[str(name)] = str(e) or type(e).__name__
        self.con.register("damaged_seg_in", pa.table({"name": pa.array(sorted(damaged), pa.string())}))
        self.con.execute("CREATE OR REPLACE TABLE damaged_seg AS SELECT name FROM damaged_seg_in")
        self.con.unregister("damaged_seg_in")
        return damaged

    def healed(self) -> list[str]:
        """What ``classify`` did about damaged segments, in words (for the run's warnings)."""
        notes = []
        for name, why in sorted(self.damaged.items()):
            healed, left = self.con.execute(
                "SELECT count(*) FILTER (WHERE m.desc_file IS DISTINCT FROM $1), count(*) FILTER (WHERE m.desc_file = $1)"
                " FROM merged m JOIN prev p USING (job_id) WHERE p.desc_file = $1 AND m.outcome <> 'purged'",
                [name],
            ).fetchall()[0]
            if why == RESTORED:
                if healed:  # the jobs not seen again keep no description: said once by doctor, not every run
                    notes.append(f"description segment {name} ({why}): {healed:,} descriptions written again")
                continue
            rest = f"; {left:,} not seen this run still point at it (`doctor --repair` restores them)" if left else ""
            notes.append(
                f"description segment {name} is damaged ({why}): {healed:,} descriptions rewritten from this"
                f" run's postings{rest}"
            )
        return notes

    def classify(
        self, ok_sources: Sequence[str], held_sources: Sequence[str], protected: Sequence[str], desc_file: str
    ) -> dict[str, int]:
        """Compute the merged catalog with one outcome per job. ``ok_sources`` succeeded (their missing jobs
        are delisted); ``held_sources`` failed or were partial (their missing jobs are untouched)."""
        for name, values in (("ok_src", ok_sources), ("held_src", held_sources), ("protected", protected)):
            self.con.register(f"{name}_in", pa.table({"v": pa.array(list(values), pa.string())}))
            self.con.execute(f"CREATE TABLE {name} AS SELECT DISTINCT v AS name FROM {name}_in")
        cutoff = self.now - timedelta(days=self.settings.purge_after_days)

        # One FULL OUTER JOIN: the inner select decides the outcome, the outer one picks each value by it.
        hot = [c.name for c in schema.COLUMNS if c.hot]
        incoming = {*schema.NORMALIZED_COLUMNS, "content_hash"}
        inner = ", ".join(
            [f"p.{schema.quote(c)} AS p_{c}" for c in hot]
            + [f"i.{schema.quote(c)} AS i_{c}" for c in hot if c in incoming]
        )
        pick = []
        for c in hot:
            if c in schema.SYNC_COLUMNS or c == "posted_at":
                continue
            if c in ("job_id", "source", "native_id"):
                pick.append(f"coalesce(i_{c}, p_{c}) AS {schema.quote(c)}")
            else:
                # Updated: scraped fields replaced, but a richer stored value is never overwritten by an empty one.
                pick.append(f"CASE WHEN fresh THEN coalesce(i_{c}, p_{c}) ELSE p_{c} END AS {schema.quote(c)}")
        seen = "i_job_id IS NOT NULL"
        changed = f"({seen} AND (p_job_id IS NULL OR i_content_hash <> p_content_hash))"
        # A job seen again whose stored description is in a damaged segment gets it rewritten from the posting
        # (into this run's segment); it is not "changed" for that (changed_at and the outcome stay).
        rewrite = (
            f"({changed} OR ({seen} AND p_desc_file IN (SELECT name FROM damaged_seg)))" if self.damaged else changed
        )
        self.con.execute(
            f"""
            CREATE TABLE merged AS
            SELECT outcome, {", ".join(pick)},
                CASE WHEN {seen} THEN coalesce(i_posted_at, p_posted_at) ELSE p_posted_at END AS posted_at,
                coalesce(p_first_seen_at, ?::TIMESTAMP) AS first_seen_at,
                CASE WHEN {seen} THEN ?::TIMESTAMP ELSE p_last_seen_at END AS last_seen_at,
                CASE WHEN {changed} THEN ?::TIMESTAMP ELSE p_changed_at END AS changed_at,
                CASE WHEN outcome = 'delisted' THEN ?::TIMESTAMP WHEN {seen} THEN NULL ELSE p_delisted_at END
                    AS delisted_at,
                CASE WHEN {seen} THEN i_content_hash ELSE p_content_hash END AS content_hash,
                CASE WHEN {rewrite} AND i_description IS NOT NULL THEN ? ELSE p_desc_file END AS desc_file,
                CASE WHEN {rewrite} AND i_description IS NOT NULL THEN i_description END AS new_description,
                CASE WHEN fresh THEN NULL ELSE p_{DUP_KEY} END AS {DUP_KEY},
                CASE WHEN fresh THEN p_{DUP_KEY} END AS prev_{DUP_KEY}, p_dup_group AS prev_dup_group
            FROM (
                SELECT *, outcome IN ('new', 'updated', 'relisted') AS fresh FROM (
                    SELECT {inner}, i.description AS i_description, p.desc_file AS p_desc_file,
                        p.{DUP_KEY} AS p_{DUP_KEY},
                        CASE
                            WHEN p.job_id IS NULL THEN 'new'
                            WHEN i.job_id IS NOT NULL AND p.delisted_at IS NOT NULL THEN 'relisted'
                            WHEN i.job_id IS NOT NULL AND i.content_hash <> p.content_hash THEN 'updated'
                            WHEN i.job_id IS NOT NULL THEN 'unchanged'
                            WHEN p.delisted_at IS NULL AND p.source IN (SELECT name FROM ok_src) THEN 'delisted'
                            WHEN p.delisted_at IS NULL AND p.source IN (SELECT name FROM held_src) THEN 'untouched'
                            WHEN p.delisted_at IS NOT NULL AND p.delisted_at < ?
                                 AND p.job_id NOT IN (SELECT name FROM protected) THEN 'purged'
                            ELSE 'carried'
                        END AS outcome
                    FROM inc i FULL OUTER JOIN prev p ON i.job_id = p.job_id
                )
            )
            """,
            [self.now, self.now, self.now, self.now, desc_file, cutoff],
        )
        rows = self.con.execute("SELECT outcome, count(*) FROM merged GROUP BY outcome").fetchall()
        found = {str(k): int(v) for k, v in rows}
        return {k: found.get(k, 0) for k in OUTCOMES}

    def assign_dup_groups(self) -> None:
        """Group the same posting across boards: same key, posted within DUP_WINDOW_DAYS of the previous one.

        Only the keys this run touched are regrouped: those of the jobs it saw (old and new key) or purged.
        Every other key has the same rows with the same times as in the previous snapshot, so its stored
        groups are what regrouping would give (``write_jobs`` keeps them). A previous snapshot with a row
        lacking its stored key or group (written before they were stored) is regrouped whole."""
        seen = "outcome IN ('new', 'updated', 'unchanged', 'relisted')"
        whole = _scalar(
            self.con,
            f"SELECT count(*) FROM merged WHERE outcome <> 'new'"
            f" AND (coalesce({DUP_KEY}, prev_{DUP_KEY}) IS NULL OR prev_dup_group IS NULL)",
        )
        touched = (
            "TRUE"
            if whole
            else f"""k IN (
                SELECT k FROM keyed WHERE {seen}
                UNION ALL SELECT prev_{DUP_KEY} FROM merged WHERE prev_{DUP_KEY} IS NOT NULL
                UNION ALL SELECT {DUP_KEY} FROM merged WHERE outcome = 'purged' AND {DUP_KEY} IS NOT NULL
            )"""
        )
        self.con.execute(
            f"""
            CREATE TABLE dups AS
            WITH keyed AS (
                SELECT job_id, outcome, coalesce({DUP_KEY}, {_dup_key_sql("m")}) AS k,
                    coalesce(posted_at, first_seen_at) AS t
                FROM merged m WHERE outcome <> 'purged'
            ), k AS (
                SELECT job_id, k, t FROM keyed WHERE {touched}
            ), s AS (
                SELECT job_id, k, t,
                    CASE WHEN t - lag(t) OVER (PARTITION BY k ORDER BY t, job_id) <= INTERVAL {DUP_WINDOW_DAYS} DAY
                         THEN 0 ELSE 1 END AS starts
                FROM k
            )
            SELECT job_id, k AS {DUP_KEY},
                substr(k, 1, 12) || '-' || sum(starts) OVER (PARTITION BY k ORDER BY t, job_id) AS dup_group
            FROM s
            """
        )

    def write_descriptions(self, path: Path) -> int:
        n = _scalar(self.con, "SELECT count(*) FROM merged WHERE new_description IS NOT NULL")
        if n:
            _copy_parquet(
                self.con,
                "SELECT job_id, content_hash, title, company, new_description AS description FROM merged"
                " WHERE new_description IS NOT NULL ORDER BY job_id",
                path,
                # Small groups in job_id order: the detail panel's lookup of one job reads one group (snapshots).
                row_group_size=snapshots.DESC_ROW_GROUP_ROWS,
            )
        return int(n)

    def write_jobs(self, path: Path) -> int:
        # A job of a key this run did not touch keeps its stored group and key (see assign_dup_groups).
        group = "coalesce(d.dup_group, m.prev_dup_group) AS dup_group"
        cols = ", ".join(group if c == "dup_group" else f"m.{schema.quote(c)}" for c in schema.HOT_COLUMNS)
        _copy_parquet(
            self.con,
            f"SELECT {cols}, m.desc_file, coalesce(d.{DUP_KEY}, m.{DUP_KEY}) AS {DUP_KEY}"
            " FROM merged m LEFT JOIN dups d USING (job_id)"
            " WHERE m.outcome <> 'purged'",
            path,
            # Rewritten every run, so fast beats small; no ORDER BY: the catalog sorts on load (5.5 s → 1.5 s at 1M).
            compression="snappy",
        )
        n = _scalar(self.con, "SELECT count(*) FROM merged WHERE outcome <> 'purged'")
        return int(n)

    def listed_sources(self) -> set[str]:
        rows = self.con.execute(
            "SELECT DISTINCT source FROM merged WHERE outcome <> 'purged' AND delisted_at IS NULL"
        ).fetchall()
        return {str(r[0]) for r in rows}

    def keep(self, job_ids: Sequence[str]) -> None:
        """Take back the purge of these jobs (they got user data during the run): carried over as delisted."""
        self.con.execute(
            "UPDATE merged SET outcome = 'carried' WHERE outcome = 'purged' AND list_contains(?, job_id)",
            [list(job_ids)],
        )
        self.con.execute("DROP TABLE dups")
        self.assign_dup_groups()

    def purged_ids(self) -> list[str]:
        return [r[0] for r in self.con.execute("SELECT job_id FROM merged WHERE outcome = 'purged'").fetchall()]


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    # fetchall, not fetchone: DuckDB 2 refuses new work on a connection with an unfinished result.
    rows = con.execute(sql).fetchall()
    return int(rows[0][0]) if rows else 0


def _copy_parquet(
    con: duckdb.DuckDBPyConnection, select: str, final: Path, compression: str = "zstd", row_group_size: int = 122880
) -> None:
    tmp = final.with_name(f".{final.name}.tmp")
    try:
        con.sql(select).write_parquet(str(tmp), compression=compression, row_group_size=row_group_size)
        snapshots.fsync_replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full or read-only disk leaves nothing half-written behind
        raise


@contextmanager
def _user_data(settings: Settings) -> Iterator[UserData]:
    users = UserData(settings.db_path)
    try:
        yield users
    finally:
        users.close()


def _protected_ids(settings: Settings) -> list[str]:
    """Jobs with any user data (stars, stage or its history, notes, follow-ups): never purged."""
    with _user_data(settings) as users:
        return users.ids_with_data()


INDEX_BATCH = 5000  # rows per index transaction: a stop request waits for one batch at most


class _IndexAhead:
    """Index this run's new description segment while the jobs file is written and published (a thread;
    DuckDB's write and tantivy's indexing threads release the GIL). Nothing is committed here: the commit
    waits until the snapshot is published, so the published snapshot and its index land together, and a
    kill before it leaves the index as it was (the next run's catch-up reads the segment again)."""

    def __init__(self, settings: Settings, name: str, cancel: threading.Event | None) -> None:
        self.name = name
        self.index: Any = None
        self.error: BaseException | None = None
        self.seconds = 0.0  # how long the thread indexed (beside the write and the publish)
        self._thread = threading.Thread(target=self._run, args=(settings, cancel), name="index-ahead", daemon=True)
        self._thread.start()

    def _run(self, settings: Settings, cancel: threading.Event | None) -> None:
        from core.search import DescriptionIndex

        t0 = time.perf_counter()
        try:
            self.index = DescriptionIndex(settings.search_path)
            self.index.begin()
            for part in _segment_batches(pq.ParquetFile(settings.snapshots_dir / self.name)):
                if _cancelled(cancel):
                    raise Cancelled("stopped while indexing ahead")
                self.index.update(part)
        except BaseException as e:  # the catch-up after the publish does it the ordinary way
            self.error = e
        finally:
            self.seconds = time.perf_counter() - t0

    def take(self) -> Any:
        """The index with the segment's documents pending in its writer, or None (then it was let go)."""
        self._thread.join()
        if self.error is None and self.index is not None:
            return self.index
        self.abandon()
        return None

    def abandon(self) -> None:
        self._thread.join()
        if self.index is not None:
            try:
                self.index.rollback()
            finally:
                self.index.close()
            self.index = None


def _index_descriptions(
    settings: Settings, purged: list[str], cancel: threading.Event | None = None, ahead: _IndexAhead | None = None
) -> list[str]:
    """Bring the FTS index up to the published snapshot and say what was repaired on the way.

    Every description segment not yet indexed (this run's, or one a crash left behind) is streamed in
    batches, checking ``cancel`` between them; documents whose job left the snapshot are deleted (derived
    from the snapshot itself, so a purge a killed run never applied is still applied); a document count that
    does not match the snapshot's descriptions re-reads their segments. A damaged index file is moved aside
    and rebuilt from the segments. Then the file is compacted (merge, incremental vacuum)."""
    from core.search import DescriptionIndex

    notes: list[str] = []
    pending = ahead.take() if ahead is not None else None
    try:
        with pending if pending is not None else DescriptionIndex(settings.search_path) as index:
            notes += _catch_up(settings, index, purged, cancel, ahead.name if ahead and pending is not None else None)
    except StorageError as e:
        if not _index_damaged(e):
            raise
        aside = _move_aside(settings.search_path)
        notes.append(f"search index was damaged ({e.detail or e}); moved aside to {aside.name} and rebuilt")
        with DescriptionIndex(settings.search_path) as index:
            notes += _catch_up(settings, index, purged, cancel)
    return notes


def _index_damaged(e: StorageError) -> bool:
    return e.code.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB", "INDEX_CORRUPT", "INDEX_MISSING")) or (
        e.detail.startswith("no such table")
    )


def _move_aside(path: Path) -> Path:
    """Rename a damaged search index (the state file, its WAL/shm and the tantivy directory beside it) to
    ``<name>.damaged-<time>``, never delete it. Returns the state file's new name."""
    from core.search import index_dir

    stamp = utcnow().strftime("%Y%m%dT%H%M%S")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        src = path.with_name(path.name + suffix)
        if src.exists():
            src.replace(aside.with_name(aside.name + suffix))
    tree = index_dir(path)
    if tree.exists():
        tree.replace(tree.with_name(f"{tree.name}.damaged-{stamp}"))
    return aside


def _cancelled(cancel: threading.Event | None) -> bool:
    return cancel is not None and cancel.is_set()


def _catch_up(
    settings: Settings, index: Any, purged: list[str], cancel: threading.Event | None, ahead: str | None = None
) -> list[str]:
    """``ahead``: the segment whose documents are pending in ``index``'s bulk writer (``_IndexAhead``)."""
    notes: list[str] = []
    snap = snapshots.current(settings.snapshots_dir)
    if snap is None:
        if index.in_bulk:
            index.rollback()
        return notes
    referenced = snapshots.referenced_segments(snap)
    if purged:
        index.update(pa.table({"job_id": pa.array([], pa.string())}), purged)
    done = index.segments_done()
    on_disk = snapshots.desc_segments(settings.snapshots_dir)  # oldest first: a newer description wins
    todo = [n for n in on_disk if n in referenced and n not in done]
    if index.in_bulk:
        if ahead is not None and todo[-1:] == [ahead] and len(todo) == 1:
            index.commit()  # the run's documents and its purge, in one commit right after the publish
            index.mark_segment_done(ahead)
            todo = []
        else:  # older segments a crash left behind come first (a newer description wins): the ordinary way
            index.rollback()
            if purged:
                index.update(pa.table({"job_id": pa.array([], pa.string())}), purged)
    if not _index_segments(settings, index, todo, cancel, notes):
        return notes
    if (was := index.migrated) is not None:  # cleared once rebuilt: until then description searches say so
        notes.append(
            f"search index: {_MIGRATED.get(was, 'of an older jobdash')}; rebuilt from the snapshot's descriptions"
        )
        index.migration_done()
    # Documents against the snapshot: the count first (cheap), the id sets only when it differs. A purge a
    # killed run never applied leaves extra documents; a segment marked indexed may still lack some.
    con = duckdb.connect(":memory:")
    try:
        from core.search import FTS_ID_SQL

        jobs = str(snap.jobs_path)
        # The count reads one column; the ids (an md5 per row of the whole catalog) only when it differs.
        want = con.execute("SELECT count(*) FROM read_parquet(?) WHERE desc_file IS NOT NULL", [jobs]).fetchall()[0][0]
        missing: list[Any] = []
        keep: dict[str, set[int]] = {}
        if int(want) != index.count():
            con.execute(
                f"CREATE TABLE want AS SELECT {FTS_ID_SQL} AS id, desc_file FROM read_parquet(?) WHERE desc_file IS NOT NULL",
                [jobs],
            )
            con.register("idx", pa.table({"id": index.fts_ids()}))
            extra = [int(r[0]) for r in con.execute("SELECT id FROM idx ANTI JOIN want USING (id)").fetchall()]
            if extra:
                index.delete_fts_ids(extra)
                notes.append(f"search index: removed {len(extra):,} documents of jobs no longer in the catalog")
            missing = con.execute("SELECT DISTINCT desc_file FROM want ANTI JOIN idx USING (id)").fetchall()
            for (name,) in missing:  # only the rows whose description still lives there: a newer one wins
                rows = con.execute("SELECT id FROM want WHERE desc_file = ?", [name]).fetchall()
                keep[str(name)] = {int(r[0]) for r in rows}
    finally:
        con.close()
    stale = [n for n in on_disk if n in keep and n in index.segments_done()]
    if stale:  # marked indexed, yet some of their documents are not there: read them again
        index.forget_segments(stale)
        notes.append(f"search index: re-indexing {len(stale)} segment(s) whose documents were missing")
        if not _index_segments(settings, index, stale, cancel, notes, keep):
            return notes
    if not _cancelled(cancel):
        index.maintain(cancel=lambda: _cancelled(cancel))
    return notes


_MIGRATED = {2: "moved to the new engine (tantivy)", 3: "no longer stores the texts (smaller on disk)"}


def _segment_batches(reader: pq.ParquetFile) -> Iterator[pa.Table]:
    """A description segment as the index takes it, INDEX_BATCH rows at a time."""
    for batch in reader.iter_batches(batch_size=INDEX_BATCH, columns=["job_id", "title", "company", "description"]):
        yield pa.Table.from_batches([batch])


def _index_segments(
    settings: Settings,
    index: Any,
    names: Sequence[str],
    cancel: threading.Event | None,
    notes: list[str],
    keep: dict[str, set[int]] | None = None,
) -> bool:
    """Index these description segments, one commit each, and mark each done after its commit (a kill in
    between only means it is read again: an upsert by id). False when a stop request cut it short."""
    from core.search import fts_id

    for name in names:
        try:
            reader = pq.ParquetFile(settings.snapshots_dir / name)
        except (OSError, pa.ArrowException) as e:
            notes.append(f"search index: segment {name} is damaged and was skipped ({e})")
            continue
        with index.bulk():
            for part in _segment_batches(reader):
                if _cancelled(cancel):
                    notes.append("search index catch-up stopped by a stop request; the next run finishes it")
                    return False
                if keep is not None and name in keep:
                    mask = [fts_id(str(j)) in keep[name] for j in part.column("job_id").to_pylist()]
                    part = part.filter(pa.array(mask, pa.bool_()))
                index.update(part)
        index.mark_segment_done(name)
    return True


def run_sync(
    settings: Settings,
    *,
    trigger: str = "cli",
    only: str | Sequence[str] | None = None,
    now: datetime | None = None,
    sources: Sequence[Source] | None = None,
    on_progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> SyncResult:
    """One sync under the cross-process lock. Raises SyncBusy (and records a refused run) if one is running."""
    settings.ensure_dirs()
    log = RunLog(settings.db_path)
    try:
        try:
            with lock.sync_lock(settings.lock_path, trigger):
                return _run_locked(settings, log, trigger, only, now or utcnow(), sources, on_progress, cancel)
        except SyncBusy as e:
            log.refused(trigger, str(e))
            raise
    finally:
        log.close()


def _run_locked(
    settings: Settings,
    log: RunLog,
    trigger: str,
    only: str | Sequence[str] | None,
    now: datetime,
    given: Sequence[Source] | None,
    on_progress: Progress | None,
    cancel: threading.Event | None,
) -> SyncResult:
    run_id = log.start(trigger)
    log.reap(run_id)  # we hold the lock: any other run still marked running was killed
    phases: dict[str, float] = {}
    t_run = time.perf_counter()

    def progress(frac: float, msg: str) -> None:
        if cancel is not None and cancel.is_set():
            raise Cancelled(f"stopped during: {msg}")
        log.progress(run_id, frac, msg)
        if on_progress:
            on_progress(frac, msg)

    if given is not None:
        configs = [s.config for s in given]
        built = {s.config.name: s for s in given}
    else:
        if only is None:
            configs = [c for c in settings.sources if c.enabled]
        else:
            configs = [settings.source(n) for n in ([only] if isinstance(only, str) else only)]
        built = {}
    demo = False
    engine: _Engine | None = None
    outcomes: list[SourceOutcome] = []
    warnings: list[str] = []
    try:
        with PeakRss() as rss:
            progress(0.02, f"fetching {len(configs)} source(s)")
            t = time.perf_counter()
            ctx = FetchContext(now_iso=iso(now), progress=lambda f, m: progress(0.02 + 0.4 * f, m))
            fetched = fetch_all(configs, ctx, settings.max_parallel_fetch, built, cancel)
            phases["fetch"] = time.perf_counter() - t

            tables: list[pa.Table] = []
            rejected: Counter[str] = Counter()
            examples: list[tuple[str, str]] = []
            t = time.perf_counter()
            for job in fetched:
                status = "failed" if job.error else ("partial" if job.partial else "ok")
                fetched_n = job.table.num_rows if job.table is not None else 0
                if job.table is not None and not job.error:
                    norm = normalize(job.table, job.config.kind, now)
                    tables.append(norm.table)
                    rejected.update(norm.rejected)
                    examples.extend((f"{job.config.name}:{k}", r) for k, r in norm.examples)
                    # Rows kept after a repair are not rejects, but the user should still see them.
                    job.warnings += tuple(f"repaired {n}: {why}" for why, n in norm.repaired.items())
                outcome = SourceOutcome(
                    job.config.name,
                    job.config.kind,
                    status,
                    job.error or job.partial,
                    fetched_n,
                    round(job.seconds * 1000, 1),
                    job.warnings,
                )
                outcomes.append(outcome)
                log.source(run_id, outcome)
            phases["normalize"] = time.perf_counter() - t
            progress(0.5, "diffing against the current snapshot")

            batch = pa.concat_tables(tables) if tables else schema.arrow_schema(schema.NORMALIZED_COLUMNS).empty_table()
            ok = [o.name for o in outcomes if o.status == "ok"]
            held = [o.name for o in outcomes if o.status != "ok"]
            if given is None:
                # Sources no longer configured (e.g. the demo after real sources were added) are gone.
                configured = {c.name for c in settings.sources if c.enabled}
                ok = ok + [s for s in _sources_in_catalog(settings) if s not in configured]

            if outcomes and all(o.status == "failed" for o in outcomes):
                raise _AllFailed("every source failed; the catalog is left as it was")

            t = time.perf_counter()
            engine = _Engine(settings, now)
            collapsed = engine.load_batch(batch)
            prev = snapshots.current(settings.snapshots_dir)
            if prev is not None and prev.fallback:
                warnings.append(f"built on an older snapshot: {prev.fallback}")
            engine.load_previous(prev)
            version = snapshots.next_version(settings.snapshots_dir)
            counts = engine.classify(ok, held, _protected_ids(settings), snapshots.desc_name(version))
            warnings.extend(engine.healed())
            engine.assign_dup_groups()
            # Demo data: everything listed after this run comes from demo sources.
            demo_names = {c.name for c in [*configs, *settings.sources] if c.kind == "demo"}
            listed = engine.listed_sources()
            demo = bool(listed) and listed <= demo_names
            phases["diff"] = time.perf_counter() - t

            progress(0.7, "writing the snapshot")
            t = time.perf_counter()
            d = settings.snapshots_dir
            ahead = None
            if engine.write_descriptions(d / snapshots.desc_name(version)):
                ahead = _IndexAhead(settings, snapshots.desc_name(version), cancel)
            try:
                rows = engine.write_jobs(d / snapshots.jobs_name(version))
                phases["write"] = time.perf_counter() - t
                t = time.perf_counter()
                # Past this point a stop request waits: the publish is one atomic rename. The purge is decided
                # again against the user data as it stands now, with edits held off until the pointer moved, so
                # a job starred while this run was diffing is kept (the jobs file is rewritten in that rare case).
                with _user_data(settings) as users, users.held() as protected_now:
                    late = sorted(set(engine.purged_ids()) & set(protected_now))
                    if late:
                        engine.keep(late)
                        counts["purged"] -= len(late)
                        rows = engine.write_jobs(d / snapshots.jobs_name(version))
                    snapshots.publish(d, version, rows, iso(now), demo)
            except BaseException:
                if ahead is not None:
                    ahead.abandon()  # nothing was committed: the index stays with the previous snapshot
                raise

            phases["publish"] = time.perf_counter() - t
            phases["to_publish"] = time.perf_counter() - t_run

            # The description index follows the published snapshot; a crash here is caught up next run.
            log.progress(run_id, 0.85, "indexing descriptions")
            t = time.perf_counter()
            index_error = None
            try:
                warnings.extend(_index_descriptions(settings, engine.purged_ids(), cancel, ahead))
            except Exception as e:  # the snapshot is published; the next run catches the index up
                index_error = f"description index not updated: {type(e).__name__}: {e}"
            try:
                snapshots.prune(d, settings.keep_snapshots, engine.con)
            except Exception as e:  # published already: an old file left behind is a warning, not a failure
                warnings.append(f"old snapshots not pruned: {type(e).__name__}: {e}")
            phases["index"] = time.perf_counter() - t
            if ahead is not None:
                phases["index_ahead"] = ahead.seconds
            phases["watches"] = watches.after_publish(settings, run_id, version, engine.con)  # never raises
            try:  # what cannot be re-fetched is copied out after each run that changed it
                backup.backup_if_changed(settings.data_dir, settings.db_path)
            except (JobdashError, OSError) as e:
                warnings.append(f"user data not backed up: {e}")

        elapsed = time.perf_counter() - t_run
        phases["total"] = elapsed
        status = "ok" if all(o.status == "ok" for o in outcomes) else "partial"
        jobs_in = batch.num_rows + sum(rejected.values())
        result = SyncResult(
            run_id,
            status,
            version,
            counts,
            sum(rejected.values()),
            dict(rejected),
            tuple(outcomes),
            {k: round(v, 3) for k, v in phases.items()},
            jobs_in,
            round(jobs_in / elapsed, 1) if elapsed else 0.0,
            rss.mb,
            demo,
            collapsed,
            index_error,
            tuple(warnings),
        )
        log.finish(
            run_id,
            status,
            snapshot_version=version,
            demo=int(demo),
            counts=counts,
            rejected=result.rejected,
            reject_reasons=result.reject_reasons,
            reject_examples=examples[:20],
            phases=result.phases,
            jobs_in=jobs_in,
            jobs_per_s=result.jobs_per_s,
            peak_rss_mb=result.peak_rss_mb,
            error="; ".join([*([index_error] if index_error else []), *(f"warning: {w}" for w in warnings)]) or None,
        )
        return result
    except Exception as e:
        elapsed = time.perf_counter() - t_run
        phases["total"] = elapsed
        message = str(e) if isinstance(e, _AllFailed | Cancelled) else f"{type(e).__name__}: {e}"
        status = "cancelled" if isinstance(e, Cancelled) else "failed"
        log.finish(run_id, status, error=message, phases={k: round(v, 3) for k, v in phases.items()})
        return SyncResult(
            run_id,
            status,
            None,
            dict.fromkeys(OUTCOMES, 0),
            0,
            {},
            tuple(outcomes),
            phases,
            0,
            0.0,
            0.0,
            demo,
            error=message,
        )
    finally:
        if engine is not None:
            engine.close()


class _AllFailed(Exception):
    pass


class Cancelled(Exception):
    """The sync was asked to stop (SIGTERM) before it published; the catalog is left as it was."""


def _sources_in_catalog(settings: Settings) -> list[str]:
    snap = snapshots.current(settings.snapshots_dir)
    if snap is None:
        return []
    con = duckdb.connect(":memory:")
    try:
        rows = con.execute(
            "SELECT DISTINCT source FROM read_parquet(?) WHERE delisted_at IS NULL", [str(snap.jobs_path)]
        ).fetchall()
    finally:
        con.close()
    return [str(r[0]) for r in rows]
