"""Watches in the sidebar: each watch with its unseen count; opening one shows the view restricted to its
unseen matches (JobFilter.watch_unseen), with "Mark all seen"; a small form watches a saved view."""

from __future__ import annotations

import streamlit as st

from core import watches
from core.errors import JobdashError
from core.query import filter_from_json
from ui import cache, filters, keys, state


@st.cache_resource(show_spinner=False)
def _store(data_dir: str) -> watches.WatchStore:
    return watches.WatchStore(state.settings().db_path)


def store() -> watches.WatchStore:
    s = state.settings()
    st_ = _store(str(s.data_dir))
    st_.apply_config(s.watches)
    return st_


def label(view: str, unseen: int) -> str:
    """ "Data engineer, Berlin · 12 new" (the view's name is shown as text by st.button, never as Markdown)."""
    return f"{view} · {unseen:,} new"


def _open(watch_id: int, view: str) -> None:
    try:
        flt = filter_from_json(cache.user_data().view(view))
    except JobdashError as e:
        st.session_state[keys.WATCH_MSG] = str(e)
        return
    for key, value in filters.to_widgets(flt).items():
        st.session_state[key] = value
    st.session_state[keys.F_WATCH] = watch_id


def _close() -> None:
    st.session_state[keys.F_WATCH] = None


def _mark_seen(watch_id: int) -> None:
    try:
        n = store().mark_seen(watch_id)
        st.session_state[keys.WATCH_MSG] = f"marked {n:,} seen"
    except JobdashError as e:
        st.session_state[keys.WATCH_MSG] = str(e)
    st.session_state[keys.F_WATCH] = None


def _save() -> None:
    ss = st.session_state
    view = ss.get(keys.WATCH_VIEW)
    dests = [d.strip() for d in (ss.get(keys.WATCH_DESTS) or "").splitlines() if d.strip()]
    try:
        w = store().add(
            view or "",
            destinations=dests,
            include_relisted=bool(ss.get(keys.WATCH_RELISTED)),
            quiet_hours=(ss.get(keys.WATCH_QUIET) or "").strip() or None,
            min_matches=int(ss.get(keys.WATCH_MIN) or 1),
            paused=bool(ss.get(keys.WATCH_PAUSED)),
        )
        ss[keys.WATCH_MSG] = f"watching {w.view!r}" + (f" → {len(w.destinations)} destination(s)" if dests else "")
    except JobdashError as e:
        ss[keys.WATCH_MSG] = str(e)


def _form(names: list[str]) -> None:
    with st.expander("Watch a view"), st.form(keys.WATCH_FORM, border=False):
        st.selectbox("Saved view", names, index=None, key=keys.WATCH_VIEW, placeholder="pick a saved view")
        st.text_area(
            "Destinations (apprise URLs, one a line)",
            key=keys.WATCH_DESTS,
            placeholder="mailto://user:pass@example.com\nntfy://my-topic",
        )
        st.checkbox("Include relisted jobs", key=keys.WATCH_RELISTED)
        st.number_input("Send once this many matches gathered", min_value=1, step=1, value=1, key=keys.WATCH_MIN)
        st.text_input("Quiet hours (local, HH:MM-HH:MM)", key=keys.WATCH_QUIET, placeholder="22:00-07:00")
        st.checkbox("Paused", key=keys.WATCH_PAUSED)
        st.form_submit_button("Save watch", on_click=_save, disabled=not names)


def render() -> None:
    """The sidebar block; a storage error shows as a message here, the rest of the page still renders."""
    try:
        ws = store()
        items = ws.all()
        counts = ws.unseen_counts()
        names = cache.user_data().views()
    except JobdashError as e:
        st.error(str(e))
        return
    st.subheader("Watches")
    if not items:
        st.caption("Watch a saved view to be told about new matching jobs.")
    open_id = st.session_state.get(keys.F_WATCH)
    for w in items:
        n = counts.get(w.id, 0)
        st.button(
            label(w.view, n) + (" (paused)" if w.paused else ""),
            key=keys.watch_key(keys.WATCH_OPEN, w.id),
            on_click=_open,
            args=(w.id, w.view),
            type="primary" if w.id == open_id else "secondary",
            disabled=n == 0 and w.id != open_id,
        )
    current = next((w for w in items if w.id == open_id), None)
    if current is not None:
        st.caption(f"Showing the unseen matches of “{current.view}”")
        a, b = st.columns(2)
        a.button("Mark all seen", key=keys.WATCH_SEEN, on_click=_mark_seen, args=(current.id,))
        b.button("Show the whole view", key=keys.WATCH_CLOSE, on_click=_close)
    msg = st.session_state.pop(keys.WATCH_MSG, None)
    if msg:
        st.caption(msg)
    _form(names)
