"""Analytics: plotly figures over the filtered catalog, and the application funnel from user data.

Every chart answers to the sidebar filter of the Jobs page (the same widget state)."""

from __future__ import annotations

import html
import statistics
from dataclasses import replace
from datetime import datetime
from typing import Any

import plotly.graph_objects as go
import pyarrow as pa
import streamlit as st

from core.clock import utcnow
from core.query import JobFilter
from ui import cache, keys

PIPELINE = ("inbox", "saved", "applied", "interviewing", "offer")
EXITS = ("rejected", "withdrawn", "ghosted")
_LAYOUT: dict[str, Any] = {"margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "height": 340}


def label(value: object) -> str:
    """Posting text as a chart label: plotly renders a subset of HTML (<a href>, <b>, <br>) in labels, so
    every label taken from the data is escaped and shows as the literal text."""
    return html.escape(str(value), quote=False)


def _fig(title: str) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(title=title, **_LAYOUT)
    return fig


def _show(fig: go.Figure, key: str) -> None:
    st.plotly_chart(fig, key=key, config={"displaylogo": False})


# --- pure helpers (unit-testable) ----------------------------------------------------------------------


def share(part: list[tuple[Any, int]], whole: list[tuple[Any, int]]) -> list[tuple[Any, float]]:
    """part/whole per bucket (buckets without jobs are left out)."""
    p = dict(part)
    return [(b, p.get(b, 0) / n) for b, n in whole if n]


def funnel(user_rows: pa.Table, history: pa.Table, ids: list[str], total: int) -> dict[str, Any]:
    """Jobs that reached each pipeline stage (current stage or any stage in their history), plus exits.

    ``ids``: the filtered jobs the user moved out of the inbox; ``total``: the filtered set's size (everyone
    starts in the inbox)."""
    keep = set(ids)
    reached: dict[str, set[str]] = {s: set() for s in (*PIPELINE, *EXITS)}
    for job_id, stage in zip(
        user_rows.column("job_id").to_pylist(), user_rows.column("stage").to_pylist(), strict=True
    ):
        if job_id in keep and stage in reached:
            reached[stage].add(job_id)
    for job_id, to_stage in zip(
        history.column("job_id").to_pylist(), history.column("to_stage").to_pylist(), strict=True
    ):
        if job_id in keep and to_stage in reached:
            reached[to_stage].add(job_id)
    counts = {s: len(reached[s]) for s in (*PIPELINE, *EXITS)}
    # Reaching a later pipeline stage implies the earlier ones (a job applied to straight from the inbox).
    for i, s in enumerate(PIPELINE[1:], start=1):
        later = set().union(*(reached[t] for t in PIPELINE[i:]))
        counts[s] = len(later)
    counts["inbox"] = total
    return counts


def time_in_stage(history: pa.Table, ids: list[str], now: datetime | None = None) -> dict[str, dict[str, float]]:
    """Median days a job spent in each stage: from entering it to leaving it (or until now if it is still there)."""
    keep = set(ids)
    now = now or utcnow()
    by_job: dict[str, list[tuple[datetime, str, str]]] = {}
    rows = zip(
        history.column("job_id").to_pylist(),
        history.column("from_stage").to_pylist(),
        history.column("to_stage").to_pylist(),
        history.column("at").to_pylist(),
        strict=True,
    )
    for job_id, src, dst, at in rows:
        if job_id in keep and at is not None:
            by_job.setdefault(job_id, []).append((at, src, dst))
    stays: dict[str, list[float]] = {}
    for events in by_job.values():
        events.sort()
        for (at, _src, dst), nxt in zip(events, [*events[1:], None], strict=True):
            end = nxt[0] if nxt else now
            stays.setdefault(dst, []).append((end - at).total_seconds() / 86400)
    return {
        s: {"median_days": statistics.median(v), "jobs": float(len(v))}
        for s, v in stays.items()
        if s in (*PIPELINE, *EXITS)
    }


# --- charts -------------------------------------------------------------------------------------------


def postings_over_time(flt: JobFilter, version: tuple[int | None, int], bucket: str) -> None:
    fig = _fig(f"New postings per {bucket}")
    for by, name in (("first_seen_at", "by first seen"), ("posted_at", "by posted date")):
        points = cache.timeseries(flt, by, bucket, version)
        fig.add_trace(go.Scatter(x=[p[0] for p in points], y=[p[1] for p in points], name=name, mode="lines+markers"))
    fig.update_layout(legend={"orientation": "h", "y": -0.15})
    _show(fig, "chart_over_time")


def remote_share(flt: JobFilter, version: tuple[int | None, int], bucket: str) -> None:
    whole = cache.timeseries(flt, "posted_at", bucket, version)
    remote = cache.timeseries(replace(flt, workplace=("remote",)), "posted_at", bucket, version)
    points = share(remote, whole)
    fig = _fig(f"Remote share per {bucket} (by posted date)")
    fig.add_trace(go.Scatter(x=[p[0] for p in points], y=[p[1] for p in points], mode="lines", fill="tozeroy"))
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    _show(fig, "chart_remote")


def by_source(flt: JobFilter, version: tuple[int | None, int]) -> None:
    rows = cache.facet(flt, "source", version, top=30)
    fig = _fig("Jobs by source")
    fig.add_trace(go.Bar(x=[label(r[0]) for r in rows], y=[r[1] for r in rows]))
    _show(fig, "chart_source")


def top_companies(flt: JobFilter, version: tuple[int | None, int]) -> None:
    rows = list(reversed(cache.facet(flt, "company", version, top=20)))
    fig = _fig("Top companies")
    fig.add_trace(go.Bar(x=[r[1] for r in rows], y=[label(r[0]) for r in rows], orientation="h"))
    fig.update_layout(height=480)
    _show(fig, "chart_companies")


def salaries(flt: JobFilter, version: tuple[int | None, int]) -> None:
    """Annualized salary histograms for one currency, one trace per seniority."""
    currencies = [c for c, _n in cache.facet(replace(flt, salary_known=True), "salary_currency", version, top=10)]
    if not currencies:
        st.caption("No salaries in the filtered jobs.")
        return
    currency = st.selectbox("Salary currency", currencies, key=keys.A_SALARY_BY)
    scoped = replace(flt, currency=currency, salary_known=True)
    seniorities = [s for s, _n in cache.facet(scoped, "seniority", version, top=12)]
    fig = _fig(f"Annual salary ({label(currency)}) by seniority")
    levels: list[str | None] = [*seniorities] or [None]
    for level in levels:
        sub = replace(scoped, seniorities=(level,)) if level else scoped
        bins = [b for b in cache.salary(sub, version) if b.get("currency", currency) == currency]
        fig.add_trace(
            go.Bar(
                x=[(b["bin_start"] + b["bin_end"]) / 2 for b in bins],
                y=[b["count"] for b in bins],
                name=label(level or "all"),
                width=[b["bin_end"] - b["bin_start"] for b in bins],
            )
        )
    fig.update_layout(barmode="stack", legend={"orientation": "h", "y": -0.2}, height=400)
    fig.update_xaxes(title=f"annual midpoint ({label(currency)})")
    _show(fig, "chart_salary")


def pipeline(flt: JobFilter, version: tuple[int | None, int]) -> None:
    ids = cache.moved_ids(flt, version)
    total = cache.count(flt, version)
    counts = funnel(cache.user_table(version), cache.history(version), ids, total)
    left, right = st.columns([3, 2])
    with left:
        fig = _fig("Application funnel")
        fig.add_trace(go.Funnel(y=list(PIPELINE), x=[counts[s] for s in PIPELINE], textinfo="value+percent initial"))
        _show(fig, "chart_funnel")
        st.caption(" · ".join(f"{s}: {counts[s]:,}" for s in EXITS))
    with right:
        stays = time_in_stage(cache.history(version), ids)
        if not stays:
            st.caption("Time in stage appears once jobs move between stages.")
            return
        fig = _fig("Median days in stage")
        order = [s for s in (*PIPELINE, *EXITS) if s in stays]
        fig.add_trace(go.Bar(x=order, y=[stays[s]["median_days"] for s in order]))
        _show(fig, "chart_time_in_stage")


def watch_matches(rows: list[dict[str, Any]]) -> None:
    """Matches per watch per week (rows of core.watches.WatchStore.weekly: view, week, matches)."""
    fig = _fig("Watch matches per week")
    for view in dict.fromkeys(r["view"] for r in rows):
        mine = [r for r in rows if r["view"] == view]
        fig.add_bar(x=[r["week"] for r in mine], y=[r["matches"] for r in mine], name=label(view))
    fig.update_layout(barmode="group", xaxis_title="week of", yaxis_title="matches")
    _show(fig, keys.A_WATCHES)
