"""User data over data/jobdash.sqlite: star, stage, notes, follow-up, hidden, stage history, saved views.

Keyed by ``job_id``, so it survives every sync. Every write is one ``BEGIN IMMEDIATE`` transaction that
also bumps the ``user_rev`` counter in ``meta``: a dashboard in another process notices an edit by
reading one row. Each thread gets its own connection (WAL + busy timeout make concurrent writers wait,
never fail); the connection goes away with its thread.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa

from core import db
from core.errors import NotFound, QueryError
from core.schema import STAGES

USER_FIELDS = ("starred", "stage", "notes", "applied_at", "follow_up_on", "hidden", "updated_at")
DEFAULT_STAGE = "inbox"
# Moving a job into one of these means it was applied to, even if "applied" itself was skipped.
APPLIED_OR_LATER = ("applied", "interviewing", "offer")
MAX_NOTES_BYTES = 100_000
MAX_JOB_ID_CHARS = 512
MAX_VIEW_NAME_CHARS = 200
MAX_VIEW_BYTES = 100_000
REV_KEY = "user_rev"

USER_SCHEMA = pa.schema(
    [
        pa.field("job_id", pa.string()),
        pa.field("starred", pa.bool_()),
        pa.field("stage", pa.string()),
        pa.field("notes", pa.string()),
        pa.field("applied_at", pa.timestamp("us")),
        pa.field("follow_up_on", pa.date32()),
        pa.field("hidden", pa.bool_()),
        pa.field("updated_at", pa.timestamp("us")),
    ]
)
HISTORY_SCHEMA = pa.schema(
    [
        pa.field("job_id", pa.string()),
        pa.field("from_stage", pa.string()),
        pa.field("to_stage", pa.string()),
        pa.field("at", pa.timestamp("us")),
    ]
)

FollowUp = date | str | None  # a date, an ISO date string, "" to clear, None to leave as is


_IDS_WITH_DATA = """
    SELECT job_id FROM user_jobs
     WHERE starred <> 0 OR stage <> ? OR notes <> '' OR follow_up_on IS NOT NULL
        OR hidden <> 0 OR applied_at IS NOT NULL
    UNION
    SELECT job_id FROM stage_history
    ORDER BY job_id
"""


def utc_naive(moment: datetime | None = None) -> datetime:
    """Timestamps are stored as naive UTC, like the catalog's ``timestamp('us')`` columns."""
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _ts(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def _parse_ts(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _parse_date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def parse_follow_up(value: FollowUp) -> date | None | Literal[""]:
    """None: unchanged; "": clear; a date or an ISO ``YYYY-MM-DD`` string: set. Anything else is refused."""
    if value is None or isinstance(value, datetime):
        return value.date() if isinstance(value, datetime) else None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return ""
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise QueryError(f"follow-up date {value!r} is not a valid date (expected YYYY-MM-DD)") from None
    raise QueryError(f"follow-up date must be a date or YYYY-MM-DD, got {type(value).__name__}")


def _check_job_id(job_id: object) -> str:
    if not isinstance(job_id, str) or not job_id.strip():
        raise QueryError(f"job id must be a non-empty string, got {job_id!r}")
    if len(job_id) > MAX_JOB_ID_CHARS or "\x00" in job_id:
        raise QueryError(f"job id is not valid: {job_id[:40]!r}…")
    return job_id


def _check_bool(name: str, value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise QueryError(f"{name} must be true or false, got {value!r}")


def _check_stage(stage: object) -> str | None:
    if stage is None:
        return None
    if not isinstance(stage, str) or stage not in STAGES:
        raise QueryError(f"unknown stage {stage!r} (stages: {', '.join(STAGES)})")
    return stage


def _check_notes(notes: object) -> str | None:
    if notes is None:
        return None
    if not isinstance(notes, str):
        raise QueryError(f"notes must be text, got {type(notes).__name__}")
    size = len(notes.encode("utf-8", errors="surrogatepass"))
    if size > MAX_NOTES_BYTES:
        raise QueryError(f"notes are too long: {size:,} bytes (limit {MAX_NOTES_BYTES:,})")
    return notes


class _Change:
    """A validated set of field changes; built before the transaction so a bad value writes nothing."""

    def __init__(
        self,
        starred: object,
        stage: object,
        notes: object,
        follow_up_on: FollowUp,
        hidden: object,
    ) -> None:
        self.starred = _check_bool("starred", starred)
        self.stage = _check_stage(stage)
        self.notes = _check_notes(notes)
        self.follow_up_on = parse_follow_up(follow_up_on)
        self.hidden = _check_bool("hidden", hidden)

    def empty(self) -> bool:
        return all(v is None for v in (self.starred, self.stage, self.notes, self.follow_up_on, self.hidden))


def _row_dict(job_id: str, row: sqlite3.Row | None) -> dict[str, Any]:
    if row is None:
        return {
            "job_id": job_id,
            "starred": False,
            "stage": DEFAULT_STAGE,
            "notes": "",
            "applied_at": None,
            "follow_up_on": None,
            "hidden": False,
            "updated_at": None,
        }
    return {
        "job_id": row["job_id"],
        "starred": bool(row["starred"]),
        "stage": row["stage"],
        "notes": row["notes"],
        "applied_at": _parse_ts(row["applied_at"]),
        "follow_up_on": _parse_date(row["follow_up_on"]),
        "hidden": bool(row["hidden"]),
        "updated_at": _parse_ts(row["updated_at"]),
    }


class UserData:
    """Repository over the user tables of data/jobdash.sqlite."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self._conns = db.PerThread(db_path)
        self._conn()  # create the file and schema now, so a bad path fails here

    def _conn(self) -> db.Connection:
        return self._conns.get()

    def close(self) -> None:
        """Close this thread's connection (others close when their thread ends)."""
        self._conns.close()

    # --- reads -------------------------------------------------------------------------------------

    def get(self, job_id: str) -> dict[str, Any] | None:
        row = self._conn().execute("SELECT * FROM user_jobs WHERE job_id = ?", [job_id]).fetchone()
        return None if row is None else _row_dict(job_id, row)

    def history(self, job_id: str) -> list[dict[str, Any]]:
        rows = self._conn().execute(
            "SELECT from_stage, to_stage, at FROM stage_history WHERE job_id = ? ORDER BY at, id", [job_id]
        )
        return [{"from_stage": r["from_stage"], "to_stage": r["to_stage"], "at": _parse_ts(r["at"])} for r in rows]

    def all_history(self) -> pa.Table:
        rows = (
            self._conn()
            .execute("SELECT job_id, from_stage, to_stage, at FROM stage_history ORDER BY at, id")
            .fetchall()
        )
        return pa.table(
            {
                "job_id": [r["job_id"] for r in rows],
                "from_stage": [r["from_stage"] for r in rows],
                "to_stage": [r["to_stage"] for r in rows],
                "at": [_parse_ts(r["at"]) for r in rows],
            },
            schema=HISTORY_SCHEMA,
        )

    def table(self) -> pa.Table:
        rows = self._conn().execute("SELECT * FROM user_jobs ORDER BY job_id").fetchall()
        dicts = [_row_dict(r["job_id"], r) for r in rows]
        return pa.Table.from_pylist(dicts, schema=USER_SCHEMA)

    def revision(self) -> int:
        row = self._conn().execute("SELECT value FROM meta WHERE key = ?", [REV_KEY]).fetchone()
        return int(row["value"]) if row else 0

    def ids_with_data(self) -> list[str]:
        """Jobs with anything the user set (or ever set: stage history counts), which the sync keeps."""
        rows = self._conn().execute(_IDS_WITH_DATA, [DEFAULT_STAGE])
        return [r["job_id"] for r in rows]

    @contextmanager
    def held(self) -> Iterator[list[str]]:
        """``ids_with_data()`` with the write lock held until the block ends: edits wait meanwhile, so what
        the block decides from these ids (the sync's purge at publish) cannot miss an edit."""
        with db.tx(self._conn()) as conn:
            rows = conn.execute(_IDS_WITH_DATA, [DEFAULT_STAGE]).fetchall()
            yield [r["job_id"] for r in rows]

    # --- writes ------------------------------------------------------------------------------------

    def set(
        self,
        job_id: str,
        *,
        starred: bool | None = None,
        stage: str | None = None,
        notes: str | None = None,
        follow_up_on: date | None | Literal[""] | str = None,
        hidden: bool | None = None,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """Apply the given fields (None = leave as is) in one transaction; return the job's user data."""
        job_id = _check_job_id(job_id)
        change = _Change(starred, stage, notes, follow_up_on, hidden)
        if change.empty():
            return self.get(job_id) or _row_dict(job_id, None)
        conn = self._conn()
        with db.tx(conn):
            self._apply(conn, job_id, change, utc_naive(now))
            self._bump(conn)
            row = conn.execute("SELECT * FROM user_jobs WHERE job_id = ?", [job_id]).fetchone()
        return _row_dict(job_id, row)

    def set_bulk(
        self,
        job_ids: Sequence[str],
        *,
        starred: bool | None = None,
        stage: str | None = None,
        notes: str | None = None,
        follow_up_on: date | None | Literal[""] | str = None,
        hidden: bool | None = None,
        now: datetime | None = None,
    ) -> int:
        """The same change to many jobs in one transaction; returns how many jobs were written."""
        if isinstance(job_ids, str):
            raise QueryError("set_bulk takes a list of job ids, not one string")
        ids = list(dict.fromkeys(_check_job_id(j) for j in job_ids))
        change = _Change(starred, stage, notes, follow_up_on, hidden)
        if change.empty() or not ids:
            return 0
        moment = utc_naive(now)
        conn = self._conn()
        with db.tx(conn):
            for job_id in ids:
                self._apply(conn, job_id, change, moment)
            self._bump(conn)
        return len(ids)

    def _apply(self, conn: db.Connection, job_id: str, change: _Change, moment: datetime) -> None:
        at = _ts(moment)
        row = conn.execute("SELECT stage, applied_at FROM user_jobs WHERE job_id = ?", [job_id]).fetchone()
        if row is None:
            conn.execute("INSERT INTO user_jobs (job_id, updated_at) VALUES (?, ?)", [job_id, at])
            old_stage, applied_at = DEFAULT_STAGE, None
        else:
            old_stage, applied_at = row["stage"], row["applied_at"]
        sets: list[str] = ["updated_at = ?"]
        params: list[Any] = [at]
        if change.starred is not None:
            sets.append("starred = ?")
            params.append(int(change.starred))
        if change.hidden is not None:
            sets.append("hidden = ?")
            params.append(int(change.hidden))
        if change.notes is not None:
            sets.append("notes = ?")
            params.append(change.notes)
        if change.follow_up_on is not None:
            sets.append("follow_up_on = ?")
            params.append(change.follow_up_on.isoformat() if isinstance(change.follow_up_on, date) else None)
        if change.stage is not None and change.stage != old_stage:
            sets.append("stage = ?")
            params.append(change.stage)
            conn.execute(
                "INSERT INTO stage_history (job_id, from_stage, to_stage, at) VALUES (?, ?, ?, ?)",
                [job_id, old_stage, change.stage, at],
            )
            if applied_at is None and change.stage in APPLIED_OR_LATER:
                sets.append("applied_at = ?")
                params.append(at)
        # Column names come from the fixed list above, never from input.
        conn.execute(f"UPDATE user_jobs SET {', '.join(sets)} WHERE job_id = ?", [*params, job_id])  # noqa: S608

    @staticmethod
    def _bump(conn: db.Connection) -> None:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, '1') "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
            [REV_KEY],
        )

    # --- saved views -------------------------------------------------------------------------------

    def save_view(self, name: str, flt_json: str) -> None:
        """Create or replace a named filter; the filter must be JSON (the UI decides its shape)."""
        if not isinstance(name, str) or not name.strip():
            raise QueryError("a saved view needs a name")
        if len(name) > MAX_VIEW_NAME_CHARS:
            raise QueryError(f"view name is too long ({len(name)} characters, limit {MAX_VIEW_NAME_CHARS})")
        if not isinstance(flt_json, str) or len(flt_json.encode("utf-8", errors="surrogatepass")) > MAX_VIEW_BYTES:
            raise QueryError(f"view filter must be JSON text under {MAX_VIEW_BYTES:,} bytes")
        try:
            json.loads(flt_json)
        except ValueError as e:
            raise QueryError(f"view filter is not valid JSON: {e}") from None
        conn = self._conn()
        with db.tx(conn):
            conn.execute(
                "INSERT INTO saved_views (name, filter, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET filter = excluded.filter",
                [name.strip(), flt_json, _ts(utc_naive())],
            )

    def views(self) -> list[str]:
        return [r["name"] for r in self._conn().execute("SELECT name FROM saved_views ORDER BY name COLLATE NOCASE")]

    def view(self, name: str) -> str:
        row = self._conn().execute("SELECT filter FROM saved_views WHERE name = ?", [name]).fetchone()
        if row is None:
            raise NotFound(f"no saved view named {name!r}")
        return str(row["filter"])

    def delete_view(self, name: str) -> None:
        conn = self._conn()
        with db.tx(conn):
            gone = conn.execute("DELETE FROM saved_views WHERE name = ?", [name]).rowcount
        if not gone:
            raise NotFound(f"no saved view named {name!r}")
