"""The grid's sort/filter models map onto core query objects (pure functions; no Streamlit run needed)."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
import pytest

from core.query import ColumnFilter, Sort, validate
from core.query import JobFilter as F
from ui.charts import funnel, share, time_in_stage
from ui.grid import filters_from_model, frame, sort_from_model


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (None, Sort()),
        ([], Sort()),
        ([{"colId": "title", "sort": "asc"}], Sort("title", desc=False)),
        ([{"colId": "posted_at", "sort": "desc"}], Sort("posted_at", desc=True)),
        ([{"colId": "stage", "sort": "asc"}], Sort("stage", desc=False)),
        ([{"colId": "url", "sort": "asc"}], Sort()),  # not sortable: ignored, never sent to SQL
        ([{"colId": "nope; DROP TABLE", "sort": "asc"}], Sort()),
        ([{"colId": "title", "sort": None}, {"colId": "company", "sort": "desc"}], Sort("company", desc=True)),
    ],
)
def test_sort_model(model: list[dict[str, str]] | None, expected: Sort) -> None:
    assert sort_from_model(model) == expected


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ({}, ()),
        (
            {"title": {"filterType": "text", "type": "contains", "filter": "Data"}},
            (ColumnFilter("title", "contains", "Data"),),
        ),
        (
            {"title": {"filterType": "text", "type": "notEqual", "filter": "x"}},
            (ColumnFilter("title", "not_equal", "x"),),
        ),
        (
            {"company": {"filterType": "text", "type": "startsWith", "filter": "Ac"}},
            (ColumnFilter("company", "starts_with", "Ac"),),
        ),
        ({"company": {"filterType": "text", "type": "blank"}}, (ColumnFilter("company", "blank"),)),
        ({"company": {"filterType": "text", "type": "contains", "filter": ""}}, ()),  # cleared input
        ({"company": {"filterType": "text", "type": "endsWith", "filter": "x"}}, ()),  # not offered by the grid
        (
            {"salary_annual_min": {"filterType": "number", "type": "inRange", "filter": 10, "filterTo": 20}},
            (ColumnFilter("salary_annual_min", "in_range", 10.0, 20.0),),
        ),
        (
            {"salary_annual_max": {"filterType": "number", "type": "lessThan", "filter": 5}},
            (ColumnFilter("salary_annual_max", "lt", 5.0),),
        ),
        ({"salary_annual_max": {"filterType": "number", "type": "inRange", "filter": 5}}, ()),  # half-typed range
        (
            {
                "posted_at": {
                    "filterType": "date",
                    "type": "greaterThan",
                    "dateFrom": "2025-06-03 00:00:00",
                    "dateTo": None,
                }
            },
            (ColumnFilter("posted_at", "gt", "2025-06-03"),),
        ),
        (
            {
                "posted_at": {
                    "filterType": "date",
                    "type": "inRange",
                    "dateFrom": "2025-06-03 00:00:00",
                    "dateTo": "2025-06-09 00:00:00",
                }
            },
            (ColumnFilter("posted_at", "in_range", "2025-06-03", "2025-06-09"),),
        ),
        (
            {"stage": {"filterType": "text", "type": "equals", "filter": "applied"}},
            (ColumnFilter("stage", "equals", "applied"),),
        ),
        ({"url": {"filterType": "text", "type": "contains", "filter": "x"}}, ()),  # not filterable
        ({'evil"col': {"filterType": "text", "type": "contains", "filter": "x"}}, ()),
        (
            {
                "title": {
                    "filterType": "text",
                    "operator": "OR",
                    "conditions": [
                        {"filterType": "text", "type": "contains", "filter": "a"},
                        {"filterType": "text", "type": "contains", "filter": "b"},
                    ],
                }
            },
            (ColumnFilter("title", "contains", "a"),),
        ),  # fmt: skip
    ],
)
def test_filter_model(model: dict[str, object], expected: tuple[ColumnFilter, ...]) -> None:
    got = filters_from_model(model)
    assert got == expected
    validate(F(column_filters=got))  # everything the mapping produces is a valid query


def test_frame_formats_timestamps_as_text_and_keeps_only_grid_columns() -> None:
    rows = pa.table(
        {
            "job_id": ["a"],
            "title": ["T"],
            "posted_at": pa.array([datetime(2025, 6, 3, 14, 5, 59)], pa.timestamp("us")),
            "desc_file": ["x"],
        }
    )
    table = frame(rows)  # Arrow all the way: no pandas round trip before the grid
    assert isinstance(table, pa.Table)
    assert table.column_names == ["title", "posted_at", "job_id"]
    assert table.column("posted_at")[0].as_py() == "2025-06-03 14:05"


def test_funnel_counts_jobs_that_reached_each_stage() -> None:
    users = pa.table({"job_id": ["a", "b", "c", "d"], "stage": ["offer", "rejected", "saved", "applied"]})
    history = pa.table(
        {
            "job_id": ["a", "a", "a", "b", "b", "c"],
            "from_stage": ["inbox", "applied", "interviewing", "inbox", "applied", "inbox"],
            "to_stage": ["applied", "interviewing", "offer", "applied", "rejected", "saved"],
            "at": [datetime(2025, 1, d) for d in (1, 3, 10, 1, 5, 2)],
        }
    )
    counts = funnel(users, history, ["a", "b", "c"], total=100)  # d is outside the filter
    assert counts == {
        "inbox": 100, "saved": 3, "applied": 2, "interviewing": 1, "offer": 1,
        "rejected": 1, "withdrawn": 0, "ghosted": 0,
    }  # fmt: skip
    stays = time_in_stage(history, ["a", "b"], now=datetime(2025, 1, 20))
    assert stays["applied"]["median_days"] == 3.0  # a: 2 days, b: 4 days
    assert stays["interviewing"]["median_days"] == 7.0
    assert stays["offer"]["median_days"] == 10.0  # still there: counted until now


def test_share_skips_empty_buckets() -> None:
    assert share([(1, 2)], [(1, 4), (2, 0), (3, 5)]) == [(1, 0.5), (3, 0.0)]
