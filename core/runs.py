"""Sync run records in data/jobdash.sqlite: one row per run, one per source, progress while it runs."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core import db
from core.clock import iso, utcnow
from core.process import pid_alive


@dataclass(frozen=True)
class SourceOutcome:
    name: str
    kind: str
    status: str  # ok | partial | failed
    error: str | None = None
    fetched: int = 0
    duration_ms: float = 0.0
    warnings: tuple[str, ...] = field(default_factory=tuple)


class RunLog:
    def __init__(self, db_path: Path) -> None:
        self.conn = db.connect(db_path)
        self._lock = threading.Lock()  # fetch threads report progress through the same connection

    def close(self) -> None:
        self.conn.close()

    def start(self, trigger: str) -> int:
        with self._lock, db.tx(self.conn):
            cur = self.conn.execute(
                "INSERT INTO runs (trigger, status, started_at, pid, progress_msg) VALUES (?, 'running', ?, ?, ?)",
                [trigger, iso(utcnow()), os.getpid(), "starting"],
            )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def reap(self, keep: int | None = None, *, lock_held: bool = True) -> int:
        """Mark runs still ``running`` whose process is gone as ``killed``; returns how many.

        Called with the sync lock held (``lock_held``), every other running run is dead: only the lock holder
        runs a sync. Without the lock (doctor, status) only runs whose pid no longer exists are marked."""
        rows = self.conn.execute("SELECT id, pid FROM runs WHERE status = 'running'").fetchall()
        dead = [
            int(r["id"])
            for r in rows
            if int(r["id"]) != keep and (lock_held or not r["pid"] or not pid_alive(int(r["pid"])))
        ]
        if not dead:
            return 0
        marks = ",".join("?" * len(dead))
        with self._lock, db.tx(self.conn):
            self.conn.execute(
                f"UPDATE runs SET status = 'killed', finished_at = coalesce(finished_at, ?),"  # noqa: S608
                f" error = coalesce(error, 'the sync process ended without finishing (killed or crashed);"
                f" the previous snapshot stayed published') WHERE id IN ({marks}) AND status = 'running'",
                [iso(utcnow()), *dead],
            )
        return len(dead)

    def stuck(self) -> list[dict[str, Any]]:
        """Runs recorded as running whose process is gone."""
        rows = self.conn.execute("SELECT id, pid, started_at FROM runs WHERE status = 'running'").fetchall()
        return [dict(r) for r in rows if not r["pid"] or not pid_alive(int(r["pid"]))]

    def refused(self, trigger: str, reason: str) -> int:
        now = iso(utcnow())
        with self._lock, db.tx(self.conn):
            cur = self.conn.execute(
                "INSERT INTO runs (trigger, status, started_at, finished_at, pid, error) VALUES (?, 'refused', ?, ?, ?, ?)",
                [trigger, now, now, os.getpid(), reason],
            )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def progress(self, run_id: int, fraction: float, message: str) -> None:
        with self._lock, db.tx(self.conn):
            self.conn.execute(
                "UPDATE runs SET progress = ?, progress_msg = ? WHERE id = ?",
                [max(0.0, min(1.0, fraction)), message, run_id],
            )

    def source(self, run_id: int, outcome: SourceOutcome) -> None:
        with self._lock, db.tx(self.conn):
            self.conn.execute(
                "INSERT OR REPLACE INTO run_sources (run_id, source, kind, status, error, fetched, duration_ms, warnings)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    run_id,
                    outcome.name,
                    outcome.kind,
                    outcome.status,
                    outcome.error,
                    outcome.fetched,
                    outcome.duration_ms,
                    json.dumps(list(outcome.warnings)),
                ],
            )

    def finish(self, run_id: int, status: str, **fields: Any) -> None:
        values = {k: (json.dumps(v) if isinstance(v, dict | list | tuple) else v) for k, v in fields.items()}
        allowed = {
            "snapshot_version",
            "demo",
            "counts",
            "rejected",
            "reject_reasons",
            "reject_examples",
            "phases",
            "jobs_in",
            "jobs_per_s",
            "peak_rss_mb",
            "error",
        }
        unknown = set(values) - allowed
        if unknown:
            raise ValueError(f"unknown run fields: {sorted(unknown)}")
        sets = "".join(f", {k} = ?" for k in values)  # keys checked against the fixed set above
        with self._lock, db.tx(self.conn):
            self.conn.execute(
                f"UPDATE runs SET status = ?, finished_at = ?, progress = 1{sets} WHERE id = ?",  # noqa: S608
                [status, iso(utcnow()), *values.values(), run_id],
            )

    def recent(self, limit: int = 20) -> list[dict[str, Any]]:
        rows = self.conn.execute("SELECT * FROM runs ORDER BY id DESC LIMIT ?", [limit]).fetchall()
        return [self._decode(dict(r)) for r in rows]

    def get(self, run_id: int) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT * FROM runs WHERE id = ?", [run_id]).fetchone()
        return self._decode(dict(row)) if row else None

    def sources_of(self, run_id: int) -> list[dict[str, Any]]:
        rows = self.conn.execute("SELECT * FROM run_sources WHERE run_id = ? ORDER BY source", [run_id]).fetchall()
        return [{**dict(r), "warnings": json.loads(r["warnings"])} for r in rows]

    def source_health(self) -> list[dict[str, Any]]:
        """Each source's latest status, last error, jobs fetched and how many runs in a row it failed."""
        rows = self.conn.execute(
            "SELECT rs.*, r.started_at FROM run_sources rs JOIN runs r ON r.id = rs.run_id ORDER BY rs.run_id DESC"
        ).fetchall()
        health: dict[str, dict[str, Any]] = {}
        for r in rows:
            h = health.setdefault(
                r["source"], {**dict(r), "failures_in_a_row": 0, "streak_open": True, "last_error": None}
            )
            if h["streak_open"]:
                if r["status"] == "failed":
                    h["failures_in_a_row"] += 1
                else:
                    h["streak_open"] = False
            if h["last_error"] is None and r["error"]:
                h["last_error"] = r["error"]
        for h in health.values():
            h.pop("streak_open")
        return list(health.values())

    @staticmethod
    def _decode(row: dict[str, Any]) -> dict[str, Any]:
        for key in ("counts", "reject_reasons", "reject_examples", "phases"):
            row[key] = json.loads(row[key]) if row.get(key) else {}
        return row
