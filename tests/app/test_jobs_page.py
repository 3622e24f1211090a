"""The Jobs page against a real 20k catalog: each filter re-queries, the grid's models round-trip to DuckDB,
paging by keyset, edits persist in SQLite, saved views, export."""

from __future__ import annotations

import re
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from core.catalog import Catalog
from core.query import ColumnFilter, JobFilter, Sort
from core.settings import load_settings
from core.userdata import UserData
from tests.app.conftest import AppEnv, grid_payload, match_count
from ui import keys

pytestmark = pytest.mark.xdist_group("app")


def _set(at: AppTest, key: str, value: Any) -> None:
    for kind in (at.text_input, at.date_input, at.number_input, at.selectbox, at.multiselect, at.checkbox):
        for w in kind:
            if w.key == key:
                w.set_value(value)
                return
    raise AssertionError(f"no widget with key {key!r}")


def _option(at: AppTest, key: str, index: int = 0) -> str:
    w = next(w for w in (*at.multiselect, *at.selectbox) if w.key == key)
    return [o for o in w.options if o != "any"][index]


def _catalog(env: AppEnv) -> Catalog:
    return Catalog(load_settings())


# (widget key, value or a function of the page that picks one). Each must change the rows and the count.
FILTER_CASES: list[tuple[str, Any]] = [
    (keys.F_TEXT, "engineer"),
    (keys.F_DESC, "kubernetes"),
    (keys.F_POSTED, (date(2025, 6, 1), date(2025, 6, 10))),
    (keys.F_SEEN, (date(2025, 6, 1), date(2025, 6, 10))),
    (keys.F_SALARY_MIN, 150_000.0),
    (keys.F_SALARY_MAX, 60_000.0),
    (keys.F_CURRENCY, lambda at: _option(at, keys.F_CURRENCY)),
    (keys.F_SALARY_KNOWN, True),
    (keys.F_WORKPLACE, ["remote"]),
    (keys.F_LOCATION, "berlin"),
    (keys.F_COUNTRIES, lambda at: [_option(at, keys.F_COUNTRIES)]),
    (keys.F_COMPANIES, lambda at: [_option(at, keys.F_COMPANIES)]),
    (keys.F_SOURCES, lambda at: [_option(at, keys.F_SOURCES)]),
    (keys.F_TYPES, ["contract"]),
    (keys.F_SENIORITIES, ["senior"]),
    (keys.F_STAGES, ["applied"]),
    (keys.F_STARRED, True),
    (keys.F_LISTING, "delisted"),
    (keys.F_HIDDEN, "only"),
    (keys.F_COLLAPSE, True),
]


def test_every_filter_changes_the_grid_payload_and_the_count(demo_env: AppEnv) -> None:
    at = demo_env.app()
    base_rows, base_count = grid_payload(at).rows, match_count(at)
    assert base_count > 1000
    unchanged = []
    for key, value in FILTER_CASES:
        chosen = value(at) if callable(value) else value
        _set(at, key, chosen)
        at.run()
        assert not at.exception, (key, [e.value for e in at.exception])
        rows, count = grid_payload(at).rows, match_count(at)
        if rows.equals(base_rows) or count == base_count:
            unchanged.append((key, chosen, count))
        at.button(key=keys.F_RESET).click()
        at.run()
        assert match_count(at) == base_count, f"reset after {key} did not restore the filters"
    assert not unchanged, f"filters that changed nothing: {unchanged}"


def test_sidebar_filter_count_matches_the_catalog(demo_env: AppEnv) -> None:
    at = demo_env.app()
    _set(at, keys.F_TEXT, "data engineer")
    _set(at, keys.F_WORKPLACE, ["remote"])
    at.run()
    expected = _catalog(demo_env).count(JobFilter(text="data engineer", workplace=("remote",)))
    assert match_count(at) == expected > 0
    titles = grid_payload(at).column("title")
    assert all("data" in t.lower() and "engineer" in t.lower() for t in titles)


def test_grid_sort_model_requeries_duckdb(demo_env: AppEnv) -> None:
    at = demo_env.app()
    at.session_state[keys.GRID_MODEL] = {"sort": [{"colId": "title", "sort": "asc"}], "filter": {}}
    at.run()
    expected = _catalog(demo_env).page(JobFilter(), Sort("title", desc=False), limit=100)
    assert grid_payload(at).ids == expected.rows.column("job_id").to_pylist()
    assert grid_payload(at).options["initialState"]["sort"]["sortModel"] == [{"colId": "title", "sort": "asc"}]

    at.session_state[keys.GRID_MODEL] = {"sort": [{"colId": "salary_annual_max", "sort": "desc"}], "filter": {}}
    at.run()
    expected = _catalog(demo_env).page(JobFilter(), Sort("salary_annual_max", desc=True), limit=100)
    assert grid_payload(at).ids == expected.rows.column("job_id").to_pylist()


def test_grid_filter_model_requeries_duckdb(demo_env: AppEnv) -> None:
    at = demo_env.app()
    at.session_state[keys.GRID_MODEL] = {
        "sort": [],
        "filter": {
            "company": {"filterType": "text", "type": "contains", "filter": "acme"},
            "salary_annual_min": {"filterType": "number", "type": "greaterThanOrEqual", "filter": 50000},
        },
    }
    at.run()
    flt = JobFilter(
        column_filters=(ColumnFilter("company", "contains", "acme"), ColumnFilter("salary_annual_min", "gte", 50000.0))
    )
    assert match_count(at) == _catalog(demo_env).count(flt) > 0
    payload = grid_payload(at)
    assert all("acme" in c.lower() for c in payload.column("company"))
    assert all(s >= 50000 for s in payload.column("salary_annual_min"))


def test_next_and_previous_page_by_keyset(demo_env: AppEnv) -> None:
    at = demo_env.app()
    first = grid_payload(at).ids
    at.button(key=keys.PAGE_NEXT).click()
    at.run()
    second = grid_payload(at).ids
    assert len(second) == 100 and not set(first) & set(second)
    assert any("page 2" in m.value for m in at.markdown)
    at.button(key=keys.PAGE_NEXT).click()
    at.run()
    third = grid_payload(at).ids
    at.button(key=keys.PAGE_PREV).click()
    at.run()
    assert grid_payload(at).ids == second
    at.button(key=keys.PAGE_PREV).click()
    at.run()
    assert grid_payload(at).ids == first
    assert not set(third) & set(second)


def test_detail_edits_persist_at_once(demo_env: AppEnv) -> None:
    at = demo_env.app()
    job_id = grid_payload(at).ids[3]
    at.session_state[keys.GRID_SELECTED] = [job_id]
    at.run()
    assert at.selectbox(key=keys.D_STAGE).value is not None
    users = UserData(load_settings().db_path)

    at.selectbox(key=keys.D_STAGE).set_value("interviewing")
    at.run()
    assert users.get(job_id)["stage"] == "interviewing"
    at.checkbox(key=keys.D_STARRED).set_value(not at.checkbox(key=keys.D_STARRED).value)
    at.run()
    starred = users.get(job_id)["starred"]
    at.text_area(key=keys.D_NOTES).set_value("Call Dana <b>not html</b>")
    at.run()
    assert users.get(job_id)["notes"] == "Call Dana <b>not html</b>"
    at.date_input(key=keys.D_FOLLOW_UP).set_value(date(2030, 1, 2))
    at.run()
    assert users.get(job_id)["follow_up_on"] == date(2030, 1, 2)
    assert not at.exception
    # The grid shows the new values on the same run (user revision is part of the cache key).
    payload = grid_payload(at)
    row = payload.ids.index(job_id)
    assert payload.column("stage")[row] == "interviewing"
    assert payload.column("starred")[row] == starred
    assert [h["to_stage"] for h in users.history(job_id)][-1] == "interviewing"


def test_bulk_star_stage_and_hide(demo_env: AppEnv) -> None:
    at = demo_env.app()
    ids = grid_payload(at).ids[10:13]
    at.session_state[keys.GRID_SELECTED] = ids
    at.run()
    users = UserData(load_settings().db_path)
    at.button(key=keys.BULK_STAR).click()
    at.run()
    assert all(users.get(j)["starred"] for j in ids)
    at.selectbox(key=keys.BULK_STAGE).set_value("saved")
    at.button(key=keys.BULK_STAGE_APPLY).click()
    at.run()
    assert all(users.get(j)["stage"] == "saved" for j in ids)
    at.button(key=keys.BULK_HIDE).click()
    at.run()
    assert all(users.get(j)["hidden"] for j in ids)
    assert not set(ids) & set(grid_payload(at).ids)  # hidden jobs leave the default view


def test_saved_view_round_trip(demo_env: AppEnv) -> None:
    at = demo_env.app()
    _set(at, keys.F_TEXT, "analyst")
    _set(at, keys.F_WORKPLACE, ["hybrid"])
    at.run()
    narrowed = match_count(at)
    at.text_input(key=keys.VIEW_NAME).set_value("hybrid analysts")
    at.button(key=keys.VIEW_SAVE).click()
    at.run()
    assert "hybrid analysts" in UserData(load_settings().db_path).views()
    at.button(key=keys.F_RESET).click()
    at.run()
    assert match_count(at) > narrowed
    at.selectbox(key=keys.VIEW_PICK).set_value("hybrid analysts")
    at.button(key=keys.VIEW_LOAD).click()
    at.run()
    assert at.text_input(key=keys.F_TEXT).value == "analyst"
    assert match_count(at) == narrowed


def test_csv_export_of_the_filtered_set(demo_env: AppEnv) -> None:
    at = demo_env.app()
    _set(at, keys.F_TEXT, "designer")
    at.run()
    expected = match_count(at)
    at.button(key=keys.EXPORT_PREPARE).click()
    at.run()
    assert not at.exception
    lines = at.session_state[keys.EXPORT_FILE]["data"].decode("utf-8").splitlines()
    assert len(lines) == expected + 1  # header + every filtered row, not just the page
    assert not list(Path(tempfile.gettempdir()).glob("jobdash-export-*.csv")), "no temp file left behind"
    assert at.session_state[keys.EXPORT_FILE]["rows"] == expected


def test_first_page_precomputed_next_page_prefetched_and_edits_never_stale(demo_env: AppEnv) -> None:
    from core.instrumentation import metrics

    cat = _catalog(demo_env)  # loading the snapshot computed the default view's first page
    queries = len(metrics.REGISTRY.queries(kind="page"))
    first = cat.page(JobFilter())
    assert len(metrics.REGISTRY.queries(kind="page")) == queries  # answered without a query
    thread = cat.prefetch(JobFilter(), Sort(), first.last_key, "next", 100)
    assert thread is not None
    thread.join(30)
    queries = len(metrics.REGISTRY.queries(kind="page"))
    second = cat.page(JobFilter(), Sort(), first.last_key, "next", 100)
    assert len(metrics.REGISTRY.queries(kind="page")) == queries
    assert second.rows.num_rows == 100 and not set(first.rows.column("job_id").to_pylist()) & set(
        second.rows.column("job_id").to_pylist()
    )
    assert cat.prefetch(JobFilter(), Sort(), first.last_key, "next", 100) is None  # already kept
    job_id = first.rows.column("job_id")[0].as_py()
    starred = bool(first.rows.column("starred")[0].as_py())
    cat.set_user(job_id, starred=not starred)  # a new user-data revision: the kept page is not reused
    again = cat.page(JobFilter())
    assert bool(again.rows.column("starred")[0].as_py()) is (not starred)
    assert len(metrics.REGISTRY.queries(kind="page")) == queries + 1


def test_jobs_run_is_timed_per_block(demo_env: AppEnv) -> None:
    from core.instrumentation import metrics

    metrics.REGISTRY.reset()
    demo_env.app()
    blocks = {b for (page, b) in metrics.REGISTRY.blocks() if page == "Jobs"}
    assert {"state", "query", "payload", "grid", "pager", "detail", "export"} <= blocks


def test_best_match_sorts_by_relevance_and_the_detail_marks_the_matched_words(demo_env: AppEnv) -> None:
    at = demo_env.app()
    assert at.checkbox(key=keys.F_BEST_MATCH).disabled, "offered only with a description search"
    _set(at, keys.F_DESC, "kubernetes python")
    at.run()
    by_date = grid_payload(at).ids
    at.checkbox(key=keys.F_BEST_MATCH).check()
    at.run()
    assert not at.exception
    ranked = grid_payload(at).ids
    cat = _catalog(demo_env)
    try:
        flt = JobFilter(desc="kubernetes python")
        want = [str(r["job_id"]) for r in cat.rows(flt, Sort("relevance"), len(ranked))]
        assert ranked == want and ranked != by_date
        assert match_count(at) == cat.count(flt)
        at.session_state[keys.GRID_SELECTED] = [ranked[0]]
        at.run()
        matched = [t.value for t in at.text if t.value.startswith("Matched: ")]
        assert len(matched) == 1 and "«" in matched[0], [t.value for t in at.text]
        marked = {w.lower() for w in re.findall(r"«([^»]+)»", matched[0])}
        assert marked and marked <= {"kubernetes", "python"}, marked
        assert not at.markdown or all("«" not in md.value for md in at.markdown), "plain text only"
    finally:
        cat.close()
