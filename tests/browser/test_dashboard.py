"""The dashboard in headless Chromium: grid rows, header sort and filter, sidebar search, edits that survive
a reload, the Analytics charts, and "Sync now" with progress and the new-jobs notice."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest

from core.userdata import UserData
from tests.browser.conftest import GRID_FRAME, Server, shot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
ROWS_JS = """rows => rows.map(r => [Number(r.getAttribute('row-index')),
  Object.fromEntries([...r.querySelectorAll('[col-id]')].map(c => [c.getAttribute('col-id'), c.innerText]))])"""


def grid(pg: Any) -> Any:
    return pg.frame_locator(GRID_FRAME)


def visible_rows(pg: Any) -> list[dict[str, str]]:
    """The rendered rows in row order (the DOM order of a virtualized grid is not the row order)."""
    rows = grid(pg).locator(".ag-center-cols-container .ag-row").evaluate_all(ROWS_JS)
    return [cells for _i, cells in sorted(rows, key=lambda r: r[0])]


def header_filter(pg: Any, col_id: str) -> Any:
    """The floating filter input under a column's header (matched by the header's aria-colindex)."""
    index = grid(pg).locator(f".ag-header-cell[col-id='{col_id}']").first.get_attribute("aria-colindex")
    return grid(pg).locator(f".ag-floating-filter[aria-colindex='{index}'] input").first


def match_count(pg: Any) -> int:
    text = pg.get_by_text("jobs match").first.inner_text()
    m = re.search(r"([\d,]+)\s*jobs match", text)
    assert m, text
    return int(m.group(1).replace(",", ""))


def wait_until(predicate: Any, timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception:  # noqa: BLE001 - the page is mid-rerun; try again
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def open_jobs(pg: Any, server: Server) -> None:
    pg.goto(server.url)
    grid(pg).locator(".ag-row").first.wait_for()
    wait_until(lambda: match_count(pg) > 0, what="the match count")


def test_grid_shows_rows_and_sorts_by_header(page: Any, server: Server) -> None:
    open_jobs(page, server)
    rows = visible_rows(page)
    assert len(rows) >= 5 and all(r.get("title") for r in rows)
    shot(page, "jobs")
    total = match_count(page)
    grid(page).locator(".ag-header-cell[col-id='title'] .ag-header-cell-label").click()

    def sorted_titles() -> list[str] | None:
        titles = [r["title"] for r in visible_rows(page)]
        return titles if titles == sorted(titles) and titles != [r["title"] for r in rows] else None

    titles = wait_until(sorted_titles, what="rows sorted by title")
    assert len(titles) >= 5
    assert match_count(page) == total  # sorting changes the order, not the set


def _script_runs(server: Server, since: float) -> list[str]:
    if not server.script_log.exists():
        return []
    runs = [json.loads(line) for line in server.script_log.read_text(encoding="utf-8").splitlines() if line]
    return [r["page"] for r in runs if r["t"] >= since]


def test_grid_events_rerun_only_the_grid_fragment(page: Any, server: Server) -> None:
    open_jobs(page, server)
    page.wait_for_timeout(500)  # trailing runs of the load
    since = time.time()
    first = visible_rows(page)[0]["title"]
    grid(page).locator(".ag-header-cell[col-id='title'] .ag-header-cell-label").click()
    wait_until(lambda: visible_rows(page)[0]["title"] != first, what="rows sorted by title")
    page.get_by_role("button", name=re.compile("Next")).click()
    wait_until(lambda: "page 2" in page.get_by_text("jobs match").first.inner_text(), what="page 2")
    runs = wait_until(lambda: _script_runs(server, since), what="the runs in the script log")
    assert runs and set(runs) == {"Jobs (fragment)"}, runs  # no full page run: sidebar and facets untouched


def test_header_filter_round_trips(page: Any, server: Server) -> None:
    open_jobs(page, server)
    before = match_count(page)
    needle = visible_rows(page)[0]["company"].split()[0].lower()
    header_filter(page, "company").fill(needle)
    wait_until(lambda: match_count(page) < before, what="the header filter to narrow the count")
    companies = wait_until(
        lambda: (
            [r["company"] for r in visible_rows(page)]
            if all(needle in r["company"].lower() for r in visible_rows(page))
            else None
        ),
        what="only matching companies",
    )
    assert companies
    shot(page, "jobs_header_filter")


def test_header_filter_enter_applies_and_clears(page: Any, server: Server) -> None:
    """Enter hands the typed text to the column filter at once (ui.grid.APPLY_ON_ENTER): the rows narrow, the
    box keeps the text, and Enter on an emptied box brings every row back."""
    open_jobs(page, server)
    before = match_count(page)
    needle = visible_rows(page)[0]["company"].split()[0].lower()
    box = header_filter(page, "company")
    box.fill(needle)
    box.press("Enter")
    wait_until(lambda: match_count(page) < before, what="Enter to narrow the count")
    assert box.input_value() == needle
    wait_until(
        lambda: all(needle in r["company"].lower() for r in visible_rows(page)) and visible_rows(page),
        what="only matching companies",
    )
    box.fill("")
    box.press("Enter")
    wait_until(lambda: match_count(page) == before, what="an empty filter to bring every row back")


def test_sidebar_search_narrows_the_rows(page: Any, server: Server) -> None:
    open_jobs(page, server)
    before = match_count(page)
    search = page.get_by_label("Search title or company")
    search.fill("engineer")
    search.press("Enter")
    wait_until(lambda: match_count(page) < before, what="the search to narrow the count")
    rows = wait_until(
        lambda: (
            visible_rows(page)
            if all("engineer" in (r["title"] + r["company"]).lower() for r in visible_rows(page))
            else None
        ),
        what="only matching rows",
    )
    assert rows


def _pick(page: Any, label: str, option: str) -> None:
    page.get_by_role("combobox", name=label, exact=True).click()  # a Streamlit selectbox opens a listbox of options
    page.get_by_role("option", name=option, exact=True).click()


def test_star_and_stage_survive_a_reload(page: Any, server: Server) -> None:
    open_jobs(page, server)
    first = visible_rows(page)[0]
    grid(page).locator(".ag-center-cols-container .ag-row[row-index='0'] [col-id='title']").click()
    page.get_by_text("Open posting").wait_for()
    page.get_by_text("★ Starred").click()
    wait_until(lambda: visible_rows(page)[0]["starred"] == "★", what="the star in the grid")
    _pick(page, "My stage", "applied")
    wait_until(lambda: visible_rows(page)[0]["stage"] == "applied", what="the stage in the grid")
    shot(page, "jobs_detail")

    page.reload()
    grid(page).locator(".ag-row").first.wait_for()
    row = wait_until(lambda: visible_rows(page)[0], what="rows after the reload")
    assert row["title"] == first["title"]
    assert row["starred"] == "★" and row["stage"] == "applied"
    users = UserData(server.data_dir / "jobdash.sqlite")
    assert any(h["to_stage"] == "applied" for jid in users.ids_with_data() for h in users.history(jid))


def test_analytics_charts_render(page: Any, server: Server) -> None:
    page.goto(server.url + "analytics")
    page.get_by_text("Application funnel").first.wait_for()
    wait_until(lambda: page.locator(".js-plotly-plot").count() >= 5, what="five plotly charts")
    assert page.locator(".js-plotly-plot .main-svg").count() >= 5
    shot(page, "analytics")


def test_sync_now_shows_progress_and_the_new_jobs_notice(page: Any, server: Server) -> None:
    page.goto(server.url + "sync")  # a page URL loads inside app.py: shared sidebar, labeled demo data
    page.get_by_text("demo data — add sources in jobdash.toml").wait_for()
    page.get_by_role("button", name="Sync now").click()
    page.get_by_text(re.compile(r"Run #\d+:|Waiting for the sync")).first.wait_for(timeout=15_000)
    shot(page, "sync_progress")
    notice = page.get_by_text(re.compile(r"[\d,]+ new jobs — refresh"))
    notice.wait_for(timeout=90_000)
    n = int(re.search(r"([\d,]+) new jobs", notice.inner_text()).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert n > 0
    shot(page, "sync_done")
    page.get_by_role("button", name="Refresh").click()
    page.get_by_text(re.compile(r"Catalog v2")).wait_for()
