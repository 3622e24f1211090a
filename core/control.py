"""How the dashboard, the CLI and the scheduler talk: a heartbeat and a queue of sync requests in SQLite.

"Sync now" asks the scheduler when it is alive; otherwise the caller runs the sync in a background
thread under the same cross-process lock.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import psutil

from core import db, snapshots
from core.clock import iso, utcnow
from core.errors import JobdashError, SyncBusy
from core.lock import is_locked
from core.settings import Settings

if TYPE_CHECKING:
    from core.sync import SyncResult

HEARTBEAT_S = 5.0
SCHEDULER = "scheduler"


@dataclass(frozen=True)
class Heartbeat:
    pid: int
    beat_at: datetime
    next_run: datetime | None


def beat(settings: Settings, next_run: datetime | None, name: str = SCHEDULER) -> None:
    with db.opened(settings.db_path) as conn:
        with db.tx(conn):
            conn.execute(
                "INSERT OR REPLACE INTO heartbeat (name, pid, beat_at, next_run) VALUES (?, ?, ?, ?)",
                [name, os.getpid(), iso(utcnow()), iso(next_run) if next_run else None],
            )


@dataclass(frozen=True)
class Restart:
    at: datetime
    pid: int  # the new scheduler
    dead_pid: int
    last_beat: datetime  # the dead one's last sign of life


def note_start(settings: Settings, name: str = SCHEDULER) -> Restart | None:
    """At scheduler start: a heartbeat that its process never cleared (it exits cleanly through clear_beat)
    and whose pid is gone means the last scheduler died; record that it was restarted."""
    with db.opened(settings.db_path) as conn:
        with db.tx(conn):
            row = conn.execute("SELECT pid, beat_at FROM heartbeat WHERE name = ?", [name]).fetchone()
            if row is None or int(row["pid"]) == os.getpid() or psutil.pid_exists(int(row["pid"])):
                return None
            now = utcnow()
            conn.execute(
                "INSERT INTO scheduler_restarts (at, pid, dead_pid, last_beat) VALUES (?, ?, ?, ?)",
                [iso(now), os.getpid(), int(row["pid"]), row["beat_at"]],
            )
            conn.execute("DELETE FROM heartbeat WHERE name = ? AND pid = ?", [name, int(row["pid"])])  # noted once
    return Restart(now, os.getpid(), int(row["pid"]), datetime.fromisoformat(row["beat_at"]))


def last_restart(settings: Settings) -> Restart | None:
    with db.opened(settings.db_path) as conn:
        row = conn.execute("SELECT * FROM scheduler_restarts ORDER BY id DESC LIMIT 1").fetchone()
    if row is None:
        return None
    return Restart(
        datetime.fromisoformat(row["at"]),
        int(row["pid"]),
        int(row["dead_pid"]),
        datetime.fromisoformat(row["last_beat"]),
    )


def clear_beat(settings: Settings, name: str = SCHEDULER) -> None:
    with db.opened(settings.db_path) as conn:
        with db.tx(conn):
            conn.execute("DELETE FROM heartbeat WHERE name = ? AND pid = ?", [name, os.getpid()])


def scheduler(settings: Settings, now: datetime | None = None) -> Heartbeat | None:
    """The scheduler's heartbeat if it is alive: its pid runs and it beat within three intervals."""
    with db.opened(settings.db_path) as conn:
        row = conn.execute("SELECT pid, beat_at, next_run FROM heartbeat WHERE name = ?", [SCHEDULER]).fetchone()
    if row is None:
        return None
    hb = Heartbeat(
        int(row["pid"]),
        datetime.fromisoformat(row["beat_at"]),
        datetime.fromisoformat(row["next_run"]) if row["next_run"] else None,
    )
    fresh = (now or utcnow()) - hb.beat_at <= timedelta(seconds=3 * HEARTBEAT_S)
    return hb if fresh and psutil.pid_exists(hb.pid) else None


def request_sync(settings: Settings, requested_by: str, source: str | None = None) -> int:
    with db.opened(settings.db_path) as conn:
        with db.tx(conn):
            cur = conn.execute(
                "INSERT INTO sync_requests (requested_at, requested_by, source) VALUES (?, ?, ?)",
                [iso(utcnow()), requested_by, source],
            )
    assert cur.lastrowid is not None
    return cur.lastrowid


def take_requests(settings: Settings) -> list[dict[str, Any]]:
    """Claim every pending request at once: several clicks while a run is going become one deferred run."""
    with db.opened(settings.db_path) as conn:
        with db.tx(conn):
            rows = conn.execute("SELECT * FROM sync_requests WHERE taken_at IS NULL ORDER BY id").fetchall()
            conn.execute("UPDATE sync_requests SET taken_at = ? WHERE taken_at IS NULL", [iso(utcnow())])
    return [dict(r) for r in rows]


def pending_requests(settings: Settings) -> int:
    with db.opened(settings.db_path) as conn:
        (n,) = conn.execute("SELECT count(*) FROM sync_requests WHERE taken_at IS NULL").fetchone()
    return int(n)


def sync_running(settings: Settings) -> bool:
    return is_locked(settings.lock_path)


def running_run(settings: Settings) -> dict[str, Any] | None:
    """The run in progress with its progress fraction and message, if a sync holds the lock."""
    if not sync_running(settings):
        return None
    with db.opened(settings.db_path) as conn:
        row = conn.execute("SELECT * FROM runs WHERE status = 'running' ORDER BY id DESC LIMIT 1").fetchone()
    return dict(row) if row else None


def demo_needed(settings: Settings) -> bool:
    """No snapshot yet and no sources configured: the embedded demo catalog is due. Not for a broken pointer:
    the catalog reports that rather than papering over it with demo data."""
    try:
        return settings.demo_default and snapshots.current(settings.snapshots_dir) is None
    except JobdashError:
        return False


def seed_demo(settings: Settings) -> SyncResult | None:
    """Build the demo catalog now if it is due (``make run`` before it starts anything; the dashboard on a first
    request when started alone); None when it is not. Raises SyncBusy when another sync runs."""
    if not demo_needed(settings):
        return None
    from core.sync import run_sync

    return run_sync(settings, trigger="first-run")


def sync_now(settings: Settings, requested_by: str = "dashboard") -> str:
    """Ask the scheduler if it is alive, else run in a background thread here. Returns what happened."""
    if scheduler(settings) is not None:
        request_sync(settings, requested_by)
        return "requested"
    if sync_running(settings):
        raise SyncBusy("a sync is already running")
    from core.sync import run_sync

    def work() -> None:
        try:
            run_sync(settings, trigger=requested_by)
        except SyncBusy:
            pass  # another process started one in between: its run record says so

    threading.Thread(target=work, daemon=True, name="sync-now").start()
    return "started"
