"""A watch in headless Chromium: the sidebar shows "<view> · N new"; clicking it shows only the unseen matches."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb
import pytest

from core import snapshots
from core.query import JobFilter, filter_to_json
from core.userdata import UserData
from core.watches import WatchStore
from tests.browser.conftest import Server, shot
from tests.browser.test_dashboard import match_count, open_jobs, visible_rows, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_open_a_watch_from_the_sidebar(page: Any, server: Server) -> None:
    db_path = server.data_dir / "jobdash.sqlite"
    snap = snapshots.current(server.data_dir / "snapshots")
    assert snap is not None
    picked = duckdb.sql(
        f"SELECT job_id, title FROM read_parquet('{snap.jobs_path}') WHERE delisted_at IS NULL ORDER BY job_id LIMIT 2"
    ).fetchall()
    users = UserData(db_path)
    users.save_view("Browser watch", filter_to_json(JobFilter()))
    users.close()
    store = WatchStore(db_path)
    w = store.add("Browser watch")
    store.record(w.id, [(j, "new") for j, _t in picked], run_id=1, at=datetime(2026, 11, 1))
    store.close()

    open_jobs(page, server)
    button = page.get_by_role("button", name="Browser watch · 2 new")
    button.wait_for()
    button.click()
    wait_until(lambda: match_count(page) == 2, what="the watch's 2 unseen matches")
    titles = sorted(r["title"] for r in visible_rows(page))
    assert titles == sorted(t for _j, t in picked)
    shot(page, "watch-open")
    page.get_by_role("button", name="Mark all seen").click()
    page.get_by_role("button", name="Browser watch · 0 new").wait_for()
    wait_until(lambda: match_count(page) > 2, what="the whole view again")
