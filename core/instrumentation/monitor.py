"""What the Performance page and `status` measure: system samples, sync runs, sources, the snapshot.

Gathering only: ``Sampler`` (psutil, a daemon thread, last hour kept), ``sync_runs``, ``source_health``,
``snapshot_figures``, and ``measure``, which puts everything the rules look at into one plain
``Measurements`` value. The rules are pure functions of it: ``alerts.evaluate`` and
``recommendations.recommend``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from core import snapshots
from core.instrumentation import metrics
from core.instrumentation.metrics import CacheSummary, LatencySummary, SlowQuery
from core.settings import Settings

log = logging.getLogger(__name__)

SAMPLE_INTERVAL_S = 5.0
HISTORY_S = 3600.0
MB = 2**20
GB = 2**30

# ---------------------------------------------------------------- system sampling


@dataclass(frozen=True)
class ProcessFigures:
    role: str  # "dashboard" | "scheduler"
    pid: int
    rss_mb: float
    cpu_percent: float | None  # None on the first look at a process: psutil needs two readings
    threads: int
    open_files: int | None  # None when the OS does not let us count them


@dataclass(frozen=True)
class DiskFigures:
    path: str
    total_gb: float
    used_gb: float
    free_gb: float
    percent: float


@dataclass(frozen=True)
class SystemSample:
    at: float
    dashboard: ProcessFigures | None
    scheduler: ProcessFigures | None
    cpu_percent: float | None  # the machine; None on the sampler's first reading
    memory_percent: float
    disk: DiskFigures | None


def disk_figures(path: Path) -> DiskFigures | None:
    """Usage of the file system holding ``path`` (or its nearest existing parent)."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        du = psutil.disk_usage(str(probe))
    except OSError:
        return None
    return DiskFigures(str(path), du.total / GB, du.used / GB, du.free / GB, du.percent)


class Sampler:
    """Samples this process, the scheduler (by its heartbeat pid) and the machine every ``interval_s``.

    ``cpu_percent`` is primed on the first look at a process or the machine and reported as None for
    that reading: psutil's first call compares against nothing and returns a meaningless 0.0.
    """

    def __init__(self, interval_s: float = SAMPLE_INTERVAL_S, history_s: float = HISTORY_S) -> None:
        self.interval_s = interval_s
        self._history: deque[SystemSample] = deque(maxlen=max(1, int(history_s / interval_s)))
        self._lock = threading.Lock()
        self._procs: dict[int, psutil.Process] = {}
        self._machine_primed = False
        self._settings: Settings | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self, settings: Settings) -> None:
        """Start the background thread once (idempotent); the first sample is taken right away."""
        with self._lock:
            self._settings = settings
            if self._thread is not None:  # running, or being started by another caller
                return
            thread = threading.Thread(target=self._run, daemon=True, name="jobdash-sampler")
            self._thread = thread
            self._stop.clear()
        # The first reading happens here, so a page that starts the sampler can show memory right away.
        self._safe_sample()
        thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=self.interval_s + 1)
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _safe_sample(self) -> None:
        try:
            self.sample()
        except Exception as e:  # noqa: BLE001 - a failed reading must never kill the sampler
            log.warning("system sampler: dropped a reading: %s: %s", type(e).__name__, e)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._safe_sample()

    def _process(self, role: str, pid: int) -> ProcessFigures | None:
        proc = self._procs.get(pid)
        primed = proc is not None
        try:
            if proc is None:
                proc = psutil.Process(pid)
                self._procs[pid] = proc
            with proc.oneshot():
                cpu = proc.cpu_percent(None)
                rss = proc.memory_info().rss
                threads = proc.num_threads()
            try:
                files: int | None = len(proc.open_files())
            except (psutil.AccessDenied, psutil.ZombieProcess):
                files = None
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            self._procs.pop(pid, None)
            return None
        return ProcessFigures(role, pid, round(rss / MB, 1), cpu if primed else None, threads, files)

    def _scheduler_pid(self) -> int | None:
        if self._settings is None:
            return None
        from core.control import scheduler

        try:
            hb = scheduler(self._settings)
        except Exception:  # noqa: BLE001 - an unreadable heartbeat means "not known alive"
            return None
        return hb.pid if hb else None

    def sample(self) -> SystemSample:
        """Take one reading now and add it to the history."""
        machine_cpu = psutil.cpu_percent(None)
        cpu = machine_cpu if self._machine_primed else None
        self._machine_primed = True
        sched_pid = self._scheduler_pid()
        dashboard = self._process("dashboard", psutil.Process().pid)
        sched = self._process("scheduler", sched_pid) if sched_pid is not None else None
        alive = {psutil.Process().pid} | ({sched_pid} if sched_pid else set())
        for pid in list(self._procs):
            if pid not in alive:
                self._procs.pop(pid, None)
        disk = disk_figures(self._settings.data_dir) if self._settings else None
        s = SystemSample(time.time(), dashboard, sched, cpu, psutil.virtual_memory().percent, disk)
        with self._lock:
            self._history.append(s)
        return s

    def history(self, window_s: float | None = None) -> list[SystemSample]:
        """Samples oldest first, optionally only those of the last ``window_s`` seconds."""
        with self._lock:
            items = list(self._history)
        if window_s is None:
            return items
        since = time.time() - window_s
        return [s for s in items if s.at >= since]

    def latest(self) -> SystemSample | None:
        with self._lock:
            return self._history[-1] if self._history else None


SAMPLER = Sampler()


# ---------------------------------------------------------------- sync runs and the snapshot


@dataclass(frozen=True)
class RunFigures:
    run_id: int
    started_at: str
    trigger: str
    status: str
    total_s: float | None
    to_publish_s: float | None  # start → new snapshot published (the index is updated after it)
    phases: tuple[tuple[str, float], ...]  # consecutive phases in the order the sync ran them; running totals excluded
    jobs_in: int | None
    jobs_per_s: float | None
    peak_rss_mb: float | None

    @staticmethod
    def of(row: Mapping[str, Any]) -> RunFigures:
        phases = dict(row.get("phases") or {})
        total = phases.pop("total", None)
        to_publish = phases.pop("to_publish", None)
        return RunFigures(
            run_id=int(row["id"]),
            started_at=str(row["started_at"]),
            trigger=str(row["trigger"]),
            status=str(row["status"]),
            total_s=float(total) if total is not None else None,
            to_publish_s=float(to_publish) if to_publish is not None else None,
            phases=tuple((str(k), float(v)) for k, v in phases.items()),
            jobs_in=row.get("jobs_in"),
            jobs_per_s=row.get("jobs_per_s"),
            peak_rss_mb=row.get("peak_rss_mb"),
        )


def sync_runs(settings: Settings, limit: int = 50) -> list[RunFigures]:
    """Finished runs (ok, partial, failed), newest first; refused and running ones carry no timings."""
    from core.runs import RunLog

    log = RunLog(settings.db_path)
    try:
        rows = log.recent(limit)
    finally:
        log.close()
    return [RunFigures.of(r) for r in rows if r["status"] in ("ok", "partial", "failed")]


@dataclass(frozen=True)
class SourceHealth:
    name: str
    status: str
    failures_in_a_row: int
    last_error: str | None


def source_health(settings: Settings) -> list[SourceHealth]:
    from core.runs import RunLog

    log = RunLog(settings.db_path)
    try:
        rows = log.source_health()
    finally:
        log.close()
    return [
        SourceHealth(str(r["source"]), str(r["status"]), int(r["failures_in_a_row"]), r.get("last_error")) for r in rows
    ]


@dataclass(frozen=True)
class SnapshotFigures:
    version: int
    created_at: str
    demo: bool
    rows: int
    listed: int
    delisted: int
    jobs_file_bytes: int
    snapshots_dir_bytes: int  # every file under data/snapshots: kept snapshots and description segments
    files: int


def snapshot_figures(settings: Settings) -> SnapshotFigures | None:
    """Size on disk and row counts of the published snapshot; None before the first sync."""
    import pyarrow.parquet as pq

    snap = snapshots.current(settings.snapshots_dir)
    if snap is None:
        return None
    delisted_col = pq.read_table(snap.jobs_path, columns=["delisted_at"]).column(0)
    rows = len(delisted_col)
    listed = delisted_col.null_count
    files = [p for p in settings.snapshots_dir.iterdir() if p.is_file()]
    return SnapshotFigures(
        version=snap.version,
        created_at=snap.created_at,
        demo=snap.demo,
        rows=rows,
        listed=listed,
        delisted=rows - listed,
        jobs_file_bytes=snap.jobs_path.stat().st_size,
        snapshots_dir_bytes=sum(p.stat().st_size for p in files),
        files=len(files),
    )


# ---------------------------------------------------------------- measurements


@dataclass(frozen=True)
class Measurements:
    """Everything the rules look at. Missing figures are None or empty: a rule without data stays quiet."""

    now: float = 0.0
    queries: Mapping[str, LatencySummary] = field(default_factory=dict)  # per kind, over the window
    slow: tuple[SlowQuery, ...] = ()
    scripts: Mapping[str, LatencySummary] = field(default_factory=dict)  # per page
    cache: Mapping[str, CacheSummary] = field(default_factory=dict)  # per cache name
    cpu: tuple[tuple[float, float], ...] = ()  # (at, machine CPU %), oldest first
    process_cpu: Mapping[str, float] = field(default_factory=dict)  # latest CPU % per role
    dashboard_rss_mb: float | None = None
    free_disk_gb: float | None = None
    snapshots_bytes: int | None = None
    snapshot_rows: int | None = None
    runs: tuple[RunFigures, ...] = ()  # newest first
    sources: tuple[SourceHealth, ...] = ()
    scheduler_alive: bool | None = None


def measure(
    settings: Settings,
    window_s: float | None = 900.0,
    registry: metrics.Registry | None = None,
    sampler: Sampler | None = None,
) -> Measurements:
    """Measurements of this process (queries, caches, scripts, samples) plus the runs and sources on disk."""
    reg = registry or metrics.REGISTRY
    smp = sampler or SAMPLER
    samples = smp.history()
    latest = samples[-1] if samples else None
    snap = snapshot_figures(settings)
    process_cpu: dict[str, float] = {}
    if latest:
        for proc in (latest.dashboard, latest.scheduler):
            if proc is not None and proc.cpu_percent is not None:
                process_cpu[proc.role] = proc.cpu_percent
    from core.control import scheduler

    return Measurements(
        now=time.time(),
        queries=reg.summary(window_s),
        slow=tuple(reg.slow_queries(window_s)),
        scripts=reg.scripts(window_s),
        cache=reg.cache(window_s),
        cpu=tuple((s.at, s.cpu_percent) for s in samples if s.cpu_percent is not None),
        process_cpu=process_cpu,
        dashboard_rss_mb=latest.dashboard.rss_mb if latest and latest.dashboard else None,
        free_disk_gb=latest.disk.free_gb if latest and latest.disk else free_disk_gb(settings),
        snapshots_bytes=snap.snapshots_dir_bytes if snap else None,
        snapshot_rows=snap.rows if snap else None,
        runs=tuple(sync_runs(settings)),
        sources=tuple(source_health(settings)),
        scheduler_alive=scheduler(settings) is not None,
    )


def free_disk_gb(settings: Settings) -> float | None:
    d = disk_figures(settings.data_dir)
    return d.free_gb if d else None
