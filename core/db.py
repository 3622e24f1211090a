"""SQLite for small transactional state: user data, stage history, sync runs, saved views.

WAL lets the dashboard, the scheduler and the CLI write the same file safely; the busy timeout makes
a writer wait for another instead of failing.

Translate low: every connection made here raises ``StorageError`` (naming the file and what to do) instead
of ``sqlite3`` errors, from opening the file, ``execute``, ``executemany``, fetching and iterating rows, so no
caller handles driver errors itself. Programming errors (``ProgrammingError``, ``InterfaceError``: wrong
bindings, a closed connection) are bugs and stay as they are.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core.errors import StorageError

# How long a statement waits for another process's lock before "database is locked". Read at connect time
# (tests shorten it to see a locked file fail fast).
BUSY_TIMEOUT_S = 30.0
DAMAGED_ADVICE = "restore it from a backup, or move it aside to start with empty user data and run history"
_LOCKED = ("SQLITE_BUSY", "SQLITE_LOCKED")
_DAMAGED = ("SQLITE_CORRUPT", "SQLITE_NOTADB")
_DISK = ("SQLITE_FULL", "SQLITE_IOERR", "SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")


def storage_error(path: Path, e: sqlite3.Error | OSError, damaged_advice: str = DAMAGED_ADVICE) -> StorageError:
    """The StorageError for ``e`` raised on ``path``: what is wrong with the file, in words, and what to do."""
    if isinstance(e, OSError):
        return StorageError(f"{path.name}: cannot open {path}: {e.strerror or e}", path=path, detail=str(e))
    code = getattr(e, "sqlite_errorname", "") or ""
    detail = str(e)
    if code.startswith(_LOCKED) or "database is locked" in detail:
        what = (
            f"database is locked: another process kept it busy for more than {BUSY_TIMEOUT_S:g} s ({path});"
            " try again when the other program (a sync, a backup, an sqlite3 shell) is done"
        )
    elif code.startswith(_DAMAGED):
        what = f"{detail}: the file is damaged ({path}); {damaged_advice}"
    elif code.startswith(_DISK):
        what = f"{detail} ({path}): check free disk space and that this user may read and write the file"
    elif detail.startswith(("no such table", "no such column")):
        what = f"{detail}: a table jobdash needs is missing or changed ({path}); {damaged_advice}"
    else:
        what = f"{detail} ({path})"
    return StorageError(f"{path.name}: {what}", path=path, code=code, detail=detail)


@contextmanager
def translated(path: Path, damaged_advice: str = DAMAGED_ADVICE) -> Iterator[None]:
    """Raise ``StorageError`` naming ``path`` for any storage error inside (not for programming errors)."""
    try:
        yield
    except (sqlite3.ProgrammingError, sqlite3.InterfaceError):
        raise
    except (sqlite3.Error, OSError) as e:
        raise storage_error(path, e, damaged_advice) from e


class Cursor(sqlite3.Cursor):
    """A cursor whose statements and fetches raise StorageError (see the module docstring)."""

    connection: Connection

    def _fail(self, e: sqlite3.Error) -> StorageError:
        # Finalize the statement now: the traceback keeps this cursor alive, and a closed connection with a
        # live statement stays open as a zombie that holds its file lock.
        self.close()
        conn = self.connection
        return storage_error(conn.path, e, conn.damaged_advice)

    def execute(self, sql: str, parameters: Any = (), /) -> Cursor:
        try:
            return super().execute(sql, parameters)
        except (sqlite3.ProgrammingError, sqlite3.InterfaceError):
            raise
        except sqlite3.Error as e:
            raise self._fail(e) from e

    def executemany(self, sql: str, seq_of_parameters: Iterable[Any], /) -> Cursor:
        try:
            return super().executemany(sql, seq_of_parameters)
        except (sqlite3.ProgrammingError, sqlite3.InterfaceError):
            raise
        except sqlite3.Error as e:
            raise self._fail(e) from e

    def fetchone(self) -> Any:
        try:
            return super().fetchone()
        except (sqlite3.ProgrammingError, sqlite3.InterfaceError):
            raise
        except sqlite3.Error as e:
            raise self._fail(e) from e

    def fetchall(self) -> list[Any]:
        try:
            return super().fetchall()
        except (sqlite3.ProgrammingError, sqlite3.InterfaceError):
            raise
        except sqlite3.Error as e:
            raise self._fail(e) from e

    def fetchmany(self, size: int | None = 1) -> list[Any]:
        try:
            return super().fetchmany(size)
        except (sqlite3.ProgrammingError, sqlite3.InterfaceError):
            raise
        except sqlite3.Error as e:
            raise self._fail(e) from e

    def __next__(self) -> Any:
        try:
            return super().__next__()
        except (sqlite3.ProgrammingError, sqlite3.InterfaceError):
            raise
        except sqlite3.Error as e:
            raise self._fail(e) from e


class Connection(sqlite3.Connection):
    """A connection that knows its file, so every error it raises can name it. Made by ``connect``."""

    path: Path = Path("?")
    damaged_advice: str = DAMAGED_ADVICE

    def execute(self, sql: str, parameters: Any = (), /) -> Cursor:
        return self.cursor(Cursor).execute(sql, parameters)

    def executemany(self, sql: str, parameters: Iterable[Any], /) -> Cursor:
        return self.cursor(Cursor).executemany(sql, parameters)

    def executescript(self, sql_script: str, /) -> Cursor:
        with translated(self.path, self.damaged_advice):
            return self.cursor(Cursor).executescript(sql_script)  # type: ignore[return-value]

    def commit(self) -> None:
        with translated(self.path, self.damaged_advice):
            super().commit()


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
-- a scheduler that started over the heartbeat of one that died without clearing it (the dashboard says so)
CREATE TABLE IF NOT EXISTS scheduler_restarts (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    pid       INTEGER NOT NULL,
    dead_pid  INTEGER NOT NULL,
    last_beat TEXT NOT NULL
);
"""


def connect(
    path: Path,
    schema: str = SCHEMA,
    *,
    damaged_advice: str = DAMAGED_ADVICE,
    check: Callable[[Connection], None] | None = None,
) -> Connection:
    """A connection with WAL, a busy timeout and ``schema`` in place. Autocommit: write inside ``tx``.

    ``check`` runs before the schema script (which creates missing tables): a file whose tables went
    missing can refuse to open instead of silently starting empty. Raises StorageError."""
    with translated(path, damaged_advice):
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False, factory=Connection
        )
    conn.path, conn.damaged_advice = path, damaged_advice
    try:
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        if check is not None:
            check(conn)
        conn.executescript(schema)
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def opened(path: Path, schema: str = SCHEMA) -> Iterator[Connection]:
    """A short-lived connection, closed on the way out."""
    conn = connect(path, schema)
    try:
        yield conn
    finally:
        conn.close()


class PerThread:
    """One connection per thread (a sqlite3 connection must not be shared across threads mid-transaction)."""

    def __init__(
        self,
        path: Path,
        schema: str = SCHEMA,
        *,
        damaged_advice: str = DAMAGED_ADVICE,
        check: Callable[[Connection], None] | None = None,
    ) -> None:
        self.path, self.schema = path, schema
        self._damaged_advice, self._check = damaged_advice, check
        self._local = threading.local()

    def get(self) -> Connection:
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = connect(
                self.path, self.schema, damaged_advice=self._damaged_advice, check=self._check
            )
        return conn

    def close(self) -> None:
        """Close this thread's connection (the others close when their thread ends)."""
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


@contextmanager
def tx(conn: Connection) -> Iterator[Connection]:
    """One write transaction; BEGIN IMMEDIATE takes the write lock up front so it cannot deadlock.

    A failure inside rolls back and raises the original error (a rollback that fails too, because SQLite
    already ended the transaction, does not hide it)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            try:
                conn.execute("ROLLBACK")
            except StorageError:
                pass  # the error being raised says what went wrong
        raise
    try:
        conn.execute("COMMIT")
    except StorageError:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
