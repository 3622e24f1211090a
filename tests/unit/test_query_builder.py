"""core/query.py: every filter alone produces the expected SQL fragment and parameters; bad input is
refused before any SQL is built; hostile text only ever travels as a parameter."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest

from core import query
from core.errors import QueryError, UnknownColumn
from core.query import ColumnFilter, JobFilter, Sort

D1, D2 = date(2025, 1, 1), date(2025, 2, 1)

# (filter, a fragment the WHERE must contain, the parameters that fragment adds, in order)
CASES: list[tuple[str, JobFilter, str, list[object]]] = [
    ("text one word", JobFilter(text="Python"), 'contains(j._search, ?)', ["python"]),
    ("text words", JobFilter(text="senior  Go"), "contains(j._search, ?) AND contains(j._search, ?)", ["senior", "go"]),
    ("desc", JobFilter(desc="kubernetes"), "j._fts_id IN (SELECT fts_id FROM desc_match)", []),
    ("posted from", JobFilter(posted_from=D1), 'j."posted_at" >= ?', [datetime(2025, 1, 1)]),
    ("posted to inclusive", JobFilter(posted_to=D1), 'j."posted_at" < ?', [datetime(2025, 1, 2)]),
    ("seen range", JobFilter(seen_from=D1, seen_to=D2), 'j."first_seen_at" >= ? AND j."first_seen_at" < ?',
     [datetime(2025, 1, 1), datetime(2025, 2, 2)]),
    ("salary min", JobFilter(salary_min=100_000), 'coalesce(j."salary_annual_max", j."salary_annual_min") >= ?', [100_000.0]),
    ("salary max", JobFilter(salary_max=90_000), 'coalesce(j."salary_annual_min", j."salary_annual_max") <= ?', [90_000.0]),
    ("salary known", JobFilter(salary_known=True), 'j."salary_annual_min" IS NOT NULL OR j."salary_annual_max" IS NOT NULL', []),
    ("currency", JobFilter(currency="EUR"), 'j."salary_currency" = ?', ["EUR"]),
    ("workplace", JobFilter(workplace=("remote", "hybrid")), 'j."workplace_type" IN (?, ?)', ["remote", "hybrid"]),
    ("location", JobFilter(location=" Berlin "), 'contains(lower(CAST(j."location" AS VARCHAR)), ?)', ["berlin"] * 5),
    ("countries", JobFilter(countries=("DE",)), 'j."country" IN (?)', ["DE"]),
    ("companies", JobFilter(companies=("Acme", "Hooli")), 'j."company" IN (?, ?)', ["Acme", "Hooli"]),
    ("sources", JobFilter(sources=("lever",)), 'j."source" IN (?)', ["lever"]),
    ("employment", JobFilter(employment_types=("contract",)), 'j."employment_type" IN (?)', ["contract"]),
    ("seniority", JobFilter(seniorities=("senior", "staff")), 'j."seniority" IN (?, ?)', ["senior", "staff"]),
    ("listed", JobFilter(), 'j."delisted_at" IS NULL', []),
    ("delisted", JobFilter(listing="delisted"), 'j."delisted_at" IS NOT NULL', []),
    ("starred", JobFilter(starred=True), 'j."job_id" IN (SELECT job_id FROM user_jobs WHERE starred)', []),
    ("stages", JobFilter(stages=("applied",)), 'j."job_id" IN (SELECT job_id FROM user_jobs WHERE stage IN (?))', ["applied"]),
    ("stages with inbox", JobFilter(stages=("inbox", "saved")),
     'j."job_id" NOT IN (SELECT job_id FROM user_jobs WHERE NOT (stage IN (?, ?)))', ["inbox", "saved"]),
    ("hidden hide", JobFilter(), 'j."job_id" NOT IN (SELECT job_id FROM user_jobs WHERE hidden)', []),
    ("hidden only", JobFilter(hidden="only"), 'j."job_id" IN (SELECT job_id FROM user_jobs WHERE hidden)', []),
    ("col contains", JobFilter(column_filters=(ColumnFilter("title", "contains", "Dev%"),)),
     'contains(lower(CAST(j."title" AS VARCHAR)), ?)', ["dev%"]),
    ("col equals text", JobFilter(column_filters=(ColumnFilter("city", "equals", "Berlin"),)),
     'lower(CAST(j."city" AS VARCHAR)) = ?', ["berlin"]),
    ("col not_equal text", JobFilter(column_filters=(ColumnFilter("city", "not_equal", "Berlin"),)),
     '(j."city" IS NULL OR lower(CAST(j."city" AS VARCHAR)) <> ?)', ["berlin"]),
    ("col starts_with", JobFilter(column_filters=(ColumnFilter("company", "starts_with", "Ac"),)),
     'starts_with(lower(CAST(j."company" AS VARCHAR)), ?)', ["ac"]),
    ("col blank text", JobFilter(column_filters=(ColumnFilter("department", "blank"),)),
     """coalesce(CAST(j."department" AS VARCHAR), '') = ''""", []),
    ("col not_blank number", JobFilter(column_filters=(ColumnFilter("salary_min", "not_blank"),)),
     'j."salary_min" IS NOT NULL', []),
    ("col gt number", JobFilter(column_filters=(ColumnFilter("salary_max", "gt", "1e5"),)), 'j."salary_max" > ?', [100_000.0]),
    ("col in_range number", JobFilter(column_filters=(ColumnFilter("salary_min", "in_range", 1, 2),)),
     'j."salary_min" BETWEEN ? AND ?', [1.0, 2.0]),
    ("col equals day", JobFilter(column_filters=(ColumnFilter("posted_at", "equals", "2025-01-01 00:00:00"),)),
     '(j."posted_at" >= ? AND j."posted_at" < ?)', [datetime(2025, 1, 1), datetime(2025, 1, 2)]),
    ("col lte day", JobFilter(column_filters=(ColumnFilter("posted_at", "lte", "2025-01-01"),)),
     'j."posted_at" < ?', [datetime(2025, 1, 2)]),
    ("col gt day", JobFilter(column_filters=(ColumnFilter("posted_at", "gt", "2025-01-01"),)),
     'j."posted_at" >= ?', [datetime(2025, 1, 2)]),
    ("col bool", JobFilter(column_filters=(ColumnFilter("is_remote", "equals", "true"),)), 'j."is_remote" = ?', [True]),
    ("col user stage", JobFilter(column_filters=(ColumnFilter("stage", "equals", "Applied"),)),
     "lower(CAST(coalesce(u.stage, 'inbox') AS VARCHAR)) = ?", ["applied"]),
    ("col user starred", JobFilter(column_filters=(ColumnFilter("starred", "equals", 1),)),
     "coalesce(u.starred, false) = ?", [True]),
]  # fmt: skip


def _where(sql: str) -> str:
    return sql.split(" WHERE ", 1)[1].split("), c AS", 1)[0]


@pytest.mark.parametrize(("flt", "fragment", "params"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_filter_alone(flt: JobFilter, fragment: str, params: list[object]) -> None:
    sql, got = query.build_count(flt, table="jobs_3")
    where = _where(sql)
    assert fragment in where
    pos = where.index(fragment)
    before = where[:pos].count("?")
    assert got[before : before + len(params)] == params
    assert sql.count("?") == len(got)


def test_default_filter_is_listed_and_not_hidden_only() -> None:
    sql, params = query.build_count(JobFilter(), table="jobs")
    listed = f'(j."delisted_at" IS NULL OR j."job_id" IN (SELECT job_id FROM user_jobs WHERE {query.HAS_USER_DATA}))'
    assert _where(sql) == listed + ' AND j."job_id" NOT IN (SELECT job_id FROM user_jobs WHERE hidden)'
    assert params == []


def test_show_and_both_add_nothing() -> None:
    sql, _ = query.build_count(JobFilter(listing="both", hidden="show"))
    assert _where(sql) == "true"


def test_all_filters_combined_keep_parameters_in_order() -> None:
    flt = JobFilter(
        text="data eng", posted_from=D1, posted_to=D2, salary_min=1.0, salary_max=2.0, currency="USD",
        workplace=("remote",), location="york", countries=("US",), companies=("Acme",), sources=("lever",),
        employment_types=("full_time",), seniorities=("senior",), listing="both", starred=True,
        stages=("applied",), hidden="only", collapse_dups=True,
        column_filters=(ColumnFilter("salary_min", "gte", 5), ColumnFilter("notes", "contains", "call")),
    )  # fmt: skip
    sql, params = query.build_page(flt, Sort("salary_annual_max", desc=False), ("x", "id9"), "next", 50, table="jobs_1")
    assert params == [
        "data", "eng", datetime(2025, 1, 1), datetime(2025, 2, 2), 1.0, 2.0, "USD", "york", "york", "york", "york", "york",
        "remote", "US", "Acme", "lever", "full_time", "senior", "applied", 5.0, "call", "x", "x", "id9", 51,
    ]  # fmt: skip
    assert sql.count("?") == len(params)
    assert "LEFT JOIN user_jobs AS u" in sql  # the notes header filter needs the user columns
    assert "PARTITION BY dup_group" in sql


@pytest.mark.parametrize("column", ["posted_at", "salary_annual_max", "company", "title", "source", "job_id"])
@pytest.mark.parametrize("desc", [True, False])
def test_sort_on_registry_columns(column: str, desc: bool) -> None:
    sql, params = query.build_page(JobFilter(), Sort(column, desc), None, "next", 10)
    d = "DESC" if desc else "ASC"
    assert f'j."{column}" AS _sort_key' in sql
    assert f"ORDER BY _sort_key {d} NULLS LAST, job_id {d} LIMIT ?" in sql
    assert params[-1] == 11  # one extra row says whether there is a next page


@pytest.mark.parametrize(
    ("column", "expr"),
    [
        ("starred", "coalesce(u.starred, false)"),
        ("stage", "coalesce(u.stage_rank, 0)"),
        ("updated_at", "u.updated_at"),
        ("follow_up_on", "u.follow_up_on"),
    ],
)
def test_sort_on_user_columns_joins_the_mirror(column: str, expr: str) -> None:
    sql, _ = query.build_page(JobFilter(), Sort(column), None, "next", 10)
    assert f"{expr} AS _sort_key" in sql
    assert "LEFT JOIN user_jobs AS u ON u.job_id = j.job_id" in sql


def test_default_sort_does_not_join_the_mirror_before_the_limit() -> None:
    sql, _ = query.build_page(JobFilter(), Sort(), None, "next", 10)
    assert "LEFT JOIN user_jobs AS u ON" not in sql
    assert "LEFT JOIN user_jobs AS u2 ON u2.job_id = p.job_id" in sql


@pytest.mark.parametrize(
    ("cursor", "desc", "direction", "cond", "params"),
    [
        (("v", "id"), True, "next", "(_sort_key IS NULL OR _sort_key < ? OR (_sort_key = ? AND job_id < ?))", ["v", "v", "id"]),
        (("v", "id"), False, "next", "(_sort_key IS NULL OR _sort_key > ? OR (_sort_key = ? AND job_id > ?))", ["v", "v", "id"]),
        (("v", "id"), True, "prev", "(_sort_key > ? OR (_sort_key = ? AND job_id > ?))", ["v", "v", "id"]),
        ((None, "id"), True, "next", "(_sort_key IS NULL AND job_id < ?)", ["id"]),
        ((None, "id"), False, "prev", "(_sort_key IS NOT NULL OR job_id < ?)", ["id"]),
    ],
)  # fmt: skip
def test_keyset_conditions(
    cursor: tuple[object, str], desc: bool, direction: str, cond: str, params: list[object]
) -> None:
    sql, got = query.build_page(JobFilter(listing="both", hidden="show"), Sort("title", desc), cursor, direction, 5)
    assert f"FROM c WHERE {cond} ORDER BY" in sql
    assert got == [*params, 6]
    if direction == "prev":  # walked backwards (NULLs first), handed back in forward order
        assert "NULLS FIRST" in sql and sql.rstrip().endswith("NULLS LAST, p.job_id " + ("DESC" if desc else "ASC"))


BAD: list[tuple[str, object, type[Exception], str]] = [
    ("workplace", JobFilter(workplace=("moon",)), QueryError, "workplace: unknown value 'moon'"),
    ("stage", JobFilter(stages=("hired",)), QueryError, "stages: unknown value 'hired'"),
    ("listing", JobFilter(listing="all"), QueryError, "listing: unknown value"),
    ("hidden", JobFilter(hidden="no"), QueryError, "hidden: unknown value"),
    ("posted reversed", JobFilter(posted_from=D2, posted_to=D1), QueryError, "posted: range is reversed"),
    ("seen reversed", JobFilter(seen_from=D2, seen_to=D1), QueryError, "first seen: range is reversed"),
    ("salary reversed", JobFilter(salary_min=10.0, salary_max=1.0), QueryError, "salary: range is reversed"),
    ("salary nan", JobFilter(salary_min=float("nan")), QueryError, "finite"),
    ("salary text", JobFilter(salary_min="100"), QueryError, "salary: expected"),  # type: ignore[arg-type]
    ("posted not a date", JobFilter(posted_from="2025-01-01"), QueryError, "posted: expected date"),  # type: ignore[arg-type]
    ("list not tuple", JobFilter(companies="Acme"), QueryError, "companies: expected a tuple"),  # type: ignore[arg-type]
    ("text not str", JobFilter(text=5), QueryError, "text: expected text"),  # type: ignore[arg-type]
    ("unknown column", JobFilter(column_filters=(ColumnFilter("salary; DROP", "equals", "x"),)), UnknownColumn, "unknown column"),
    ("not filterable", JobFilter(column_filters=(ColumnFilter("content_hash", "equals", "x"),)), QueryError, "cannot be filtered"),
    ("description not hot", JobFilter(column_filters=(ColumnFilter("description", "contains", "x"),)), QueryError, "cannot be filtered"),
    ("bad op", JobFilter(column_filters=(ColumnFilter("title", "like", "x"),)), QueryError, "unknown operator 'like'"),
    ("op for kind", JobFilter(column_filters=(ColumnFilter("title", "gt", "x"),)), QueryError, "does not apply to a text column"),
    ("contains on number", JobFilter(column_filters=(ColumnFilter("salary_min", "contains", "1"),)), QueryError, "does not apply"),
    ("missing value", JobFilter(column_filters=(ColumnFilter("title", "equals"),)), QueryError, "needs a value"),
    ("bad number", JobFilter(column_filters=(ColumnFilter("salary_min", "gt", "lots"),)), QueryError, "expected a number"),
    ("bad date", JobFilter(column_filters=(ColumnFilter("posted_at", "gt", "yesterday"),)), QueryError, "expected a date"),
    ("bad bool", JobFilter(column_filters=(ColumnFilter("is_remote", "equals", "maybe"),)), QueryError, "true or false"),
    ("range reversed", JobFilter(column_filters=(ColumnFilter("salary_min", "in_range", 5, 1),)), QueryError, "reversed"),
    ("range open", JobFilter(column_filters=(ColumnFilter("salary_min", "in_range", 5),)), QueryError, "value_to"),
    ("not a filter", "text", QueryError, "expected a JobFilter"),
]  # fmt: skip


@pytest.mark.parametrize(("flt", "error", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_filters_raise_before_sql(flt: JobFilter, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message.replace("(", r"\(")):
        query.validate(flt)
    with pytest.raises(error):
        query.build_page(flt)


@pytest.mark.parametrize(
    ("sort", "error", "message"),
    [
        (Sort("nope"), UnknownColumn, "unknown column 'nope'"),
        (Sort("url"), QueryError, "not sortable"),
        (Sort("description"), QueryError, "not sortable"),
        (Sort('posted_at" DESC; --'), UnknownColumn, "unknown column"),
        (Sort("notes"), UnknownColumn, "unknown column"),
    ],
)
def test_sort_whitelist(sort: Sort, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        query.build_page(JobFilter(), sort)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"direction": "up"}, "direction"),
        ({"limit": 0}, "limit"),
        ({"limit": True}, "limit"),
        ({"limit": query.MAX_LIMIT + 1}, "limit"),
        ({"cursor": ("v",)}, "cursor"),
        ({"cursor": ("v", 3)}, "cursor"),
        ({"table": "jobs; DROP TABLE jobs"}, "table name"),
    ],
)
def test_bad_page_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(QueryError, match=message):
        query.build_page(JobFilter(), **kwargs)  # type: ignore[arg-type]


def test_other_builders_validate_their_arguments() -> None:
    with pytest.raises(QueryError, match="facet"):
        query.build_facet(JobFilter(), "salary_text")
    with pytest.raises(QueryError, match="top"):
        query.build_facet(JobFilter(), "company", 0)
    with pytest.raises(QueryError, match="bucket by"):
        query.build_timeseries(JobFilter(), by="title")
    with pytest.raises(QueryError, match="bucket"):
        query.build_timeseries(JobFilter(), bucket="hour")
    with pytest.raises(QueryError, match="bins"):
        query.build_salary_distribution(JobFilter(), bins=0)


HOSTILE = [
    "'; DROP TABLE jobs; --",
    "%",
    "_",
    "\\",
    "'",
    '"',
    "a\x00b",
    "x" * 10_000,
    "Robert'); DROP TABLE user_jobs;--",
]


@pytest.mark.parametrize("evil", HOSTILE, ids=lambda s: repr(s[:12]))
def test_hostile_text_only_travels_as_parameters(evil: str) -> None:
    flt = JobFilter(
        text=evil, location=evil, currency=evil, countries=(evil,), companies=(evil,), sources=(evil,),
        employment_types=(evil,), seniorities=(evil,),
        column_filters=(ColumnFilter("title", "contains", evil), ColumnFilter("notes", "starts_with", evil)),
    )  # fmt: skip
    builders = [
        query.build_page(flt, Sort(), (evil, evil), "next", 10),
        query.build_count(flt),
        query.build_facet(flt, "company"),
        query.build_timeseries(flt),
        query.build_salary_distribution(flt),
        query.build_job(evil),
        query.build_duplicates(evil),
    ]
    for sql, params in builders:
        for token in (evil, evil.lower(), "DROP"):
            assert token not in sql or token in ("%", "_", "'", '"', "\\")
        assert any(evil.lower() in str(p).lower() for p in params)
        assert sql.count("?") == len(params)
    # Quotes in the SQL are balanced: nothing leaked into a literal.
    sql, _ = builders[0]
    assert sql.count("'") % 2 == 0


def test_built_sql_is_valid_duckdb() -> None:
    """Every builder's SQL binds and runs against the table shapes the catalog creates (empty here)."""
    con = duckdb.connect(":memory:")
    cols = ", ".join(f"{schema_col} {query_type}" for schema_col, query_type in _table_columns())
    con.execute(f"CREATE TABLE jobs_1 ({cols}, desc_file VARCHAR, _search VARCHAR, _dup_size BIGINT, _fts_id BIGINT)")
    con.execute(
        "CREATE TABLE user_jobs (job_id VARCHAR, starred BOOLEAN, stage VARCHAR, notes VARCHAR, applied_at TIMESTAMP,"
        " follow_up_on DATE, hidden BOOLEAN, updated_at TIMESTAMP, stage_rank INTEGER)"
    )
    con.execute("CREATE TABLE desc_match (fts_id BIGINT)")
    flt = JobFilter(
        text="a b", desc="x", collapse_dups=True, column_filters=(ColumnFilter("stage", "equals", "saved"),)
    )
    for sql, params in [
        query.build_page(flt, Sort("stage"), (1, "id"), "prev", 10, table="jobs_1"),
        query.build_page(flt, Sort(), None, "next", None, table="jobs_1", with_key=False),
        query.build_count(flt, table="jobs_1"),
        query.build_facet(flt, "stage", table="jobs_1"),
        query.build_facet(flt, "country", table="jobs_1"),
        query.build_timeseries(flt, "posted_at", "week", table="jobs_1"),
        query.build_salary_distribution(flt, 10, table="jobs_1"),
        query.build_job("x", table="jobs_1"),
        query.build_duplicates("x", table="jobs_1"),
    ]:
        assert con.execute(sql, params).fetchall() in ([], [(0,)])


def _table_columns() -> list[tuple[str, str]]:
    from core import schema

    return [(schema.quote(c), schema.BY_NAME[c].sql) for c in schema.HOT_COLUMNS]
