"""`python -m core jobs`: list / show / set / export end to end on a real snapshot, SQLite and FTS5 index.

Most cases call ``core.cli.jobs.run`` in-process (fast); the end-to-end ones run the real command in a
subprocess with JOBDASH_DATA_DIR pointing at a temp folder.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core import query, schema, snapshots
from core.cli import jobs as cli_jobs
from core.search import DescriptionIndex
from core.settings import ROOT, Settings
from core.userdata import USER_FIELDS, UserData
from tests.catalog_fixture import Built, build, settings_for

ROWS = 400


def _index_descriptions(built: Built) -> None:
    """What the sync does for new jobs: put title, company and description into the FTS5 index."""
    d = built.settings.snapshots_dir
    jobs = pq.read_table(built.snapshot.jobs_path, columns=["job_id", "title", "company"])
    desc = pq.read_table(d / snapshots.desc_name(built.snapshot.version), columns=["job_id", "description"])
    texts = dict(zip(desc.column("job_id").to_pylist(), desc.column("description").to_pylist(), strict=True))
    rows = jobs.append_column("description", pa.array([texts[j] for j in jobs.column("job_id").to_pylist()]))
    with DescriptionIndex(built.settings.search_path) as index:  # closed: the template is copied per test
        index.update(rows)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Built:
    b = build(tmp_path_factory.mktemp("template") / "data", ROWS)
    _index_descriptions(b)
    return b


@pytest.fixture
def built(template: Built, tmp_path: Path) -> Built:
    """A private copy of the module's catalog: tests that write user data cannot see each other."""
    data = tmp_path / "data"
    shutil.copytree(template.settings.data_dir, data)
    s = settings_for(data)
    snap = snapshots.current(s.snapshots_dir)
    assert snap is not None
    return Built(s, snap, template.job_ids)


@pytest.fixture
def settings(built: Built) -> Settings:
    return built.settings


def run(settings: Settings, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli_jobs.run(list(argv), settings)
    out, err = capsys.readouterr()
    return code, out, err


def run_json(settings: Settings, capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    code, out, err = run(settings, capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def a_listed_job(settings: Settings, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    rows = run_json(settings, capsys, "list", "--limit", "1")
    assert isinstance(rows, list) and rows
    return rows[0]


# --- list ------------------------------------------------------------------------------------------


def test_list_json_has_catalog_and_user_keys(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    rows = run_json(settings, capsys, "list", "--limit", "10")
    assert isinstance(rows, list) and len(rows) == 10
    assert list(rows[0]) == [*schema.HOT_COLUMNS, *USER_FIELDS]
    posted = [r["posted_at"] for r in rows]
    assert posted == sorted(posted, reverse=True)  # default sort: newest first
    assert all(isinstance(p, str) and "T" in p for p in posted)  # timestamps as ISO strings


def test_list_table_is_aligned_and_counts(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(settings, capsys, "list", "--limit", "5", "--sort", "title")
    assert code == 0 and err == ""
    lines = out.splitlines()
    header = lines[0]
    for name in ("ID", "TITLE", "COMPANY", "LOCATION", "SALARY", "POSTED", "STAGE", "★"):
        assert name in header
    body = lines[1:6]
    assert len(body) == 5
    title_at = header.index("TITLE")
    company_at = header.index("COMPANY")
    titles = [line[title_at:company_at].strip().rstrip("…") for line in body]
    assert titles == sorted(titles)
    assert "5 of " in lines[-1] and "--limit" in lines[-1]


def test_list_filters(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    rows = run_json(settings, capsys, "list", "--remote", "--min-salary", "100000", "--limit", "1000")
    assert isinstance(rows, list) and rows
    for r in rows:
        assert r["workplace_type"] == "remote"
        assert max(r["salary_annual_min"] or 0, r["salary_annual_max"] or 0) >= 100000
    company = a_listed_job(settings, capsys)["company"]
    rows = run_json(settings, capsys, "list", "--company", str(company), "--limit", "1000")
    assert isinstance(rows, list) and rows and {r["company"] for r in rows} == {company}
    rows = run_json(settings, capsys, "list", "--since", "2025-05-01", "--sort", "posted_at:asc", "--limit", "1000")
    assert isinstance(rows, list) and rows and all(r["posted_at"] >= "2025-05-01" for r in rows)
    assert rows[0]["posted_at"] <= rows[-1]["posted_at"]


def test_list_desc_search_uses_the_fts_index(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    rows = run_json(settings, capsys, "list", "--desc", "kubernetes -react", "--limit", "1000", "--listing", "both")
    assert isinstance(rows, list) and rows
    show = run_json(settings, capsys, "show", str(rows[0]["job_id"]))
    assert isinstance(show, dict)
    assert "kubernetes" in show["description"] and "react" not in show["description"]


def test_list_sort_relevance_is_the_index_ranking_within_the_filters(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ("list", "--desc", "kubernetes python", "--listing", "both", "--limit", "1000")
    rows = run_json(settings, capsys, *argv, "--sort", "relevance")
    assert isinstance(rows, list) and len(rows) > 2
    by_date = run_json(settings, capsys, *argv)
    assert isinstance(by_date, list) and {r["job_id"] for r in rows} == {r["job_id"] for r in by_date}
    with DescriptionIndex(settings.search_path) as index:
        ranked = [j for j, _ in index.match("kubernetes python")]  # best first, ties in index order
        scores = dict(index.match("kubernetes python"))
    got = [str(r["job_id"]) for r in rows]
    assert [scores[j] for j in got] == sorted(scores[j] for j in got), "best match first"
    assert set(got) <= set(ranked)
    worst_first = run_json(settings, capsys, *argv, "--sort", "relevance:asc")
    assert isinstance(worst_first, list)
    assert [scores[str(r["job_id"])] for r in worst_first] == sorted((scores[j] for j in got), reverse=True)


def test_sort_relevance_needs_a_description_search(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(settings, capsys, "list", "--sort", "relevance")
    assert code != 0 and "relevance needs a description search" in err and "Traceback" not in err


def test_list_stage_and_starred(built: Built, capsys: pytest.CaptureFixture[str]) -> None:
    users = UserData(built.settings.db_path)
    target = built.job_ids[0]
    users.set(target, starred=True, stage="interviewing", hidden=False)
    rows = run_json(
        built.settings, capsys, "list", "--stage", "interviewing", "--starred", "--listing", "both", "--limit", "1000"
    )
    assert isinstance(rows, list) and target in {r["job_id"] for r in rows}
    assert all(r["stage"] == "interviewing" and r["starred"] is True for r in rows)


def test_list_nothing_matches(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(settings, capsys, "list", "--q", "zzzz-no-such-title")
    assert code == 0 and out.strip() == "no jobs match"
    assert run_json(settings, capsys, "list", "--q", "zzzz-no-such-title") == []


# --- show / set ------------------------------------------------------------------------------------


def test_show_includes_description_and_user_data(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    job_id = str(a_listed_job(settings, capsys)["job_id"])
    doc = run_json(settings, capsys, "show", job_id)
    assert isinstance(doc, dict)
    assert doc["job_id"] == job_id and doc["description"].startswith(doc["title"])
    assert {"stage", "starred", "notes", "duplicates"} <= set(doc)
    code, out, _ = run(settings, capsys, "show", job_id)
    assert code == 0 and job_id in out and "Description:" in out and doc["description"] in out


def test_set_writes_user_data_and_list_sees_it(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    job_id = str(a_listed_job(settings, capsys)["job_id"])
    users = UserData(settings.db_path)
    rev = users.revision()
    code, out, err = run(
        settings,
        capsys,
        "set",
        job_id,
        "--star",
        "--stage",
        "applied",
        "--note",
        "ask about 100% remote",
        "--follow-up",
        "2025-07-01",
    )
    assert code == 0, err
    assert "stage applied" in out and "starred" in out
    state = users.get(job_id)
    assert state is not None
    assert state["starred"] and state["stage"] == "applied" and state["notes"] == "ask about 100% remote"
    assert str(state["follow_up_on"]) == "2025-07-01" and state["applied_at"] is not None
    assert users.revision() == rev + 1
    assert [h["to_stage"] for h in users.history(job_id)][-1] == "applied"
    doc = run_json(settings, capsys, "show", job_id)
    assert isinstance(doc, dict) and doc["stage"] == "applied" and doc["starred"] is True
    assert doc["follow_up_on"] == "2025-07-01"
    # unstar, clear the follow-up, hide: hidden jobs leave the default list
    assert run(settings, capsys, "set", job_id, "--unstar", "--follow-up", "none", "--hide")[0] == 0
    state = users.get(job_id)
    assert state is not None and not state["starred"] and state["follow_up_on"] is None and state["hidden"]
    listed = run_json(settings, capsys, "list", "--limit", "1000", "--listing", "both")
    assert isinstance(listed, list) and job_id not in {r["job_id"] for r in listed}
    hidden = run_json(settings, capsys, "list", "--hidden", "only", "--listing", "both", "--limit", "1000")
    assert isinstance(hidden, list) and job_id in {r["job_id"] for r in hidden}


# --- export ----------------------------------------------------------------------------------------


def test_export_csv(settings: Settings, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    code, out, err = run(settings, capsys, "export", "--remote", "--sort", "company", "--csv", str(target))
    assert code == 0, err
    with target.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and f"exported {len(rows):,} jobs" in out
    assert list(rows[0]) == [*query.OUTPUT_COLUMNS, *query.USER_OUTPUT]
    assert {r["workplace_type"] for r in rows} == {"remote"}
    n = run_json(settings, capsys, "list", "--remote", "--limit", "100000")
    assert isinstance(n, list) and len(n) == len(rows)


# --- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["list", "--sort", "salary"], 2, "unknown column 'salary'"),
        (["list", "--sort", "url"], 2, "column 'url' is not sortable"),
        (["list", "--sort", "title:sideways"], 2, "invalid direction 'sideways'"),
        (["list", "--since", "2025-02-30"], 2, "invalid date '2025-02-30'"),
        (["list", "--stage", "hired"], 2, "invalid choice: 'hired'"),
        (["list", "--limit", "0"], 2, "invalid limit 0"),
        (["list", "--min-salary", "lots"], 2, "invalid amount 'lots'"),
        (["list", "--max-salary", "10", "--min-salary", "20"], 2, "salary: range is reversed"),
        (["show", "no-such-id"], 1, "no job 'no-such-id'"),
        (["set", "no-such-id", "--star"], 1, "no job 'no-such-id'"),
        (["set", "X", "--stage", "hired"], 2, "invalid choice: 'hired'"),
        (["set", "X", "--follow-up", "soon"], 2, "invalid date 'soon'"),
        (["set", "X"], 2, "nothing to set"),
        (["set", "X", "--star", "--unstar"], 2, "not allowed with argument"),
        (["export", "--csv", "/no/such/folder/x.csv"], 2, "folder /no/such/folder does not exist"),
        (["export"], 2, "--csv"),
        (["frobnicate"], 2, "invalid choice"),
    ],
)
def test_bad_input_is_one_clear_message(
    settings: Settings, capsys: pytest.CaptureFixture[str], argv: list[str], code: int, message: str
) -> None:
    users = UserData(settings.db_path)
    rev = users.revision()
    got, out, err = run(settings, capsys, *argv)
    assert got == code
    assert message in err and "Traceback" not in err
    assert users.revision() == rev  # nothing written


def test_too_long_note_is_refused(settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    job_id = str(a_listed_job(settings, capsys)["job_id"])
    code, _, err = run(settings, capsys, "set", job_id, "--note", "x" * 200_000)
    assert code == 2 and "notes are too long" in err


def test_no_snapshot_yet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = settings_for(tmp_path / "empty")
    for argv in (["list"], ["show", "x"], ["set", "x", "--star"], ["export", "--csv", str(tmp_path / "o.csv")]):
        code, out, err = run(empty, capsys, *argv)
        assert code == 2 and "no snapshot yet" in err, argv
    assert UserData(empty.db_path).revision() == 0


# --- the real command ------------------------------------------------------------------------------


def cli(data_dir: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    config = data_dir.parent / "empty.toml"
    config.write_text("", encoding="utf-8")
    env = {**os.environ, "JOBDASH_DATA_DIR": str(data_dir), "JOBDASH_CONFIG": str(config)}
    return subprocess.run(
        [sys.executable, "-m", "core", "jobs", *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_subprocess_list_show_set_export(built: Built, tmp_path: Path) -> None:
    data = built.settings.data_dir
    listed = cli(data, "list", "--limit", "3", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert len(rows) == 3 and {"job_id", "title", "salary_annual_min", "starred", "stage", "notes"} <= set(rows[0])
    job_id = rows[0]["job_id"]

    changed = cli(data, "set", job_id, "--stage", "interviewing", "--star")
    assert changed.returncode == 0, changed.stderr
    shown = cli(data, "show", job_id, "--json")
    assert shown.returncode == 0, shown.stderr
    doc = json.loads(shown.stdout)
    assert doc["stage"] == "interviewing" and doc["starred"] is True and doc["applied_at"]
    assert doc["description"]

    target = tmp_path / "starred.csv"
    exported = cli(data, "export", "--starred", "--listing", "both", "--hidden", "show", "--csv", str(target))
    assert exported.returncode == 0, exported.stderr
    with target.open(newline="", encoding="utf-8") as fh:
        ids = {r["job_id"] for r in csv.DictReader(fh)}
    assert job_id in ids


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["list", "--sort", "nope"], 2, "unknown column 'nope'"),
        (["list", "--since", "yesterday"], 2, "invalid date 'yesterday'"),
        (["set", "no-such-id", "--stage", "offer"], 1, "no job 'no-such-id'"),
    ],
)
def test_subprocess_bad_input_exit_codes(built: Built, argv: list[str], code: int, message: str) -> None:
    proc = cli(built.settings.data_dir, *argv)
    assert proc.returncode == code
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_subprocess_no_snapshot(tmp_path: Path) -> None:
    proc = cli(tmp_path / "fresh", "list")
    assert proc.returncode == 2 and "no snapshot yet" in proc.stderr and "Traceback" not in proc.stderr
