"""Today's (until issue 12) description index, kept as a baseline for ``benchmarks/search_engines.py``:
SQLite FTS5 (external content) in one file.

``docs`` holds the text once; ``docs_fts`` is an external-content FTS5 index over it, kept in step by
triggers. User input reaches MATCH only through ``core.search.to_fts`` (the same parser the shipped
tantivy index uses). Not used by the app since the switch to tantivy (core/search.py).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

import pyarrow as pa

from core import db
from core.errors import StorageError
from core.search import BATCH_ROWS, CACHE_ENTRIES, COLUMNS, WEIGHTS, _as_text, _compile, _literal, fts_id, to_fts

SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    id          INTEGER PRIMARY KEY,  -- fts_id(job_id): the catalog derives it too, so hits join without a lookup
    job_id      TEXT NOT NULL UNIQUE,
    title       TEXT NOT NULL DEFAULT '',
    company     TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT ''
);
-- covering (id -> job_id) lookups for match(): far fewer pages than the wide docs rows
CREATE INDEX IF NOT EXISTS docs_id_job ON docs(id, job_id);
CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5(
    title, company, description,
    content='docs', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2'
);
-- no prefix='2 3' index: measured here it tripled indexing time (12.8 s vs 4.4 s per 50k descriptions),
-- while prefix queries still run from the term b-tree.
-- description segments (data/snapshots/desc-*.parquet) already indexed, so a crash is caught up next sync
CREATE TABLE IF NOT EXISTS segments (name TEXT PRIMARY KEY);
-- bumped by every update that changed something: a cheap "is my cached result still good?" check
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS docs_ai AFTER INSERT ON docs BEGIN
    INSERT INTO docs_fts(rowid, title, company, description)
    VALUES (new.id, new.title, new.company, new.description);
END;
CREATE TRIGGER IF NOT EXISTS docs_ad AFTER DELETE ON docs BEGIN
    INSERT INTO docs_fts(docs_fts, rowid, title, company, description)
    VALUES ('delete', old.id, old.title, old.company, old.description);
END;
CREATE TRIGGER IF NOT EXISTS docs_au AFTER UPDATE ON docs BEGIN
    INSERT INTO docs_fts(docs_fts, rowid, title, company, description)
    VALUES ('delete', old.id, old.title, old.company, old.description);
    INSERT INTO docs_fts(rowid, title, company, description)
    VALUES (new.id, new.title, new.company, new.description);
END;
"""

SCHEMA_VERSION = 2  # 2: docs.id = fts_id(job_id)

REBUILD_ADVICE = "it only indexes the snapshots' descriptions: delete it and run `python -m core sync` to rebuild it"


def _check_tables(conn: db.Connection) -> None:
    """Before the schema script recreates what is missing: ``docs`` without ``docs_fts`` (or the reverse) is a
    damaged index. Recreated empty it would answer every search with "no matches"."""
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE name IN ('docs', 'docs_fts')")}
    if len(names) == 1:
        missing = ({"docs", "docs_fts"} - names).pop()
        raise StorageError(
            f"{conn.path.name}: the table {missing} is missing, so the search index is damaged ({conn.path}); "
            + REBUILD_ADVICE,
            path=conn.path,
            detail=f"no such table: {missing}",
        )


def _migrate(conn: db.Connection) -> None:
    """An index built with other ids is dropped; the sync's segment catch-up rebuilds it."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    if row is not None and int(row[0]) == SCHEMA_VERSION:
        return
    has_docs = conn.execute("SELECT count(*) FROM docs").fetchone()[0]
    with db.tx(conn):
        if has_docs:
            conn.execute("DELETE FROM docs")
            conn.execute("DELETE FROM segments")
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema', ?)", [SCHEMA_VERSION])


# What SQLite says about a MATCH expression it cannot parse. Only these fall back to a literal search; a
# "no such column" naming one of the index's own columns means a changed table, not a bad filter.
_SYNTAX_ERRORS = ("fts5: syntax error", "unterminated string", "unknown special query")
_OWN_COLUMNS = frozenset({"id", "rowid", "job_id", "docs_fts", *("title", "company", "description")})


def _is_query_syntax(e: StorageError) -> bool:
    detail = e.detail
    if detail.startswith(_SYNTAX_ERRORS):
        return True
    prefix = "no such column: "
    return detail.startswith(prefix) and detail[len(prefix) :].strip() not in _OWN_COLUMNS


OPTIMIZE_SEGMENTS = 16
OPTIMIZE_CHURN_PERCENT = 25
VACUUM_FREE_PERCENT = 20


def _text_column(rows: pa.Table, name: str) -> list[str]:
    if name not in rows.column_names:
        return [""] * rows.num_rows
    return ["" if v is None else str(v) for v in rows.column(name).to_pylist()]


class Fts5DescriptionIndex:
    """SQLite FTS5 index of job titles, companies and descriptions, keyed by job_id."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conns = db.PerThread(path, SCHEMA, damaged_advice=REBUILD_ADVICE, check=_check_tables)
        self._cache: OrderedDict[tuple[str, str, int, int], list[tuple[str, float]]] = OrderedDict()
        self._id_cache: OrderedDict[tuple[str, str, int], pa.Array] = OrderedDict()
        self._cache_lock = threading.Lock()
        conn = self._conn()
        if (
            int(conn.execute("PRAGMA auto_vacuum").fetchone()[0]) == 0
            and not conn.execute("SELECT 1 FROM docs LIMIT 1").fetchall()
        ):
            # A new (empty) index: turn incremental auto-vacuum on now, while VACUUM costs nothing.
            try:
                conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
                conn.execute("VACUUM")
            except StorageError:
                pass  # another process has it open: maintain() converts it later
        _migrate(conn)

    def _conn(self) -> db.Connection:
        return self._conns.get()

    def close(self) -> None:
        """Close this thread's connection (the others close when their thread ends)."""
        self._conns.close()

    def __enter__(self) -> Fts5DescriptionIndex:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def to_fts(self, query: str) -> str:
        return to_fts(query)

    def count(self) -> int:
        return int(self._conn().execute("SELECT count(*) FROM docs").fetchone()[0])

    def generation(self) -> int:
        """Changes whenever an update (from any process) changed the index; a cache key for results."""
        row = self._conn().execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0]) if row else 0

    def ids(self) -> set[str]:
        return {r[0] for r in self._conn().execute("SELECT job_id FROM docs")}

    def update(self, rows: pa.Table, deletes: Sequence[str] = ()) -> int:
        """Upsert ``rows`` (job_id, title, company, description) and delete ``deletes``, in one
        transaction. An unchanged row is not rewritten. Returns rows written plus rows deleted."""
        if "job_id" not in rows.column_names:
            raise ValueError("rows need a job_id column")
        written = 0
        conn = self._conn()
        with db.tx(conn):
            for batch in rows.to_batches(max_chunksize=BATCH_ROWS):
                part = pa.Table.from_batches([batch], schema=rows.schema)
                ids = part.column("job_id").to_pylist()
                cols = [_text_column(part, c) for c in COLUMNS]
                params = [(fts_id(j), j, *vals) for j, *vals in zip(ids, *cols, strict=True) if j]
                cur = conn.executemany(
                    """
                    INSERT INTO docs (id, job_id, title, company, description) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(job_id) DO UPDATE SET
                        title = excluded.title, company = excluded.company, description = excluded.description
                    WHERE docs.title IS NOT excluded.title OR docs.company IS NOT excluded.company
                       OR docs.description IS NOT excluded.description
                    """,
                    params,
                )
                written += max(cur.rowcount, 0)  # rows of docs only: changes made by triggers are not counted
            for start in range(0, len(deletes), BATCH_ROWS):
                chunk = list(deletes[start : start + BATCH_ROWS])
                marks = ",".join("?" * len(chunk))
                written += conn.execute(f"DELETE FROM docs WHERE job_id IN ({marks})", chunk).rowcount  # noqa: S608
            if written:
                self._bump_generation(conn, written)
        return written

    def segments_done(self) -> set[str]:
        return {r[0] for r in self._conn().execute("SELECT name FROM segments")}

    def mark_segment_done(self, name: str) -> None:
        self._conn().execute("INSERT OR IGNORE INTO segments (name) VALUES (?)", [name])

    def optimize(self) -> None:
        """Merge the index b-trees into one (after a big load; queries get faster)."""
        conn = self._conn()
        conn.execute("INSERT INTO docs_fts(docs_fts) VALUES ('optimize')")

    # --- maintenance (the sync's catch-up, doctor) ------------------------------------------------------

    def fts_ids(self) -> pa.Array:
        """Every document's integer id (fts_id of its job id)."""
        return pa.array([r[0] for r in self._conn().execute("SELECT id FROM docs")], pa.int64())

    def documents(self, job_ids: Sequence[str]) -> dict[str, tuple[str, str, str]]:
        """(title, company, description) of these jobs, as indexed (doctor restores a damaged segment from it)."""
        out: dict[str, tuple[str, str, str]] = {}
        conn = self._conn()
        for start in range(0, len(job_ids), BATCH_ROWS):
            chunk = list(job_ids[start : start + BATCH_ROWS])
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT job_id, title, company, description FROM docs WHERE job_id IN ({marks})"  # noqa: S608
            for r in conn.execute(sql, chunk).fetchall():
                out[r[0]] = (r[1], r[2], r[3])
        return out

    def delete_fts_ids(self, ids: Sequence[int]) -> int:
        """Delete documents by integer id (the catch-up of deletions a killed run never made)."""
        conn = self._conn()
        gone = 0
        with db.tx(conn):
            for start in range(0, len(ids), BATCH_ROWS):
                chunk = [int(i) for i in ids[start : start + BATCH_ROWS]]
                marks = ",".join("?" * len(chunk))
                gone += conn.execute(f"DELETE FROM docs WHERE id IN ({marks})", chunk).rowcount  # noqa: S608
            if gone:
                self._bump_generation(conn, gone)
        return gone

    def forget_segments(self, names: Sequence[str] | None = None) -> None:
        """Mark segments (every one when None) as not indexed, so the next catch-up reads them again."""
        conn = self._conn()
        with db.tx(conn):
            if names is None:
                conn.execute("DELETE FROM segments")
            else:
                conn.executemany("DELETE FROM segments WHERE name = ?", [(n,) for n in names])

    @staticmethod
    def _bump_generation(conn: db.Connection, changed: int = 0) -> None:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('generation', 1) ON CONFLICT(key) DO UPDATE SET value = value + 1"
        )
        # documents rewritten or deleted since the last optimize: what maintain() weighs against the total
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('churn', ?) ON CONFLICT(key) DO UPDATE SET value = value + ?",
            [changed, changed],
        )

    def problems(self, *, full: bool = True) -> list[str]:
        """What is wrong with the file, in words: SQLite's ``quick_check`` and FTS5's own ``integrity-check``
        (the index against its content table). Empty when healthy. Raises StorageError if it cannot be read."""
        conn = self._conn()
        found = [str(r[0]) for r in conn.execute("PRAGMA quick_check").fetchall() if str(r[0]) != "ok"]
        if full and not found:
            try:
                conn.execute("INSERT INTO docs_fts(docs_fts, rank) VALUES ('integrity-check', 1)")
            except StorageError as e:
                found.append(f"the full-text index does not match its documents ({e.detail or e})")
        return found

    def maintain(self, *, cancel: Callable[[], bool] | None = None) -> dict[str, int]:
        """Keep the file from growing with churn: merge FTS5 segments (a bounded ``merge`` after each update,
        a full ``optimize`` when many segments piled up) and give free pages back (incremental vacuum, or one
        VACUUM that also turns incremental auto-vacuum on for a file made before it). Returns the figures."""
        conn = self._conn()
        segs = self._fts_segments(conn)
        row = conn.execute("SELECT value FROM meta WHERE key = 'churn'").fetchone()
        churn = int(row[0]) if row else 0
        docs = self.count()
        if segs > OPTIMIZE_SEGMENTS or (churn and churn * 100 >= max(docs, 1) * OPTIMIZE_CHURN_PERCENT):
            # Deleted and replaced entries stay in the segments until merged: merge them all once the
            # rewritten documents reach a share of the index (cost ~ index size, paid once per that share).
            with db.tx(conn):
                conn.execute("INSERT INTO docs_fts(docs_fts) VALUES ('optimize')")
                conn.execute("UPDATE meta SET value = 0 WHERE key = 'churn'")
        elif segs > 1:
            conn.execute("INSERT INTO docs_fts(docs_fts, rank) VALUES ('merge', 500)")
        if cancel is not None and cancel():
            return {"segments": segs}
        pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
        free = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
        auto = int(conn.execute("PRAGMA auto_vacuum").fetchone()[0])
        if free and free * 100 >= pages * VACUUM_FREE_PERCENT:
            if auto == 2:
                conn.executescript("PRAGMA incremental_vacuum;")  # one execute() step frees one page only
            else:
                conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
                conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return {"segments": segs, "churn": churn, "pages": pages, "free_pages": free}

    @staticmethod
    def _fts_segments(conn: db.Connection) -> int:
        """How many b-tree segments the FTS5 index has (its structure record lists them; ~1 per write)."""
        return int(conn.execute("SELECT count(DISTINCT segid) FROM docs_fts_idx").fetchone()[0])

    def match(self, query: str, limit: int | None = None) -> list[tuple[str, float]]:
        """(job_id, bm25 score) best first; lower scores are better matches. Never raises on input; raises
        StorageError when the index cannot be read.

        Results are cached per (query, limit) until the index changes."""
        expr, exclude = _compile(query)
        if not expr and not exclude:
            return []
        key = (expr, exclude, _limit(limit), self.generation())  # generation first: a later write only misses
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return list(hit)
        rows = self._search(query, expr, exclude, limit)
        with self._cache_lock:
            self._cache[key] = rows
            while len(self._cache) > CACHE_ENTRIES:
                self._cache.popitem(last=False)
        return list(rows)

    def match_ids(self, query: str) -> pa.Array:
        """Every matching document's fts_id, unranked: what a filter needs. Ranking 200k hits with bm25 and
        mapping them back to job ids took ~800 ms at 1M; the bare MATCH ~70 ms. Never raises on input; raises
        StorageError when the index cannot be read (never an empty answer for a broken index)."""
        expr, exclude = _compile(query)
        if not expr and not exclude:
            return pa.array([], pa.int64())
        # One search per filter change: a page, its count and the facets of a rerun all ask the same.
        key = (expr, exclude, self.generation())
        with self._cache_lock:
            hit = self._id_cache.get(key)
            if hit is not None:
                self._id_cache.move_to_end(key)
                return hit
        ids = self._match_ids(query, expr, exclude)
        with self._cache_lock:
            self._id_cache[key] = ids
            while len(self._id_cache) > CACHE_ENTRIES:
                self._id_cache.popitem(last=False)
        return ids

    def _match_ids(self, query: str, expr: str, exclude: str) -> pa.Array:
        conn = self._conn()
        sql = "SELECT rowid FROM docs_fts WHERE docs_fts MATCH ?"
        if expr:
            try:
                rows = conn.execute(sql, [expr]).fetchall()
            except StorageError as e:
                if not _is_query_syntax(e):
                    raise
                literal = _literal(_as_text(query))  # a construct FTS5 still refused: search the words literally
                rows = conn.execute(sql, [literal]).fetchall() if literal else []
        else:  # only negations ("-java"): every document without those words
            try:
                rows = conn.execute(f"SELECT id FROM docs WHERE id NOT IN ({sql})", [exclude]).fetchall()  # noqa: S608
            except StorageError as e:
                if not _is_query_syntax(e):
                    raise
                rows = []  # nothing FTS5 can read to exclude
        return pa.array([r[0] for r in rows], pa.int64())

    def _search(self, query: str, expr: str, exclude: str, limit: int | None) -> list[tuple[str, float]]:
        if expr:
            rows = self._run_match(expr, limit)
            if rows is None:  # a construct FTS5 still refused: search the words literally
                rows = self._run_match(_literal(_as_text(query)), limit) or []
            return rows
        # only negations ("-java"): every document without those words
        sql = (
            "SELECT job_id, 0.0 FROM docs WHERE id NOT IN "
            "(SELECT rowid FROM docs_fts WHERE docs_fts MATCH ?) ORDER BY job_id LIMIT ?"
        )
        try:
            return [(r[0], float(r[1])) for r in self._conn().execute(sql, [exclude, _limit(limit)]).fetchall()]
        except StorageError as e:
            if not _is_query_syntax(e):
                raise
            return []

    def _run_match(self, expr: str, limit: int | None) -> list[tuple[str, float]] | None:
        if not expr:
            return []
        # rank inside FTS5 first, then map only the surviving rowids to job ids through the covering index
        sql = (
            "SELECT d.job_id, f.score FROM ("
            " SELECT rowid AS id, bm25(docs_fts, ?, ?, ?) AS score FROM docs_fts"
            " WHERE docs_fts MATCH ? ORDER BY score, rowid LIMIT ?"
            ") AS f JOIN docs AS d INDEXED BY docs_id_job ON d.id = f.id ORDER BY f.score, f.id"
        )
        try:
            rows = self._conn().execute(sql, [*WEIGHTS, expr, _limit(limit)]).fetchall()
        except StorageError as e:
            if not _is_query_syntax(e):
                raise
            return None  # FTS5 could not read the expression
        return [(r[0], float(r[1])) for r in rows]


def _limit(limit: int | None) -> int:
    return -1 if limit is None else max(0, int(limit))
