"""What every page shares: logging, the first-run demo seed, filter state kept across pages, the data
label and the live-update notice."""

from __future__ import annotations

import logging
import threading

import streamlit as st

from core import control
from core.errors import JobdashError, SyncBusy
from ui import cache, filters, keys, live, state, watches_view

log = logging.getLogger("jobdash.ui")
DEMO_LABEL = "demo data — add sources in jobdash.toml"


def setup_logging() -> None:
    root = logging.getLogger("jobdash")
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        for name in ("jobdash", "core"):
            logging.getLogger(name).addHandler(handler)
            logging.getLogger(name).setLevel(logging.INFO)


@st.cache_resource(show_spinner=False)
def _seed_lock(data_dir: str) -> threading.Lock:
    return threading.Lock()


def first_run() -> None:
    """No snapshot yet and no sources configured: build the embedded demo catalog once, right now (`make run`
    does it before the dashboard starts; this is for the dashboard started alone)."""
    s = state.settings()
    if not control.demo_needed(s):
        return
    lock = _seed_lock(str(s.data_dir))
    if not lock.acquire(blocking=False):
        st.info("Building the demo catalog…")
        return
    try:
        if control.sync_running(s):
            return
        with st.spinner("First start: building a demo catalog (about 5,000 jobs)…"):
            result = control.seed_demo(s)  # checks again: another session may have built it meanwhile
        if result is not None:
            log.info("first-run demo sync: %s", result.status)
    except SyncBusy:
        pass  # the scheduler got there first; the live notice shows its snapshot
    except JobdashError as e:
        st.error(f"The demo sync failed: {e}")
    finally:
        lock.release()


def keep_filters() -> None:
    """Widget state is dropped on pages that do not draw the widget: re-store it so filters survive."""
    ss = st.session_state
    for key in keys.FILTER_KEYS:
        if key in ss:
            ss[key] = ss[key]


def render() -> None:
    setup_logging()
    first_run()
    keep_filters()
    filters.init_state()
    try:
        cat = cache.catalog()
        cat.refresh(wait=False)
    except JobdashError as e:  # e.g. jobdash.sqlite locked or damaged: say so here, the pages say it too
        st.sidebar.error(str(e))
        return
    snap = cat.snapshot
    live.ensure_seen(cat.version, snap.rows if snap else None)
    with st.sidebar:
        if snap is None:
            st.warning("No catalog yet — run a sync (Sync page) or `python -m core sync`.")
        else:
            if snap.demo:
                st.info(DEMO_LABEL)
            st.caption(f"Catalog v{snap.version} · {snap.rows:,} jobs · published {snap.created_at[:16]}")
            if snap.fallback:  # a damaged pointer or snapshot: an older valid one is shown, and we say so
                st.warning(f"{snap.fallback} — `python -m core doctor --repair` fixes the pointer.")
        if cat.load_error:
            st.error(cat.load_error)
        live.notice()
        watches_view.render()
