"""System figures, sync history, alerts and recommendations for the Performance page and `status`.

Three layers, so the rules can be tested on synthetic streams:
- gathering: ``Sampler`` (psutil, a daemon thread, last hour kept), ``sync_runs``, ``snapshot_figures``;
- ``Measurements``: a plain value with everything the rules look at (``measure`` builds it);
- ``evaluate`` and ``recommend``: pure functions of ``Measurements`` and ``Thresholds``.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from core import metrics, snapshots
from core.metrics import CacheSummary, LatencySummary, SlowQuery
from core.settings import Settings, Thresholds

SAMPLE_INTERVAL_S = 5.0
HISTORY_S = 3600.0
CPU_SUSTAIN_S = 60.0  # "sustained": every machine CPU sample of the last minute is above the threshold
MIN_QUERIES = 5  # a query kind needs this many queries in the window before its p95 may fire an alert
MIN_SCRIPTS = 3
MIN_SLOW_FOR_CAUSE = 3  # slow queries needed before naming a dominant cause
DOMINANT_SHARE = 0.5
SYNC_BASELINE_RUNS = 10
SYNC_MIN_BASELINE = 3
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
        except Exception:  # noqa: BLE001 - a failed reading must never kill the sampler
            pass

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


# ---------------------------------------------------------------- measurements → alerts, recommendations


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


@dataclass(frozen=True)
class Alert:
    rule: str
    measurement: str  # what was measured, e.g. "p95 of desc_search queries (last 15 min)"
    value: float
    threshold: float
    unit: str
    message: str


@dataclass(frozen=True)
class Recommendation:
    cause: str  # the measured finding, with its numbers
    advice: str


def _fmt(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value:.0f}%"
    if unit == "ms":
        return f"{value:,.1f} ms"
    if unit == "MB":
        return f"{value:,.0f} MB"
    if unit == "GB":
        return f"{value:,.2f} GB"
    if unit == "s":
        return f"{value:,.1f} s"
    return f"{value:,.0f}{(' ' + unit) if unit else ''}"


def _alert(rule: str, measurement: str, value: float, threshold: float, unit: str, op: str) -> Alert:
    """``op`` is how the value compares with the threshold when the alert fires: ">", "<" or "≥"."""
    msg = f"{measurement}: {_fmt(value, unit)} (alert when {op} {_fmt(threshold, unit)})"
    return Alert(rule, measurement, value, threshold, unit, msg)


def _completed(runs: Sequence[RunFigures]) -> list[RunFigures]:
    return [r for r in runs if r.status in ("ok", "partial") and r.total_s is not None]


def _sustained_cpu(cpu: Sequence[tuple[float, float]], now: float, threshold: float) -> float | None:
    """The lowest machine CPU % of the last minute if every sample was above the threshold and the
    samples cover most of that minute; else None."""
    recent = [(at, pct) for at, pct in cpu if at >= now - CPU_SUSTAIN_S]
    if len(recent) < 3 or recent[-1][0] - recent[0][0] < 0.75 * CPU_SUSTAIN_S:
        return None
    lowest = min(p for _, p in recent)
    return lowest if lowest > threshold else None


def evaluate(m: Measurements, th: Thresholds) -> list[Alert]:
    """Alerts for the measurements against the thresholds; each names what fired it and its value."""
    out: list[Alert] = []
    for kind, s in m.queries.items():
        if s.count >= MIN_QUERIES and s.p95 > th.slow_query_p95_ms:
            out.append(_alert("slow_query", f"p95 of {s.count} {kind} queries", s.p95, th.slow_query_p95_ms, "ms", ">"))
    for page, s in m.scripts.items():
        if s.count >= MIN_SCRIPTS and s.p95 > th.page_script_ms:
            out.append(
                _alert(
                    "page_script",
                    f"p95 script time of the {page} page ({s.count} runs)",
                    s.p95,
                    th.page_script_ms,
                    "ms",
                    ">",
                )
            )
    if m.dashboard_rss_mb is not None and m.dashboard_rss_mb > th.dashboard_rss_mb:
        out.append(_alert("dashboard_rss", "dashboard RSS", m.dashboard_rss_mb, th.dashboard_rss_mb, "MB", ">"))
    total = CacheSummary(sum(c.hits for c in m.cache.values()), sum(c.misses for c in m.cache.values()))
    if total.lookups >= th.cache_min_lookups and total.hit_rate is not None and total.hit_rate < th.cache_hit_rate:
        out.append(
            _alert(
                "cache_hit_rate",
                f"cache hit rate over {total.lookups} lookups",
                100 * total.hit_rate,
                100 * th.cache_hit_rate,
                "%",
                "<",
            )
        )
    lowest = _sustained_cpu(m.cpu, m.now, th.cpu_percent)
    if lowest is not None:
        out.append(_alert("cpu", "machine CPU, lowest sample of the last minute", lowest, th.cpu_percent, "%", ">"))
    done = _completed(m.runs)
    if len(done) >= 1 + SYNC_MIN_BASELINE:
        latest, before = done[0], done[1 : 1 + SYNC_BASELINE_RUNS]
        median = statistics.median(r.total_s for r in before if r.total_s is not None)
        assert latest.total_s is not None
        if median > 0 and latest.total_s > th.sync_slowdown * median:
            out.append(
                _alert(
                    "sync_slowdown",
                    f"sync run #{latest.run_id} duration vs the median {median:.1f} s of the {len(before)} runs before it",
                    latest.total_s,
                    th.sync_slowdown * median,
                    "s",
                    ">",
                )
            )
    if m.free_disk_gb is not None and m.free_disk_gb < th.free_disk_gb:
        out.append(
            _alert("free_disk", "free disk space of the data folder", m.free_disk_gb, th.free_disk_gb, "GB", "<")
        )
    for src in m.sources:
        if src.failures_in_a_row >= th.source_failures:
            out.append(
                _alert(
                    "source_failing",
                    f"source {src.name!r} failed runs in a row",
                    src.failures_in_a_row,
                    th.source_failures,
                    "runs",
                    "≥",
                )
            )
    if m.scheduler_alive is False:
        out.append(
            Alert(
                "scheduler_down",
                "scheduler heartbeat",
                0,
                1,
                "",
                "scheduler is not running (no fresh heartbeat): scheduled syncs will not happen",
            )
        )
    return out


_KIND_ADVICE = {
    "desc_search": "narrow with other filters first (source, company, date) or use more specific words or a "
    '"quoted phrase": a broad description search ranks many matches before the page is cut',
    "page": "sort by a column with fewer ties and avoid leading-wildcard text filters on large catalogs; "
    "keep the page size at 100 rows",
    "count": "counts run on every filter change: combine several filter changes before applying, or narrow "
    "with a selective filter (source, date range) first",
    "facet": "facets group the whole filtered set: narrow the filters, or show fewer facets at once",
    "timeseries": "bucket by week or month instead of day over long date ranges",
    "salary": "restrict the salary chart to one currency or a date range",
    "export": "export a narrower filtered set; exports scan every matching row",
    "job": "single-job lookups should be instant: check the description segment files are on a local disk",
    "load": "snapshot loads scale with rows: purge delisted jobs sooner (retention.purge_delisted_after_days)",
}

_PHASE_ADVICE = {
    "fetch": "sources are the bottleneck: raise sync.max_parallel_fetch, lower a slow source's timeout_s, or give "
    "it its own schedule_minutes",
    "normalize": "normalization is CPU-bound per row: check the rejected counts for a noisy source, and keep "
    "descriptions short at the source if it allows",
    "diff": "the set-based diff is memory-bound: raise sync.memory_limit so DuckDB does not spill to disk",
    "write": "snapshot writing scales with the catalog: purge delisted jobs sooner "
    "(retention.purge_delisted_after_days) to keep the file small",
    "index": "description indexing runs for new and changed jobs only: a source that rewrites every description "
    "each run (tracking text, dates) makes everything 'changed'",
    "publish": "publishing prunes old snapshots: keep fewer (retention.snapshots)",
}


def recommend(m: Measurements, th: Thresholds) -> list[Recommendation]:
    """Advice that follows from the measured cause; nothing when nothing was measured."""
    out: list[Recommendation] = []

    if len(m.slow) >= MIN_SLOW_FOR_CAUSE:
        by_kind: dict[str, int] = {}
        for q in m.slow:
            by_kind[q.kind] = by_kind.get(q.kind, 0) + 1
        kind, n = max(by_kind.items(), key=lambda kv: kv[1])
        share = n / len(m.slow)
        if share >= DOMINANT_SHARE:
            worst = max(q.ms for q in m.slow if q.kind == kind)
            cause = f"{kind} queries are {share:.0%} of {len(m.slow)} slow queries (slowest {worst:,.0f} ms)"
            out.append(Recommendation(cause, _KIND_ADVICE.get(kind, "look at the slowest shapes in the table below")))
        text_scans = [q for q in m.slow if "ILIKE" in q.shape.upper() or "CONTAINS(" in q.shape.upper()]
        if len(text_scans) / len(m.slow) >= DOMINANT_SHARE and kind != "desc_search":
            out.append(
                Recommendation(
                    f"{len(text_scans)} of {len(m.slow)} slow queries filter by text substring",
                    "substring search scans every title and company: add a selective filter (source, country, "
                    "date) so fewer rows are scanned, or search the descriptions index instead",
                )
            )

    total = CacheSummary(sum(c.hits for c in m.cache.values()), sum(c.misses for c in m.cache.values()))
    if total.lookups >= th.cache_min_lookups and total.hit_rate is not None and total.hit_rate < th.cache_hit_rate:
        name, missed = max(m.cache.items(), key=lambda kv: kv[1].misses)
        out.append(
            Recommendation(
                f"cache hit rate {total.hit_rate:.0%} over {total.lookups} lookups; {name!r} missed "
                f"{missed.misses} of {missed.lookups}",
                f"results of {name!r} are recomputed: each new snapshot invalidates them by design, so frequent syncs "
                "lower the rate; otherwise raise that cache's max_entries or ttl",
            )
        )

    done = _completed(m.runs)
    if done and done[0].total_s:
        latest = done[0]
        assert latest.total_s is not None
        phase, secs = max(latest.phases, key=lambda kv: kv[1], default=("", 0.0))
        share = secs / latest.total_s
        if phase and share >= DOMINANT_SHARE:
            out.append(
                Recommendation(
                    f"the sync's {phase} phase is {share:.0%} of run #{latest.run_id} ({secs:,.1f} of {latest.total_s:,.1f} s)",
                    _PHASE_ADVICE.get(phase, "look at that phase in the run's record"),
                )
            )

    slow_pages = [(p, s) for p, s in m.scripts.items() if s.count >= MIN_SCRIPTS and s.p95 > th.page_script_ms]
    if slow_pages:
        page, s = max(slow_pages, key=lambda kv: kv[1].p95)
        script_total = sum(x.total for x in m.scripts.values())
        query_total = sum(x.total for x in m.queries.values())
        share = min(1.0, query_total / script_total) if script_total else 0.0
        if share >= DOMINANT_SHARE:
            advice = "the time is spent in queries: see the slow queries and their advice"
        else:
            advice = (
                "the time is spent outside queries (rendering, charts, the grid): show fewer rows or charts per rerun"
            )
        out.append(
            Recommendation(
                f"the {page} page's p95 script time is {s.p95:,.0f} ms; queries are {share:.0%} of script time", advice
            )
        )

    if m.dashboard_rss_mb is not None and m.dashboard_rss_mb > th.dashboard_rss_mb:
        rows = f" holding {m.snapshot_rows:,} catalog rows" if m.snapshot_rows is not None else ""
        out.append(
            Recommendation(
                f"dashboard RSS {m.dashboard_rss_mb:,.0f} MB{rows}",
                "the in-memory catalog grows with rows: purge delisted jobs sooner "
                "(retention.purge_delisted_after_days) or restart the dashboard after a large import",
            )
        )

    if m.free_disk_gb is not None and m.free_disk_gb < th.free_disk_gb:
        used = f"; snapshots use {m.snapshots_bytes / GB:,.2f} GB" if m.snapshots_bytes is not None else ""
        out.append(
            Recommendation(
                f"{m.free_disk_gb:,.2f} GB free on the data folder's disk{used}",
                "keep fewer snapshots (retention.snapshots) or move the data folder (JOBDASH_DATA_DIR)",
            )
        )

    for src in m.sources:
        if src.failures_in_a_row >= th.source_failures:
            err = f": {src.last_error}" if src.last_error else ""
            out.append(
                Recommendation(
                    f"source {src.name!r} failed {src.failures_in_a_row} runs in a row{err}",
                    "its jobs are kept untouched, not delisted; check its options in jobdash.toml or disable it",
                )
            )

    if _sustained_cpu(m.cpu, m.now, th.cpu_percent) is not None and m.process_cpu:
        role, pct = max(m.process_cpu.items(), key=lambda kv: kv[1])
        out.append(
            Recommendation(
                f"machine CPU above {th.cpu_percent:.0f}% for a minute; the {role} uses {pct:.0f}%",
                "a sync is probably running: schedule syncs less often (schedule.interval_minutes)"
                if role == "scheduler"
                else "the dashboard is busy: fewer charts per rerun, narrower filters",
            )
        )
    return out


# ---------------------------------------------------------------- gathering


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
        free_disk_gb=latest.disk.free_gb if latest and latest.disk else _free_gb(settings),
        snapshots_bytes=snap.snapshots_dir_bytes if snap else None,
        snapshot_rows=snap.rows if snap else None,
        runs=tuple(sync_runs(settings)),
        sources=tuple(source_health(settings)),
        scheduler_alive=scheduler(settings) is not None,
    )


def _free_gb(settings: Settings) -> float | None:
    d = disk_figures(settings.data_dir)
    return d.free_gb if d else None


def alerts_for_status(settings: Settings) -> list[Alert]:
    """Alerts a separate process can judge from disk: sync runs, sources, free disk, the scheduler.
    (Query, cache and dashboard figures live in the dashboard's memory and are shown on its page.)"""
    from core.control import scheduler

    snap = snapshots.current(settings.snapshots_dir)
    m = Measurements(
        now=time.time(),
        free_disk_gb=_free_gb(settings),
        snapshot_rows=snap.rows if snap else None,
        runs=tuple(sync_runs(settings)),
        sources=tuple(source_health(settings)),
        scheduler_alive=scheduler(settings) is not None,
    )
    return evaluate(m, settings.thresholds)
