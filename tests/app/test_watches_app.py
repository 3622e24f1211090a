"""AppTest: the sidebar lists each watch with its unseen count; opening one shows its unseen matches in the
grid; "Mark all seen" zeroes the count and shows the whole view again."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from core.query import JobFilter, filter_to_json
from core.userdata import UserData
from core.watches import WatchStore
from tests.app.conftest import AppEnv, grid_payload, match_count
from ui import keys

pytestmark = pytest.mark.xdist_group("app")


def _watch(env: AppEnv, name: str, flt: JobFilter, job_ids: list[str]) -> int:
    db_path = env.data_dir / "jobdash.sqlite"
    users = UserData(db_path)
    users.save_view(name, filter_to_json(flt))
    users.close()
    store = WatchStore(db_path)
    w = store.add(name)
    assert store.record(w.id, [(j, "new") for j in job_ids], run_id=1, at=datetime(2026, 11, 1)) == len(job_ids)
    store.close()
    return w.id


def test_sidebar_counts_open_and_mark_all_seen(demo_env: AppEnv) -> None:
    matched = demo_env.job_ids[:3]
    wid = _watch(demo_env, "Data engineer, Berlin", JobFilter(listing="both"), matched)
    _watch(demo_env, "Quiet one", JobFilter(text="nothing matches this"), [])
    at = demo_env.app("pages/jobs.py")
    open_button = at.button(key=keys.watch_key(keys.WATCH_OPEN, wid))
    assert open_button.label == "Data engineer, Berlin · 3 new"
    assert any(b.label == "Quiet one · 0 new" for b in at.sidebar.button)
    whole = match_count(at)
    assert whole > 3

    open_button.click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert sorted(grid_payload(at).ids) == sorted(matched) and match_count(at) == 3
    assert any("unseen matches" in c.value for c in at.sidebar.caption)

    at.button(key=keys.WATCH_SEEN).click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.button(key=keys.watch_key(keys.WATCH_OPEN, wid)).label == "Data engineer, Berlin · 0 new"
    # Back to the whole view (its own filters: open and closed jobs), no longer restricted to the matches.
    assert at.selectbox(key=keys.F_LISTING).value == "both" and match_count(at) >= whole > 3
    store = WatchStore(demo_env.data_dir / "jobdash.sqlite")
    assert store.unseen_counts() == {} and len(store.matches(wid)) == 3  # seen, still recorded
    store.close()


def test_watch_form_watches_a_saved_view(demo_env: AppEnv) -> None:
    users = UserData(demo_env.data_dir / "jobdash.sqlite")
    users.save_view("engineers", filter_to_json(JobFilter(text="engineer")))
    users.close()
    at = demo_env.app("pages/jobs.py")
    at.selectbox(key=keys.WATCH_VIEW).select("engineers")
    at.text_area(key=keys.WATCH_DESTS).input("json://127.0.0.1:9/hook")
    at.text_input(key=keys.WATCH_QUIET).input("bad")
    submit = next(b for b in at.button if b.label == "Save watch")
    submit.click().run()
    assert any("quiet_hours" in c.value for c in at.sidebar.caption)  # the bad value is named
    at.text_input(key=keys.WATCH_QUIET).input("22:00-07:00")
    next(b for b in at.button if b.label == "Save watch").click().run()
    assert not at.exception
    (w,) = WatchStore(demo_env.data_dir / "jobdash.sqlite").all()
    assert (w.view, w.quiet_hours, w.destinations) == ("engineers", "22:00-07:00", ("json://127.0.0.1:9/hook",))
    assert any(b.label == "engineers · 0 new" for b in at.sidebar.button)


def test_analytics_charts_matches_per_watch_per_week(demo_env: AppEnv) -> None:
    _watch(demo_env, "Weekly", JobFilter(), demo_env.job_ids[:4])
    at = demo_env.app("pages/analytics.py")
    assert any(h.value == "Watches" for h in at.subheader)
    (chart,) = [c for c in at.get("plotly_chart") if "Watch matches per week" in c.proto.spec]
    spec = json.loads(chart.proto.spec)
    assert spec["data"][0]["name"] == "Weekly" and sum(spec["data"][0]["y"]) == 4
