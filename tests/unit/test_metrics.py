"""Ring buffers, percentiles, shapes, windows and histograms of core.metrics, on known inputs."""

from __future__ import annotations

import threading

import pytest

from core.instrumentation import metrics
from core.instrumentation.metrics import LatencySummary, Registry, normalize_shape, percentile


class Clock:
    def __init__(self, t: float = 1_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        (list(range(1, 101)), 50, 50),
        (list(range(1, 101)), 95, 95),
        (list(range(1, 101)), 99, 99),
        (list(range(1, 101)), 100, 100),
        (list(range(1, 101)), 0, 1),
        ([15, 20, 35, 40, 50], 30, 20),  # rank ceil(1.5) = 2
        ([15, 20, 35, 40, 50], 40, 20),  # rank ceil(2.0) = 2
        ([15, 20, 35, 40, 50], 50, 35),
        ([15, 20, 35, 40, 50], 100, 50),
        ([50, 15, 40, 20, 35], 50, 35),  # unsorted input
        ([7.5], 99, 7.5),
        ([3, 1, 2, 10], 95, 10),
    ],
)
def test_nearest_rank_percentile(values: list[float], p: float, expected: float) -> None:
    assert percentile(values, p) == expected


def test_percentile_rejects_empty_and_out_of_range() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match="0..100"):
        percentile([1.0], 101)


def test_summary_per_kind_is_exact() -> None:
    reg = Registry(clock=Clock())
    for ms in range(1, 101):
        reg.record_query("page", float(ms), 100, 3, "SELECT 1")
    for ms in (5.0, 1.0, 3.0):
        reg.record_query("count", ms, 1, 3, "SELECT count(*)")
    s = reg.summary()
    assert list(s) == ["count", "page"]
    assert s["page"] == LatencySummary(count=100, p50=50, p95=95, p99=99, max=100, mean=50.5, total=5050)
    assert (s["count"].count, s["count"].p50, s["count"].p95, s["count"].max) == (3, 3.0, 5.0, 5.0)


def test_ring_buffer_keeps_only_the_newest() -> None:
    reg = Registry(capacity=10, clock=Clock())
    for ms in range(25):
        reg.record_query("page", float(ms), 0, None, "q")
        reg.record_cache("jobs", ms % 2 == 0)
    kept = [q.ms for q in reg.queries()]
    assert kept == [float(x) for x in range(15, 25)]
    assert reg.cache()["jobs"].lookups == 10


def test_window_excludes_older_records() -> None:
    clock = Clock(1_000.0)
    reg = Registry(clock=clock)
    reg.record_query("page", 500.0, 0, 1, "old")
    reg.record_cache("jobs", False)
    reg.record_script("jobs", 900.0)
    clock.t = 2_000.0
    reg.record_query("page", 5.0, 0, 1, "new")
    reg.record_cache("jobs", True)
    reg.record_script("jobs", 40.0)
    assert reg.summary(window_s=60)["page"].count == 1
    assert reg.summary(window_s=60)["page"].max == 5.0
    assert reg.summary()["page"].max == 500.0
    assert reg.cache(window_s=60)["jobs"].hit_rate == 1.0
    assert reg.cache()["jobs"].hit_rate == 0.5
    assert reg.scripts(window_s=60)["jobs"].p95 == 40.0
    assert [q.shape for q in reg.slow_queries(window_s=60)] == []
    assert [q.shape for q in reg.slow_queries()] == ["old"]


def test_slow_queries_keep_shape_and_param_types_only() -> None:
    reg = Registry(slow_ms=50.0, clock=Clock())
    reg.record_query("desc_search", 120.0, 7, 4, "SELECT *\n  FROM  jobs WHERE  title ILIKE ?", ["%secret%", 3, 2.5])
    reg.record_query("page", 50.0, 100, 4, "SELECT 1")  # not above the threshold
    reg.record_query("page", 80.0, 100, 4, "SELECT 2")
    slow = reg.slow_queries()
    assert [q.ms for q in slow] == [120.0, 80.0]  # slowest first
    assert slow[0].shape == "SELECT * FROM jobs WHERE title ILIKE ?"
    assert slow[0].param_types == ("str", "int", "float")
    assert "secret" not in repr(slow)


@pytest.mark.parametrize(
    ("sql", "shape"),
    [
        ("SELECT  *\n\tFROM jobs", "SELECT * FROM jobs"),
        ("WHERE company = 'O''Reilly' AND x = 'a'", "WHERE company = ? AND x = ?"),
        ("LIMIT 101 OFFSET 20", "LIMIT ? OFFSET ?"),
        ("salary_annual_min >= 12.5e3", "salary_annual_min >= ?"),
        ("SELECT t1.col2 FROM t1", "SELECT t1.col2 FROM t1"),  # identifiers keep their digits
        ("WHERE a = ? AND b IN (?, ?)", "WHERE a = ? AND b IN (?, ?)"),
        ("x = -3", "x = ?"),
    ],
)
def test_normalize_shape(sql: str, shape: str) -> None:
    assert normalize_shape(sql) == shape


def test_histogram_bins_are_stable_and_count_every_query() -> None:
    reg = Registry(clock=Clock())
    for ms in (0.1, 0.4, 0.5, 3.0, 49.9, 50.0, 7_000.0):
        reg.record_query("page", ms, 0, None, "q")
    reg.record_query("count", 1.5, 0, None, "q")
    bins = reg.histogram()
    assert len(bins) == len(metrics.HISTOGRAM_EDGES_MS) - 1
    counts = {b.label: b.count for b in bins if b.count}
    assert counts == {
        "0–0.5 ms": 2,
        "0.5–1 ms": 1,
        "1–2 ms": 1,
        "2–5 ms": 1,
        "20–50 ms": 1,
        "50–100 ms": 1,
        "≥ 5000 ms": 1,
    }
    assert sum(b.count for b in reg.histogram(kind="count")) == 1


def test_cache_hit_rate_per_name_and_total() -> None:
    reg = Registry(clock=Clock())
    for hit in (True, True, True, False):
        reg.record_cache("jobs", hit)
    for hit in (False, False):
        reg.record_cache("facets", hit)
    per = reg.cache()
    assert per["jobs"].hit_rate == 0.75
    assert per["facets"].hit_rate == 0.0
    total = reg.cache_total()
    assert (total.hits, total.misses, total.lookups) == (3, 3, 6)
    assert Registry().cache_total().hit_rate is None  # nothing measured is None, not zero


def test_snapshot_loads_and_scripts_recorded() -> None:
    reg = Registry(clock=Clock())
    reg.record_snapshot_load(7, 100_000, 812.5, 0.4)
    reg.record_script("jobs", 30.0)
    reg.record_script("jobs", 10.0)
    (load,) = reg.snapshot_loads()
    assert (load.version, load.rows, load.load_ms, load.swap_ms) == (7, 100_000, 812.5, 0.4)
    assert reg.scripts()["jobs"].count == 2
    assert reg.scripts()["jobs"].p50 == 10.0


def test_timed_query_records_on_success_only() -> None:
    reg = Registry(clock=Clock())
    with metrics.timed_query("facet", "SELECT company, count(*) ...", 2, registry=reg) as t:
        t.rows = 20
    with pytest.raises(RuntimeError), metrics.timed_query("facet", "q", 2, registry=reg):
        raise RuntimeError("boom")
    (q,) = reg.queries()
    assert (q.kind, q.rows, q.version) == ("facet", 20, 2)
    assert q.ms == t.ms and q.ms >= 0


def test_module_level_functions_feed_the_registry() -> None:
    before = len(metrics.REGISTRY.queries(kind="export"))
    metrics.record_query("export", 12.0, 10, 1, "COPY ...")
    assert len(metrics.REGISTRY.queries(kind="export")) == before + 1


def test_concurrent_recording_loses_nothing() -> None:
    reg = Registry(capacity=100_000, clock=Clock())

    def work() -> None:
        for i in range(2_000):
            reg.record_query("page", float(i % 7), 0, None, "q")
            reg.record_cache("jobs", i % 3 == 0)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert reg.summary()["page"].count == 8_000
    assert reg.cache_total().lookups == 8_000
