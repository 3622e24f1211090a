"""Sync: is the scheduler alive, sync now with live progress, run history, per-source health."""

import streamlit as st

from ui import boot, health, sources_form, sync_view

boot.ensure_app()
st.title("Sync", anchor=False)
sync_view.scheduler_status()
sync_view.sync_button()
sync_view.progress()
st.subheader("Runs", anchor=False)
sync_view.history()
st.subheader("Sources", anchor=False)
sync_view.source_health()
st.subheader("Data folder", anchor=False)
health.show()
sources_form.manage_sources()
sources_form.add_company()
