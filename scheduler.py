"""The scheduled background sync (APScheduler 3.x).

Runs at start (unless a sync finished less than an interval ago: a restart, or `make run` right after it
built the demo catalog), then every `schedule.interval_minutes` (or on `schedule.cron`); a source with its
own `schedule_minutes`/`cron` gets its own job. A start over the heartbeat of a scheduler that died is
recorded (``control.note_start``) so the dashboard can say it was restarted. "Sync now" requests (dashboard, `python -m core sync
--request`) are picked up within a second; one that arrives while a sync runs is deferred until it
ends, never dropped. SIGTERM/SIGINT stop it within seconds: a running sync stops at its next safe
point, and a publish already under way finishes first.

A BackgroundScheduler with the main thread waiting on a stop event (rather than BlockingScheduler)
keeps signal handling in the main thread, where Python delivers it.
"""

from __future__ import annotations

import argparse
import logging
import logging.handlers
import signal
import sys
import threading
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from core import control
from core.errors import JobdashError, SyncBusy
from core.runs import RunLog
from core.settings import Settings, load_settings
from core.sync import run_sync

log = logging.getLogger("jobdash.scheduler")
MAIN_JOB = "sync-all"
POLL_S = 1.0


def trigger(minutes: float | None, cron: str | None) -> BaseTrigger:
    if cron:
        return CronTrigger.from_crontab(cron, timezone="UTC")
    return IntervalTrigger(seconds=round((minutes or 60.0) * 60, 3))


class Scheduler:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.stopping = threading.Event()  # also the running sync's cancel flag
        self.busy = threading.Lock()  # held while this process syncs
        self._last_beat = 0.0
        # One sync worker so runs never overlap; the poller has its own thread so it keeps beating.
        self.aps = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(1), "poll": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
            timezone="UTC",
        )

    def own_schedule(self) -> set[str]:
        return {s.name for s in self.settings.sources if s.enabled and (s.schedule_minutes or s.cron)}

    def main_sources(self) -> list[str] | None:
        """The sources the main job syncs: all, unless some keep their own schedule."""
        own = self.own_schedule()
        return [s.name for s in self.settings.sources if s.enabled and s.name not in own] if own else None

    def sync(self, names: list[str] | None, why: str) -> None:
        with self.busy:
            if self.stopping.is_set():
                return
            try:
                result = run_sync(self.settings, trigger=why, only=names, cancel=self.stopping)
                log.info("run #%s %s: %s", result.run_id, result.status, result.counts)
            except SyncBusy as e:
                log.warning("%s; asking again after it", e)
                control.request_sync(self.settings, f"{why} (deferred)")
            except Exception:  # the scheduler outlives any one bad run
                log.exception("sync failed")

    def poll(self) -> None:
        """Every second: a heartbeat every few seconds, and pending "Sync now" requests."""
        now = datetime.now(UTC).timestamp()
        if now - self._last_beat >= control.HEARTBEAT_S:
            job = self.aps.get_job(MAIN_JOB)
            nxt = job.next_run_time.astimezone(UTC).replace(tzinfo=None) if job and job.next_run_time else None
            control.beat(self.settings, nxt)
            self._last_beat = now
        # A request waits while any sync runs (here or in another process): deferred, not dropped.
        if self.busy.locked() or control.sync_running(self.settings) or not control.pending_requests(self.settings):
            return
        requests = control.take_requests(self.settings)
        sources = {r["source"] for r in requests}
        names = None if None in sources else sorted(s for s in sources if s)
        log.info("serving %d sync request(s)", len(requests))
        self.aps.add_job(self.sync, args=[names, "request"], id="sync-request", replace_existing=True)

    def first_run(self, now: datetime) -> datetime:
        """Now, unless the last successful sync finished less than an interval ago: then an interval after it."""
        if self.settings.cron:
            return now
        log = RunLog(self.settings.db_path)
        try:
            done = [r for r in log.recent(20) if r["status"] in ("ok", "partial") and r["finished_at"]]
        finally:
            log.close()
        if not done:
            return now
        last = max(datetime.fromisoformat(r["finished_at"]) for r in done).replace(tzinfo=UTC)
        return max(now, last + timedelta(minutes=self.settings.interval_minutes or 60.0))

    def start(self) -> None:
        s = self.settings
        now = datetime.now(UTC)
        restart = control.note_start(s)
        if restart is not None:
            log.warning("restarted: the last scheduler (pid %s) stopped without a clean exit", restart.dead_pid)
        self.aps.add_job(
            self.sync,
            trigger(s.interval_minutes, s.cron),
            args=[self.main_sources(), "scheduler"],
            id=MAIN_JOB,
            next_run_time=self.first_run(now),
        )
        for src in s.sources:
            if src.enabled and (src.schedule_minutes or src.cron):
                self.aps.add_job(
                    self.sync,
                    trigger(src.schedule_minutes, src.cron),
                    args=[[src.name], "scheduler"],
                    id=f"sync-{src.name}",
                    next_run_time=now,
                )
        self.aps.add_job(self.poll, IntervalTrigger(seconds=POLL_S), id="poll", executor="poll", next_run_time=now)
        self.aps.start()
        log.info("scheduler started (%s), data in %s", s.cron or f"every {s.interval_minutes:g} min", s.data_dir)

    def stop(self) -> None:
        log.info("stopping: a running sync ends at its next safe point")
        self.stopping.set()
        self.aps.shutdown(wait=True)
        control.clear_beat(self.settings)
        log.info("stopped")


def setup_logging(settings: Settings, level: str) -> None:
    logs = settings.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    to_file = logging.handlers.RotatingFileHandler(logs / "scheduler.log", maxBytes=2_000_000, backupCount=3)
    to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    to_err = logging.StreamHandler(sys.stderr)  # under `make run` the log relay stamps the time
    to_err.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.setLevel(level)
    for h in (to_file, to_err):
        root.addHandler(h)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="jobdash scheduled sync")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except JobdashError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    settings.ensure_dirs()
    setup_logging(settings, args.log_level)
    sched = Scheduler(settings)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: sched.stopping.set())
    sched.start()
    while not sched.stopping.wait(0.2):
        pass
    sched.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
