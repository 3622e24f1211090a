"""Jobs: sidebar filters → a DuckDB window of the catalog in the grid → detail panel, bulk edits, export."""

import streamlit as st

from core.errors import JobdashError
from ui import boot, cache, detail, filters, grid

boot.ensure_app()
st.title("Jobs", anchor=False)
flt = filters.sidebar()
version = cache.versions()
try:
    view = grid.view(flt)
    res = cache.jobs(view, version)
except JobdashError as e:
    st.error(str(e))
    st.stop()

chosen = grid.show(res, view)
detail.bulk(chosen)
detail.panel(chosen, version)
detail.export(view)
