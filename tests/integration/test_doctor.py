"""`python -m core doctor [--repair] [--json]` as a real process: each damage found, repaired, then healthy."""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from core import snapshots
from core.runs import RunLog
from core.settings import Settings
from core.sync import run_sync
from tests.conftest import job, static
from tests.integration.test_damaged_folder import cli

T0 = datetime(2026, 11, 1, 9)


@pytest.fixture
def folder(settings: Settings) -> Settings:
    for h in range(2):
        rows = [job(f"j{i}", description=f"Posting {i} kafka") for i in range(30 + h)]
        run_sync(settings, now=T0 + timedelta(hours=h), sources=[static("A", rows)])
    users = RunLog(settings.db_path)
    users.close()
    return settings


def doctor(s: Settings, *args: str) -> tuple[int, dict[str, object]]:
    proc = cli(s.data_dir, "doctor", "--json", *args)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def test_a_healthy_folder_exits_0_and_says_what_it_checked(folder: Settings) -> None:
    code, doc = doctor(folder)
    assert code == 0 and doc["healthy"] is True
    checked = doc["checked"]
    assert isinstance(checked, dict)
    assert checked["index_documents"] == checked["catalog_descriptions"] == 31
    plain = cli(folder.data_dir, "doctor")
    assert plain.returncode == 0 and plain.stdout.startswith("healthy:")


def _truncate(p: Path) -> None:
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


def _garble_index(s: Settings) -> None:
    p = s.search_path
    for suffix in ("-wal", "-shm"):
        p.with_name(p.name + suffix).unlink(missing_ok=True)
    p.write_bytes(os.urandom(4096))


DAMAGES = {
    "truncated current": lambda s: _truncate(s.snapshots_dir / snapshots.jobs_name(2)),
    "garbage pointer": lambda s: (s.snapshots_dir / "CURRENT").write_text("{{{", encoding="utf-8"),
    "orphan and temp": lambda s: (
        shutil.copy(s.snapshots_dir / snapshots.jobs_name(2), s.snapshots_dir / snapshots.jobs_name(3)),
        (s.snapshots_dir / ".jobs-000004.parquet.tmp").write_bytes(b"PAR1"),
    ),
    "truncated segment": lambda s: _truncate(s.snapshots_dir / snapshots.desc_name(1)),
    "garbled index": _garble_index,
    "index missing": lambda s: s.search_path.unlink(),
    "stuck run": lambda s: _stuck_run(s),
}


def _stuck_run(s: Settings) -> None:
    log = RunLog(s.db_path)
    try:
        rid = log.start("cli")
        log.conn.execute("UPDATE runs SET pid = 999999999 WHERE id = ?", [rid])
    finally:
        log.close()


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_doctor_finds_each_damage_and_repair_heals_it(folder: Settings, damage: str) -> None:
    DAMAGES[damage](folder)
    code, doc = doctor(folder)
    assert code == 1 and doc["healthy"] is False, doc
    findings = doc["findings"]
    assert isinstance(findings, list) and findings and all(f["problem"] for f in findings)
    code, doc = doctor(folder, "--repair")
    assert code == 0, doc
    assert doctor(folder)[0] == 0, "healthy afterwards"
    listed = cli(folder.data_dir, "jobs", "list", "--json", "--desc", "kafka", "--limit", "500")
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)) >= 30, "description search answers from the repaired index"


def test_a_damaged_jobdash_sqlite_is_reported_never_rewritten(folder: Settings) -> None:
    p = folder.db_path
    for suffix in ("-wal", "-shm"):
        p.with_name(p.name + suffix).unlink(missing_ok=True)
    garbage = b"not a database " * 1000
    p.write_bytes(garbage)
    code, doc = doctor(folder, "--repair")
    assert code == 1
    assert any("jobdash.sqlite" in str(f["problem"]) for f in doc["findings"])  # type: ignore[union-attr]
    assert p.read_bytes() == garbage, "user data is never touched"


def test_doctor_could_not_run_is_exit_2(folder: Settings) -> None:
    from core import lock

    with lock.sync_lock(folder.lock_path, "test"):
        proc = cli(folder.data_dir, "doctor", "--repair")
    assert proc.returncode in (2, 3) and "a sync is already running" in proc.stderr


def test_the_sync_page_shows_the_same_health(folder: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import APP, _clear_caches

    monkeypatch.setenv("JOBDASH_DATA_DIR", str(folder.data_dir))
    try:
        at = AppTest.from_file(APP, default_timeout=60)
        at.switch_page("pages/sync.py")
        at.run()
        assert not at.exception
        assert any(s.value.startswith("Data folder healthy") for s in at.success), [s.value for s in at.success]
        _truncate(folder.snapshots_dir / snapshots.desc_name(1))
        _clear_caches()
        at = AppTest.from_file(APP, default_timeout=60)
        at.switch_page("pages/sync.py")
        at.run()
        assert not at.exception
        assert any("problem(s) in the data folder" in w.value for w in at.warning), [w.value for w in at.warning]
        assert any(snapshots.desc_name(1) in t.value for t in at.text)
    finally:
        _clear_caches()
