"""Analytics answers to the sidebar filters; Sync now runs a sync with progress; the live notice sees a new
snapshot; caching counts hits and misses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import db
from core.catalog import Catalog
from core.instrumentation import metrics
from core.query import JobFilter
from core.runs import RunLog
from core.settings import load_settings
from core.sync import run_sync
from core.userdata import UserData
from tests.app.conftest import AppEnv
from ui import keys

pytestmark = pytest.mark.xdist_group("app")
SMALL_DEMO_TOML = '[[sources]]\nkind = "demo"\nname = "demo"\njobs = 300\n'


def _figure(at: AppTest, title: str) -> dict:  # type: ignore[type-arg]
    for chart in at.get("plotly_chart"):
        fig = json.loads(chart.proto.spec)
        if fig["layout"].get("title", {}).get("text", "").startswith(title):
            return fig  # type: ignore[no-any-return]
    raise AssertionError(f"no chart titled {title!r}")


def test_analytics_follows_the_sidebar_filters_and_the_funnel_uses_user_data(demo_env: AppEnv) -> None:
    at = demo_env.app("pages/analytics.py")
    sources_all = _figure(at, "Jobs by source")["data"][0]
    funnel_all = _figure(at, "Application funnel")["data"][0]["x"]
    assert funnel_all[0] > funnel_all[2] > 0  # inbox > applied (the fixture has user data)

    at.multiselect(key=keys.F_WORKPLACE).set_value(["remote"])
    at.run()
    assert not at.exception
    sources_remote = _figure(at, "Jobs by source")["data"][0]
    assert sum(sources_remote["y"]) < sum(sources_all["y"])
    assert _figure(at, "Application funnel")["data"][0]["x"][0] < funnel_all[0]
    remote = _figure(at, "Remote share")["data"][0]["y"]
    assert remote and all(v == 1.0 for v in remote)  # only remote jobs left

    # An edit shows in the funnel at once (the user revision is part of every cache key).
    at.multiselect(key=keys.F_WORKPLACE).set_value([])
    at.run()
    users = UserData(load_settings().db_path)
    inbox = Catalog(load_settings()).rows(JobFilter(stages=("inbox",)), limit=50)
    job_id = next(r["job_id"] for r in inbox if users.get(r["job_id"]) is None)
    users.set(job_id, stage="offer")
    at.run()
    after = _figure(at, "Application funnel")["data"][0]["x"]
    assert after[4] == funnel_all[4] + 1  # offer
    assert after[2] == funnel_all[2] + 1  # reaching offer implies applied


def test_sync_now_runs_a_sync_and_the_history_shows_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.app.conftest import APP, _clear_caches

    (tmp_path / "jobdash.toml").write_text(SMALL_DEMO_TOML, encoding="utf-8")
    monkeypatch.setenv("JOBDASH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("JOBDASH_CONFIG", str(tmp_path / "jobdash.toml"))
    try:
        at = AppTest.from_file(APP, default_timeout=60)
        at.switch_page("pages/sync.py")
        at.run()
        assert any("Scheduler not running" in w.value for w in at.warning)
        at.button(key=keys.SYNC_NOW).click()
        at.run()
        assert not at.exception
        assert at.session_state[keys.SYNC_STARTED]["how"] == "started"
        log = RunLog(load_settings().db_path)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            runs = log.recent(1)
            if runs and runs[0]["status"] not in ("running",):
                break
            time.sleep(0.2)
        log.close()
        assert runs and runs[0]["status"] == "ok", runs
        at.run()
        table = at.dataframe[0].value
        assert int(table["run"].iloc[0]) == runs[0]["id"]
        assert table["new"].iloc[0] == runs[0]["counts"]["new"] > 0
        health = at.dataframe[1].value
        assert health["last status"].iloc[0] == "ok"
    finally:
        _clear_caches()


def test_sync_page_says_when_the_scheduler_was_restarted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from core import control
    from tests.app.conftest import APP, _clear_caches

    (tmp_path / "jobdash.toml").write_text(SMALL_DEMO_TOML, encoding="utf-8")
    monkeypatch.setenv("JOBDASH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("JOBDASH_CONFIG", str(tmp_path / "jobdash.toml"))
    settings = load_settings()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid that no longer runs: a scheduler that died without clearing its heartbeat
    with db.opened(settings.db_path) as conn:
        conn.execute(
            "INSERT INTO heartbeat (name, pid, beat_at) VALUES ('scheduler', ?, '2026-01-01T00:00:00')", [dead.pid]
        )
    restart = control.note_start(settings)  # what the new scheduler does as it starts (this process plays it)
    assert restart is not None and restart.dead_pid == dead.pid
    assert control.note_start(settings) is None, "noted once"
    control.beat(settings, None)
    try:
        at = AppTest.from_file(APP, default_timeout=60)
        at.switch_page("pages/sync.py")
        at.run()
        assert not at.exception
        assert any("Scheduler alive" in s.value for s in at.success)
        notice = [i.value for i in at.info if "stopped unexpectedly" in i.value]
        assert notice and f"pid {dead.pid}" in notice[0] and f"pid {os.getpid()}" in notice[0]
    finally:
        control.clear_beat(settings)
        _clear_caches()


LIVE_SCRIPT = """
import streamlit as st
from ui import live
st.session_state.setdefault("live_seen", SEEN)
live.notice()
"""


def test_live_notice_counts_the_new_jobs_of_a_fresh_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.app.conftest import _clear_caches

    (tmp_path / "jobdash.toml").write_text(SMALL_DEMO_TOML, encoding="utf-8")
    monkeypatch.setenv("JOBDASH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("JOBDASH_CONFIG", str(tmp_path / "jobdash.toml"))
    settings = load_settings()
    first = run_sync(settings, trigger="test")
    from core import snapshots

    seen = {"stat": snapshots.pointer_stat(settings.snapshots_dir), "version": first.version, "rows": 300}
    try:
        at = AppTest.from_string(LIVE_SCRIPT.replace("SEEN", repr(seen)), default_timeout=30)
        at.run()
        assert not at.info  # nothing new yet
        bigger = settings.__class__(**{**settings.__dict__, "sources": (settings.sources[0].__class__(
            "demo", "demo", options={"jobs": 340}),)})  # fmt: skip
        second = run_sync(bigger, trigger="test")
        assert second.version != first.version
        at.run()
        notices = [i.value for i in at.info]
        assert notices and f"{second.counts['new']:,} new jobs" in notices[0], notices
        assert at.button(key=keys.LIVE_REFRESH)
    finally:
        _clear_caches()


def test_cached_queries_count_hits_and_misses(demo_env: AppEnv) -> None:
    metrics.REGISTRY.reset()
    at = demo_env.app()
    first = metrics.REGISTRY.cache_total()
    at.run()  # same filters, same snapshot: the page query is a hit
    jobs = metrics.REGISTRY.cache().get("jobs")
    assert first.lookups > 0
    assert jobs is not None and jobs.hits >= 1 and jobs.misses >= 1
    assert metrics.REGISTRY.scripts().get("Jobs") is not None


def test_sync_page_shows_each_sources_warnings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.sync import run_sync
    from tests.app.conftest import APP, _clear_caches

    (tmp_path / "jobs.csv").write_text("id,title,company,min_amount\n1,Data Engineer,Acme,lots\n", encoding="utf-8")
    config = f'[[sources]]\nkind = "file"\nname = "files"\npath = "{tmp_path / "jobs.csv"}"\n'
    (tmp_path / "jobdash.toml").write_text(config, encoding="utf-8")
    monkeypatch.setenv("JOBDASH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("JOBDASH_CONFIG", str(tmp_path / "jobdash.toml"))
    try:
        assert run_sync(load_settings()).status == "ok"
        at = AppTest.from_file(APP, default_timeout=60)
        at.switch_page("pages/sync.py")
        at.run()
        assert not at.exception
        health = next(d.value for d in at.dataframe if "last warnings" in d.value.columns)
        assert "could not be converted" in health["last warnings"].iloc[0]  # the repaired salary, named
    finally:
        _clear_caches()
