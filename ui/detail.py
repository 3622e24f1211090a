"""The detail panel of the selected job (edits persist at once), bulk actions and CSV export.

Posting content is shown through st.text only: it comes from job boards (attacker-controlled) and is never
rendered as Markdown or HTML. Only http(s) URL fields become links, under labels of our own.
"""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path
from typing import Any, TypeGuard

import streamlit as st

from core import schema
from core.errors import JobdashError, NotFound
from ui import cache, keys, state
from ui.cache import View

_DETAIL_JOB = "d_job"  # session state: the job whose values the edit widgets hold


def _is_http(url: Any) -> TypeGuard[str]:
    return isinstance(url, str) and url.lower().startswith(("http://", "https://"))


def _salary(job: dict[str, Any]) -> str:
    lo, hi, cur = job.get("salary_annual_min"), job.get("salary_annual_max"), job.get("salary_currency") or ""
    if lo is None and hi is None:
        return job.get("salary_text") or "not stated"
    rng = f"{lo:,.0f}" if hi is None or lo == hi else (f"{hi:,.0f}" if lo is None else f"{lo:,.0f} – {hi:,.0f}")
    text = f"{rng} {cur} per year"
    if job.get("salary_text"):
        text += f" (posted as: {job['salary_text']})"
    return text


def _save(field: str, widget_key: str) -> None:
    job_id = st.session_state.get(_DETAIL_JOB)
    if not job_id:
        return
    value = st.session_state.get(widget_key)
    if field == "follow_up_on" and value is None:
        value = ""  # cleared
    try:
        cache.catalog().set_user(job_id, **{field: value})
    except JobdashError as e:
        st.session_state[_DETAIL_JOB + "_msg"] = str(e)


def _load_widgets(job: dict[str, Any]) -> None:
    """Put the job's user data into the edit widgets when another job is selected."""
    ss = st.session_state
    ss[_DETAIL_JOB] = job["job_id"]
    ss[keys.D_STARRED] = bool(job.get("starred"))
    ss[keys.D_STAGE] = job.get("stage") or "inbox"
    ss[keys.D_NOTES] = job.get("notes") or ""
    follow = job.get("follow_up_on")
    ss[keys.D_FOLLOW_UP] = date.fromisoformat(follow[:10]) if isinstance(follow, str) and follow else follow
    ss[keys.D_HIDDEN] = bool(job.get("hidden"))


def panel(selected: list[str], version: tuple[int | None, int]) -> None:
    """The first selected job: facts, description (plain text), duplicates and its editable user data."""
    if not selected:
        st.caption("Select a row to see the posting, star it, move it through stages and keep notes.")
        return
    job_id = selected[0]
    try:
        job = cache.job(job_id, version)
    except NotFound as e:
        st.info(f"The selected job is not in the current catalog: {e}")
        return
    except JobdashError as e:
        st.error(str(e))
        return
    if st.session_state.get(_DETAIL_JOB) != job_id:
        _load_widgets(job)
    # Posting text goes through st.text only: Markdown would render links, images (beacons), colors and math.
    st.text(job.get("title") or "(untitled)")
    st.text(" · ".join(str(x) for x in (job.get("company"), job.get("location"), job.get("source")) if x))
    left, right = st.columns([3, 2])
    with right:
        st.checkbox("★ Starred", key=keys.D_STARRED, on_change=_save, args=("starred", keys.D_STARRED))
        st.selectbox("My stage", list(schema.STAGES), key=keys.D_STAGE, on_change=_save, args=("stage", keys.D_STAGE))
        st.date_input("Follow up on", key=keys.D_FOLLOW_UP, on_change=_save, args=("follow_up_on", keys.D_FOLLOW_UP))
        st.text_area("Notes", key=keys.D_NOTES, height=120, on_change=_save, args=("notes", keys.D_NOTES))
        st.checkbox("Hidden", key=keys.D_HIDDEN, on_change=_save, args=("hidden", keys.D_HIDDEN))
        msg = st.session_state.pop(_DETAIL_JOB + "_msg", None)
        if msg:
            st.error(msg)
        if job.get("applied_at"):
            st.caption(f"Applied {str(job['applied_at'])[:16]}")
    with left:
        url = job.get("url") or job.get("apply_url")
        if _is_http(url):
            st.link_button("Open posting ↗", url)
        st.text(f"Salary: {_salary(job)}")
        facts = [
            ("Posted", job.get("posted_at")),
            ("First seen", job.get("first_seen_at")),
            ("Last seen", job.get("last_seen_at")),
            ("Changed", job.get("changed_at")),
            ("Delisted", job.get("delisted_at")),
        ]
        st.text(" · ".join(f"{k}: {str(v)[:16]}" for k, v in facts if v))
        kind = [job.get(k) for k in ("workplace_type", "employment_type", "seniority", "department") if job.get(k)]
        if kind:
            st.text(" · ".join(str(k) for k in kind))
        dups = [d for d in job.get("duplicates") or [] if d.get("job_id") != job_id]
        if dups:
            st.text("Also posted on:")
            for i, d in enumerate(dups):
                st.text(f"- {d.get('source') or '?'}")
                if _is_http(d.get("url")):  # only http(s) URLs become links, under a label of our own
                    st.link_button("Open ↗", d["url"], key=f"{keys.D_DUP_LINK}{i}")
        # From the description shown below: no second read, and the search index stores no texts.
        snippet = cache.catalog().snippet(job.get("description") or "", str(st.session_state.get(keys.F_DESC) or ""))
        if snippet:  # plain text: the matched words between «», never HTML or Markdown
            st.text("Matched: " + snippet)
        with st.container(height=320):
            st.text(job.get("description") or "(no description)")


def bulk(selected: list[str]) -> None:
    """Star, unstar, set a stage on or hide every selected row at once."""
    if not selected:
        return
    st.markdown(f"**{len(selected)} selected**")
    a, b, c, d, e = st.columns([1, 1, 2, 1, 1])

    def apply(**fields: Any) -> None:
        try:
            n = cache.catalog().set_user_bulk(list(selected), **fields)
            st.session_state[keys.BULK_STAGE + "_msg"] = f"updated {n} jobs"
        except JobdashError as err:
            st.session_state[keys.BULK_STAGE + "_msg"] = str(err)
        st.session_state.pop(_DETAIL_JOB, None)  # reload the detail widgets from the new values

    a.button("★ Star", key=keys.BULK_STAR, on_click=apply, kwargs={"starred": True})
    b.button("☆ Unstar", key=keys.BULK_UNSTAR, on_click=apply, kwargs={"starred": False})
    c.selectbox("Stage for selected", list(schema.STAGES), key=keys.BULK_STAGE, label_visibility="collapsed")
    d.button(
        "Set stage",
        key=keys.BULK_STAGE_APPLY,
        on_click=lambda: apply(stage=st.session_state.get(keys.BULK_STAGE)),
    )
    e.button("Hide", key=keys.BULK_HIDE, on_click=apply, kwargs={"hidden": True})
    msg = st.session_state.pop(keys.BULK_STAGE + "_msg", None)
    if msg:
        st.caption(msg)


def _prepare_export(v: View, signature: str) -> None:
    ss = st.session_state
    ss.pop(keys.EXPORT_FILE, None)
    fd, name = tempfile.mkstemp(prefix="jobdash-export-", suffix=".csv")
    os.close(fd)
    path = Path(name)
    try:
        rows = cache.catalog().export_csv(v.flt, v.sort, path)
        data = path.read_bytes()  # the download button serves bytes; the temp file is not kept around
    except JobdashError as e:
        ss[keys.EXPORT_FILE + "_msg"] = str(e)
        return
    finally:
        path.unlink(missing_ok=True)
    ss[keys.EXPORT_FILE] = {"data": data, "rows": rows, "signature": signature}


def export(v: View) -> None:
    """CSV of the whole filtered set (not just the page), written by DuckDB to a temp file."""
    ss = st.session_state
    signature = f"{state.filter_key(v.flt)}|{state.sort_key(v.sort)}"
    st.button("Prepare CSV export", key=keys.EXPORT_PREPARE, on_click=_prepare_export, args=(v, signature))
    msg = ss.pop(keys.EXPORT_FILE + "_msg", None)
    if msg:
        st.error(msg)
    done = ss.get(keys.EXPORT_FILE)
    if done and done["signature"] == signature:
        st.download_button(
            f"Download CSV ({done['rows']:,} rows)",
            data=done["data"],
            file_name="jobs.csv",
            mime="text/csv",
            key=keys.EXPORT_DOWNLOAD,
        )
