"""The scheduled background sync (APScheduler 3.x).

Runs once at start, then every `schedule.interval_minutes`; a source with `schedule_minutes` gets its
own job. "Sync now" requests from the dashboard are picked up within a heartbeat; one that arrives
while a sync runs is deferred until it ends, never dropped. SIGTERM/SIGINT stop it cleanly.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from datetime import UTC, datetime

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from core import control
from core.errors import JobdashError, SyncBusy
from core.runs import utcnow
from core.settings import Settings, load_settings
from core.sync import run_sync

log = logging.getLogger("jobdash.scheduler")
MAIN_JOB = "sync-all"


class Scheduler:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.stopping = threading.Event()
        self.busy = threading.Lock()  # held while this process syncs
        # One sync worker so runs never overlap; the heartbeat has its own thread so it keeps beating.
        self.aps = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(1), "beat": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
            timezone="UTC",
        )

    def main_sources(self) -> list[str] | None:
        """The sources the main job syncs: all, unless some keep their own schedule."""
        own = {s.name for s in self.settings.sources if s.enabled and s.schedule_minutes}
        return [s.name for s in self.settings.sources if s.enabled and s.name not in own] if own else None

    def sync(self, names: list[str] | None, trigger: str) -> None:
        with self.busy:
            try:
                result = run_sync(self.settings, trigger=trigger, only=names)
                log.info("run #%s %s: %s", result.run_id, result.status, result.counts)
            except SyncBusy as e:
                log.warning("%s; asking again after it", e)
                control.request_sync(self.settings, f"{trigger} (deferred)")
            except Exception:  # the scheduler outlives any one bad run
                log.exception("sync failed")

    def heartbeat(self) -> None:
        job = self.aps.get_job(MAIN_JOB)
        next_run = job.next_run_time.astimezone(UTC).replace(tzinfo=None) if job and job.next_run_time else None
        control.beat(self.settings, next_run)
        # A request waits while any sync runs (here or in another process), so it is deferred, not dropped.
        if control.pending_requests(self.settings) and not self.busy.locked() and not control.sync_running(self.settings):
            requests = control.take_requests(self.settings)
            sources = {r["source"] for r in requests}
            names = None if None in sources else sorted(s for s in sources if s)
            self.aps.add_job(self.sync, args=[names, "request"], id="sync-request", replace_existing=True)

    def start(self) -> None:
        s = self.settings
        self.aps.add_job(
            self.sync, IntervalTrigger(minutes=s.interval_minutes), args=[self.main_sources(), "scheduler"], id=MAIN_JOB,
            next_run_time=datetime.now().astimezone(),
        )
        for src in s.sources:
            if src.enabled and src.schedule_minutes:
                self.aps.add_job(
                    self.sync, IntervalTrigger(minutes=src.schedule_minutes), args=[[src.name], "scheduler"],
                    id=f"sync-{src.name}",
                )
        self.aps.add_job(
            self.heartbeat, IntervalTrigger(seconds=control.HEARTBEAT_S), id="heartbeat", executor="beat",
            next_run_time=datetime.now().astimezone(),
        )
        self.aps.start()
        log.info("scheduler started: every %s min, data in %s", s.interval_minutes, s.data_dir)

    def stop(self) -> None:
        log.info("stopping: waiting for a running sync to end")
        self.aps.shutdown(wait=True)
        control.clear_beat(self.settings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="jobdash scheduled sync")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
    except JobdashError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    settings.ensure_dirs()
    sched = Scheduler(settings)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: sched.stopping.set())
    sched.start()
    while not sched.stopping.wait(1.0):
        pass
    sched.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
