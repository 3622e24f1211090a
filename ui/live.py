"""Live updates: a small fragment polls the CURRENT pointer every few seconds (a stat, not a rerun loop)
and offers "N new jobs — refresh" when the sync published a snapshot newer than the one on screen."""

from __future__ import annotations

from typing import Any

import streamlit as st

from core import snapshots, watches
from core.errors import JobdashError
from core.runs import RunLog
from ui import keys, state

POLL = "3s"


def mark_shown(version: int | None, rows: int | None) -> None:
    """A page that shows catalog data records which snapshot it showed; the fragment compares against it."""
    s = state.settings()
    st.session_state[keys.LIVE_SEEN] = {
        "stat": snapshots.pointer_stat(s.snapshots_dir),
        "version": version,
        "rows": rows,
    }


def new_jobs(version: int, rows: int, shown_rows: int | None) -> int | None:
    """How many jobs the run that published ``version`` found new; else the growth in rows."""
    log = RunLog(state.settings().db_path)
    try:
        for run in log.recent(10):
            if run.get("snapshot_version") == version:
                counts = run.get("counts") or {}
                if "new" in counts:
                    return int(counts["new"])
    finally:
        log.close()
    return None if shown_rows is None else max(rows - shown_rows, 0)


def watch_news(version: int) -> str | None:
    """Which watches the run that published ``version`` found new matches for: "Data engineer (3), …"."""
    s = state.settings()
    log = RunLog(s.db_path)
    try:
        run_id = next((r["id"] for r in log.recent(10) if r.get("snapshot_version") == version), None)
    finally:
        log.close()
    if run_id is None:
        return None
    store = watches.WatchStore(s.db_path)
    try:
        found = store.run_matches(int(run_id))
        names = {w.id: w.view for w in store.all()} if found else {}
    finally:
        store.close()
    return ", ".join(f"{names.get(i, f'#{i}')} ({n:,})" for i, n in sorted(found.items())) or None


def pending() -> dict[str, Any] | None:
    """The newer snapshot waiting to be shown, if any: {version, new}."""
    seen = st.session_state.get(keys.LIVE_SEEN)
    if seen is None:
        return None
    s = state.settings()
    stat = snapshots.pointer_stat(s.snapshots_dir)
    if stat is None or stat == seen["stat"]:
        return None
    cached = st.session_state.get(keys.LIVE_SEEN + "_pending")
    if cached and cached["stat"] == stat:
        return cached  # type: ignore[no-any-return]
    try:
        snap = snapshots.current(s.snapshots_dir)
    except JobdashError:
        return None  # a pointer being replaced right now: the next poll sees the finished one
    if snap is None or snap.version == seen["version"]:
        return None
    info = {
        "stat": stat,
        "version": snap.version,
        "rows": snap.rows,
        "new": new_jobs(snap.version, snap.rows, seen["rows"]),
        "watches": watch_news(snap.version),
    }
    st.session_state[keys.LIVE_SEEN + "_pending"] = info
    return info


def _refresh() -> None:
    """The user asked for the new snapshot: it counts as shown (the rerun loads it)."""
    info = st.session_state.pop(keys.LIVE_SEEN + "_pending", None)
    if info:
        st.session_state[keys.LIVE_SEEN] = {"stat": info["stat"], "version": info["version"], "rows": info["rows"]}


def ensure_seen(version: int | None, rows: int | None) -> None:
    """Pages without catalog data (Sync, Performance) start the comparison but never move it forward."""
    if keys.LIVE_SEEN not in st.session_state:
        mark_shown(version, rows)


@st.fragment(run_every=POLL)
def notice() -> None:
    try:
        info = pending()
    except JobdashError as e:  # the run records cannot be read (jobdash.sqlite locked or damaged)
        st.error(str(e))
        return
    if info is None:
        return
    n = info["new"]
    label = f"{n:,} new jobs" if n is not None else f"catalog updated (v{info['version']})"
    st.info(f"{label} — refresh to see them")
    if info.get("watches"):
        st.text(f"New matches for your watches: {info['watches']}")  # view names as plain text
    if st.button("Refresh", key=keys.LIVE_REFRESH, on_click=_refresh, type="primary"):
        st.rerun(scope="app")
