"""The Sync page's source editing: "Add a company" from a careers URL, and enable / disable / remove per source.

Everything goes through core.config_edit (atomic, comment-keeping edits of jobdash.toml). Board names, URLs
and messages come from pages we do not control: they are shown with st.text (plain), never as Markdown.
"""

from __future__ import annotations

import streamlit as st

from core import config_edit
from core.errors import JobdashError
from ui import keys, state


def _say(level: str, text: str) -> None:
    st.session_state[keys.SRC_MSG] = (level, text)


def _show_message() -> None:
    msg = st.session_state.pop(keys.SRC_MSG, None)
    if not msg:
        return
    level, text = msg
    if level == "error":
        st.error("Not changed — jobdash.toml is as it was:", icon="⚠️")
    else:
        st.success("Done:", icon="✅")
    st.text(text)


def _check() -> None:
    st.session_state.pop(keys.SRC_CHECKED, None)
    url = str(st.session_state.get(keys.SRC_URL) or "").strip()
    name = str(st.session_state.get(keys.SRC_NAME) or "").strip() or None
    base_url = str(st.session_state.get(keys.SRC_BASE_URL) or "").strip() or None
    try:
        st.session_state[keys.SRC_CHECKED] = config_edit.check_url(url, name=name, base_url=base_url)
    except JobdashError as e:
        _say("error", str(e))


def _add() -> None:
    checked = st.session_state.pop(keys.SRC_CHECKED, None)
    if checked is None:
        return
    try:
        name = config_edit.add_checked(checked)
    except JobdashError as e:
        _say("error", str(e))
        return
    for k in (keys.SRC_URL, keys.SRC_NAME):
        st.session_state[k] = ""
    _say("ok", f"added source {name!r} ({checked.found.kind}); it syncs on the next run")


def _cancel() -> None:
    st.session_state.pop(keys.SRC_CHECKED, None)


def add_company() -> None:
    """URL in, "Check" (detect + test-fetch, nothing written), then "Add" writes it to jobdash.toml."""
    st.subheader("Add a company", anchor=False)
    with st.form(keys.SRC_FORM, border=False):
        st.text_input(
            "Careers page or job URL",
            key=keys.SRC_URL,
            placeholder="https://boards.greenhouse.io/acme · https://jobs.lever.co/acme · https://acme.com/careers",
        )
        st.text_input("Source name (optional, derived from the board otherwise)", key=keys.SRC_NAME)
        with st.expander("Advanced"):
            st.text_input("Board API base URL (optional: a proxy or a test server)", key=keys.SRC_BASE_URL)
        st.form_submit_button("Check", key=keys.SRC_CHECK, on_click=_check)
    checked = st.session_state.get(keys.SRC_CHECKED)
    if checked is not None:
        st.text(f"Detected: {checked.found.describe()}")
        for other in checked.found.alternatives:
            st.text(f"The page also mentions {other}")
        if checked.fetch is not None:
            partial = f" (partial: {checked.fetch.partial})" if checked.fetch.partial else ""
            st.text(f"Test fetch: {checked.fetch.jobs:,} jobs listed ({checked.fetch.seconds:.1f} s){partial}")
        st.text(f"Will be added as {checked.name!r}")
        left, right = st.columns(2)
        left.button("Add to jobdash.toml", key=keys.SRC_ADD, on_click=_add, type="primary")
        right.button("Cancel", key=keys.SRC_CANCEL, on_click=_cancel)
    _show_message()


def _toggle(name: str, enabled: bool) -> None:
    try:
        config_edit.set_enabled(name, enabled)
    except JobdashError as e:
        _say("error", str(e))
        return
    _say("ok", f"source {name!r} {'enabled' if enabled else 'disabled'}")


def _ask_remove(name: str) -> None:
    st.session_state[keys.SRC_REMOVE_PENDING] = name


def _remove(name: str) -> None:
    st.session_state.pop(keys.SRC_REMOVE_PENDING, None)
    try:
        config_edit.remove_source(name)
    except JobdashError as e:
        _say("error", str(e))
        return
    _say("ok", f"source {name!r} removed (its jobs are delisted by the next sync)")


def manage_sources() -> None:
    """One row per source of jobdash.toml with Enable/Disable and Remove (remove asks once more)."""
    try:
        settings = state.settings()
    except JobdashError as e:
        st.error("jobdash.toml cannot be read:")
        st.text(str(e))
        return
    if settings.demo_default:
        st.caption("No sources in jobdash.toml yet (the labeled demo source runs instead): add a company above.")
        return
    pending = st.session_state.get(keys.SRC_REMOVE_PENDING)
    for src in settings.sources:
        name_col, kind_col, toggle_col, remove_col = st.columns([4, 2, 1, 1])
        name_col.text(src.name)
        kind_col.text(f"{src.kind} · {'on' if src.enabled else 'off'}")
        toggle_col.button(
            "Disable" if src.enabled else "Enable",
            key=keys.source_key(keys.SRC_TOGGLE, src.name),
            on_click=_toggle,
            args=(src.name, not src.enabled),
        )
        if pending == src.name:
            remove_col.button(
                "Confirm",
                key=keys.source_key(keys.SRC_REMOVE_CONFIRM, src.name),
                on_click=_remove,
                args=(src.name,),
                type="primary",
            )
        else:
            remove_col.button(
                "Remove", key=keys.source_key(keys.SRC_REMOVE, src.name), on_click=_ask_remove, args=(src.name,)
            )
