"""The Sync page's parts: scheduler status, "Sync now" with live progress, run history, source health.

Each part shows its own error (a locked or damaged jobdash.sqlite) and the others still render.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from core import control
from core.clock import utcnow
from core.errors import JobdashError, SyncBusy
from core.runs import RunLog
from ui import keys, state

PROGRESS_POLL = "1s"
RESTART_NOTICE_S = 24 * 3600  # how long the Sync page mentions an unexpected scheduler restart


def _block(fn: Callable[[], None]) -> Callable[[], None]:
    """A part of the page that shows a JobdashError as its message instead of stopping the page."""

    @functools.wraps(fn)
    def run() -> None:
        try:
            fn()
        except JobdashError as e:
            st.error(str(e))

    return run


def _recent(limit: int) -> list[dict[str, Any]]:
    log = RunLog(state.settings().db_path)
    try:
        return log.recent(limit)
    finally:
        log.close()


def _ago(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    secs = (moment - utcnow()).total_seconds()
    word = "in" if secs >= 0 else "ago"
    secs = abs(secs)
    span = f"{secs:.0f} s" if secs < 90 else f"{secs / 60:.0f} min" if secs < 5400 else f"{secs / 3600:.1f} h"
    return f"in {span}" if word == "in" else f"{span} ago"


@_block
def scheduler_status() -> None:
    s = state.settings()
    hb = control.scheduler(s)
    if hb is None:
        st.warning(
            "Scheduler not running. `make run` starts it together with the dashboard; until then “Sync now” "
            "runs the sync inside the dashboard process."
        )
    else:
        nxt = f"{hb.next_run:%Y-%m-%d %H:%M} UTC ({_ago(hb.next_run)})" if hb.next_run else "not scheduled"
        st.success(f"Scheduler alive (pid {hb.pid}, last heartbeat {_ago(hb.beat_at)}). Next run: {nxt}")
    restart = control.last_restart(s)
    if restart is not None and (utcnow() - restart.at).total_seconds() < RESTART_NOTICE_S:
        st.info(
            f"The scheduler stopped unexpectedly (pid {restart.dead_pid}, last heartbeat "
            f"{restart.last_beat:%H:%M:%S} UTC) and was restarted {_ago(restart.at)} (pid {restart.pid})."
        )
    st.caption(f"Interval {s.interval_minutes} min · {len(s.sources)} source(s) configured")


def _start() -> None:
    s = state.settings()
    try:
        before = _recent(1)
        how = control.sync_now(s, requested_by="dashboard")
    except SyncBusy as e:
        st.session_state[keys.SYNC_NOW + "_msg"] = str(e)
        return
    except JobdashError as e:
        st.session_state[keys.SYNC_NOW + "_msg"] = f"could not start: {e}"
        return
    st.session_state[keys.SYNC_STARTED] = {"after_run": before[0]["id"] if before else 0, "how": how}
    st.session_state[keys.SYNC_NOW + "_msg"] = (
        "asked the scheduler to sync now" if how == "requested" else "sync started in the dashboard"
    )


@_block
def sync_button() -> None:
    busy = control.sync_running(state.settings())
    st.button("Sync now", key=keys.SYNC_NOW, on_click=_start, disabled=busy, type="primary")
    msg = st.session_state.pop(keys.SYNC_NOW + "_msg", None)
    if msg:
        st.caption(msg)


@st.fragment(run_every=PROGRESS_POLL)
@_block
def progress() -> None:
    """Live progress of a running sync; when the watched run ends, rerun the page to show its record."""
    s = state.settings()
    run = control.running_run(s)
    watching = st.session_state.get(keys.SYNC_STARTED)
    if run is not None:
        frac = float(run.get("progress") or 0.0)
        st.progress(
            min(max(frac, 0.0), 1.0), text=f"Run #{run['id']}: {run.get('progress_msg') or 'running'} ({frac:.0%})"
        )
        return
    if watching:
        latest = _recent(1)
        if latest and latest[0]["id"] > watching["after_run"] and latest[0]["status"] != "running":
            st.session_state.pop(keys.SYNC_STARTED, None)
            st.rerun(scope="app")
        st.progress(0.0, text="Waiting for the sync to start…")
        return
    st.caption("No sync running.")


def _duration_s(run: dict[str, Any]) -> float | None:
    try:
        start = datetime.fromisoformat(run["started_at"])
        end = datetime.fromisoformat(run["finished_at"])
    except (TypeError, ValueError, KeyError):
        return None
    return (end - start).total_seconds()


def history_rows(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in runs:
        c = r.get("counts") or {}
        out.append(
            {
                "run": r["id"],
                "trigger": r.get("trigger"),
                "status": r.get("status"),
                "started (UTC)": (r.get("started_at") or "")[:19],
                "duration s": _duration_s(r),
                "new": c.get("new"),
                "updated": c.get("updated"),
                "unchanged": c.get("unchanged"),
                "delisted": c.get("delisted"),
                "relisted": c.get("relisted"),
                "rejected": r.get("rejected"),
                "jobs in": r.get("jobs_in"),
                "jobs/s": r.get("jobs_per_s"),
                "peak RSS MB": r.get("peak_rss_mb"),
                "snapshot": r.get("snapshot_version"),
                "error": r.get("error") or "",
            }
        )
    return out


@_block
def history() -> None:
    runs = _recent(50)
    if not runs:
        st.caption("No runs yet.")
        return
    rows = history_rows(runs)
    st.dataframe(rows, hide_index=True, width="stretch", key="sync_runs_table")
    done = [r for r in reversed(rows) if r["duration s"] is not None and r["status"] in ("ok", "partial")]
    if not done:
        return
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Bar(x=[f"#{r['run']}" for r in done], y=[r["duration s"] for r in done], name="duration s"))
    fig.add_trace(
        go.Scatter(
            x=[f"#{r['run']}" for r in done], y=[r["jobs/s"] for r in done], name="jobs/s", mode="lines+markers"
        ),
        secondary_y=True,
    )
    fig.update_layout(title="Run duration and throughput", height=320, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    fig.update_xaxes(type="category")
    fig.update_yaxes(title_text="seconds", secondary_y=False)
    fig.update_yaxes(title_text="jobs/s", secondary_y=True)
    st.plotly_chart(fig, key="chart_runs", config={"displaylogo": False})


def _health_row(name: str, kind: Any, enabled: bool, h: dict[str, Any]) -> dict[str, Any]:
    warnings = json.loads(h["warnings"]) if h.get("warnings") else []  # skipped files, repairs, redirects
    return {
        "source": name,
        "kind": kind,
        "enabled": enabled,
        "last status": h.get("status") or "never run",
        "fetched": h.get("fetched"),
        "failures in a row": h.get("failures_in_a_row", 0),
        "last run (UTC)": (h.get("started_at") or "")[:19],
        "last error": h.get("last_error") or "",
        "last warnings": "; ".join(map(str, warnings)),
    }


@_block
def source_health() -> None:
    log = RunLog(state.settings().db_path)
    try:
        health = {h["source"]: h for h in log.source_health()}
    finally:
        log.close()
    rows = [_health_row(src.name, src.kind, src.enabled, health.get(src.name, {})) for src in state.settings().sources]
    configured = {src.name for src in state.settings().sources}
    # Sources that ran before but are no longer configured.
    rows += [_health_row(name, h.get("kind"), False, h) for name, h in health.items() if name not in configured]
    st.dataframe(rows, hide_index=True, width="stretch", key="sync_health_table")
