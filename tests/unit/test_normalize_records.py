"""normalize() end to end: rejects with reasons, output schema, salary precedence, ids, repairs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

from core import schema
from core.normalize import Normalized, normalize
from core.normalize.ids import job_id
from core.normalize.markup import MAX_DESCRIPTION_BYTES, TRUNCATION_MARKER
from core.normalize.records import DESCRIPTION_TRUNCATED, MAX_EXAMPLES, MISSING_COMPANY, MISSING_ID, MISSING_TITLE

NOW = datetime(2026, 3, 15, 12, 0, 0)


def raw_table(rows: list[dict[str, object]]) -> pa.Table:
    """A source-like table holding only the columns the rows mention, in the raw types."""
    names = sorted({k for r in rows for k in r})
    return pa.table({n: pa.array([r.get(n) for r in rows], schema.RAW_ARROW_TYPES[n]) for n in names})


def good(**extra: object) -> dict[str, object]:
    row: dict[str, object] = {
        "native_id": "1",
        "title": "Engineer",
        "company": "Acme",
        "url": "https://acme.com/jobs/1",
    }
    row.update(extra)
    return row


def one(**extra: object) -> dict[str, object]:
    out = normalize(raw_table([good(**extra)]), "greenhouse", NOW)
    assert out.table.num_rows == 1, out.rejected
    return out.table.to_pylist()[0]


def test_output_schema_is_exactly_the_normalized_registry_columns() -> None:
    out = normalize(raw_table([good()]), "demo", NOW)
    assert isinstance(out, Normalized)
    assert tuple(out.table.column_names) == schema.NORMALIZED_COLUMNS
    assert out.table.schema == schema.arrow_schema(schema.NORMALIZED_COLUMNS)


def test_empty_input_gives_an_empty_table_with_the_schema() -> None:
    out = normalize(pa.table({}), "demo", NOW)
    assert out.table.num_rows == 0
    assert out.table.schema == schema.arrow_schema(schema.NORMALIZED_COLUMNS)
    assert out.rejected == {} and out.examples == ()


def test_bad_rows_are_rejected_one_by_one_with_reasons_and_counts() -> None:
    rows = [
        good(native_id="ok1"),
        good(native_id="t1", title=None),
        good(native_id="t2", title="   \t "),
        good(native_id="c1", company=""),
        good(native_id=None, url=None),
        good(native_id=None, url="javascript:void(0)"),
        good(native_id="both", title=None, company=None),  # counted once, under its first reason
        good(native_id=None, url="https://acme.com/jobs/2"),  # a URL alone identifies the job
    ]
    out = normalize(raw_table(rows), "greenhouse", NOW)
    assert out.table.column("native_id").to_pylist() == ["ok1", None]
    assert out.rejected == {MISSING_TITLE: 3, MISSING_COMPANY: 1, MISSING_ID: 2}
    assert out.examples == (
        ("t1", MISSING_TITLE),
        ("t2", MISSING_TITLE),
        ("c1", MISSING_COMPANY),
        ("row 4", MISSING_ID),
        ("row 5", MISSING_ID),
        ("both", MISSING_TITLE),
    )


def test_examples_are_capped() -> None:
    out = normalize(raw_table([good(native_id=str(i), title=None) for i in range(50)]), "demo", NOW)
    assert out.rejected == {MISSING_TITLE: 50}
    assert len(out.examples) == MAX_EXAMPLES
    assert out.table.num_rows == 0


def test_job_id_is_stable_and_follows_native_id_then_canonical_url() -> None:
    rows = [good(native_id="42"), good(native_id=None, url="HTTPS://Acme.com/jobs/7?utm_source=x#top")]
    first = normalize(raw_table(rows), "lever", NOW).table.column("job_id").to_pylist()
    again = normalize(raw_table(rows), "lever", NOW + timedelta(days=3)).table.column("job_id").to_pylist()
    assert first == again
    assert first == [job_id("lever", "42", None), job_id("lever", None, "https://acme.com/jobs/7")]
    assert all(len(i) == 16 for i in first)


def test_structured_salary_wins_over_text() -> None:
    row = one(salary_min=100_000.0, salary_max=120_000.0, salary_currency="usd", salary_period="yearly",
              salary_text="£10 - £20 per hour")  # fmt: skip
    assert (row["salary_min"], row["salary_max"], row["salary_currency"], row["salary_period"]) == (
        100_000.0, 120_000.0, "USD", "year",
    )  # fmt: skip
    assert row["salary_source"] == "structured"
    assert row["salary_text"] == "£10 - £20 per hour"
    assert (row["salary_annual_min"], row["salary_annual_max"]) == (100_000.0, 120_000.0)


def test_salary_from_text_is_annualized() -> None:
    row = one(salary_text="$25 - $35 an hour")
    assert row["salary_source"] == "text"
    assert (row["salary_min"], row["salary_max"], row["salary_period"]) == (25.0, 35.0, "hour")
    assert (row["salary_annual_min"], row["salary_annual_max"]) == (52_000.0, 72_800.0)


def test_no_salary_is_all_null() -> None:
    row = one(salary_text="Competitive")
    assert [row[k] for k in ("salary_min", "salary_max", "salary_currency", "salary_period", "salary_source")] == [
        None
    ] * 5
    assert row["salary_text"] == "Competitive"


def test_location_is_parsed_and_source_fields_win() -> None:
    parsed = one(location="New York, NY (Hybrid)")
    assert (parsed["city"], parsed["region"], parsed["country"], parsed["is_remote"], parsed["workplace_type"]) == (
        "New York", "NY", "US", False, "hybrid",
    )  # fmt: skip
    given = one(location="Remote - US", country="Canada", is_remote=False, city="Toronto")
    assert (given["city"], given["country"], given["is_remote"], given["workplace_type"]) == (
        "Toronto",
        "CA",
        False,
        None,
    )
    flagged = one(location="Berlin, Germany", is_remote=True)
    assert (flagged["is_remote"], flagged["workplace_type"], flagged["country"]) == (True, "remote", "DE")
    typed = one(location="Paris", workplace_type="HYBRID")
    assert (typed["workplace_type"], typed["is_remote"]) == ("hybrid", False)
    assert one(location="London | Remote; Paris")["location"] == "London | Remote; Paris"


def test_short_fields_are_collapsed_and_stripped() -> None:
    row = one(title="  Senior\t\tData   Engineer \n", company="Acme\u00a0 Corp\x00", department="  ")
    assert (row["title"], row["company"], row["department"]) == ("Senior Data Engineer", "Acme Corp", None)
    assert row["seniority"] == "senior"


@pytest.mark.parametrize(
    ("raw_type", "expected"),
    [("Full-time", "full_time"), ("FULL_TIME", "full_time"), ("Contract", "contract"), ("Intern", "internship"),
     ("part time", "part_time"), ("Volunteer", None), (None, None)],
)  # fmt: skip
def test_employment_type(raw_type: str | None, expected: str | None) -> None:
    assert one(employment_type=raw_type)["employment_type"] == expected


@pytest.mark.parametrize(
    ("raw_level", "title", "expected"),
    [(None, "Staff Software Engineer", "staff"), (None, "Software Engineer", "mid"), ("Entry level", "Engineer", "junior"),
     ("Mid-Senior level", "Senior Engineer", "senior"), ("Director", "Engineer", "director"), (None, "VP of Sales", "director"),
     (None, "Chief Technology Officer", "executive"), (None, "Head of Data", "manager"), (None, "Data Intern", "intern")],
)  # fmt: skip
def test_seniority_from_source_or_title(raw_level: str | None, title: str, expected: str) -> None:
    row = one(seniority=raw_level, title=title)
    assert row["seniority"] == expected and row["seniority"] in schema.SENIORITIES


def test_posted_at_relative_to_the_run_clock_and_aware_now() -> None:
    assert one(posted_at="3 days ago")["posted_at"] == NOW - timedelta(days=3)
    out = normalize(raw_table([good(posted_at="today")]), "demo", NOW.replace(tzinfo=UTC))
    assert out.table.column("posted_at").to_pylist() == [NOW]
    assert one(posted_at="garbage")["posted_at"] is None


def test_urls_are_canonical() -> None:
    row = one(url="https://ACME.com/jobs/1?utm_source=x&id=9#a", apply_url="https://acme.com/apply?gh_jid=1&gclid=z")
    assert (row["url"], row["apply_url"]) == ("https://acme.com/jobs/1?id=9", "https://acme.com/apply?gh_jid=1")


def test_greenhouse_escaped_html_description_becomes_text() -> None:
    row = one(description="&lt;p&gt;Hello &amp;amp; welcome&lt;/p&gt;&lt;ul&gt;&lt;li&gt;Python&lt;/li&gt;&lt;/ul&gt;")
    assert row["description"] == "Hello & welcome\n\n• Python"


def test_nul_bytes_are_stripped_everywhere() -> None:
    row = one(title="Eng\x00ineer", description="plain\x00 text", location="Par\x00is")
    assert (row["title"], row["description"], row["location"], row["city"]) == (
        "Engineer",
        "plain text",
        "Paris",
        "Paris",
    )


def test_ten_megabyte_description_is_kept_truncated_and_counted() -> None:
    huge = "<p>" + ("lorem ipsum " * 900_000) + "</p>"  # ~10.8 MB
    out = normalize(
        raw_table([good(native_id="big", description=huge), good(native_id="small", description="ok")]), "demo", NOW
    )
    assert out.table.num_rows == 2 and out.rejected == {}
    assert out.repaired == {DESCRIPTION_TRUNCATED: 1}
    big, small = out.table.column("description").to_pylist()
    assert big.endswith(TRUNCATION_MARKER) and len(big.encode()) <= MAX_DESCRIPTION_BYTES
    assert small == "ok"


def test_chunked_input_and_extra_columns_are_accepted() -> None:
    a = raw_table([good(native_id="1")])
    b = raw_table([good(native_id="2")])
    table = pa.concat_tables([a, b]).append_column("unexpected", pa.array(["x", "y"]))
    out = normalize(table, "demo", NOW)
    assert out.table.column("native_id").to_pylist() == ["1", "2"]


def test_short_fields_have_entities_decoded() -> None:
    row = one(title="R&amp;D Engineer", company="Smith &amp; Co", location="S&#227;o Paulo, Brazil")
    assert (row["title"], row["company"], row["location"], row["city"]) == (
        "R&D Engineer",
        "Smith & Co",
        "São Paulo, Brazil",
        "São Paulo",
    )


def test_columns_of_the_wrong_type_are_read_leniently_and_counted() -> None:
    table = pa.table(
        {
            "native_id": ["1", "2", "3"],
            "title": ["A", "B", "C"],
            "company": ["X", "X", "X"],
            "is_remote": ["yes", "no", "maybe"],
            "salary_min": ["120,000", "n/a", None],
            "description": [["nested"], ["list"], None],
        }
    )
    out = normalize(table, "file", NOW)
    assert out.table.num_rows == 3 and out.rejected == {}
    assert out.table.column("is_remote").to_pylist() == [True, False, None]
    assert out.table.column("salary_min").to_pylist() == [120_000.0, None, None]
    assert out.table.column("description").to_pylist() == [None, None, None]
    assert out.repaired == {"unreadable is_remote": 1, "unreadable salary_min": 1, "unreadable description": 2}
