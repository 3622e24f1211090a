"""Alert rules and recommendations of core.instrumentation on synthetic measurement streams; the sampler on psutil."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import replace

import pytest

from core.instrumentation import alerts as alert_rules
from core.instrumentation import monitor
from core.instrumentation.alerts import evaluate
from core.instrumentation.metrics import CacheSummary, LatencySummary, Registry, SlowQuery
from core.instrumentation.monitor import Measurements, RunFigures, SourceHealth, SystemSample
from core.instrumentation.recommendations import recommend
from core.runs import RunLog, SourceOutcome
from core.settings import Settings, Thresholds

TH = Thresholds()
NOW = 10_000.0


def lat(*values: float) -> LatencySummary:
    return LatencySummary.of(list(values))


def run(run_id: int, total: float, status: str = "ok", **phases: float) -> RunFigures:
    return RunFigures(
        run_id,
        "2026-01-01T00:00:00",
        "scheduler",
        status,
        total,
        None,
        tuple(phases.items()),
        1000,
        1000 / total,
        300.0,
    )


def slow(kind: str, ms: float = 120.0, shape: str = "SELECT ...") -> SlowQuery:
    return SlowQuery(kind, ms, 10, 1, shape, ("str",), NOW)


def rules(m: Measurements) -> set[str]:
    return {a.rule for a in evaluate(m, TH)}


def test_nothing_measured_no_alerts_no_advice() -> None:
    assert evaluate(Measurements(now=NOW), TH) == []
    assert recommend(Measurements(now=NOW), TH) == []


def test_slow_query_p95_fires_and_clears() -> None:
    fast = {"page": lat(*([5.0] * 19 + [60.0]))}  # p95 is 5 ms
    assert "slow_query" not in rules(Measurements(now=NOW, queries=fast))
    slow_stream = {"page": lat(*([5.0] * 10 + [80.0] * 10))}
    (alert,) = evaluate(Measurements(now=NOW, queries=slow_stream), TH)
    assert alert.rule == "slow_query" and alert.value == 80.0 and alert.threshold == 50.0
    assert "page" in alert.measurement and "80.0 ms" in alert.message
    # too few queries of a kind to judge
    assert "slow_query" not in rules(Measurements(now=NOW, queries={"page": lat(90.0, 95.0)}))


def test_page_script_and_rss_and_disk() -> None:
    m = Measurements(now=NOW, scripts={"jobs": lat(150.0, 160.0, 170.0)}, dashboard_rss_mb=612.0, free_disk_gb=0.4)
    alerts = {a.rule: a for a in evaluate(m, TH)}
    assert set(alerts) == {"page_script", "dashboard_rss", "free_disk"}
    assert alerts["page_script"].value == 170.0
    assert alerts["dashboard_rss"].value == 612.0
    assert alerts["free_disk"].value == 0.4
    calm = Measurements(now=NOW, scripts={"jobs": lat(20.0, 30.0, 40.0)}, dashboard_rss_mb=300.0, free_disk_gb=50.0)
    assert evaluate(calm, TH) == []


def test_cache_hit_rate_needs_enough_lookups() -> None:
    low = {"jobs": CacheSummary(hits=20, misses=40)}  # 33% over 60 lookups
    (alert,) = evaluate(Measurements(now=NOW, cache=low), TH)
    assert alert.rule == "cache_hit_rate" and round(alert.value, 1) == 33.3
    few = {"jobs": CacheSummary(hits=5, misses=20)}  # 25 lookups: not enough to judge
    assert evaluate(Measurements(now=NOW, cache=few), TH) == []
    good = {"jobs": CacheSummary(hits=80, misses=20)}
    assert evaluate(Measurements(now=NOW, cache=good), TH) == []


def test_cpu_must_be_sustained_over_the_last_minute() -> None:
    every_5s = [NOW - 60 + 5 * i for i in range(13)]
    hot = tuple((t, 95.0) for t in every_5s)
    (alert,) = evaluate(Measurements(now=NOW, cpu=hot), TH)
    assert alert.rule == "cpu" and alert.value == 95.0
    one_dip = tuple((t, 30.0 if i == 6 else 95.0) for i, t in enumerate(every_5s))
    assert evaluate(Measurements(now=NOW, cpu=one_dip), TH) == []
    just_started = tuple((NOW - 10 + 5 * i, 99.0) for i in range(3))  # 10 s of history is not a minute
    assert evaluate(Measurements(now=NOW, cpu=just_started), TH) == []
    old_spike = tuple((t - 300, 99.0) for t in every_5s) + tuple((t, 20.0) for t in every_5s)
    assert evaluate(Measurements(now=NOW, cpu=old_spike), TH) == []


def test_sync_slowdown_against_median_of_previous_ten() -> None:
    history = [run(i, 10.0 + (i % 3)) for i in range(10, 0, -1)]  # newest first, median 11 s
    normal = Measurements(now=NOW, runs=(run(11, 20.0), *history))
    assert "sync_slowdown" not in rules(normal)
    slow_run = Measurements(now=NOW, runs=(run(11, 23.0), *history))
    (alert,) = evaluate(slow_run, TH)
    assert alert.rule == "sync_slowdown" and alert.value == 23.0 and alert.threshold == 22.0
    assert "#11" in alert.measurement
    # a failed run is not a baseline and not the latest
    with_failure = Measurements(now=NOW, runs=(run(12, 0.5, status="failed"), run(11, 23.0), *history))
    assert "sync_slowdown" in rules(with_failure)
    too_little = Measurements(now=NOW, runs=(run(3, 50.0), run(2, 1.0), run(1, 1.0)))
    assert evaluate(too_little, TH) == []


def test_source_failures_and_scheduler() -> None:
    sources = (SourceHealth("acme", "failed", 3, "HTTP 500"), SourceHealth("globex", "ok", 0, None))
    alerts = evaluate(Measurements(now=NOW, sources=sources, scheduler_alive=False), TH)
    assert {a.rule for a in alerts} == {"source_failing", "scheduler_down"}
    assert any("'acme'" in a.measurement and a.value == 3 for a in alerts)
    ok = (SourceHealth("acme", "failed", 2, "HTTP 500"),)
    assert evaluate(Measurements(now=NOW, sources=ok, scheduler_alive=True), TH) == []
    assert evaluate(Measurements(now=NOW, scheduler_alive=None), TH) == []  # unknown is not down


def test_thresholds_come_from_settings() -> None:
    strict = replace(TH, slow_query_p95_ms=1.0)
    m = Measurements(now=NOW, queries={"count": lat(2.0, 2.0, 2.0, 2.0, 2.0)})
    assert evaluate(m, TH) == []
    assert [a.rule for a in evaluate(m, strict)] == ["slow_query"]


def test_recommendation_names_the_dominant_slow_kind() -> None:
    stream = tuple(slow("desc_search", 100.0 + i) for i in range(8)) + (slow("page"), slow("count"))
    (rec,) = recommend(Measurements(now=NOW, slow=stream), TH)
    assert rec.cause.startswith("desc_search queries are 80% of 10 slow queries")
    assert "narrow with other filters first" in rec.advice
    mixed = (slow("page"), slow("count"), slow("facet"), slow("desc_search"))
    assert recommend(Measurements(now=NOW, slow=mixed), TH) == []  # no dominant cause, no invented advice


def test_recommendation_for_text_scans() -> None:
    stream = tuple(slow("page", shape="SELECT * FROM jobs WHERE lower(title) ILIKE ? ORDER BY x") for _ in range(4))
    causes = [r.cause for r in recommend(Measurements(now=NOW, slow=stream), TH)]
    assert causes == [
        "page queries are 100% of 4 slow queries (slowest 120 ms)",
        "4 of 4 slow queries filter by text substring",
    ]


def test_recommendation_for_cache_names_the_worst_cache() -> None:
    cache = {"jobs": CacheSummary(40, 10), "facets": CacheSummary(8, 62)}  # 48/120 = 40%
    (rec,) = recommend(Measurements(now=NOW, cache=cache), TH)
    assert rec.cause == "cache hit rate 40% over 120 lookups; 'facets' missed 62 of 70"


def test_recommendation_follows_the_sync_phase() -> None:
    diff_heavy = run(5, 10.0, fetch=1.0, normalize=1.0, diff=7.0, write=1.0)
    (rec,) = recommend(Measurements(now=NOW, runs=(diff_heavy,)), TH)
    assert rec.cause == "the sync's diff phase is 70% of run #5 (7.0 of 10.0 s)"
    assert "memory_limit" in rec.advice
    fetch_heavy = run(6, 10.0, fetch=8.0, diff=2.0)
    (rec,) = recommend(Measurements(now=NOW, runs=(fetch_heavy,)), TH)
    assert "fetch phase is 80%" in rec.cause and "max_parallel_fetch" in rec.advice
    balanced = run(7, 10.0, fetch=3.0, normalize=3.0, diff=4.0)
    assert recommend(Measurements(now=NOW, runs=(balanced,)), TH) == []


def test_recommendation_for_slow_page_splits_queries_from_rendering() -> None:
    scripts = {"jobs": lat(300.0, 300.0, 300.0)}  # 900 ms of script
    query_bound = Measurements(now=NOW, scripts=scripts, queries={"page": lat(250.0, 250.0, 250.0)})
    (rec,) = recommend(query_bound, TH)
    assert "queries are 83% of script time" in rec.cause and "spent in queries" in rec.advice
    render_bound = Measurements(now=NOW, scripts=scripts, queries={"page": lat(10.0, 10.0, 10.0)})
    (rec,) = recommend(render_bound, TH)
    assert "queries are 3% of script time" in rec.cause and "outside queries" in rec.advice


def test_sampler_primes_cpu_then_measures(settings: Settings) -> None:
    sampler = monitor.Sampler(interval_s=0.05)
    first = sampler.sample()
    second = sampler.sample()
    assert first.cpu_percent is None and first.dashboard is not None and first.dashboard.cpu_percent is None
    assert second.cpu_percent is not None and second.dashboard is not None and second.dashboard.cpu_percent is not None
    assert second.dashboard.pid == os.getpid() and second.dashboard.rss_mb > 0 and second.dashboard.threads >= 1
    assert second.scheduler is None  # no heartbeat: no scheduler process
    assert len(sampler.history()) == 2


def test_sampler_thread_fills_history_and_stops(settings: Settings) -> None:
    sampler = monitor.Sampler(interval_s=0.02)
    sampler.start(settings)
    sampler.start(settings)  # idempotent
    try:
        deadline = time.time() + 5
        while len(sampler.history()) < 3 and time.time() < deadline:
            time.sleep(0.02)
    finally:
        sampler.stop()
    hist = sampler.history()
    assert len(hist) >= 3 and not sampler.running
    assert hist[-1].disk is not None and hist[-1].disk.free_gb > 0


class _BrokenReading(monitor.Sampler):
    """A sampler whose reading fails, the way psutil does when /proc goes away under it."""

    def sample(self) -> SystemSample:
        raise OSError("no such file: /proc/stat")


def test_sampler_logs_a_dropped_reading_and_keeps_running(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    sampler = _BrokenReading(interval_s=0.02)
    with caplog.at_level(logging.WARNING, logger="core.instrumentation.monitor"):
        sampler.start(settings)  # the first reading is taken (and dropped) right here
        try:
            deadline = time.time() + 5
            while sum("dropped a reading" in r.getMessage() for r in caplog.records) < 2 and time.time() < deadline:
                time.sleep(0.02)
            assert sampler.running  # a failed reading never kills the thread
        finally:
            sampler.stop()
    dropped = [r for r in caplog.records if "dropped a reading" in r.getMessage()]
    assert len(dropped) >= 2 and all(r.levelno == logging.WARNING for r in dropped)
    assert "OSError: no such file: /proc/stat" in dropped[0].getMessage()
    assert sampler.history() == []  # nothing invented in place of the dropped readings


def test_alerts_for_status_reads_runs_and_sources_from_sqlite(settings: Settings) -> None:
    settings.ensure_dirs()
    log = RunLog(settings.db_path)
    try:
        for i in range(4):
            rid = log.start("scheduler")
            log.source(rid, SourceOutcome("acme", "greenhouse", "failed", "HTTP 503"))
            log.source(rid, SourceOutcome("demo", "demo", "ok", fetched=100))
            total = 30.0 if i == 3 else 2.0
            phases = {
                "fetch": total / 2,
                "diff": total / 4,
                "to_publish": 0.75 * total,
                "index": total / 4,
                "total": total,
            }
            log.finish(rid, "partial", phases=phases, jobs_in=100)
    finally:
        log.close()
    fired = {a.rule: a for a in alert_rules.alerts_for_status(settings)}
    assert fired["source_failing"].value == 4
    assert fired["sync_slowdown"].value == 30.0
    assert "scheduler_down" in fired
    runs = monitor.sync_runs(settings)
    assert [r.total_s for r in runs] == [30.0, 2.0, 2.0, 2.0]
    assert dict(runs[0].phases) == {"fetch": 15.0, "diff": 7.5, "index": 7.5}  # running totals are not phases
    assert runs[0].to_publish_s == 22.5


def test_measure_reads_this_process_registry(settings: Settings) -> None:
    reg = Registry()
    for ms in (10.0, 20.0, 30.0, 40.0, 200.0):
        reg.record_query("facet", ms, 5, None, "SELECT company, count(*) FROM jobs GROUP BY 1")
    m = monitor.measure(settings, window_s=None, registry=reg, sampler=monitor.Sampler())
    assert m.queries["facet"].p95 == 200.0
    assert [q.ms for q in m.slow] == [200.0]
    assert m.dashboard_rss_mb is None  # no sample taken yet: not measured, not zero
    assert m.snapshot_rows is None and m.runs == ()


@pytest.mark.parametrize("unit", ["%", "ms", "MB", "GB", "s", "runs"])
def test_alert_messages_carry_value_and_threshold(unit: str) -> None:
    a = alert_rules._alert("x", "thing", 12.0, 10.0, unit, ">")
    assert a.message.startswith("thing: 12") and "(alert when > 10" in a.message
