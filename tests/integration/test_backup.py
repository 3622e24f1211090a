"""Backups of what cannot be re-fetched: a rotated JSON export after each run that changed user data, and an
import that merges (newer edits win, history deduplicated), through the real CLI."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta

from core import backup
from core.settings import Settings
from core.sync import run_sync
from core.userdata import UserData
from tests.conftest import job, static
from tests.integration.test_damaged_folder import cli

T0 = datetime(2026, 11, 1, 9)


def _sync(s: Settings, h: int) -> None:
    assert run_sync(s, now=T0 + timedelta(hours=h), sources=[static("A", [job("a1"), job("a2")])]).status == "ok"


def test_a_backup_follows_each_run_that_changed_user_data_and_rotates(settings: Settings) -> None:
    _sync(settings, 0)
    assert backup.backups(settings.data_dir) == [], "no user data yet: nothing to back up"
    users = UserData(settings.db_path)
    try:
        users.set("a1", starred=True, notes="call Ana")
        _sync(settings, 1)
        (first,) = backup.backups(settings.data_dir)
        doc = json.loads(first.read_text(encoding="utf-8"))
        assert doc["format"] == backup.FORMAT and doc["version"] == backup.FORMAT_VERSION
        assert [r[0] for r in doc["tables"]["user_jobs"]["rows"]] == ["a1"]
        _sync(settings, 2)
        assert len(backup.backups(settings.data_dir)) == 1, "unchanged user data: no new backup"
        for h in range(3, 16):
            users.set("a2", notes=f"edit {h}")
            _sync(settings, h)
    finally:
        users.close()
    files = backup.backups(settings.data_dir)
    assert len(files) == backup.KEEP
    newest = json.loads(files[-1].read_text(encoding="utf-8"))
    notes = {r[0]: r for r in newest["tables"]["user_jobs"]["rows"]}
    assert "edit 15" in notes["a2"]


def test_import_merges_never_overwrites_newer_edits_and_dedupes_history(settings: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    users = UserData(settings.db_path)
    try:
        users.set("a1", stage="applied", notes="old note", now=T0)
        users.set("a2", starred=True, now=T0)
    finally:
        users.close()
    out = tmp_path / "export.json"
    proc = cli(settings.data_dir, "userdata", "export", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["rows"]["user_jobs"] == 2

    # A second folder: a newer local edit of a1, nothing of a2.
    other = replace(settings, data_dir=tmp_path / "other")
    users = UserData(other.db_path)
    try:
        users.set("a1", notes="newer local note", now=T0 + timedelta(days=1))
    finally:
        users.close()
    for _ in range(2):  # importing twice changes nothing more
        proc = cli(other.data_dir, "userdata", "import", str(out), "--json")
        assert proc.returncode == 0, proc.stderr
    users = UserData(other.db_path)
    try:
        a1, a2 = users.get("a1"), users.get("a2")
        assert a1 is not None and a1["notes"] == "newer local note", "a newer local edit is never overwritten"
        assert a2 is not None and a2["starred"] is True, "what only the backup had is added"
        history = users.all_history().to_pylist()
        assert [(h["job_id"], h["to_stage"]) for h in history] == [("a1", "applied")], "history deduplicated"
    finally:
        users.close()


def test_a_bad_backup_file_is_one_line(settings: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something else"}', encoding="utf-8")
    proc = cli(settings.data_dir, "userdata", "import", str(bad))
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
    future = tmp_path / "future.json"
    future.write_text(json.dumps({"format": backup.FORMAT, "version": 99, "tables": {}}), encoding="utf-8")
    proc = cli(settings.data_dir, "userdata", "import", str(future))
    assert proc.returncode == 2 and "format version 99" in proc.stderr
