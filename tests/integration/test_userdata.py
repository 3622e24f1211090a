"""UserData over a real SQLite file: history, applied_at, revision, validation, concurrent writers."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from core.errors import NotFound, QueryError
from core.settings import ROOT
from core.userdata import MAX_NOTES_BYTES, USER_FIELDS, UserData

T0 = datetime(2025, 3, 1, 9, 0, 0)


@pytest.fixture
def ud(tmp_path: Path) -> UserData:
    return UserData(tmp_path / "jobdash.sqlite")


def test_unknown_job_has_no_data_and_default_shape(ud: UserData) -> None:
    assert ud.get("nope") is None
    assert ud.revision() == 0
    assert ud.ids_with_data() == []
    assert ud.table().num_rows == 0


def test_set_returns_all_fields_and_persists(ud: UserData, tmp_path: Path) -> None:
    out = ud.set("j1", starred=True, notes="call Ana", follow_up_on=date(2025, 3, 10), now=T0)
    assert set(out) == {"job_id", *USER_FIELDS}
    assert out["starred"] is True and out["stage"] == "inbox" and out["notes"] == "call Ana"
    assert out["follow_up_on"] == date(2025, 3, 10)
    assert out["updated_at"] == T0 and out["applied_at"] is None
    # a second instance (another process would see the same) reads it back
    again = UserData(tmp_path / "jobdash.sqlite").get("j1")
    assert again == out


def test_none_leaves_fields_untouched_and_empty_string_clears_follow_up(ud: UserData) -> None:
    ud.set("j1", starred=True, notes="n", follow_up_on="2025-04-01", now=T0)
    out = ud.set("j1", hidden=True, now=T0 + timedelta(hours=1))
    assert out["starred"] is True and out["notes"] == "n" and out["follow_up_on"] == date(2025, 4, 1)
    assert out["hidden"] is True and out["updated_at"] == T0 + timedelta(hours=1)
    out = ud.set("j1", follow_up_on="", starred=False)
    assert out["follow_up_on"] is None and out["starred"] is False


def test_stage_changes_append_history_and_applied_at_is_set_once(ud: UserData) -> None:
    ud.set("j1", stage="saved", now=T0)
    ud.set("j1", stage="applied", now=T0 + timedelta(days=1))
    ud.set("j1", stage="applied", now=T0 + timedelta(days=2))  # same stage: no history row
    ud.set("j1", stage="interviewing", now=T0 + timedelta(days=3))
    ud.set("j1", stage="saved", now=T0 + timedelta(days=4))
    out = ud.set("j1", stage="applied", now=T0 + timedelta(days=5))
    assert out["applied_at"] == T0 + timedelta(days=1)
    hist = ud.history("j1")
    assert [(h["from_stage"], h["to_stage"]) for h in hist] == [
        ("inbox", "saved"),
        ("saved", "applied"),
        ("applied", "interviewing"),
        ("interviewing", "saved"),
        ("saved", "applied"),
    ]
    assert [h["at"] for h in hist] == [T0 + timedelta(days=d) for d in (0, 1, 3, 4, 5)]
    table = ud.all_history()
    assert table.schema.field("at").type == pa.timestamp("us")
    assert table.num_rows == 5 and set(table.column("job_id").to_pylist()) == {"j1"}


def test_skipping_applied_still_records_applied_at(ud: UserData) -> None:
    out = ud.set("j1", stage="interviewing", now=T0)
    assert out["applied_at"] == T0
    assert ud.set("j2", stage="rejected", now=T0)["applied_at"] is None


def test_revision_bumps_on_every_write_and_not_on_noop(ud: UserData) -> None:
    assert ud.revision() == 0
    ud.set("j1", starred=True)
    ud.set("j1", notes="x")
    assert ud.revision() == 2
    ud.set("j1")  # nothing to change
    assert ud.revision() == 2
    assert ud.set_bulk(["a", "b", "a"], stage="saved") == 2
    assert ud.revision() == 3  # one transaction, one bump
    assert {r["job_id"] for r in ud.table().to_pylist()} == {"j1", "a", "b"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"stage": "hired"}, "unknown stage 'hired'"),
        ({"stage": "Applied"}, "unknown stage"),
        ({"follow_up_on": "2025-02-30"}, "not a valid date"),
        ({"follow_up_on": "next week"}, "not a valid date"),
        ({"follow_up_on": 20250301}, "follow-up date"),
        ({"starred": "yes"}, "starred must be true or false"),
        ({"hidden": 1}, "hidden must be true or false"),
        ({"notes": "x" * (MAX_NOTES_BYTES + 1)}, "notes are too long"),
        ({"notes": 5}, "notes must be text"),
    ],
)
def test_validation_errors_write_nothing(ud: UserData, kwargs: dict[str, object], message: str) -> None:
    ud.set("j1", starred=True, stage="saved", now=T0)
    before = (ud.get("j1"), ud.history("j1"), ud.revision())
    # a valid field next to the bad one must not be written either
    with pytest.raises(QueryError, match=message):
        ud.set("j1", **({"hidden": True} if "hidden" not in kwargs else {"starred": False}), **kwargs)  # type: ignore[arg-type]
    with pytest.raises(QueryError, match=message):
        ud.set_bulk(["j1", "j2"], **kwargs)  # type: ignore[arg-type]
    assert (ud.get("j1"), ud.history("j1"), ud.revision()) == before
    assert ud.get("j2") is None


@pytest.mark.parametrize("job_id", ["", "   ", "a\x00b", "x" * 600, None])
def test_bad_job_ids_are_refused(ud: UserData, job_id: object) -> None:
    with pytest.raises(QueryError, match="job id"):
        ud.set(job_id, starred=True)  # type: ignore[arg-type]
    assert ud.revision() == 0


def test_notes_at_the_limit_and_unicode_are_kept(ud: UserData) -> None:
    notes = "é" * (MAX_NOTES_BYTES // 2)  # 2 bytes each: exactly at the limit
    assert ud.set("j1", notes=notes)["notes"] == notes
    assert ud.set("j1", notes="日本語 'quote' \"dq\" ; DROP TABLE user_jobs; --")["notes"].startswith("日本語")
    assert ud.get("j1") is not None


def test_ids_with_data_ignores_rows_back_at_defaults_without_history(ud: UserData) -> None:
    ud.set("starred", starred=True)
    ud.set("unstarred", starred=True)
    ud.set("unstarred", starred=False)
    ud.set("moved", stage="saved")
    ud.set("moved", stage="inbox")  # history remains: the user touched it
    assert ud.ids_with_data() == ["moved", "starred"]


def test_table_types(ud: UserData) -> None:
    ud.set("j1", stage="applied", follow_up_on=date(2025, 1, 2), now=T0)
    t = ud.table()
    assert t.schema.field("follow_up_on").type == pa.date32()
    assert t.schema.field("applied_at").type == pa.timestamp("us")
    assert t.schema.field("starred").type == pa.bool_()
    assert t.to_pylist()[0]["applied_at"] == T0


def test_timezone_aware_now_is_stored_as_utc(ud: UserData) -> None:
    from datetime import timezone

    aware = datetime(2025, 3, 1, 11, 0, tzinfo=timezone(timedelta(hours=2)))
    assert ud.set("j1", starred=True, now=aware)["updated_at"] == datetime(2025, 3, 1, 9, 0)


def test_saved_views_round_trip_and_errors(ud: UserData) -> None:
    flt = json.dumps({"text": "data", "stages": ["applied"]})
    ud.save_view("Applied data", flt)
    ud.save_view("another", "{}")
    ud.save_view("Applied data", json.dumps({"text": "ml"}))  # replace
    assert ud.views() == ["another", "Applied data"]
    assert json.loads(ud.view("Applied data")) == {"text": "ml"}
    with pytest.raises(QueryError, match="not valid JSON"):
        ud.save_view("bad", "{not json")
    with pytest.raises(QueryError, match="needs a name"):
        ud.save_view("  ", "{}")
    ud.delete_view("another")
    with pytest.raises(NotFound, match="another"):
        ud.view("another")
    with pytest.raises(NotFound):
        ud.delete_view("another")
    assert ud.views() == ["Applied data"]


def test_two_threads_writing_lose_nothing(ud: UserData) -> None:
    per_thread = 150
    errors: list[BaseException] = []

    def writer(tag: str) -> None:
        try:
            for i in range(per_thread):
                ud.set(f"{tag}-{i % 30}", notes=f"{tag}{i}", stage="saved" if (i // 30) % 2 else "applied")
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(t,)) for t in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert ud.revision() == 2 * per_thread
    # each job gets 5 writes alternating applied/saved: every write is a stage change
    assert ud.all_history().num_rows == 2 * per_thread
    assert len(ud.table()) == 60


def _process_writer(db_path: str, tag: str, n: int) -> None:
    ud = UserData(Path(db_path))
    for i in range(n):
        ud.set(f"shared-{i % 10}", starred=bool(i % 2), notes=f"{tag}{i}")
        ud.set(f"{tag}-{i}", stage="applied")


def test_two_processes_writing_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "jobdash.sqlite"
    UserData(path)  # create the schema before the race
    n = 60
    # Fresh interpreters, not multiprocessing: a spawned child re-runs the parent's __main__, which is app.py
    # in a worker that ran AppTest before.
    writer = "from tests.integration.test_userdata import _process_writer as w; w({!r}, {!r}, {})"
    procs = [
        subprocess.Popen([sys.executable, "-c", writer.format(str(path), tag, n)], cwd=ROOT, stderr=subprocess.PIPE)
        for tag in ("p", "q")
    ]
    errors = [p.communicate(timeout=120)[1].decode(errors="replace") for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    ud = UserData(path)
    assert ud.revision() == 2 * 2 * n
    hist = ud.all_history()
    assert hist.num_rows == 2 * n
    assert sorted(set(hist.column("to_stage").to_pylist())) == ["applied"]
    ids = {r["job_id"] for r in ud.table().to_pylist()}
    assert {f"p-{i}" for i in range(n)} <= ids and {f"q-{i}" for i in range(n)} <= ids
