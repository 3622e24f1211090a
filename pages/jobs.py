"""Jobs: sidebar filters → a DuckDB window of the catalog in the grid → detail panel, bulk edits, export.

The grid, its pager, the detail panel and the export live in one fragment: a sort, header filter, selection,
page turn or edit reruns only that fragment, not the sidebar. The grid is drawn before the sidebar widgets so
the browser starts loading the grid component first; the filter is read from session state, where the
widget values already are when a run starts.

Each block of the fragment (state, query, grid payload, grid, pager, bulk, detail, export) is timed into
core.metrics (the Performance page and the browser benchmark show the split).

A storage error (a broken search index, a locked or damaged jobdash.sqlite) shows as a message where the grid
would be; the sidebar and the other pages still render.
"""

import time

import streamlit as st

from core.errors import JobdashError
from core.instrumentation import metrics
from ui import boot, cache, detail, filters, grid, live

PAGE = "Jobs"


@st.fragment
def grid_section() -> None:
    started = time.perf_counter()
    if not boot.in_app_run():
        metrics.run_blocks()  # a fragment run of its own: start its block tally afresh
    try:
        try:
            with metrics.timed_block(PAGE, "state"):
                version = cache.versions()
                snap = cache.catalog().snapshot
                live.mark_shown(
                    version[0], snap.rows if snap else None
                )  # a fragment run may have swapped in a new snapshot
                view = grid.view(filters.current())
            with metrics.timed_block(PAGE, "query"):
                res = cache.jobs(view, version)
        except JobdashError as e:
            st.error(str(e))
            return
        chosen = grid.show(res, view, f"{view.key()}|{version}", PAGE)
        try:
            with metrics.timed_block(PAGE, "bulk"):
                detail.bulk(chosen)
            with metrics.timed_block(PAGE, "detail"):
                detail.panel(chosen, version)
            with metrics.timed_block(PAGE, "export"):
                detail.export(view)
            with metrics.timed_block(PAGE, "prefetch"):
                cache.prefetch_next(view, res, version)
        except JobdashError as e:
            st.error(str(e))
    finally:
        boot.record_fragment(PAGE, (time.perf_counter() - started) * 1000)


boot.ensure_app()
st.title("Jobs", anchor=False)
filters.init_state()
grid_section()
try:
    filters.sidebar()
except JobdashError as e:
    st.sidebar.error(str(e))
