"""The sidebar filters shared by the Jobs and Analytics pages, and saved views.

Widget values live under the keys in ui.keys, so the two pages share one filter state (app.py keeps the
values alive while a page without these widgets is shown).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import streamlit as st

from core import schema
from core.errors import JobdashError
from core.query import JobFilter
from ui import cache, keys, live, state

LISTING_LABELS = {"listed": "Open (and closed in my pipeline)", "delisted": "Closed", "both": "Open and closed"}
HIDDEN_LABELS = {"hide": "Hide hidden", "show": "Show hidden", "only": "Only hidden"}
ANY_CURRENCY = "any"
_DEFAULTS: dict[str, Any] = {
    keys.F_TEXT: "",
    keys.F_DESC: "",
    keys.F_POSTED: (),
    keys.F_SEEN: (),
    keys.F_SALARY_MIN: None,
    keys.F_SALARY_MAX: None,
    keys.F_CURRENCY: ANY_CURRENCY,
    keys.F_SALARY_KNOWN: False,
    keys.F_WORKPLACE: [],
    keys.F_LOCATION: "",
    keys.F_COUNTRIES: [],
    keys.F_COMPANIES: [],
    keys.F_SOURCES: [],
    keys.F_TYPES: [],
    keys.F_SENIORITIES: [],
    keys.F_STAGES: [],
    keys.F_STARRED: False,
    keys.F_PIPELINE: False,
    keys.F_LISTING: "listed",
    keys.F_HIDDEN: "hide",
    keys.F_COLLAPSE: False,
    keys.F_WATCH: None,
}
_EVERYTHING = JobFilter(listing="both", hidden="show")


def _range(value: Any) -> tuple[date | None, date | None]:
    """A date_input range: (), (start,) while picking, or (start, end)."""
    if isinstance(value, date):
        return value, value
    picked = tuple(value or ())
    return (picked[0] if picked else None), (picked[1] if len(picked) > 1 else None)


def from_widgets(values: dict[str, Any]) -> JobFilter:
    """The JobFilter the widget values describe (a pure function: AppTest and saved views go through it)."""
    v = {**_DEFAULTS, **values}
    posted_from, posted_to = _range(v[keys.F_POSTED])
    seen_from, seen_to = _range(v[keys.F_SEEN])
    currency = v[keys.F_CURRENCY]
    return JobFilter(
        text=v[keys.F_TEXT] or "",
        desc=v[keys.F_DESC] or "",
        posted_from=posted_from,
        posted_to=posted_to,
        seen_from=seen_from,
        seen_to=seen_to,
        salary_min=float(v[keys.F_SALARY_MIN]) if v[keys.F_SALARY_MIN] is not None else None,
        salary_max=float(v[keys.F_SALARY_MAX]) if v[keys.F_SALARY_MAX] is not None else None,
        currency=None if currency in (None, ANY_CURRENCY) else currency,
        salary_known=bool(v[keys.F_SALARY_KNOWN]),
        workplace=tuple(v[keys.F_WORKPLACE]),
        location=v[keys.F_LOCATION] or "",
        countries=tuple(v[keys.F_COUNTRIES]),
        companies=tuple(v[keys.F_COMPANIES]),
        sources=tuple(v[keys.F_SOURCES]),
        employment_types=tuple(v[keys.F_TYPES]),
        seniorities=tuple(v[keys.F_SENIORITIES]),
        stages=tuple(v[keys.F_STAGES]),
        starred=bool(v[keys.F_STARRED]),
        pipeline=bool(v[keys.F_PIPELINE]),
        listing=v[keys.F_LISTING],
        hidden=v[keys.F_HIDDEN],
        collapse_dups=bool(v[keys.F_COLLAPSE]),
        watch_unseen=v[keys.F_WATCH],
    )


def to_widgets(flt: JobFilter) -> dict[str, Any]:
    """The widget values that show ``flt`` (for loading a saved view)."""

    def rng(a: date | None, b: date | None) -> tuple[date, ...]:
        return tuple(d for d in (a, b) if d is not None)

    return {
        keys.F_TEXT: flt.text,
        keys.F_DESC: flt.desc,
        keys.F_POSTED: rng(flt.posted_from, flt.posted_to),
        keys.F_SEEN: rng(flt.seen_from, flt.seen_to),
        keys.F_SALARY_MIN: flt.salary_min,
        keys.F_SALARY_MAX: flt.salary_max,
        keys.F_CURRENCY: flt.currency or ANY_CURRENCY,
        keys.F_SALARY_KNOWN: flt.salary_known,
        keys.F_WORKPLACE: list(flt.workplace),
        keys.F_LOCATION: flt.location,
        keys.F_COUNTRIES: list(flt.countries),
        keys.F_COMPANIES: list(flt.companies),
        keys.F_SOURCES: list(flt.sources),
        keys.F_TYPES: list(flt.employment_types),
        keys.F_SENIORITIES: list(flt.seniorities),
        keys.F_STAGES: list(flt.stages),
        keys.F_STARRED: flt.starred,
        keys.F_PIPELINE: flt.pipeline,
        keys.F_LISTING: flt.listing,
        keys.F_HIDDEN: flt.hidden,
        keys.F_COLLAPSE: flt.collapse_dups,
        keys.F_WATCH: flt.watch_unseen,
    }


def _options(name: str, version: tuple[int | None, int], selected: list[str], top: int = 200) -> list[str]:
    """Values of a column in the whole catalog, most frequent first, plus whatever is selected already."""
    found = [value for value, _n in cache.facet(_EVERYTHING, name, version, top=top)]
    return list(dict.fromkeys([*found, *selected]))


def _reset() -> None:
    for key, value in _DEFAULTS.items():
        st.session_state[key] = value


def _load_view() -> None:
    name = st.session_state.get(keys.VIEW_PICK)
    if not name:
        return
    try:
        flt = state.filter_from_dict(json.loads(cache.user_data().view(name)))
    except (JobdashError, ValueError, TypeError) as e:
        st.session_state[keys.VIEW_NAME + "_msg"] = f"could not load view {name!r}: {e}"
        return
    for key, value in to_widgets(flt).items():
        st.session_state[key] = value


def _save_view() -> None:
    name = (st.session_state.get(keys.VIEW_NAME) or "").strip()
    values = {k: st.session_state.get(k, d) for k, d in _DEFAULTS.items()}
    try:
        cache.user_data().save_view(name, json.dumps(state.filter_to_dict(from_widgets(values))))
        st.session_state[keys.VIEW_NAME + "_msg"] = f"saved view {name!r}"
        st.session_state[keys.VIEW_PICK] = name
    except JobdashError as e:
        st.session_state[keys.VIEW_NAME + "_msg"] = str(e)


def _delete_view() -> None:
    name = st.session_state.get(keys.VIEW_PICK)
    if not name:
        return
    try:
        cache.user_data().delete_view(name)
        st.session_state[keys.VIEW_NAME + "_msg"] = f"deleted view {name!r}"
        st.session_state[keys.VIEW_PICK] = None
    except JobdashError as e:
        st.session_state[keys.VIEW_NAME + "_msg"] = str(e)


def _views() -> None:
    with st.expander("Saved views"):
        names = cache.user_data().views()
        if st.session_state.get(keys.VIEW_PICK) not in names:
            st.session_state[keys.VIEW_PICK] = None
        st.selectbox("View", names, index=None, key=keys.VIEW_PICK, placeholder="pick a saved view")
        a, b = st.columns(2)
        a.button("Load", key=keys.VIEW_LOAD, on_click=_load_view, disabled=not names)
        b.button("Delete", key=keys.VIEW_DELETE, on_click=_delete_view, disabled=not names)
        st.text_input("Save current filters as", key=keys.VIEW_NAME, placeholder="name")
        st.button("Save view", key=keys.VIEW_SAVE, on_click=_save_view)
        msg = st.session_state.pop(keys.VIEW_NAME + "_msg", None)
        if msg:
            st.caption(msg)


def init_state() -> None:
    """Give every filter widget its default once, so widgets are created by key alone (no value= clash)."""
    for key, value in _DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = value


def current() -> JobFilter:
    """The JobFilter of the widget values in session state (set before a run starts, so it can be read before
    the widgets are drawn)."""
    init_state()
    ss = st.session_state
    return from_widgets({k: ss.get(k) for k in _DEFAULTS})


def sidebar() -> JobFilter:
    """Render the filters in the sidebar and return the JobFilter they describe."""
    init_state()
    version = cache.versions()
    snap = cache.catalog().snapshot
    live.mark_shown(version[0], snap.rows if snap else None)  # this page shows data of this snapshot
    ss = st.session_state
    with st.sidebar:
        st.subheader("Filters")
        st.text_input("Search title or company", key=keys.F_TEXT, placeholder="e.g. data engineer")
        st.text_input("Search descriptions", key=keys.F_DESC, placeholder='e.g. "dbt" AND airflow')
        st.checkbox(
            "Sort by best match",
            key=keys.F_BEST_MATCH,
            disabled=not str(ss[keys.F_DESC]).strip(),
            help="Rank the jobs by how well their title, company and description match the description search",
        )
        with st.expander("Dates and salary"):
            st.date_input("Posted between", key=keys.F_POSTED, format="YYYY-MM-DD")
            st.date_input("First seen between", key=keys.F_SEEN, format="YYYY-MM-DD")
            a, b = st.columns(2)
            a.number_input("Salary from (yearly)", min_value=0.0, step=5000.0, key=keys.F_SALARY_MIN)
            b.number_input("Salary to (yearly)", min_value=0.0, step=5000.0, key=keys.F_SALARY_MAX)
            currencies = [ANY_CURRENCY, *_options("salary_currency", version, [], top=50)]
            if ss[keys.F_CURRENCY] not in currencies:
                currencies.append(ss[keys.F_CURRENCY])
            st.selectbox("Currency", currencies, key=keys.F_CURRENCY)
            st.checkbox("Only jobs with a salary", key=keys.F_SALARY_KNOWN)
        with st.expander("Where and what"):
            st.multiselect("Workplace", list(schema.WORKPLACE_TYPES), key=keys.F_WORKPLACE)
            st.text_input("Location contains", key=keys.F_LOCATION, placeholder="city, region or country")
            st.multiselect("Countries", _options("country", version, ss[keys.F_COUNTRIES]), key=keys.F_COUNTRIES)
            st.multiselect("Companies", _options("company", version, ss[keys.F_COMPANIES]), key=keys.F_COMPANIES)
            st.multiselect("Sources", _options("source", version, ss[keys.F_SOURCES]), key=keys.F_SOURCES)
            st.multiselect("Employment type", list(schema.EMPLOYMENT_TYPES), key=keys.F_TYPES)
            st.multiselect("Seniority", list(schema.SENIORITIES), key=keys.F_SENIORITIES)
        pipeline = bool(ss[keys.F_STAGES] or ss[keys.F_STARRED] or ss[keys.F_PIPELINE])
        with st.expander("My pipeline", expanded=pipeline):
            st.checkbox("Only my pipeline (starred, staged, noted)", key=keys.F_PIPELINE)
            st.checkbox("Only starred", key=keys.F_STARRED)
            st.multiselect("Stage", list(schema.STAGES), key=keys.F_STAGES)
            st.selectbox("Listing", list(LISTING_LABELS), format_func=LISTING_LABELS.__getitem__, key=keys.F_LISTING)
            st.selectbox("Hidden jobs", list(HIDDEN_LABELS), format_func=HIDDEN_LABELS.__getitem__, key=keys.F_HIDDEN)
            st.checkbox("Collapse duplicates", key=keys.F_COLLAPSE)
        st.button("Reset filters", key=keys.F_RESET, on_click=_reset)
        _views()
    return current()
