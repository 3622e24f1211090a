"""Catch high: with a broken search index, a locked or a corrupt jobdash.sqlite / search.sqlite, the Jobs page
shows the StorageError's message in the affected block (never a traceback, never a "0 jobs match"), the
rest of the page still renders and the Sync page still works."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import db
from tests.app.conftest import APP, TIMEOUT, AppEnv, grid_payload, match_count
from ui import keys

pytestmark = pytest.mark.xdist_group("app")


@pytest.fixture(autouse=True)
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "BUSY_TIMEOUT_S", 0.2)  # the app runs in this process: a lock fails fast


@pytest.fixture
def held() -> Iterator[list[sqlite3.Connection]]:
    conns: list[sqlite3.Connection] = []
    yield conns
    for conn in conns:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.close()


def lock(path: Path, conns: list[sqlite3.Connection], *, readers_too: bool) -> None:
    """Another program takes the file: BEGIN EXCLUSIVE (in WAL that stops writers); in exclusive locking mode
    with a write, readers are shut out too."""
    conn = sqlite3.connect(path, isolation_level=None)
    conns.append(conn)
    if readers_too:
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
    conn.execute("BEGIN EXCLUSIVE")
    if readers_too:
        conn.execute("CREATE TABLE IF NOT EXISTS _held (x)")


def garbage(path: Path) -> None:
    rng = random.Random(11)
    path.write_bytes(bytes(rng.randrange(256) for _ in range(path.stat().st_size)))


def run(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    return at


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def no_traceback(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def has_no_count(at: AppTest) -> None:
    with pytest.raises(AssertionError, match="no 'jobs match' line"):
        match_count(at)


def sync_page_renders() -> None:
    at = run("pages/sync.py")
    no_traceback(at)
    assert any(h.value == "Runs" for h in at.subheader)
    assert at.button(key=keys.SYNC_NOW) is not None


def test_a_garbled_index_shows_an_error_where_the_grid_would_be(demo_env: AppEnv) -> None:
    at = run()
    no_traceback(at)
    at.text_input(key=keys.F_DESC).set_value("python")
    at.run()
    assert match_count(at) > 0
    # the app's index is open right now: another process leaves tantivy's meta.json garbage and bumps the
    # generation, as its commit would, so the app's reader reloads from it
    (demo_env.data_dir / "search.tantivy" / "meta.json").write_text("{not json", encoding="utf-8")
    with sqlite3.connect(demo_env.data_dir / "search.sqlite") as other:
        other.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
    at.text_input(key=keys.F_DESC).set_value("kubernetes")
    at.run()
    no_traceback(at)
    # "cannot be read" on the open index, or "cannot be opened" on a new one
    assert any(m.startswith("search.tantivy: ") and "damaged" in m for m in errors(at)), errors(at)
    has_no_count(at)  # an error, not "0 jobs match"
    assert at.text_input(key=keys.F_TEXT) is not None, "the sidebar filters still render"
    assert not at.sidebar.error, "the sidebar itself is fine"
    at.text_input(key=keys.F_DESC).set_value("")
    at.run()
    no_traceback(at)
    assert match_count(at) > 0 and grid_payload(at).ids, "without a description search the grid is back"
    sync_page_renders()


def test_a_corrupt_search_index(demo_env: AppEnv) -> None:
    garbage(demo_env.data_dir / "search.sqlite")
    at = run()
    no_traceback(at)
    assert match_count(at) > 0, "the catalog does not need the index"
    at.text_input(key=keys.F_DESC).set_value("python")
    at.run()
    no_traceback(at)
    assert any(m.startswith("search.sqlite: file is not a database") for m in errors(at)), errors(at)
    assert any("python -m core sync" in m for m in errors(at))
    has_no_count(at)
    sync_page_renders()


def test_a_corrupt_user_database(demo_env: AppEnv) -> None:
    garbage(demo_env.data_dir / "jobdash.sqlite")
    at = run()
    no_traceback(at)
    msgs = errors(at)
    assert msgs and all(m.startswith("jobdash.sqlite: file is not a database") for m in msgs), msgs
    assert at.sidebar.error, "the sidebar says it too"
    has_no_count(at)
    sync_page_renders()


def test_a_locked_user_database(demo_env: AppEnv, held: list[sqlite3.Connection]) -> None:
    lock(demo_env.data_dir / "jobdash.sqlite", held, readers_too=True)
    at = run()
    no_traceback(at)
    msgs = errors(at)
    assert msgs and all(m.startswith("jobdash.sqlite: database is locked") for m in msgs), msgs
    has_no_count(at)
    sync_page_renders()


def test_an_edit_while_another_process_writes_says_so(demo_env: AppEnv, held: list[sqlite3.Connection]) -> None:
    at = run()
    job_id = grid_payload(at).ids[2]
    at.session_state[keys.GRID_SELECTED] = [job_id]
    at.run()
    starred = at.checkbox(key=keys.D_STARRED).value
    lock(demo_env.data_dir / "jobdash.sqlite", held, readers_too=False)
    at.checkbox(key=keys.D_STARRED).set_value(not starred)
    at.run()
    no_traceback(at)
    assert any(m.startswith("jobdash.sqlite: database is locked") for m in errors(at)), errors(at)
    assert match_count(at) > 0, "reads go on (WAL): the grid is still there"


def test_a_damaged_current_snapshot_is_said_in_the_sidebar(demo_env: AppEnv) -> None:
    from core import snapshots
    from core.settings import load_settings

    d = load_settings().snapshots_dir
    snap = snapshots.current(d)
    assert snap is not None
    broken = snap.version + 1
    (d / snapshots.jobs_name(broken)).write_bytes(b"not parquet")
    snapshots.publish(d, broken, 10, "2026-12-01T00:00:00", demo=False)
    at = run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("doctor --repair" in w.value for w in at.sidebar.warning), [w.value for w in at.sidebar.warning]
    assert match_count(at) > 0  # the older valid snapshot is shown
