"""SQLite for small transactional state: user data, stage history, sync runs, saved views.

WAL lets the dashboard, the scheduler and the CLI write the same file safely; the busy timeout makes
a writer wait for another instead of failing.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS user_jobs (
    job_id       TEXT PRIMARY KEY,
    starred      INTEGER NOT NULL DEFAULT 0,
    stage        TEXT NOT NULL DEFAULT 'inbox',
    notes        TEXT NOT NULL DEFAULT '',
    applied_at   TEXT,
    follow_up_on TEXT,
    hidden       INTEGER NOT NULL DEFAULT 0,
    updated_at   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS stage_history (
    id         INTEGER PRIMARY KEY,
    job_id     TEXT NOT NULL,
    from_stage TEXT,
    to_stage   TEXT NOT NULL,
    at         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS stage_history_job ON stage_history(job_id, at);
CREATE TABLE IF NOT EXISTS saved_views (
    name       TEXT PRIMARY KEY,
    filter     TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    id               INTEGER PRIMARY KEY,
    trigger          TEXT NOT NULL,
    status           TEXT NOT NULL,
    started_at       TEXT NOT NULL,
    finished_at      TEXT,
    pid              INTEGER,
    progress         REAL NOT NULL DEFAULT 0,
    progress_msg     TEXT NOT NULL DEFAULT '',
    snapshot_version INTEGER,
    demo             INTEGER NOT NULL DEFAULT 0,
    counts           TEXT NOT NULL DEFAULT '{}',
    rejected         INTEGER NOT NULL DEFAULT 0,
    reject_reasons   TEXT NOT NULL DEFAULT '{}',
    reject_examples  TEXT NOT NULL DEFAULT '[]',
    phases           TEXT NOT NULL DEFAULT '{}',
    jobs_in          INTEGER NOT NULL DEFAULT 0,
    jobs_per_s       REAL,
    peak_rss_mb      REAL,
    error            TEXT
);
CREATE TABLE IF NOT EXISTS run_sources (
    run_id      INTEGER NOT NULL,
    source      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL,
    error       TEXT,
    fetched     INTEGER NOT NULL DEFAULT 0,
    duration_ms REAL,
    warnings    TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (run_id, source)
);
CREATE TABLE IF NOT EXISTS sync_requests (
    id           INTEGER PRIMARY KEY,
    requested_at TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    source       TEXT,
    taken_at     TEXT,
    run_id       INTEGER
);
CREATE TABLE IF NOT EXISTS heartbeat (
    name     TEXT PRIMARY KEY,
    pid      INTEGER NOT NULL,
    beat_at  TEXT NOT NULL,
    next_run TEXT
);
"""


def connect(path: Path, schema: str = SCHEMA) -> sqlite3.Connection:
    """A connection with WAL, a busy timeout and ``schema`` in place. Autocommit: write inside ``tx``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.executescript(schema)
    return conn


@contextmanager
def opened(path: Path, schema: str = SCHEMA) -> Iterator[sqlite3.Connection]:
    """A short-lived connection, closed on the way out."""
    conn = connect(path, schema)
    try:
        yield conn
    finally:
        conn.close()


class PerThread:
    """One connection per thread (a sqlite3 connection must not be shared across threads mid-transaction)."""

    def __init__(self, path: Path, schema: str = SCHEMA) -> None:
        self.path, self.schema = path, schema
        self._local = threading.local()

    def get(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = connect(self.path, self.schema)
        return conn

    def close(self) -> None:
        """Close this thread's connection (the others close when their thread ends)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


@contextmanager
def tx(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction; BEGIN IMMEDIATE takes the write lock up front so it cannot deadlock."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
