"""JobSpy adapter: the DataFrame mapping (a hand-built frame in the library's column layout),
option validation, and the clear failure when the optional library is not installed."""

from __future__ import annotations

import datetime as dt
import sys
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import pytest

from core.errors import ConfigError, SourceError
from core.schema import RAW_ARROW_TYPES
from core.sources import build, validate_options
from core.sources.base import FetchContext, SourceConfig
from core.sources.jobspy import NOT_INSTALLED, JobSpySource, jobspy_frame_to_table

WHERE = "sources[2]."

# Columns as scrape_jobs returns them (a subset, in its order); NaN/None where a board gives nothing.
FRAME = pd.DataFrame(
    {
        "id": ["in-8f3a2b1c", "li-4012345678", "gd-1009"],
        "site": ["indeed", "linkedin", "glassdoor"],
        "job_url": [
            "https://jobs.example.test/indeed/viewjob?jk=8f3a2b1c",
            "https://jobs.example.test/linkedin/jobs/view/4012345678",
            "https://jobs.example.test/glassdoor/job-listing/1009",
        ],
        "job_url_direct": ["https://careers.example.test/apply/77", None, np.nan],
        "title": ["Backend Engineer – Payments", "Ingénieur Données", "Nurse (RN) &amp; Educator"],
        "company": ["Umbrella Corp", "Société Générale Test", None],
        "location": ["Austin, TX, US", "Paris, Île-de-France, France", None],
        "date_posted": [dt.date(2026, 3, 1), dt.date(2026, 2, 27), None],
        "job_type": ["fulltime", "contract, parttime", np.nan],
        "salary_source": ["direct_data", None, "description"],
        "interval": ["yearly", None, "hourly"],
        "min_amount": [130000.0, np.nan, 38.5],
        "max_amount": [160000.0, np.nan, 45.0],
        "currency": ["USD", None, "USD"],
        "is_remote": [False, True, None],
        "job_level": [None, "mid-senior level", None],
        "job_function": [None, "Engineering", None],
        "description": ["<p>Build **payments** &amp; ledgers.</p>", "<p>Données — 日本語</p>", None],
        "company_url": [None, None, None],
    }
)


def test_frame_maps_to_raw_rows() -> None:
    table = jobspy_frame_to_table(FRAME, "boards")
    for field in table.schema:
        assert field.type == RAW_ARROW_TYPES[field.name], field.name
    rows = {r["native_id"]: r for r in table.to_pylist()}
    assert set(rows) == {"indeed:in-8f3a2b1c", "linkedin:li-4012345678", "glassdoor:gd-1009"}

    indeed = rows["indeed:in-8f3a2b1c"]
    assert indeed["source"] == "boards"
    assert indeed["url"] == "https://jobs.example.test/indeed/viewjob?jk=8f3a2b1c"
    assert indeed["apply_url"] == "https://careers.example.test/apply/77"
    assert indeed["title"] == "Backend Engineer – Payments"
    assert indeed["company"] == "Umbrella Corp"
    assert indeed["location"] == "Austin, TX, US"
    assert indeed["posted_at"] == "2026-03-01"
    assert indeed["employment_type"] == "full_time"
    assert indeed["is_remote"] is False
    assert (indeed["salary_min"], indeed["salary_max"]) == (130000.0, 160000.0)
    assert (indeed["salary_currency"], indeed["salary_period"]) == ("USD", "year")
    assert indeed["description"] == "<p>Build **payments** &amp; ledgers.</p>"

    linkedin = rows["linkedin:li-4012345678"]
    assert linkedin["title"] == "Ingénieur Données"
    assert linkedin["location"] == "Paris, Île-de-France, France"
    assert linkedin["employment_type"] == "contract"  # the first known of several
    assert linkedin["seniority"] == "mid-senior level"
    assert linkedin["department"] == "Engineering"
    assert linkedin["is_remote"] is True
    assert linkedin["salary_min"] is None and linkedin["salary_period"] is None  # NaN → null
    assert linkedin["apply_url"] is None and "日本語" in linkedin["description"]

    glassdoor = rows["glassdoor:gd-1009"]
    assert glassdoor["title"] == "Nurse (RN) &amp; Educator"  # raw: entities are normalization's job
    assert glassdoor["company"] is None and glassdoor["location"] is None
    assert glassdoor["apply_url"] is None  # NaN
    assert glassdoor["posted_at"] is None and glassdoor["employment_type"] is None
    assert glassdoor["is_remote"] is None
    assert (glassdoor["salary_min"], glassdoor["salary_max"], glassdoor["salary_period"]) == (38.5, 45.0, "hour")


def test_a_changed_posting_changes_only_its_row() -> None:
    changed = FRAME.copy()
    changed.loc[0, "max_amount"] = 170000.0
    changed = changed.drop(index=2)
    before = {r["native_id"]: r for r in jobspy_frame_to_table(FRAME, "boards").to_pylist()}
    after = {r["native_id"]: r for r in jobspy_frame_to_table(changed, "boards").to_pylist()}
    assert set(before) - set(after) == {"glassdoor:gd-1009"}
    assert after["indeed:in-8f3a2b1c"]["salary_max"] == 170000.0
    assert after["linkedin:li-4012345678"] == before["linkedin:li-4012345678"]


def test_an_empty_frame_is_an_empty_table() -> None:
    table = jobspy_frame_to_table(pd.DataFrame(), "boards")
    assert table.num_rows == 0 and "native_id" in table.column_names


def test_a_missing_id_falls_back_to_the_job_url() -> None:
    frame = FRAME.iloc[[0]].assign(id=[None])
    (row,) = jobspy_frame_to_table(frame, "boards").to_pylist()
    assert row["native_id"] == "indeed:https://jobs.example.test/indeed/viewjob?jk=8f3a2b1c"


OK = {"sites": ["indeed", "linkedin"], "search": "data engineer"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"search": "x"}, "sources[2].sites: required"),
        ({"sites": ["indeed"]}, "sources[2].search: required"),
        ({**OK, "sites": []}, "sources[2].sites: must name at least one"),
        ({**OK, "sites": ["monster"]}, "sources[2].sites: unknown site 'monster'"),
        ({**OK, "results": 0}, "sources[2].results: must be at least 1"),
        ({**OK, "results": "many"}, "sources[2].results: expected int"),
        ({**OK, "hours_old": True}, "sources[2].hours_old: expected int"),
        ({**OK, "remote": "yes"}, "sources[2].remote: expected bool"),
        ({**OK, "serch": "typo"}, "sources[2].serch: unknown option"),
    ],
)
def test_validate_names_the_key(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        JobSpySource.validate(options, WHERE)
    assert str(err.value).startswith(message)


def test_without_the_library_validate_passes_and_fetch_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "jobspy", None)  # makes `import jobspy` fail as if not installed
    options = {**OK, "location": "Berlin", "results": 20, "hours_old": 72, "remote": True}
    validate_options("jobspy", options, WHERE)
    source = build(SourceConfig("boards", "jobspy", options=MappingProxyType(options)))
    with pytest.raises(SourceError) as err:
        source.fetch(FetchContext(now_iso="2026-03-10T00:00:00Z"))
    assert str(err.value) == NOT_INSTALLED


def test_numpy_typed_columns_map_to_plain_values() -> None:
    frame = FRAME.iloc[[0, 1]].assign(is_remote=np.array([True, False]), min_amount=np.array([100, 200], dtype="int64"))
    rows = jobspy_frame_to_table(frame, "boards").to_pylist()
    assert [r["is_remote"] for r in rows] == [True, False]
    assert [r["salary_min"] for r in rows] == [100.0, 200.0]
