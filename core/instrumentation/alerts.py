"""Alerts: measured figures against the configured thresholds (pure functions of ``Measurements``).

Each alert names what was measured, its value and the threshold it crossed; a rule without enough data
stays quiet. ``alerts_for_status`` judges what a separate process can read from disk.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

from core import snapshots
from core.instrumentation.metrics import CacheSummary
from core.instrumentation.monitor import Measurements, RunFigures, free_disk_gb, source_health, sync_runs
from core.settings import Settings, Thresholds

CPU_SUSTAIN_S = 60.0  # "sustained": every machine CPU sample of the last minute is above the threshold
MIN_QUERIES = 5  # a query kind needs this many queries in the window before its p95 may fire an alert
MIN_SCRIPTS = 3
SYNC_BASELINE_RUNS = 10
SYNC_MIN_BASELINE = 3


@dataclass(frozen=True)
class Alert:
    rule: str
    measurement: str  # what was measured, e.g. "p95 of desc_search queries (last 15 min)"
    value: float
    threshold: float
    unit: str
    message: str


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


def completed_runs(runs: Sequence[RunFigures]) -> list[RunFigures]:
    return [r for r in runs if r.status in ("ok", "partial") and r.total_s is not None]


def sustained_cpu(cpu: Sequence[tuple[float, float]], now: float, threshold: float) -> float | None:
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
    lowest = sustained_cpu(m.cpu, m.now, th.cpu_percent)
    if lowest is not None:
        out.append(_alert("cpu", "machine CPU, lowest sample of the last minute", lowest, th.cpu_percent, "%", ">"))
    done = completed_runs(m.runs)
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


def alerts_for_status(settings: Settings) -> list[Alert]:
    """Alerts a separate process can judge from disk: sync runs, sources, free disk, the scheduler.
    (Query, cache and dashboard figures live in the dashboard's memory and are shown on its page.)"""
    from core.control import scheduler

    snap = snapshots.current(settings.snapshots_dir)
    m = Measurements(
        now=time.time(),
        free_disk_gb=free_disk_gb(settings),
        snapshot_rows=snap.rows if snap else None,
        runs=tuple(sync_runs(settings)),
        sources=tuple(source_health(settings)),
        scheduler_alive=scheduler(settings) is not None,
    )
    return evaluate(m, settings.thresholds)
