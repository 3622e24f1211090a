# ruff: noqa: S608  -- table names are module constants and core.schema names; values are parameters.
"""Watches: a saved view that tells the user when new jobs match it.

After every published sync, ``after_publish`` (one call from core.sync) evaluates each watched view
against the jobs that run found **new** (and **relisted**, for watches that include them), with the Jobs
page's filter semantics: the SQL comes from core.query, run in the sync's own DuckDB connection over small
tables of the run's new and relisted rows (copied from its ``merged`` table, only the columns the watches
use), with the user-data mirror and the description index, exactly as the catalog runs it; every watch
without a description search is one branch of a single UNION ALL query. Matches are recorded in
data/jobdash.sqlite with a unique (watch, job) pair, so a job is reported to a watch at most once, ever.

Digests are sent afterwards, in a background thread (``deliver``), never inside the run: a failed or slow
destination cannot fail or delay a sync. Each destination keeps its own record of what it received, so a
destination that was down gets the matches it missed on the next delivery, and the others get nothing twice.
The CLI, which exits after its sync, waits for that thread a bounded time (``wait_for_delivery``).

Every write bumps the user-data revision (``meta.user_rev``), so the dashboard's cached results and its
``watch_unseen`` mirror follow a new match or a "mark all seen" on the next rerun.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from core import db, notify, query, schema, snapshots
from core.clock import iso, utcnow
from core.errors import JobdashError, NotFound, QueryError
from core.search import FTS_ID_SQL, DescriptionIndex
from core.settings import Settings, WatchConfig, parse_quiet_hours
from core.userdata import REV_KEY, UserData

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS watches (
    id               INTEGER PRIMARY KEY,
    view             TEXT NOT NULL UNIQUE,
    include_relisted INTEGER NOT NULL DEFAULT 0,
    destinations     TEXT NOT NULL DEFAULT '[]',
    quiet_hours      TEXT,
    min_matches      INTEGER NOT NULL DEFAULT 1,
    paused           INTEGER NOT NULL DEFAULT 0,
    origin           TEXT NOT NULL DEFAULT 'user',
    created_at       TEXT NOT NULL,
    lease_until      TEXT
);
CREATE TABLE IF NOT EXISTS watch_matches (
    watch_id    INTEGER NOT NULL,
    job_id      TEXT NOT NULL,
    run_id      INTEGER NOT NULL,
    at          TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    seen_at     TEXT,
    notified_at TEXT,
    UNIQUE (watch_id, job_id)
);
CREATE INDEX IF NOT EXISTS watch_matches_run ON watch_matches(run_id);
CREATE TABLE IF NOT EXISTS watch_sent (
    watch_id    INTEGER NOT NULL,
    job_id      TEXT NOT NULL,
    destination TEXT NOT NULL,
    sent_at     TEXT NOT NULL,
    PRIMARY KEY (watch_id, job_id, destination)
);
CREATE TABLE IF NOT EXISTS watch_notifications (
    id          INTEGER PRIMARY KEY,
    watch_id    INTEGER NOT NULL,
    run_id      INTEGER,
    at          TEXT NOT NULL,
    destination TEXT NOT NULL,
    status      TEXT NOT NULL,
    matches     INTEGER NOT NULL DEFAULT 0,
    attempts    INTEGER NOT NULL DEFAULT 0,
    reason      TEXT
);
CREATE TABLE IF NOT EXISTS watch_evaluations (
    run_id     INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    candidates INTEGER NOT NULL,
    watches    INTEGER NOT NULL,
    matches    INTEGER NOT NULL,
    ms         REAL NOT NULL,
    error      TEXT
);
"""
FULL_SCHEMA = db.SCHEMA + SCHEMA
OUTCOMES = ("new", "relisted")
LEASE_S = 300  # one deliverer per watch at a time, across processes
PENDING_CAP = 1000  # matches read for one digest (the digest lists DIGEST_CAP and counts the rest)
DELIVERY_WAIT_S = 30.0  # how long the CLI waits for digests after its sync
DIGEST_COLUMNS = ("job_id", "title", "company", "location", "salary_text", "salary_annual_min",
                  "salary_annual_max", "salary_currency", "url", "apply_url", "posted_at")  # fmt: skip
MatchGroup = tuple[int, str, str]  # (watch id, outcome, JSON array of the job ids it matched)


def _sqlite_has_json() -> bool:
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("SELECT count(*) FROM json_each('[1]')").fetchall()
    except sqlite3.Error:
        return False
    finally:
        conn.close()
    return True


_SQLITE_JSON = _sqlite_has_json()
UNSEEN_SCHEMA = pa.schema([pa.field("watch_id", pa.int64()), pa.field("job_id", pa.string())])


@dataclass(frozen=True)
class Watch:
    id: int
    view: str
    include_relisted: bool = False
    destinations: tuple[str, ...] = ()
    quiet_hours: str | None = None
    min_matches: int = 1
    paused: bool = False
    origin: str = "user"  # user (CLI, dashboard) | config (jobdash.toml, which wins on every sync)

    def as_dict(self, *, redact: bool = True) -> dict[str, Any]:
        return {
            "id": self.id,
            "view": self.view,
            "include_relisted": self.include_relisted,
            "destinations": [notify.redact(d) if redact else d for d in self.destinations],
            "quiet_hours": self.quiet_hours,
            "min_matches": self.min_matches,
            "paused": self.paused,
            "origin": self.origin,
        }


def _watch(row: Any) -> Watch:
    return Watch(
        id=int(row["id"]),
        view=str(row["view"]),
        include_relisted=bool(row["include_relisted"]),
        destinations=tuple(json.loads(row["destinations"] or "[]")),
        quiet_hours=row["quiet_hours"],
        min_matches=int(row["min_matches"]),
        paused=bool(row["paused"]),
        origin=str(row["origin"]),
    )


def in_quiet_hours(spec: str | None, moment: datetime) -> bool:
    """Whether ``moment`` (local wall time) falls in ``HH:MM-HH:MM`` (which may wrap past midnight)."""
    if not spec:
        return False
    a, b = spec.split("-")
    start = dtime(int(a[:2]), int(a[3:]))
    end = dtime(int(b[:2]), int(b[3:]))
    t = moment.time()
    if start == end:
        return False
    if start < end:
        return start <= t < end
    return t >= start or t < end


def _check_destinations(destinations: Iterable[str]) -> tuple[str, ...]:
    out = []
    for d in destinations:
        try:
            out.append(notify.check_destination(d))
        except ValueError as e:
            raise QueryError(str(e)) from None
    return tuple(dict.fromkeys(out))


class WatchStore:
    """Repository over the watch tables of data/jobdash.sqlite (one connection per thread)."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self._conns = db.PerThread(db_path, FULL_SCHEMA)
        self._conn()

    def _conn(self) -> db.Connection:
        return self._conns.get()

    def close(self) -> None:
        self._conns.close()

    @staticmethod
    def _bump(conn: db.Connection) -> None:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, '1') "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
            [REV_KEY],
        )

    # --- watches -------------------------------------------------------------------------------------

    def all(self) -> list[Watch]:
        rows = self._conn().execute("SELECT * FROM watches ORDER BY view COLLATE NOCASE").fetchall()
        return [_watch(r) for r in rows]

    def get(self, ref: int | str) -> Watch:
        """A watch by id or by the name of its view."""
        if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
            row = self._conn().execute("SELECT * FROM watches WHERE id = ?", [int(ref)]).fetchone()
        else:
            row = self._conn().execute("SELECT * FROM watches WHERE view = ?", [ref]).fetchone()
        if row is None:
            raise NotFound(f"no watch {ref!r} (watch a saved view with `python -m core watch add VIEW`)")
        return _watch(row)

    def add(
        self,
        view: str,
        *,
        destinations: Sequence[str] = (),
        include_relisted: bool = False,
        quiet_hours: str | None = None,
        min_matches: int = 1,
        paused: bool = False,
        origin: str = "user",
        check_view: bool = True,
    ) -> Watch:
        """Watch the saved view ``view`` (or change its settings if it is watched already)."""
        if check_view:
            UserData(self.db_path).view(view)  # NotFound for a view that is not saved
        if isinstance(min_matches, bool) or not isinstance(min_matches, int) or min_matches < 1:
            raise QueryError(f"min matches must be a whole number of at least 1, got {min_matches!r}")
        try:
            quiet = parse_quiet_hours(quiet_hours)
        except JobdashError as e:
            raise QueryError(str(e)) from None
        dests = _check_destinations(destinations)
        conn = self._conn()
        with db.tx(conn):
            conn.execute(
                "INSERT INTO watches (view, include_relisted, destinations, quiet_hours, min_matches, paused, origin,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(view) DO UPDATE SET"
                " include_relisted = excluded.include_relisted, destinations = excluded.destinations,"
                " quiet_hours = excluded.quiet_hours, min_matches = excluded.min_matches, paused = excluded.paused,"
                " origin = excluded.origin",
                [view, int(include_relisted), json.dumps(list(dests)), quiet, min_matches, int(paused), origin,
                 iso(utcnow())],
            )  # fmt: skip
            self._bump(conn)
        return self.get(view)

    def set_paused(self, ref: int | str, paused: bool) -> Watch:
        w = self.get(ref)
        conn = self._conn()
        with db.tx(conn):
            conn.execute("UPDATE watches SET paused = ? WHERE id = ?", [int(paused), w.id])
            self._bump(conn)
        return replace(w, paused=paused)

    def remove(self, ref: int | str) -> None:
        w = self.get(ref)
        conn = self._conn()
        with db.tx(conn):
            for table in ("watch_matches", "watch_sent", "watch_notifications"):
                conn.execute(f"DELETE FROM {table} WHERE watch_id = ?", [w.id])
            conn.execute("DELETE FROM watches WHERE id = ?", [w.id])
            self._bump(conn)

    def apply_config(self, configs: Sequence[WatchConfig]) -> None:
        """Make the ``[[watches]]`` of jobdash.toml watches (the file wins over edits made elsewhere)."""
        for c in configs:
            current = None
            try:
                current = self.get(c.view)
            except NotFound:
                pass
            wanted = (c.include_relisted, tuple(c.destinations), c.quiet_hours, c.min_matches, c.paused, "config")
            if current is not None and wanted == (
                current.include_relisted,
                current.destinations,
                current.quiet_hours,
                current.min_matches,
                current.paused,
                current.origin,
            ):
                continue
            self.add(
                c.view,
                destinations=c.destinations,
                include_relisted=c.include_relisted,
                quiet_hours=c.quiet_hours,
                min_matches=c.min_matches,
                paused=c.paused,
                origin="config",
                check_view=False,  # a view not saved yet is reported when the watch is evaluated
            )

    # --- matches -------------------------------------------------------------------------------------

    def record(self, watch_id: int, rows: Sequence[tuple[str, str]], run_id: int, at: datetime) -> int:
        """Record (job_id, outcome) matches of one run; a job this watch already reported is ignored.
        Returns how many are new to the watch."""
        by_outcome: dict[str, list[str]] = {}
        for job_id, outcome in rows:
            by_outcome.setdefault(outcome, []).append(job_id)
        groups = [(watch_id, o, json.dumps(sorted(ids))) for o, ids in by_outcome.items()]
        return self.record_all(groups, run_id, at).get(watch_id, 0)

    def record_all(self, groups: Sequence[MatchGroup], run_id: int, at: datetime) -> dict[int, int]:
        """Record one run's matches, (watch id, outcome, JSON array of job ids) per group, in one transaction; a
        job a watch already reported is ignored. Returns how many are new to each watch. Each group is one
        INSERT … SELECT over ``json_each`` (the ids never become Python objects; ~40% less CPU than an
        executemany of one tuple per match), or an executemany where SQLite lacks JSON."""
        added: dict[int, int] = {}
        if not groups:
            return added
        conn = self._conn()
        stamp = iso(at)
        with db.tx(conn):
            for wid, outcome, ids in groups:
                before = conn.total_changes
                if _SQLITE_JSON:
                    conn.execute(
                        "INSERT OR IGNORE INTO watch_matches (watch_id, job_id, run_id, at, outcome)"
                        " SELECT ?, value, ?, ?, ? FROM json_each(?) ORDER BY key",
                        [wid, run_id, stamp, outcome, ids],
                    )
                else:
                    conn.executemany(
                        "INSERT OR IGNORE INTO watch_matches (watch_id, job_id, run_id, at, outcome) VALUES (?, ?, ?, ?, ?)",
                        [(wid, j, run_id, stamp, outcome) for j in json.loads(ids)],
                    )
                added[wid] = added.get(wid, 0) + conn.total_changes - before
            if any(added.values()):
                self._bump(conn)
        return added

    def matches(self, ref: int | str, *, unseen: bool = False, limit: int | None = None) -> list[dict[str, Any]]:
        w = self.get(ref)
        sql = "SELECT job_id, run_id, at, outcome, seen_at, notified_at FROM watch_matches WHERE watch_id = ?"
        if unseen:
            sql += " AND seen_at IS NULL"
        sql += " ORDER BY at DESC, job_id"
        params: list[Any] = [w.id]
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [dict(r) for r in self._conn().execute(sql, params)]

    def unseen_counts(self) -> dict[int, int]:
        rows = self._conn().execute(
            "SELECT watch_id, count(*) AS n FROM watch_matches WHERE seen_at IS NULL GROUP BY watch_id"
        )
        return {int(r["watch_id"]): int(r["n"]) for r in rows}

    def unseen_table(self) -> pa.Table:
        """(watch_id, job_id) of every unseen match: the dashboard's ``watch_unseen`` mirror."""
        rows = self._conn().execute("SELECT watch_id, job_id FROM watch_matches WHERE seen_at IS NULL").fetchall()
        return pa.table(
            {"watch_id": [int(r["watch_id"]) for r in rows], "job_id": [r["job_id"] for r in rows]},
            schema=UNSEEN_SCHEMA,
        )

    def mark_seen(self, ref: int | str, job_ids: Sequence[str] | None = None, now: datetime | None = None) -> int:
        """Mark the watch's unseen matches (or only ``job_ids``) seen; returns how many."""
        w = self.get(ref)
        conn = self._conn()
        stamp = iso(now or utcnow())
        with db.tx(conn):
            if job_ids is None:
                n = conn.execute(
                    "UPDATE watch_matches SET seen_at = ? WHERE watch_id = ? AND seen_at IS NULL", [stamp, w.id]
                ).rowcount
            else:
                n = 0
                for j in job_ids:
                    n += conn.execute(
                        "UPDATE watch_matches SET seen_at = ? WHERE watch_id = ? AND job_id = ? AND seen_at IS NULL",
                        [stamp, w.id, j],
                    ).rowcount
            if n:
                self._bump(conn)
        return int(n)

    def run_matches(self, run_id: int) -> dict[int, int]:
        """Matches recorded by one run, per watch id."""
        rows = self._conn().execute(
            "SELECT watch_id, count(*) AS n FROM watch_matches WHERE run_id = ? GROUP BY watch_id", [run_id]
        )
        return {int(r["watch_id"]): int(r["n"]) for r in rows}

    def weekly(self) -> list[dict[str, Any]]:
        """Matches per watch per ISO week (week start, Monday): {view, week, matches}."""
        rows = self._conn().execute(
            "SELECT w.view, date(m.at, '-' || ((CAST(strftime('%w', m.at) AS INTEGER) + 6) % 7) || ' days') AS week,"
            " count(*) AS n FROM watch_matches m JOIN watches w ON w.id = m.watch_id GROUP BY 1, 2 ORDER BY 2, 1"
        )
        return [{"view": r["view"], "week": r["week"], "matches": int(r["n"])} for r in rows]

    # --- notifications -------------------------------------------------------------------------------

    def pending(self, watch_id: int, destination: str, limit: int = PENDING_CAP) -> tuple[list[str], int]:
        """(job ids to send to ``destination``, most recent first, at most ``limit``; how many in all)."""
        where = (
            "FROM watch_matches m WHERE m.watch_id = ? AND m.notified_at IS NULL AND NOT EXISTS"
            " (SELECT 1 FROM watch_sent s WHERE s.watch_id = m.watch_id AND s.job_id = m.job_id AND s.destination = ?)"
        )
        conn = self._conn()
        (total,) = conn.execute(f"SELECT count(*) {where}", [watch_id, destination]).fetchone()
        ids = conn.execute(
            f"SELECT m.job_id {where} ORDER BY m.at DESC, m.job_id LIMIT ?", [watch_id, destination, limit]
        ).fetchall()
        return [r["job_id"] for r in ids], int(total)

    def unnotified(self, watch_id: int) -> int:
        (n,) = (
            self._conn()
            .execute("SELECT count(*) FROM watch_matches WHERE watch_id = ? AND notified_at IS NULL", [watch_id])
            .fetchone()
        )
        return int(n)

    def sent(self, watch_id: int, destination: str, job_ids: Sequence[str], at: datetime) -> None:
        conn = self._conn()
        with db.tx(conn):
            conn.executemany(
                "INSERT OR IGNORE INTO watch_sent (watch_id, job_id, destination, sent_at) VALUES (?, ?, ?, ?)",
                [(watch_id, j, destination, iso(at)) for j in job_ids],
            )

    def settle(self, w: Watch, at: datetime) -> int:
        """Mark matches every current destination has received as notified; returns how many."""
        conn = self._conn()
        dests = list(w.destinations)
        if not dests:
            return 0
        marks = ", ".join("?" * len(dests))
        with db.tx(conn):
            n = conn.execute(
                "UPDATE watch_matches SET notified_at = ? WHERE watch_id = ? AND notified_at IS NULL AND"
                f" (SELECT count(DISTINCT destination) FROM watch_sent s WHERE s.watch_id = watch_matches.watch_id"
                f" AND s.job_id = watch_matches.job_id AND s.destination IN ({marks})) = ?",
                [iso(at), w.id, *dests, len(dests)],
            ).rowcount
        return int(n)

    def note(
        self,
        watch_id: int,
        run_id: int | None,
        destination: str,
        status: str,
        *,
        matches: int = 0,
        attempts: int = 0,
        reason: str | None = None,
        at: datetime | None = None,
    ) -> None:
        """Record one notification outcome: sent | failed | quiet | waiting | test."""
        conn = self._conn()
        with db.tx(conn):
            conn.execute(
                "INSERT INTO watch_notifications (watch_id, run_id, at, destination, status, matches, attempts, reason)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [watch_id, run_id, iso(at or utcnow()), notify.redact(destination), status, matches, attempts, reason],
            )

    def notifications(self, ref: int | str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        sql = "SELECT * FROM watch_notifications"
        params: list[Any] = []
        if ref is not None:
            sql += " WHERE watch_id = ?"
            params.append(self.get(ref).id)
        sql += " ORDER BY id DESC LIMIT ?"
        return [dict(r) for r in self._conn().execute(sql, [*params, limit])]

    def lease(self, watch_id: int, now: datetime) -> bool:
        """Take the right to deliver this watch's digests for LEASE_S (another process may hold it)."""
        conn = self._conn()
        with db.tx(conn):
            n = conn.execute(
                "UPDATE watches SET lease_until = ? WHERE id = ? AND (lease_until IS NULL OR lease_until < ?)",
                [iso(now + timedelta(seconds=LEASE_S)), watch_id, iso(now)],
            ).rowcount
        return bool(n)

    def release(self, watch_id: int) -> None:
        conn = self._conn()
        with db.tx(conn):
            conn.execute("UPDATE watches SET lease_until = NULL WHERE id = ?", [watch_id])

    def evaluated(self, run_id: int, candidates: int, watches: int, matches: int, ms: float, error: str | None) -> None:
        conn = self._conn()
        with db.tx(conn):
            conn.execute(
                "INSERT OR REPLACE INTO watch_evaluations (run_id, at, candidates, watches, matches, ms, error)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [run_id, iso(utcnow()), candidates, watches, matches, round(ms, 3), error],
            )

    def evaluation(self, run_id: int) -> dict[str, Any] | None:
        row = self._conn().execute("SELECT * FROM watch_evaluations WHERE run_id = ?", [run_id]).fetchone()
        return None if row is None else dict(row)


# --- evaluation ----------------------------------------------------------------------------------------


def watch_filter(view_json: str) -> query.JobFilter:
    """The filter a watch evaluates: its view's, one row per posting (no collapsing), no watch restriction."""
    flt = query.filter_from_json(view_json)
    flt = replace(flt, collapse_dups=False, watch_unseen=None)
    query.validate(flt)
    return flt


@dataclass(frozen=True)
class Evaluation:
    candidates: int  # jobs new or relisted in the run
    matches: dict[int, int]  # watch id -> matches new to that watch
    errors: dict[str, str]  # view -> why it was not evaluated
    ms: float


NEW_TABLE = "jobs"  # the run's new jobs, under a core.query catalog table name
RELISTED_TABLE = "jobs_1"  # the run's relisted jobs (made only when a watch includes them)
_J_COLUMN = re.compile(r'\bj\.(?:"([^"]+)"|(\w+))')  # a column of the jobs table in core.query's SQL


def _columns_used(sqls: Iterable[str]) -> set[str]:
    """The columns of the jobs table (alias ``j``) that these queries read: only those are copied out."""
    return {quoted or bare for sql in sqls for quoted, bare in _J_COLUMN.findall(sql)}


class Candidates:
    """The jobs of one run that watches look at, as small tables in the sync's own DuckDB connection (beside
    its ``merged`` table, so no row leaves DuckDB): ``jobs`` holds the new jobs, ``jobs_1`` the relisted ones,
    each with the catalog's computed columns that the watches' queries use, next to the user-data mirror, so
    core.query's SQL runs on them exactly as the Jobs page runs it. ``close`` drops them again."""

    def __init__(
        self,
        settings: Settings,
        con: duckdb.DuckDBPyConnection,
        columns: set[str],
        *,
        relisted: bool,
        source: str = "merged",
    ) -> None:
        self.settings = settings
        self.con = con
        self._index: DescriptionIndex | None = None
        self._made: list[str] = []
        self.tables = {"new": NEW_TABLE, **({"relisted": RELISTED_TABLE} if relisted else {})}
        try:
            self._build(columns, source)
        except duckdb.Error as e:
            self.close()
            raise QueryError(f"watch candidates not built: {e}") from e
        except BaseException:
            self.close()  # never leave tables behind in the sync's connection
            raise

    def _build(self, columns: set[str], source: str) -> None:
        con = self.con
        names = (NEW_TABLE, RELISTED_TABLE, query.MIRROR, query.WATCH_UNSEEN)
        taken = {str(r[0]) for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        taken |= {str(r[0]) for r in con.execute("SELECT view_name FROM duckdb_views()").fetchall()}
        if taken & set(names):
            raise QueryError(f"watch tables would overwrite the sync's own: {sorted(taken & set(names))}")
        have = {str(r[0]) for r in con.execute(f"DESCRIBE {source}").fetchall()}
        cols = [
            schema.quote(c)
            if c in have and c != "dup_group"  # the run's groups are in its dups table, not merged (as before)
            else f"NULL::{schema.column(c).sql} AS {schema.quote(c)}"
            for c in schema.HOT_COLUMNS
            if c == "job_id" or c in columns
        ]
        if query.SEARCH_COLUMN in columns:
            cols.append(f"{query.SEARCH_EXPR} AS {query.SEARCH_COLUMN}")
        if query.FTS_ID in columns:  # only when a watch searches descriptions: an md5 per row
            cols.append(f"{FTS_ID_SQL} AS {query.FTS_ID}")
        if query.DUP_SIZE in columns:
            cols.append(f"1 AS {query.DUP_SIZE}")
        select = ", ".join(cols)
        for outcome, table in self.tables.items():
            self._made.append(table)
            con.execute(f"CREATE TABLE {table} AS SELECT {select} FROM {source} WHERE outcome = ?", [outcome])
        users = UserData(self.settings.db_path)
        try:
            user_rows = users.table()
        finally:
            users.close()
        self._made.append(query.MIRROR)
        con.register("watch_user_rows", user_rows)
        try:
            # Only the candidates' own rows: every use of the mirror in core.query is keyed by the job's id.
            ids = " UNION ALL ".join(f"SELECT job_id FROM {t}" for t in self.tables.values())
            con.execute(
                f"CREATE TABLE {query.MIRROR} AS"
                " SELECT *, coalesce(list_position(?, stage), 1) - 1 AS stage_rank FROM watch_user_rows"
                f" WHERE job_id IN ({ids})",
                [list(schema.STAGES)],
            )
        finally:
            con.unregister("watch_user_rows")
        self._made.append(query.WATCH_UNSEEN)
        con.execute(f"CREATE TABLE {query.WATCH_UNSEEN} (watch_id BIGINT, job_id VARCHAR)")

    def close(self) -> None:
        for table in reversed(self._made):
            try:
                self.con.execute(f"DROP TABLE IF EXISTS {table}")
            except duckdb.Error:
                log.warning("could not drop the watch table %s", table)
        if self._index is not None:
            self._index.close()

    def branches(self, wid: int, flt: query.JobFilter, relisted: bool) -> list[Sql]:
        """(watch id, job id, outcome) of what one watch selects: one query per candidate table it looks at."""
        out: list[Sql] = []
        for outcome, table in self.tables.items():
            if outcome == "relisted" and not relisted:
                continue
            sql, params = query.build_ids(flt, table=table)
            out.append(
                (f"SELECT CAST(? AS BIGINT) AS watch_id, job_id, CAST(? AS VARCHAR) AS outcome FROM ({sql})",
                 [wid, outcome, *params])
            )  # fmt: skip
        return out

    def _run(self, parts: Sequence[Sql], desc: str = "") -> list[MatchGroup]:
        if not parts:
            return []
        union = " UNION ALL ".join(s for s, _ in parts)
        # One row per (watch, outcome): the ids as a sorted JSON array, recorded by SQLite's json_each.
        sql = (
            "SELECT watch_id, outcome, CAST(to_json(list(job_id ORDER BY job_id)) AS VARCHAR)"
            f" FROM ({union}) GROUP BY watch_id, outcome ORDER BY watch_id, outcome"
        )
        params = [p for _, ps in parts for p in ps]
        registered = False
        try:
            if desc.strip():
                if self._index is None:
                    self._index = DescriptionIndex(self.settings.search_path)
                self.con.register(query.DESC_MATCH, pa.table({"fts_id": self._index.match_ids(desc)}))
                registered = True
            rows = self.con.execute(sql, params).fetchall()
        except duckdb.Error as e:
            raise QueryError(f"watch query failed: {e}") from e
        finally:
            if registered:
                self.con.unregister(query.DESC_MATCH)
        return [(int(w), str(o), str(ids)) for w, o, ids in rows]

    def match(self, items: Sequence[tuple[int, query.JobFilter, bool]]) -> list[MatchGroup]:
        """(watch id, outcome, JSON array of job ids) of what each (watch id, filter, include relisted) selects
        among the candidates. Watches without a description search run as one UNION ALL query (one pass);
        each description search runs on its own (its hits are the ``desc_match`` table of that query)."""
        found = self._run([b for w, f, r in items if not f.desc.strip() for b in self.branches(w, f, r)])
        for w, f, r in items:
            if f.desc.strip():
                found += self._run(self.branches(w, f, r), desc=f.desc)
        return found


Sql = tuple[str, list[Any]]


def _sql_of(items: Sequence[tuple[int, query.JobFilter, bool]]) -> list[str]:
    return [query.build_ids(f, table=NEW_TABLE)[0] for _w, f, _r in items]


def evaluate(
    settings: Settings, run_id: int, con: duckdb.DuckDBPyConnection, now: datetime, *, source: str = "merged"
) -> Evaluation:
    """Match every active watch against the jobs new or relisted in a run (the rows of ``source``, the sync's
    ``merged`` table on ``con``, whose ``outcome`` is ``new`` or ``relisted``) and record the matches."""
    if not source.isidentifier():
        raise QueryError(f"not a table name: {source!r}")
    t0 = time.perf_counter()
    store = WatchStore(settings.db_path)
    errors: dict[str, str] = {}
    found: dict[int, int] = {}
    cand: Candidates | None = None
    n = 0
    try:
        store.apply_config(settings.watches)
        active = [w for w in store.all() if not w.paused]
        names = {w.id: w.view for w in active}
        users = UserData(settings.db_path)
        try:
            views: dict[int, query.JobFilter] = {}
            for w in active:
                try:
                    views[w.id] = watch_filter(users.view(w.view))
                except JobdashError as e:
                    errors[w.view] = str(e)
        finally:
            users.close()
        items = [(w.id, views[w.id], w.include_relisted) for w in active if w.id in views]
        counts = con.execute(
            f"SELECT count(*) FILTER (WHERE outcome = 'new'), count(*) FILTER (WHERE outcome = 'relisted')"
            f" FROM {source}"
        ).fetchall()
        n_new, n_relisted = (int(v) for v in counts[0])
        n = n_new + n_relisted
        relisted = bool(n_relisted) and any(r for _w, _f, r in items)
        items = [it for it in items if n_new or (it[2] and relisted)]  # a watch with no candidate is skipped
        if items:
            cand = Candidates(settings, con, _columns_used(_sql_of(items)), relisted=relisted, source=source)
            try:
                matched = cand.match(items)
            except JobdashError:  # one bad view must not hide the others: evaluate them one by one
                matched = []
                for item in items:
                    try:
                        matched += cand.match([item])
                    except JobdashError as e:
                        errors[names[item[0]]] = str(e)
            found = dict.fromkeys((w for w, _f, _r in items if names[w] not in errors), 0)
            found.update(store.record_all(matched, run_id, now))
        ms = (time.perf_counter() - t0) * 1000
        error = "; ".join(f"{v}: {e}" for v, e in errors.items()) or None
        store.evaluated(run_id, n, len(views), sum(found.values()), ms, error)
        return Evaluation(n, found, errors, ms)
    finally:
        if cand is not None:
            cand.close()
        store.close()


# --- delivery --------------------------------------------------------------------------------------------


def _job_rows(jobs_path: Path, job_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The digest columns of ``job_ids`` from a snapshot, in the order given (missing ids are left out)."""
    if not job_ids:
        return []
    con = duckdb.connect(":memory:")
    try:
        cols = ", ".join(schema.quote(c) for c in DIGEST_COLUMNS)
        rel = con.execute(
            f"SELECT {cols} FROM read_parquet(?) WHERE list_contains(?, job_id)", [str(jobs_path), list(job_ids)]
        )
        names = [d[0] for d in rel.description or []]
        by_id = {r[0]: dict(zip(names, r, strict=True)) for r in rel.fetchall()}
    finally:
        con.close()
    return [by_id[j] for j in job_ids if j in by_id]


@dataclass(frozen=True)
class Delivery:
    watch: str
    destination: str  # redacted
    status: str  # sent | failed | quiet | waiting
    matches: int
    reason: str | None = None


def deliver(
    settings: Settings,
    run_id: int | None = None,
    *,
    now: datetime | None = None,
    local_now: datetime | None = None,
    retries: int | None = None,
    backoff_s: float | None = None,
) -> list[Delivery]:
    """Send every active watch's pending matches as one digest per destination. Never raises for a
    destination; a destination that fails keeps its matches pending for the next delivery."""
    now = now or utcnow()
    local_now = local_now or datetime.now()
    retries = notify.RETRIES if retries is None else retries
    backoff_s = notify.BACKOFF_S if backoff_s is None else backoff_s
    snap = snapshots.current(settings.snapshots_dir)
    if snap is None:
        return []
    store = WatchStore(settings.db_path)
    out: list[Delivery] = []
    try:
        for w in store.all():
            if w.paused or not w.destinations:
                continue
            waiting = store.unnotified(w.id)
            if not waiting:
                continue
            if in_quiet_hours(w.quiet_hours, local_now):
                store.note(w.id, run_id, "*", "quiet", matches=waiting, reason=f"quiet hours {w.quiet_hours}")
                out.append(Delivery(w.view, "*", "quiet", waiting, f"quiet hours {w.quiet_hours}"))
                continue
            if waiting < w.min_matches:
                reason = f"{waiting} of {w.min_matches} matches gathered"
                store.note(w.id, run_id, "*", "waiting", matches=waiting, reason=reason)
                out.append(Delivery(w.view, "*", "waiting", waiting, reason))
                continue
            if not store.lease(w.id, now):
                continue  # another process is delivering this watch right now
            try:
                for dest in w.destinations:
                    ids, total = store.pending(w.id, dest)
                    if not ids:
                        continue
                    rows = _job_rows(snap.jobs_path, ids)
                    digest = notify.build_digest(w.view, rows, total=total)
                    sent = notify.send(dest, digest, retries=retries, backoff_s=backoff_s)
                    if sent.ok:
                        store.sent(w.id, dest, ids, now)
                        status = "sent"
                    else:
                        status = "failed"
                    store.note(w.id, run_id, dest, status, matches=total, attempts=sent.attempts, reason=sent.reason)
                    out.append(Delivery(w.view, notify.redact(dest), status, total, sent.reason))
                store.settle(w, now)
            finally:
                store.release(w.id)
    finally:
        store.close()
    return out


def send_test(settings: Settings, ref: int | str, destination: str | None = None) -> list[Delivery]:
    """Send a sample digest (labelled as a test) to the watch's destinations, or to ``destination``."""
    store = WatchStore(settings.db_path)
    try:
        w = store.get(ref)
        dests = [notify.check_destination(destination)] if destination else list(w.destinations)
        if not dests:
            raise QueryError(f"watch {w.view!r} has no destinations (add one with --to URL)")
        sample = [
            {"title": "Sample: Data Engineer", "company": "Example GmbH", "location": "Berlin, Germany",
             "salary_text": "€70,000–€85,000 a year", "url": "https://example.com/jobs/1"},
            {"title": "Sample: Analytics Engineer", "company": "Example Ltd", "location": "Remote",
             "url": "https://example.com/jobs/2"},
        ]  # fmt: skip
        digest = notify.build_digest(f"{w.view} (test)", sample)
        out = []
        for dest in dests:
            sent = notify.send(dest, digest)
            store.note(w.id, None, dest, "test" if sent.ok else "failed", matches=len(sample),
                       attempts=sent.attempts, reason=sent.reason)  # fmt: skip
            out.append(Delivery(w.view, notify.redact(dest), "sent" if sent.ok else "failed", len(sample), sent.reason))
        return out
    finally:
        store.close()


_threads: list[threading.Thread] = []
_threads_lock = threading.Lock()
_deliver_lock = threading.Lock()  # one delivery at a time in this process


def _deliver_quietly(settings: Settings, run_id: int) -> None:
    with _deliver_lock:
        try:
            deliver(settings, run_id)
        except Exception:  # never let the background thread die with a traceback on stderr
            log.exception("watch digests for run %s were not sent", run_id)


def deliver_in_background(settings: Settings, run_id: int) -> threading.Thread:
    """Start delivering in a daemon thread; the scheduler (long-lived) lets it run, the CLI waits for it."""
    t = threading.Thread(target=_deliver_quietly, args=(settings, run_id), daemon=True, name=f"watch-deliver-{run_id}")
    with _threads_lock:
        _threads[:] = [x for x in _threads if x.is_alive()]
        _threads.append(t)
    t.start()
    return t


def wait_for_delivery(timeout_s: float = DELIVERY_WAIT_S) -> bool:
    """Wait up to ``timeout_s`` for background deliveries; True if they all finished."""
    deadline = time.monotonic() + timeout_s
    with _threads_lock:
        pending = list(_threads)
    for t in pending:
        t.join(max(0.0, deadline - time.monotonic()))
    return not any(t.is_alive() for t in pending)


def after_publish(settings: Settings, run_id: int, version: int, con: duckdb.DuckDBPyConnection) -> float:
    """The sync's one call after a publish: evaluate the watches over the run's new and relisted jobs (its
    ``merged`` table on ``con``), record the matches, start sending digests in the background. Returns the
    seconds spent in the run (the phase time); never raises: a failure is recorded in watch_evaluations."""
    t0 = time.perf_counter()
    try:
        snap = snapshots.current(settings.snapshots_dir)
        if snap is None or snap.version != version:
            raise QueryError(f"snapshot v{version} is no longer current")
        evaluation = evaluate(settings, run_id, con, utcnow())
        if any(evaluation.matches.values()) or _has_unsent(settings):
            deliver_in_background(settings, run_id)
    except Exception as e:  # the snapshot is published; watches never fail a run
        log.warning("watches not evaluated for run %s: %s", run_id, e)
        try:
            store = WatchStore(settings.db_path)
            try:
                store.evaluated(run_id, 0, 0, 0, (time.perf_counter() - t0) * 1000, f"{type(e).__name__}: {e}")
            finally:
                store.close()
        except Exception:
            log.exception("could not record the failed watch evaluation of run %s", run_id)
    return time.perf_counter() - t0


def _has_unsent(settings: Settings) -> bool:
    """Any match of an active watch with destinations not yet notified (a failure to retry)."""
    store = WatchStore(settings.db_path)
    try:
        return any(w.destinations and not w.paused and store.unnotified(w.id) for w in store.all())
    finally:
        store.close()
