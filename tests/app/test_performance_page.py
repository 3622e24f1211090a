"""The Performance page under AppTest: "not measured yet" on an empty folder, and exactly the recorded figures.

AppTest runs the page in this process, so the figures recorded here through core.metrics are the ones the
page reads; each test starts from an empty registry.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.instrumentation import metrics, monitor
from core.runs import RunLog
from core.settings import Settings
from core.sources import demo_source
from core.sync import run_sync
from ui import performance as perf

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "performance.py")


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An empty registry and a sampler of this test's own, whatever ran before in this process."""
    metrics.REGISTRY.reset()
    sampler = monitor.Sampler()
    monkeypatch.setattr(monitor, "SAMPLER", sampler)
    yield
    sampler.stop()
    metrics.REGISTRY.reset()


def run_page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    frames = [d.value for d in at.dataframe if column in d.value.columns]
    assert len(frames) == 1, f"expected one table with a {column!r} column, found {len(frames)}"
    return frames[0]


def metric(at: AppTest, label: str) -> str:
    (m,) = [m for m in at.metric if m.label == label]
    return str(m.value)


def texts(at: AppTest) -> str:
    return "\n".join(str(e.value) for e in [*at.caption, *at.markdown, *at.info, *at.warning, *at.success])


def record_known(page_ms: list[float], count_ms: list[float], hits: int, misses: int, script_ms: float) -> None:
    for ms in page_ms:
        metrics.record_query("page", ms, 100, 1, "SELECT * FROM jobs_1 WHERE title ILIKE ? LIMIT ?", ["%x%", 101])
    for ms in count_ms:
        metrics.record_query("count", ms, 1, 1, "SELECT count(*) FROM jobs_1")
    for i in range(hits + misses):
        metrics.record_cache("jobs", i < hits)
    metrics.record_script("Jobs", script_ms)


def test_empty_data_folder_says_not_measured_yet(data_dir: Path) -> None:
    at = run_page()
    body = texts(at)
    for what in (
        "Query latency",
        "Page script times",
        "Sync throughput and duration",
        "Snapshot size and rows",
        "Benchmarks",
    ):
        assert f"{what}: {perf.NOT_MEASURED}" in body, what
    assert metric(at, "Cache hit rate") == perf.NOT_MEASURED
    assert metric(at, "Dashboard RSS").endswith(" MB")  # the sampler's first reading is taken at once
    assert metric(at, "Machine CPU") == perf.NOT_MEASURED  # psutil needs a second reading for CPU
    assert metric(at, "Scheduler RSS") == "not running"
    assert [d.value for d in at.dataframe] == []  # no table of zeros
    assert not any(m.value in ("0", "0%", "0.0 ms") for m in at.metric)


def test_page_shows_exactly_what_was_recorded(settings: Settings) -> None:
    record_known([10.0, 20.0, 30.0, 40.0, 200.0], [1.0, 2.0, 3.0], hits=3, misses=1, script_ms=42.0)
    result = run_sync(replace(settings, sources=(demo_source(300),)), trigger="test")
    assert result.status == "ok"
    at = run_page()

    q = frame_with(at, "p99 ms").set_index("kind")
    want = metrics.REGISTRY.summary(900)
    assert list(q.index) == ["count", "page"]
    for kind in ("count", "page"):
        row = q.loc[kind]
        s = want[kind]
        assert (row["queries"], row["p50 ms"], row["p95 ms"], row["p99 ms"], row["max ms"]) == (
            s.count, s.p50, s.p95, s.p99, s.max,
        )  # fmt: skip
    assert (q.loc["page", "p50 ms"], q.loc["page", "max ms"]) == (30.0, 200.0)

    slow = frame_with(at, "shape")
    assert slow["ms"].tolist() == [200.0]
    assert slow["param types"].tolist() == ["str, int"]
    assert metric(at, "Cache hit rate") == "75%"
    scripts = frame_with(at, "runs").set_index("page")
    assert scripts.loc["Jobs", "p50 ms"] == 42.0

    log = RunLog(settings.db_path)
    try:
        (rec,) = log.recent(1)
    finally:
        log.close()
    assert metric(at, "Last sync duration") == f"{rec['phases']['total']:,.2f} s"
    assert metric(at, "Last sync throughput") == f"{rec['jobs_per_s']:,.0f} jobs/s"
    runs = frame_with(at, "jobs/s")
    assert runs["seconds"].tolist() == [rec["phases"]["total"]]
    assert metric(at, "Snapshot rows") == f"{result.counts['new']:,}"

    # (Script times are recorded by app.py for every page; run alone, this page records none of its own.)
    again = run_page()
    assert frame_with(again, "runs")["page"].tolist() == ["Jobs"]
    # A page query over 50 ms fires the slow-query alert with its measured value.
    assert any("p95 of 5 page queries: 200.0 ms" in w.value for w in again.warning)


def test_no_figure_is_a_constant(data_dir: Path) -> None:
    record_known([5.0] * 5, [1.0], hits=1, misses=1, script_ms=10.0)
    first = run_page()
    metrics.REGISTRY.reset()
    record_known([7.0, 8.0, 9.0], [4.0, 6.0], hits=9, misses=1, script_ms=99.0)
    second = run_page()

    a, b = frame_with(first, "p99 ms").set_index("kind"), frame_with(second, "p99 ms").set_index("kind")
    assert (a.loc["page", "queries"], a.loc["page", "p95 ms"]) == (5, 5.0)
    assert (b.loc["page", "queries"], b.loc["page", "p95 ms"]) == (3, 9.0)
    assert (a.loc["count", "max ms"], b.loc["count", "max ms"]) == (1.0, 6.0)
    assert (metric(first, "Cache hit rate"), metric(second, "Cache hit rate")) == ("50%", "90%")
    sa, sb = frame_with(first, "runs").set_index("page"), frame_with(second, "runs").set_index("page")
    assert (sa.loc["Jobs", "max ms"], sb.loc["Jobs", "max ms"]) == (10.0, 99.0)


def test_window_picker_and_benchmark_results(settings: Settings) -> None:
    metrics.record_query("facet", 3.0, 20, None, "SELECT company, count(*) FROM jobs_1 GROUP BY 1")
    settings.bench_dir.mkdir(parents=True)
    doc = {
        "created_at": "2026-11-01T00:00:00Z",
        "params": {"jobs": 1234},
        "machine": {"cpu_model": "test cpu", "cpu_count": 2, "ram_gb": 4, "duckdb": "x"},
        "figures": [
            {"name": "sync throughput", "unit": "jobs/s", "median": 4321.0, "min": 4000.0, "max": 4500.0, "n": 3,
             "baseline": 43.21, "baseline_name": "ORM", "ratio": 100.0, "target": "≥ 100×", "target_met": True},
        ],
    }  # fmt: skip
    (settings.bench_dir / "bench-20261101T000000000000Z.json").write_text(json.dumps(doc), encoding="utf-8")
    at = run_page()
    b = frame_with(at, "baseline is")
    assert b.loc[0, "median"] == 4321.0 and b.loc[0, "ratio (×)"] == 100.0 and b.loc[0, "met"] == "yes"
    assert frame_with(at, "p99 ms")["queries"].tolist() == [1]
    at.selectbox(key=perf.WINDOW).set_value("since the dashboard started").run()
    assert not at.exception
    assert frame_with(at, "p99 ms")["queries"].tolist() == [1]


def test_block_split_and_browser_split_are_the_measured_figures(settings: Settings) -> None:
    for ms in (2.0, 4.0, 6.0):
        with metrics.timed_block("Jobs", "query"):
            pass
        metrics.record_block("Jobs", "grid", ms)
    assert metrics.run_blocks().keys() == {"query"}  # what this thread's run timed, then cleared
    assert metrics.run_blocks() == {}
    settings.bench_dir.mkdir(parents=True)
    split = {"median": 12.0, "p95": 30.0, "n": 15}
    doc = {
        "created_at": "2026-11-02T00:00:00Z",
        "params": {"jobs": 100000},
        "browser": {
            "jobs": 100000, "repeats": 15,
            "breakdown": {"header sort": {"from_input": {"median": 88.0, "p95": 140.0, "n": 15}, "to_send": split,
                                          "blocks": {"query": {"median": 3.5, "p95": 4.0, "n": 15}},
                                          "target": "median ≤ 100 / p95 ≤ 150 ms", "met": True}},
        },
        "figures": [],
    }  # fmt: skip
    (settings.bench_dir / "bench-20261102T000000000000Z.json").write_text(json.dumps(doc), encoding="utf-8")
    at = run_page()
    blocks = frame_with(at, "block").set_index("block")
    assert blocks.loc["grid", "timed runs"] == 3 and blocks.loc["grid", "p95 ms"] == 6.0
    assert blocks.loc["grid", "max ms"] == 6.0 and blocks.loc["query", "timed runs"] == 3
    browser = frame_with(at, "input → ws send").set_index("action")
    assert browser.loc["header sort", "input → rows"] == "88 / 140"
    assert browser.loc["header sort", "input → ws send"] == "12 / 30"
    assert (
        browser.loc["header sort", "server blocks (p50 ms)"] == "query 3.5"
        and browser.loc["header sort", "met"] == "yes"
    )
