"""The file source: every format, JobSpy's CSV as it is, folders and globs, and bad input that never crashes."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core import schema
from core.errors import ConfigError, SourceError
from core.sources import build, validate_options
from core.sources.base import FetchContext, Fetched, SourceConfig
from core.sources.files import FileSource

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "files"
CTX = FetchContext("2026-11-29T12:00:00Z")


def source(path: str | Path, **options: Any) -> FileSource:
    src = build(SourceConfig("my-files", "file", options=MappingProxyType({"path": str(path), **options})))
    assert isinstance(src, FileSource)
    return src


def fetch(path: str | Path, **options: Any) -> tuple[Fetched, list[str]]:
    src = source(path, **options)
    fetched = src.fetch(CTX)
    for field in fetched.table.schema:
        assert field.type == schema.RAW_ARROW_TYPES[field.name], field.name
    assert set(fetched.table.column("source").to_pylist()) <= {"my-files"}
    return fetched, list(fetched.warnings)


def rows(fetched: Fetched) -> dict[str, dict[str, Any]]:
    return {r["native_id"]: r for r in fetched.table.to_pylist()}


def test_jobspy_csv_columns_are_mapped_as_they_are() -> None:
    fetched, warnings = fetch(FIXTURES / "jobspy_indeed_linkedin.csv")
    assert fetched.partial is None and warnings == []
    jobs = rows(fetched)
    assert len(jobs) == 6
    senior = jobs["indeed:in-8f3c2a91d7e4b510"]
    assert senior["url"] == "https://www.indeed.com/viewjob?jk=8f3c2a91d7e4b510"
    assert senior["apply_url"] == "https://careers.northwind.example/jobs/4410?src=indeed"
    assert (senior["title"], senior["company"], senior["location"]) == (
        "Senior Data Engineer",
        "Northwind Analytics",
        "Austin, TX, US",
    )
    assert (senior["salary_min"], senior["salary_max"], senior["salary_currency"], senior["salary_period"]) == (
        145000.0,
        175000.0,
        "USD",
        "year",
    )
    assert senior["posted_at"] == "2026-11-24" and senior["employment_type"] == "fulltime"
    assert senior["is_remote"] is False
    assert 'Experience with "exactly once" delivery semantics' in senior["description"]
    assert "\n\n* Build and operate Airflow" in senior["description"]
    support = jobs["indeed:in-1b77e0c4a2f95d3e"]
    assert support["is_remote"] is True and support["salary_period"] == "hour" and support["salary_max"] == 27.5
    assert jobs["linkedin:li-4086612237"]["seniority"] == "mid-senior level"
    assert jobs["linkedin:li-4086612237"]["salary_min"] is None
    assert jobs["linkedin:li-4091170042"]["is_remote"] is False  # "no"
    sre = jobs["glassdoor:gd-1009514870321"]
    assert (sre["salary_min"], sre["salary_max"], sre["is_remote"]) == (185000.0, 220000.0, False)  # "185,000", "0"
    assert jobs["zip_recruiter:zr-6f0d9a1e2b"]["url"].endswith("-in-Chicago,IL?jid=6f0d9a1e2b")
    assert jobs["zip_recruiter:zr-6f0d9a1e2b"]["is_remote"] is None
    assert schema.conform_raw(fetched.table).num_rows == 6


def test_json_envelope_and_conversion_failures_are_counted() -> None:
    fetched, warnings = fetch(FIXTURES / "jobs_envelope.json")
    jobs = rows(fetched)
    assert set(jobs) == {"gh-5521034", "gh-5521077", "5521090"}
    assert jobs["gh-5521034"]["salary_min"] == 70000.0 and jobs["gh-5521034"]["is_remote"] is False
    assert jobs["gh-5521077"]["is_remote"] is True and jobs["gh-5521077"]["posted_at"] == "1764316800000"
    intern = jobs["5521090"]
    assert intern["salary_min"] is None and intern["posted_at"] == "3 days ago"
    assert intern["location"] == '{"city": "Madrid", "country": "ES"}'
    assert len(warnings) == 1 and "1 value(s) could not be converted" in warnings[0]
    assert "salary_min: 1" in warnings[0] and "not stated" in warnings[0]


def test_json_array_and_non_objects(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text('[{"title": "Analyst", "url": "https://x.example/1"}, 42, {"title": "Engineer"}]', encoding="utf-8")
    fetched, warnings = fetch(path)
    assert fetched.table.column("title").to_pylist() == ["Analyst", "Engineer"]
    assert warnings == [f"{path}: 1 item(s) are not an object and skipped (e.g. #2)"]


def test_jsonl_skips_blank_lines_and_reports_bad_ones(tmp_path: Path) -> None:
    fetched, warnings = fetch(FIXTURES / "jobs.jsonl")
    jobs = rows(fetched)
    assert list(jobs) == ["lv-a1", "lv-a2", "lv-a3"] and warnings == []
    assert jobs["lv-a2"]["salary_period"] == "year" and jobs["lv-a3"]["is_remote"] is True
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "A"}\n{"title": "B"\n{"title": "C"}\n', encoding="utf-8")
    fetched, warnings = fetch(bad)
    assert fetched.table.column("title").to_pylist() == ["A", "C"]
    assert "1 line(s) are not JSON and were skipped (line 2:" in warnings[0]


def test_parquet_with_jobspy_names_and_native_types(tmp_path: Path) -> None:
    path = tmp_path / "scrape.parquet"
    table = pa.table(
        {
            "id": ["li-1", "li-2"],
            "site": ["linkedin", "linkedin"],
            "job_url": ["https://www.linkedin.com/jobs/view/1", "https://www.linkedin.com/jobs/view/2"],
            "title": ["Data Scientist", "Recruiter"],
            "company": ["Cobalt AI", "Cobalt AI"],
            "date_posted": pa.array([date(2026, 11, 20), None], pa.date32()),
            "interval": ["monthly", None],
            "min_amount": pa.array([5000.0, float("nan")]),
            "max_amount": pa.array([6500, None], pa.int64()),
            "is_remote": [True, None],
            "company_num_employees": ["1,001-5,000", None],
        }
    )
    pq.write_table(table, path)
    fetched, warnings = fetch(path)
    jobs = rows(fetched)
    assert warnings == []
    first = jobs["linkedin:li-1"]
    assert (first["posted_at"], first["salary_period"], first["salary_min"], first["salary_max"]) == (
        "2026-11-20",
        "month",
        5000.0,
        6500.0,
    )
    assert first["is_remote"] is True and jobs["linkedin:li-2"]["salary_min"] is None


def test_our_own_column_names_win_over_jobspy_aliases(tmp_path: Path) -> None:
    path = tmp_path / "both.csv"
    path.write_text("native_id,id,url,job_url,title\nn-1,j-1,https://ours.example/1,https://theirs.example/1,Tester\n")
    (job,) = fetch(path)[0].table.to_pylist()
    assert (job["native_id"], job["url"]) == ("n-1", "https://ours.example/1")


def test_glob_reads_every_matching_file() -> None:
    fetched, warnings = fetch("*.csv", base_dir=str(FIXTURES))
    assert fetched.table.num_rows == 12 and fetched.partial is None
    assert any("bad_quoting.csv" in w for w in warnings)


def test_folder_with_a_bad_file_returns_the_good_rows_as_partial(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    for name in ("jobspy_indeed_linkedin.csv", "jobs.jsonl"):
        shutil.copy(FIXTURES / name, folder / name)
    (folder / "broken.json").write_text("<html>502 Bad Gateway</html>", encoding="utf-8")
    (folder / "notes.txt").write_text("not a job file", encoding="utf-8")
    (folder / ".hidden.csv").write_text("garbage", encoding="utf-8")
    fetched, _ = fetch(folder)
    assert fetched.table.num_rows == 9
    assert fetched.partial is not None and "broken.json: not JSON" in fetched.partial
    assert "notes.txt" not in fetched.partial


def test_folder_where_every_file_fails_raises(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("nope", encoding="utf-8")
    (tmp_path / "b.csv").write_bytes(b"")
    with pytest.raises(SourceError, match=r"all 2 files failed: .*a\.json: not JSON.*b\.csv: empty file"):
        source(tmp_path).fetch(CTX)


def test_bad_quoting_keeps_every_row_and_says_what_was_repaired() -> None:
    fetched, warnings = fetch(FIXTURES / "bad_quoting.csv")
    jobs = rows(fetched)
    assert list(jobs) == ["q-1", "q-2", "q-3", "q-4", "q-5", "q-6"]
    assert jobs["q-1"]["title"] == 'Senior Python" Developer"'
    assert jobs["q-3"]["title"] == "Designer" and jobs["q-3"]["salary_min"] == 80000.0
    assert jobs["q-5"]["description"] == "desc" and jobs["q-6"]["title"] == "Too few"
    text = "\n".join(warnings)
    assert "lines 3-4: a quoted field was never closed" in text
    assert "line 6: 8 fields, expected 6 (extra fields dropped)" in text
    assert "line 7: 2 fields, expected 6 (missing fields left empty)" in text


def test_wrong_types_become_null_and_are_counted(tmp_path: Path) -> None:
    path = tmp_path / "types.csv"
    path.write_text(
        "id,title,min_amount,max_amount,is_remote,interval\n"
        "1,A,abc,100,maybe,yearly\n"
        "2,B,1e400,,TRUE,Hourly\n"
        "3,C,nan,N/A,Y,fortnightly\n",
        encoding="utf-8",
    )
    fetched, warnings = fetch(path)
    table = fetched.table
    assert table.column("salary_min").to_pylist() == [None, None, None]
    assert table.column("salary_max").to_pylist() == [100.0, None, None]
    assert table.column("is_remote").to_pylist() == [None, True, True]
    assert table.column("salary_period").to_pylist() == ["year", "hour", "fortnightly"]
    assert len(warnings) == 1
    assert "3 value(s) could not be converted" in warnings[0]
    assert "salary_min: 2, e.g. 'abc'" in warnings[0] and "is_remote: 1, e.g. 'maybe'" in warnings[0]


@pytest.mark.parametrize("name", ["empty.csv", "empty.json", "empty.jsonl", "empty.parquet"])
def test_empty_file_is_an_error_not_an_empty_board(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(b"  \n")
    with pytest.raises(SourceError, match=rf"{name}: (empty file|not a readable Parquet file)"):
        source(tmp_path / name).fetch(CTX)


def test_header_only_csv_and_empty_array_are_valid_empty_boards(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("id,title,company\n", encoding="utf-8")
    (tmp_path / "e.json").write_text('{"jobs": []}', encoding="utf-8")
    assert fetch(tmp_path / "h.csv")[0].table.num_rows == 0
    assert fetch(tmp_path / "e.json")[0].table.num_rows == 0


def test_a_10_mb_description_is_read_whole(tmp_path: Path) -> None:
    big = 'Lorem ipsum, dolor "sit" amet.\n' * 340_000
    path = tmp_path / "big.csv"
    escaped = big.replace('"', '""')
    path.write_text(f'id,title,description\nbig-1,Writer,"{escaped}"\nsmall-2,Editor,short\n', encoding="utf-8")
    fetched, warnings = fetch(path)
    jobs = rows(fetched)
    assert len(big) > 10_000_000 and jobs["big-1"]["description"] == big
    assert jobs["small-2"]["description"] == "short" and warnings == []


def test_non_utf8_bytes_are_replaced_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("id,title,location\n1,Caf\u00e9 Manager,M\u00fcnchen\n2,Barista,Berlin\n".encode("latin-1"))
    fetched, warnings = fetch(path)
    assert fetched.table.column("title").to_pylist() == ["Caf\ufffd Manager", "Barista"]
    assert fetched.table.column("location").to_pylist() == ["M\ufffdnchen", "Berlin"]
    assert warnings == [
        f"{path}: not valid UTF-8 (first bad byte at offset 23); 2 undecodable byte sequence(s) replaced with U+FFFD"
    ]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("this is not json", "not JSON (Expecting value at line 1, column 1)"),
        ('{"job": [1]}', 'expected an array of job objects or {"jobs": [...]}, got a JSON dict'),
        ('"just a string"', 'expected an array of job objects or {"jobs": [...]}, got a JSON str'),
    ],
)
def test_a_file_that_is_not_job_json_raises_with_the_reason(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "feed.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SourceError) as info:
        source(path).fetch(CTX)
    assert str(info.value) == f"{path}: {reason}"


def test_json_lines_in_a_json_file_are_read_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "lines.json"
    path.write_text('{"title": "A"}\n{"title": "B"}\n', encoding="utf-8")
    fetched, warnings = fetch(path)
    assert fetched.table.column("title").to_pylist() == ["A", "B"]
    assert warnings == [f"{path}: several JSON documents in one file; read as JSON Lines"]


def test_unreadable_inputs_raise_clear_source_errors(tmp_path: Path) -> None:
    (tmp_path / "garbage.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(SourceError, match=r"garbage\.parquet: not a readable Parquet file"):
        source(tmp_path / "garbage.parquet").fetch(CTX)
    (tmp_path / "other.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"other\.csv: no job columns found .*got a, b"):
        source(tmp_path / "other.csv").fetch(CTX)
    with pytest.raises(SourceError, match=r"missing\.csv: no such file or folder"):
        source(tmp_path / "missing.csv").fetch(CTX)
    with pytest.raises(SourceError, match=r"\*\.xml: no files match"):
        source(tmp_path / "*.xml").fetch(CTX)
    (tmp_path / "jobs.txt").write_text("id,title\n1,A\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"jobs\.txt: cannot tell the format"):
        source(tmp_path / "jobs.txt").fetch(CTX)
    empty = tmp_path / "empty_folder"
    empty.mkdir()
    with pytest.raises(SourceError, match=r"empty_folder: no \.csv, \.json"):
        source(empty).fetch(CTX)


def test_explicit_format_and_relative_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "jobs.txt").write_text("id,title\n1,A\n", encoding="utf-8")
    assert fetch(tmp_path / "jobs.txt", format="csv")[0].table.column("title").to_pylist() == ["A"]
    monkeypatch.chdir(tmp_path)
    assert fetch("jobs.txt", format="csv")[0].table.num_rows == 1  # relative to the working directory
    assert fetch("jobspy_indeed_linkedin.csv", base_dir=str(FIXTURES))[0].table.num_rows == 6


def test_warnings_belong_to_each_fetch(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id,title,min_amount\n1,A,oops\n", encoding="utf-8")
    src = source(path)
    assert len(src.fetch(CTX).warnings) == 1
    path.write_text("id,title,min_amount\n1,A,5\n", encoding="utf-8")
    assert src.fetch(CTX).warnings == ()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "s.path: required"),
        ({"path": 3}, "s.path: expected str"),
        ({"path": " "}, "s.path: must not be empty"),
        ({"path": "a.csv", "format": "xlsx"}, "s.format: expected one of csv, json, jsonl, parquet"),
        ({"path": "a.csv", "sheet": 1}, "s.sheet: unknown option for a file source"),
    ],
)
def test_bad_options_name_the_key(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        validate_options("file", options, "s.")


def test_datetime_values_become_iso_text(tmp_path: Path) -> None:
    path = tmp_path / "ts.parquet"
    pq.write_table(pa.table({"title": ["A"], "posted_at": [datetime(2026, 11, 2, 9, 30)]}), path)
    assert fetch(path)[0].table.column("posted_at").to_pylist() == ["2026-11-02T09:30:00"]
