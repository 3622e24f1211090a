"""The Performance page's glue: every figure comes from core.instrumentation or a benchmark results file.

Nothing here invents a number: a figure that has not been measured yet reads "not measured yet".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.instrumentation import bench_results, metrics, monitor
from core.instrumentation.alerts import evaluate
from core.instrumentation.monitor import Measurements, SystemSample
from core.instrumentation.recommendations import recommend
from core.settings import Settings

# Widget keys of this page (AppTest finds widgets by these).
WINDOW = "perf_window"
HIST_KIND = "perf_hist_kind"
REFRESH = "perf_refresh"

PAGE_NAME = "Performance"
NOT_MEASURED = "not measured yet"
WINDOWS: dict[str, float | None] = {
    "last 5 minutes": 300.0,
    "last 15 minutes": 900.0,
    "last hour": 3600.0,
    "since the dashboard started": None,
}
ALL_KINDS = "all kinds"


def _ms(value: float) -> str:
    return f"{value:,.1f} ms"


def _mb(value: float) -> str:
    return f"{value:,.0f} MB"


def _bytes(n: int) -> str:
    for unit, size in (("GB", 2**30), ("MB", 2**20), ("kB", 2**10)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n} B"


def _pct(value: float | None) -> str:
    return NOT_MEASURED if value is None else f"{value:.0f}%"


def _clock(ts: float) -> str:
    return datetime.fromtimestamp(ts).strftime("%H:%M:%S")


def header() -> float | None:
    """Title, window picker and refresh; returns the window in seconds (None = since start)."""
    st.title("Performance", anchor=False)
    left, right = st.columns([3, 1])
    label = left.selectbox("Window", list(WINDOWS), index=1, key=WINDOW)
    right.button("Refresh", key=REFRESH)
    return WINDOWS[label]


def alerts(m: Measurements, settings: Settings) -> None:
    st.subheader("Alerts and recommendations", anchor=False)
    found = evaluate(m, settings.thresholds)
    for a in found:
        st.warning(a.message, icon="⚠️")
    if not found:
        st.success("No alerts: every measured figure is within its threshold.")
    recs = recommend(m, settings.thresholds)
    for r in recs:
        st.info(f"**{r.cause}** — {r.advice}")
    if not recs:
        st.caption("No recommendations: nothing measured points at a cause.")


# Display only: the frames keep the measured values, the table shows them to a tenth of a millisecond.
MS_COLUMNS = {name: st.column_config.NumberColumn(format="%.1f") for name in ("p50 ms", "p95 ms", "p99 ms", "max ms")}


def queries(window_s: float | None) -> None:
    st.subheader("Query latency", anchor=False)
    summary = metrics.REGISTRY.summary(window_s)
    if not summary:
        st.caption(f"Query latency: {NOT_MEASURED} in this window.")
        return
    table = pd.DataFrame(
        [
            {"kind": k, "queries": s.count, "p50 ms": s.p50, "p95 ms": s.p95, "p99 ms": s.p99, "max ms": s.max}
            for k, s in summary.items()
        ]
    )
    st.dataframe(table, hide_index=True, width="stretch", column_config=MS_COLUMNS)
    kinds = [ALL_KINDS, *summary]
    pick = st.selectbox("Histogram of", kinds, key=HIST_KIND)
    bins = metrics.REGISTRY.histogram(window_s, None if pick == ALL_KINDS else pick)
    fig = go.Figure(go.Bar(x=[b.label for b in bins], y=[b.count for b in bins]))
    fig.update_layout(
        height=260, margin={"l": 10, "r": 10, "t": 10, "b": 10}, xaxis_title="latency", yaxis_title="queries"
    )
    st.plotly_chart(fig, width="stretch")


def slow_queries(window_s: float | None) -> None:
    st.subheader(f"Slowest queries (over {metrics.REGISTRY.slow_ms:g} ms)", anchor=False)
    slow = metrics.REGISTRY.slow_queries(window_s, limit=20)
    if not slow:
        st.caption(f"Slow queries: none recorded in this window ({len(metrics.REGISTRY.queries(window_s))} queries).")
        return
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "ms": q.ms, "kind": q.kind, "rows": q.rows, "snapshot": q.version, "at": _clock(q.at),
                    "param types": ", ".join(q.param_types), "shape": q.shape,
                }
                for q in slow
            ]
        ),
        hide_index=True,
        width="stretch",
    )  # fmt: skip


def caches(window_s: float | None) -> None:
    st.subheader("Cache", anchor=False)
    per = metrics.REGISTRY.cache(window_s)
    total = metrics.REGISTRY.cache_total(window_s)
    rate = total.hit_rate
    st.metric("Cache hit rate", NOT_MEASURED if rate is None else f"{rate:.0%}")
    if rate is None:
        return
    st.caption(f"{total.hits:,} hits, {total.misses:,} misses over {total.lookups:,} lookups")
    st.dataframe(
        pd.DataFrame(
            [{"cache": n, "hits": c.hits, "misses": c.misses, "hit rate": c.hit_rate} for n, c in per.items()]
        ),
        hide_index=True,
        width="stretch",
    )


def scripts(window_s: float | None) -> None:
    st.subheader("Page script times", anchor=False)
    per = metrics.REGISTRY.scripts(window_s)
    if not per:
        st.caption(f"Page script times: {NOT_MEASURED} in this window.")
        return
    st.dataframe(
        pd.DataFrame(
            [{"page": p, "runs": s.count, "p50 ms": s.p50, "p95 ms": s.p95, "max ms": s.max} for p, s in per.items()]
        ),
        hide_index=True,
        width="stretch",
        column_config=MS_COLUMNS,
    )


def _proc_metrics(col: Any, title: str, proc: monitor.ProcessFigures | None, missing: str) -> None:
    col.markdown(f"**{title}**")
    if proc is None:
        col.metric(f"{title} RSS", missing)
        return
    col.metric(f"{title} RSS", _mb(proc.rss_mb))
    col.metric(f"{title} CPU", _pct(proc.cpu_percent))
    col.caption(
        f"pid {proc.pid}, {proc.threads} threads, "
        + (f"{proc.open_files} open files" if proc.open_files is not None else "open files not readable")
    )


def system(samples: list[SystemSample]) -> None:
    st.subheader("Processes and machine", anchor=False)
    if not samples:
        st.caption(f"System figures: {NOT_MEASURED}.")
        return
    s = samples[-1]
    a, b, c = st.columns(3)
    _proc_metrics(a, "Dashboard", s.dashboard, NOT_MEASURED)
    _proc_metrics(b, "Scheduler", s.scheduler, "not running")
    c.markdown("**Machine**")
    c.metric("Machine CPU", _pct(s.cpu_percent))
    c.metric("Memory used", f"{s.memory_percent:.0f}%")
    if s.disk is not None:
        c.metric("Free disk (data folder)", f"{s.disk.free_gb:,.1f} GB")
        c.caption(f"{s.disk.used_gb:,.1f} of {s.disk.total_gb:,.1f} GB used ({s.disk.percent:.0f}%)")
    else:
        c.metric("Free disk (data folder)", NOT_MEASURED)
    st.caption(f"Sampled every {monitor.SAMPLER.interval_s:g} s; {len(samples)} samples in the last hour.")
    if len(samples) < 2:
        st.caption(f"History: {NOT_MEASURED} (needs a second sample).")
        return
    times = [datetime.fromtimestamp(x.at) for x in samples]
    mem = go.Figure()
    cpu = go.Figure()
    for role in ("dashboard", "scheduler"):
        procs = [getattr(x, role) for x in samples]
        if any(p is not None for p in procs):
            mem.add_scatter(x=times, y=[p.rss_mb if p else None for p in procs], name=f"{role} RSS (MB)")
            cpu.add_scatter(x=times, y=[p.cpu_percent if p else None for p in procs], name=f"{role} CPU %")
    cpu.add_scatter(x=times, y=[x.cpu_percent for x in samples], name="machine CPU %")
    for fig, title in ((mem, "RSS (MB)"), (cpu, "CPU %")):
        fig.update_layout(height=240, margin={"l": 10, "r": 10, "t": 30, "b": 10}, title=title)
    left, right = st.columns(2)
    left.plotly_chart(mem, width="stretch")
    right.plotly_chart(cpu, width="stretch")


def sync_history(runs: tuple[monitor.RunFigures, ...]) -> None:
    st.subheader("Sync runs", anchor=False)
    done = [r for r in runs if r.total_s is not None]
    if not done:
        st.caption(f"Sync throughput and duration: {NOT_MEASURED} (no finished run).")
        return
    latest = done[0]
    a, b, c = st.columns(3)
    a.metric("Last sync duration", f"{latest.total_s:,.2f} s")
    b.metric("Last sync throughput", NOT_MEASURED if not latest.jobs_per_s else f"{latest.jobs_per_s:,.0f} jobs/s")
    c.metric("Last sync peak RSS", NOT_MEASURED if not latest.peak_rss_mb else _mb(latest.peak_rss_mb))
    chrono = list(reversed(done))
    labels = [f"#{r.run_id}" for r in chrono]
    phases: list[str] = []
    for r in chrono:
        phases += [p for p, _ in r.phases if p not in phases]
    fig = go.Figure()
    for phase in phases:
        fig.add_bar(x=labels, y=[dict(r.phases).get(phase, 0.0) for r in chrono], name=phase)
    fig.update_layout(
        barmode="stack", height=260, margin={"l": 10, "r": 10, "t": 30, "b": 10}, title="Duration by phase (s)"
    )
    st.plotly_chart(fig, width="stretch")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "run": r.run_id, "started": r.started_at, "trigger": r.trigger, "status": r.status,
                    "seconds": r.total_s, "to publish s": r.to_publish_s, "jobs in": r.jobs_in, "jobs/s": r.jobs_per_s, "peak RSS MB": r.peak_rss_mb,
                }
                for r in done
            ]
        ),
        hide_index=True,
        width="stretch",
    )  # fmt: skip


def snapshot(settings: Settings) -> None:
    st.subheader("Snapshot", anchor=False)
    snap = monitor.snapshot_figures(settings)
    if snap is None:
        st.caption(f"Snapshot size and rows: {NOT_MEASURED} (no snapshot published).")
    else:
        a, b, c, d = st.columns(4)
        a.metric("Snapshot rows", f"{snap.rows:,}")
        b.metric("Listed / delisted", f"{snap.listed:,} / {snap.delisted:,}")
        c.metric("Snapshot file", _bytes(snap.jobs_file_bytes))
        d.metric("Snapshots folder", _bytes(snap.snapshots_dir_bytes))
        st.caption(
            f"v{snap.version}, published {snap.created_at}, {snap.files} files" + (" — demo data" if snap.demo else "")
        )
    loads = metrics.REGISTRY.snapshot_loads()
    if loads:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "at": _clock(x.at),
                        "version": x.version,
                        "rows": x.rows,
                        "load ms": x.load_ms,
                        "swap ms": x.swap_ms,
                    }
                    for x in reversed(loads)
                ]
            ),
            hide_index=True,
            width="stretch",
        )
    else:
        st.caption(f"Snapshot load time: {NOT_MEASURED} in this process.")


def blocks(window_s: float | None) -> None:
    """Each timed block of a page run (the Jobs fragment: state, query, payload, grid, pager, bulk, detail,
    export, prefetch): where the server's part of an interaction goes, measured in this process."""
    st.subheader("Where a page run's time goes", anchor=False)
    per = metrics.REGISTRY.blocks(window_s)
    if not per:
        st.caption(f"Page blocks: {NOT_MEASURED} in this window (open the Jobs page and sort, filter or page).")
        return
    totals: dict[str, float] = {}
    for (page, _block), s in per.items():
        totals[page] = totals.get(page, 0.0) + s.total
    rows = [
        {"page": page, "block": block, "timed runs": s.count, "p50 ms": s.p50, "p95 ms": s.p95, "max ms": s.max,
         "share of the page's block time": f"{100 * s.total / totals[page]:.0f}%" if totals[page] else ""}
        for (page, block), s in per.items()
    ]  # fmt: skip
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", column_config=MS_COLUMNS)


SPLIT_PARTS = (
    ("from_input", "input → rows"),
    ("to_send", "input → ws send"),
    ("round_trip", "ws round trip"),
    ("server_script", "server script"),
    ("render", "last frame → rows"),
)


def browser_split(settings: Settings) -> None:
    """The latest browser benchmark's split per action (p50 / p95 ms), as measured in headless Chromium."""
    st.subheader("Browser: where each interaction's time goes", anchor=False)
    with_split = [
        d for d in bench_results.all_results(settings.bench_dir)
        if any("from_input" in b for b in ((d.get("browser") or {}).get("breakdown") or {}).values())
    ]  # fmt: skip
    doc = with_split[-1] if with_split else None
    browser = (doc or {}).get("browser") or {}
    breakdown = browser.get("breakdown") or {}
    if not breakdown or not any("from_input" in b for b in breakdown.values()):
        st.caption(f"Browser split: {NOT_MEASURED} — run `python -m core bench browser`.")
        return
    st.caption(
        f"{doc.get('created_at') if doc else ''} · {browser.get('jobs', 0):,} jobs · {browser.get('repeats')} repeats"
        " · p50 / p95 ms from the input event in the page"
    )
    rows = []
    for action, b in breakdown.items():
        row: dict[str, Any] = {"action": action}
        for key, label in SPLIT_PARTS:
            summ = b.get(key)
            row[label] = f"{summ['median']:.0f} / {summ['p95']:.0f}" if summ and summ.get("n") else "—"
        blocks = b.get("blocks") or {}
        row["server blocks (p50 ms)"] = ", ".join(f"{k} {v['median']:.1f}" for k, v in blocks.items()) or "—"
        row["target"] = b.get("target", "")
        row["met"] = {True: "yes", False: "no"}.get(b.get("met"), "")
        rows.append(row)
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def benchmarks(settings: Settings) -> None:
    st.subheader("Benchmarks", anchor=False)
    doc = bench_results.latest_results(settings.bench_dir)
    if doc is None or not doc.get("figures"):
        st.caption(f"Benchmarks: {NOT_MEASURED} — run `make bench` (or `python -m core bench`).")
        return
    m = doc.get("machine", {})
    st.caption(
        f"{doc.get('created_at')} · --jobs {doc.get('params', {}).get('jobs')} · {m.get('cpu_model')}, "
        f"{m.get('cpu_count')} CPUs, {m.get('ram_gb')} GB RAM · DuckDB {m.get('duckdb')}"
    )
    rows = []
    for f in doc["figures"]:
        rows.append(
            {
                "benchmark": f["name"],
                "unit": f["unit"],
                "median": f["median"],
                "min": f["min"],
                "max": f["max"],
                "n": f["n"],
                "baseline": f.get("baseline"),
                "baseline is": f.get("baseline_name"),
                "ratio (×)": f.get("ratio"),
                "target": f.get("target"),
                "met": {True: "yes", False: "no", None: ""}[f.get("target_met")],
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def render() -> None:
    """The whole page (the page script times itself around this call)."""
    from ui import state

    settings = state.settings()
    monitor.SAMPLER.start(settings)
    window_s = header()
    m = monitor.measure(settings, window_s)
    alerts(m, settings)
    queries(window_s)
    slow_queries(window_s)
    caches(window_s)
    scripts(window_s)
    blocks(window_s)
    browser_split(settings)
    system(monitor.SAMPLER.history())
    sync_history(m.runs)
    snapshot(settings)
    benchmarks(settings)
