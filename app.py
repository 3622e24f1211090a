"""jobdash dashboard: navigation, logging and the shared sidebar — nothing else (pages live in pages/)."""

import time
from pathlib import Path

import streamlit as st

from ui import boot, sidebar

st.set_page_config(page_title="jobdash", layout="wide")

HERE = Path(__file__).parent
pages = [
    st.Page(HERE / "pages" / "jobs.py", title="Jobs", default=True),
    st.Page(HERE / "pages" / "analytics.py", title="Analytics"),
    st.Page(HERE / "pages" / "sync.py", title="Sync"),
    st.Page(HERE / "pages" / "performance.py", title="Performance"),
]

page = st.navigation(pages)
started = time.perf_counter()
try:
    with boot.app_running():
        sidebar.render()
        page.run()
finally:
    boot.record_script(page.title, (time.perf_counter() - started) * 1000)
    boot.freeze_long_lived_objects()
