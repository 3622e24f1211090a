"""Performance: measured query latency, caches, script times, processes, sync runs, benchmarks, alerts."""

import streamlit as st

from core.errors import JobdashError
from ui import boot, performance

boot.ensure_app()
try:
    performance.render()  # app.py times this script like every page
except JobdashError as e:
    st.error(str(e))
