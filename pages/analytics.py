"""Analytics: the market and my pipeline, for the same filters as the Jobs page."""

import streamlit as st

from core.errors import JobdashError
from ui import boot, cache, charts, filters, keys, watches_view

boot.ensure_app()
st.title("Analytics", anchor=False)
try:
    flt = filters.sidebar()
    version = cache.versions()
except JobdashError as e:  # a locked or damaged jobdash.sqlite: the message, and the other pages still work
    st.error(str(e))
    st.stop()
if version[0] is None:
    st.info("No catalog yet: charts appear after the first sync.")
    st.stop()
try:
    st.caption(f"{cache.count(flt, version):,} jobs match the sidebar filters")
    bucket = st.segmented_control("Bucket", ["day", "week", "month"], default="day", key=keys.A_BUCKET) or "day"
    a, b = st.columns(2)
    with a:
        charts.postings_over_time(flt, version, bucket)
    with b:
        charts.remote_share(flt, version, bucket)
    a, b = st.columns(2)
    with a:
        charts.by_source(flt, version)
    with b:
        charts.top_companies(flt, version)
    charts.salaries(flt, version)
    st.subheader("My pipeline", anchor=False)
    charts.pipeline(flt, version)
    weekly = watches_view.store().weekly()
    if weekly:
        st.subheader("Watches", anchor=False)
        charts.watch_matches(weekly)
except JobdashError as e:
    st.error(str(e))
    st.stop()
