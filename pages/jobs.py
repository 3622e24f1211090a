"""Jobs: sidebar filters → a DuckDB window of the catalog in the grid → detail panel, bulk edits, export.

The grid, its pager, the detail panel and the export live in one fragment: a sort, header filter, selection,
page turn or edit reruns only that fragment, not the sidebar. The grid is drawn before the sidebar widgets so
the browser starts loading the grid component first; the filter is read from session state, where the
widget values already are when a run starts.

A storage error (a broken search index, a locked or damaged jobdash.sqlite) shows as a message where the grid
would be; the sidebar and the other pages still render.
"""

import time

import streamlit as st

from core.errors import JobdashError
from ui import boot, cache, detail, filters, grid, live


@st.fragment
def grid_section() -> None:
    started = time.perf_counter()
    try:
        version = cache.versions()
        snap = cache.catalog().snapshot
        live.mark_shown(version[0], snap.rows if snap else None)  # a fragment run may have swapped in a new snapshot
        view = grid.view(filters.current())
        res = cache.jobs(view, version)
    except JobdashError as e:
        st.error(str(e))
        return
    chosen = grid.show(res, view)
    try:
        detail.bulk(chosen)
        detail.panel(chosen, version)
        detail.export(view)
    except JobdashError as e:
        st.error(str(e))
    boot.record_fragment("Jobs", (time.perf_counter() - started) * 1000)


boot.ensure_app()
st.title("Jobs", anchor=False)
filters.init_state()
grid_section()
try:
    filters.sidebar()
except JobdashError as e:
    st.sidebar.error(str(e))
