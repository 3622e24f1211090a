# ruff: noqa: S608  -- this module is the SQL builder: identifiers come from core.schema, values are parameters.
"""Pure SQL builders for the catalog: frozen filter objects in, ``(sql, params)`` out.

Identifiers come only from ``core.schema`` (``schema.quote`` raises ``UnknownColumn`` for anything else);
every value is a ``?`` parameter. Text matching is literal and case-insensitive (``contains``/``starts_with``
on ``lower()``), so ``%`` and ``_`` are never wildcards.

The SQL runs against two tables the catalog owns: the hot jobs table of the current snapshot (its name is
passed in) and the small ``user_jobs`` mirror of the user data. Filters on user data are semi/anti-joins
against the mirror, so the big table is only joined with it when the sort or a header filter needs a user
column; the page itself is joined with the mirror after the limit.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any

from core import schema
from core.errors import QueryError

HAS_USER_DATA = "(starred OR stage <> 'inbox' OR coalesce(notes, '') <> '' OR follow_up_on IS NOT NULL OR applied_at IS NOT NULL)"  # over the mirror's columns: what puts a job in "My pipeline"
MIRROR = "user_jobs"  # in-memory mirror of the user data (job_id, USER_OUTPUT..., stage_rank)
DESC_MATCH = "desc_match"  # Arrow table (fts_id) of description-search hits, registered on the cursor
WATCH_UNSEEN = "watch_unseen"  # in-memory mirror (watch_id, job_id) of the watches' unseen matches (core.watches)
# Catalog-only column: the job's id in the description index (core.search.fts_id), computed once at load.
FTS_ID = "_fts_id"
SORT_KEY = "_sort_key"  # hidden column of a page: the keyset value of each row
# Sort by how well a job matches the description search (tantivy's BM25, higher first): the scores come in
# a ``score`` column of DESC_MATCH, so this sort needs a description search.
RELEVANCE = "relevance"
# Catalog-only column: lower(title) + newline + lower(company), computed once at load. A search word never
# contains a newline (words are split on whitespace), so it matches this iff it matches title or company.
SEARCH_COLUMN = "_search"
# Catalog-only column: how many postings share the row's dup_group in the whole snapshot (1 for none).
DUP_SIZE = "_dup_size"
SEARCH_EXPR = "lower(coalesce(\"title\", '') || chr(10) || coalesce(\"company\", ''))"

# Low-cardinality text the catalog stores as ENUM (ordered alphabetically, so ORDER BY matches VARCHAR).
ENUM_COLUMNS = (
    "source", "country", "workplace_type", "employment_type", "seniority",
    "salary_currency", "salary_period", "salary_source",
)  # fmt: skip
OUTPUT_COLUMNS: tuple[str, ...] = schema.HOT_COLUMNS
USER_OUTPUT = ("starred", "stage", "notes", "applied_at", "follow_up_on", "hidden", "updated_at")
USER_SORTABLE = ("starred", "stage", "updated_at", "follow_up_on")
FACETS = (
    "company", "source", "location", "country", "stage", "seniority", "employment_type", "workplace_type",
    "salary_currency",
)  # fmt: skip
TIMESERIES_COLUMNS = ("posted_at", "first_seen_at", "last_seen_at", "changed_at", "delisted_at")
BUCKETS = ("day", "week", "month")
LISTING = ("listed", "delisted", "both")
HIDDEN = ("hide", "show", "only")
DIRECTIONS = ("next", "prev")
TEXT_OPS = ("contains", "equals", "not_equal", "starts_with", "blank", "not_blank")
ORDERED_OPS = ("equals", "not_equal", "lt", "lte", "gt", "gte", "in_range", "blank", "not_blank")
BOOL_OPS = ("equals", "not_equal", "blank", "not_blank")
OPS = tuple(dict.fromkeys(TEXT_OPS + ORDERED_OPS))
MAX_LIMIT = 100_000

# How a user column reads when a job has no user row (a LEFT JOIN gives NULL).
_USER_EXPR = {
    "starred": "coalesce({u}.starred, false)",
    "stage": "coalesce({u}.stage, 'inbox')",
    "notes": "coalesce({u}.notes, '')",
    "applied_at": "{u}.applied_at",
    "follow_up_on": "{u}.follow_up_on",
    "hidden": "coalesce({u}.hidden, false)",
    "updated_at": "{u}.updated_at",
}
_USER_KIND = {
    "starred": "bool", "stage": "text", "notes": "text", "applied_at": "time", "follow_up_on": "time",
    "hidden": "bool", "updated_at": "time",
}  # fmt: skip
_KIND_BY_SQL = {"VARCHAR": "text", "DOUBLE": "number", "TIMESTAMP": "time", "BOOLEAN": "bool"}
_OPS_BY_KIND = {"text": TEXT_OPS, "number": ORDERED_OPS, "time": ORDERED_OPS, "bool": BOOL_OPS}
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f"}
_TABLE_NAME = re.compile(r"jobs(_\d+)?")


@dataclass(frozen=True)
class ColumnFilter:
    """One header filter of the grid."""

    column: str  # a filterable registry column or a user column (starred, stage, notes, ...)
    op: str  # one of OPS
    value: str | float | None = None
    value_to: str | float | None = None


@dataclass(frozen=True)
class JobFilter:
    text: str = ""  # every word in title or company (case-insensitive, literal)
    desc: str = ""  # description search (FTS5, core/search.py)
    posted_from: date | None = None
    posted_to: date | None = None  # inclusive
    seen_from: date | None = None  # first_seen_at
    seen_to: date | None = None
    salary_min: float | None = None  # annualized; the job's range must overlap [min, max]
    salary_max: float | None = None
    currency: str | None = None
    salary_known: bool = False
    workplace: tuple[str, ...] = ()
    location: str = ""  # substring of location / city / region / country
    countries: tuple[str, ...] = ()
    companies: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    employment_types: tuple[str, ...] = ()
    seniorities: tuple[str, ...] = ()
    listing: str = "listed"  # "listed" also keeps closed jobs with user data: a pipeline never loses a job
    pipeline: bool = False  # only jobs with user data (starred, a stage, notes, a follow-up or applied)
    starred: bool = False
    stages: tuple[str, ...] = ()  # a job without user data is in "inbox"
    hidden: str = "hide"
    collapse_dups: bool = False  # one row per dup_group, with dup_count
    column_filters: tuple[ColumnFilter, ...] = ()
    watch_unseen: int | None = None  # only the unseen matches of this watch (core.watches), via WATCH_UNSEEN


@dataclass(frozen=True)
class Sort:
    column: str = "posted_at"  # a sortable registry column or one of USER_SORTABLE
    desc: bool = True


DEFAULT_SORT = Sort()
Sql = tuple[str, list[Any]]


# --- validation --------------------------------------------------------------------------------------


def _kind(column: str) -> str:
    """text / number / time / bool of a filterable column (registry or user)."""
    if column in _USER_KIND:
        return _USER_KIND[column]
    col = schema.column(column)
    if not col.filterable or not col.hot:
        raise QueryError(f"column {column!r} cannot be filtered")
    return _KIND_BY_SQL[col.sql]


def _as_day(column: str, value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            pass
    raise QueryError(f"filter on {column!r}: expected a date like 2024-05-31, got {value!r}")


def _as_number(column: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise QueryError(f"filter on {column!r}: expected a number, got {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise QueryError(f"filter on {column!r}: expected a number, got {value!r}") from None
    if not math.isfinite(number):
        raise QueryError(f"filter on {column!r}: expected a finite number, got {value!r}")
    return number


def _as_bool(column: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise QueryError(f"filter on {column!r}: expected true or false, got {value!r}")


def _coerce(cf: ColumnFilter) -> tuple[Any, Any]:
    """Validate one header filter; return its (value, value_to) in the column's Python type."""
    kind = _kind(cf.column)
    if cf.op not in OPS:
        raise QueryError(f"filter on {cf.column!r}: unknown operator {cf.op!r} (known: {', '.join(OPS)})")
    if cf.op not in _OPS_BY_KIND[kind]:
        raise QueryError(f"filter on {cf.column!r}: operator {cf.op!r} does not apply to a {kind} column")
    if cf.op in ("blank", "not_blank"):
        return None, None
    if cf.value is None:
        raise QueryError(f"filter on {cf.column!r}: operator {cf.op!r} needs a value")
    convert: Any = {"text": lambda c, v: _text(c, v), "number": _as_number, "time": _as_day, "bool": _as_bool}[kind]
    value = convert(cf.column, cf.value)
    if cf.op != "in_range":
        return value, None
    if cf.value_to is None:
        raise QueryError(f"filter on {cf.column!r}: in_range needs value and value_to")
    value_to = convert(cf.column, cf.value_to)
    if value > value_to:
        raise QueryError(f"filter on {cf.column!r}: range is reversed ({value} > {value_to})")
    return value, value_to


def _text(field: str, value: object) -> str:
    if not isinstance(value, str):
        raise QueryError(f"{field}: expected text, got {type(value).__name__}")
    return value


def _texts(field: str, values: object) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, tuple | list):
        raise QueryError(f"{field}: expected a tuple of strings, got {values!r:.80}")
    for v in values:
        _text(field, v)
    return tuple(values)


def _subset(field: str, values: object, allowed: tuple[str, ...]) -> None:
    for v in _texts(field, values):
        if v not in allowed:
            raise QueryError(f"{field}: unknown value {v!r} (allowed: {', '.join(allowed)})")


def _range(field: str, low: Any, high: Any, typ: type | tuple[type, ...]) -> None:
    for v in (low, high):
        if v is not None and (not isinstance(v, typ) or isinstance(v, bool)):
            raise QueryError(f"{field}: expected {getattr(typ, '__name__', 'a number')}, got {v!r}")
    if low is not None and high is not None and low > high:
        raise QueryError(f"{field}: range is reversed ({low} > {high})")


def validate(flt: JobFilter) -> None:
    """Raise QueryError / UnknownColumn with a clear message; nothing is built or run before this passes."""
    if not isinstance(flt, JobFilter):
        raise QueryError(f"expected a JobFilter, got {type(flt).__name__}")
    for name in ("text", "desc", "location"):
        _text(name, getattr(flt, name))
    _range("posted", flt.posted_from, flt.posted_to, date)
    _range("first seen", flt.seen_from, flt.seen_to, date)
    _range("salary", flt.salary_min, flt.salary_max, (int, float))
    for v in (flt.salary_min, flt.salary_max):
        if v is not None and not math.isfinite(v):
            raise QueryError(f"salary: expected a finite number, got {v!r}")
    if flt.currency is not None:
        _text("currency", flt.currency)
    _subset("workplace", flt.workplace, schema.WORKPLACE_TYPES)
    _subset("stages", flt.stages, schema.STAGES)
    for name in ("countries", "companies", "sources", "employment_types", "seniorities"):
        _texts(name, getattr(flt, name))
    if flt.listing not in LISTING:
        raise QueryError(f"listing: unknown value {flt.listing!r} (allowed: {', '.join(LISTING)})")
    if flt.hidden not in HIDDEN:
        raise QueryError(f"hidden: unknown value {flt.hidden!r} (allowed: {', '.join(HIDDEN)})")
    if flt.watch_unseen is not None and (isinstance(flt.watch_unseen, bool) or not isinstance(flt.watch_unseen, int)):
        raise QueryError(f"watch_unseen: expected a watch id, got {flt.watch_unseen!r}")
    if not isinstance(flt.column_filters, tuple | list):
        raise QueryError("column_filters: expected a tuple of ColumnFilter")
    for cf in flt.column_filters:
        if not isinstance(cf, ColumnFilter):
            raise QueryError(f"column_filters: expected ColumnFilter, got {type(cf).__name__}")
        _coerce(cf)


def validate_sort(sort: Sort) -> None:
    if not isinstance(sort, Sort):
        raise QueryError(f"expected a Sort, got {type(sort).__name__}")
    if sort.column in USER_SORTABLE or sort.column == RELEVANCE:
        return
    if not schema.column(sort.column).sortable or not schema.column(sort.column).hot:
        raise QueryError(f"column {sort.column!r} is not sortable")


def _check_table(table: str) -> str:
    if not _TABLE_NAME.fullmatch(table):
        raise QueryError(f"not a catalog table name: {table!r}")
    return table


# --- WHERE -------------------------------------------------------------------------------------------


def _j(name: str) -> str:
    return "j." + schema.quote(name)


def _lower(expr: str) -> str:
    return f"lower(CAST({expr} AS VARCHAR))"


def _in(expr: str, values: tuple[str, ...]) -> Sql:
    return f"{expr} IN ({', '.join('?' * len(values))})", list(values)


def _day_start(d: date) -> datetime:
    return datetime(d.year, d.month, d.day)


def _user_expr(name: str, alias: str = "u") -> str:
    return _USER_EXPR[name].format(u=alias)


def _column_expr(column: str) -> str:
    return _user_expr(column) if column in _USER_KIND else _j(column)


def _column_filter(cf: ColumnFilter) -> Sql:
    value, value_to = _coerce(cf)
    kind = _kind(cf.column)
    e = _column_expr(cf.column)
    op = cf.op
    if op == "blank":
        return (f"coalesce(CAST({e} AS VARCHAR), '') = ''", []) if kind == "text" else (f"{e} IS NULL", [])
    if op == "not_blank":
        return (f"coalesce(CAST({e} AS VARCHAR), '') <> ''", []) if kind == "text" else (f"{e} IS NOT NULL", [])
    if kind == "text":
        needle = str(value).lower()
        sql = {
            "contains": f"contains({_lower(e)}, ?)",
            "equals": f"{_lower(e)} = ?",
            "not_equal": f"({e} IS NULL OR {_lower(e)} <> ?)",
            "starts_with": f"starts_with({_lower(e)}, ?)",
        }[op]
        return sql, [needle]
    if kind == "bool":
        return (f"{e} = ?", [value]) if op == "equals" else (f"({e} IS NULL OR {e} <> ?)", [value])
    if kind == "number":
        simple = {"equals": "=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
        if op in simple:
            return f"{e} {simple[op]} ?", [value]
        if op == "not_equal":
            return f"({e} IS NULL OR {e} <> ?)", [value]
        return f"{e} BETWEEN ? AND ?", [value, value_to]
    # time: whole days, so "equals 2024-05-31" means any moment of that day
    start, end = _day_start(value), _day_start(value) + timedelta(days=1)
    if op == "equals":
        return f"({e} >= ? AND {e} < ?)", [start, end]
    if op == "not_equal":
        return f"({e} IS NULL OR {e} < ? OR {e} >= ?)", [start, end]
    if op == "in_range":
        return f"({e} >= ? AND {e} < ?)", [start, _day_start(value_to) + timedelta(days=1)]
    return {"lt": f"{e} < ?", "lte": f"{e} < ?", "gt": f"{e} >= ?", "gte": f"{e} >= ?"}[op], [
        {"lt": start, "lte": end, "gt": end, "gte": start}[op]
    ]


def _words(text: str) -> list[str]:
    return list(dict.fromkeys(w.lower() for w in text.split()))


def conditions(flt: JobFilter) -> list[Sql]:
    """The WHERE conditions of ``flt`` over ``j`` (jobs) and, for header filters on user columns, ``u``."""
    out: list[Sql] = []
    for word in _words(flt.text):
        out.append((f"contains(j.{SEARCH_COLUMN}, ?)", [word]))
    if flt.desc.strip():
        out.append((f"j.{FTS_ID} IN (SELECT fts_id FROM {DESC_MATCH})", []))
    for name, low, high in (
        ("posted_at", flt.posted_from, flt.posted_to),
        ("first_seen_at", flt.seen_from, flt.seen_to),
    ):
        if low is not None:
            out.append((f"{_j(name)} >= ?", [_day_start(low)]))
        if high is not None:
            out.append((f"{_j(name)} < ?", [_day_start(high) + timedelta(days=1)]))
    amin, amax = _j("salary_annual_min"), _j("salary_annual_max")
    if flt.salary_min is not None:
        out.append((f"coalesce({amax}, {amin}) >= ?", [float(flt.salary_min)]))
    if flt.salary_max is not None:
        out.append((f"coalesce({amin}, {amax}) <= ?", [float(flt.salary_max)]))
    if flt.salary_known:
        out.append((f"({amin} IS NOT NULL OR {amax} IS NOT NULL)", []))
    if flt.currency:
        out.append((f"{_j('salary_currency')} = ?", [flt.currency]))
    if flt.location.strip():
        needle = flt.location.strip().lower()
        place_columns = ("location", "locations", "city", "region", "country")
        parts = " OR ".join(f"contains({_lower(_j(c))}, ?)" for c in place_columns)
        out.append((f"({parts})", [needle] * len(place_columns)))
    for name, values in (
        ("workplace_type", flt.workplace),
        ("country", flt.countries),
        ("company", flt.companies),
        ("source", flt.sources),
        ("employment_type", flt.employment_types),
        ("seniority", flt.seniorities),
    ):
        if values:
            out.append(_in(_j(name), tuple(values)))
    job_id = _j("job_id")
    in_pipeline = f"{job_id} IN (SELECT job_id FROM {MIRROR} WHERE {HAS_USER_DATA})"
    if flt.listing == "listed":  # postings close after you apply: those stay in view, marked closed
        out.append((f"({_j('delisted_at')} IS NULL OR {in_pipeline})", []))
    elif flt.listing == "delisted":
        out.append((f"{_j('delisted_at')} IS NOT NULL", []))
    if flt.pipeline:
        out.append((in_pipeline, []))
    if flt.starred:
        out.append((f"{job_id} IN (SELECT job_id FROM {MIRROR} WHERE starred)", []))
    if flt.stages:
        stages = tuple(dict.fromkeys(flt.stages))
        if "inbox" in stages:  # jobs without a user row are in the inbox: exclude rows in other stages
            sub, params = _in("stage", stages)
            out.append((f"{job_id} NOT IN (SELECT job_id FROM {MIRROR} WHERE NOT ({sub}))", params))
        else:
            sub, params = _in("stage", stages)
            out.append((f"{job_id} IN (SELECT job_id FROM {MIRROR} WHERE {sub})", params))
    if flt.hidden == "hide":
        out.append((f"{job_id} NOT IN (SELECT job_id FROM {MIRROR} WHERE hidden)", []))
    elif flt.hidden == "only":
        out.append((f"{job_id} IN (SELECT job_id FROM {MIRROR} WHERE hidden)", []))
    for cf in flt.column_filters:
        out.append(_column_filter(cf))
    if flt.watch_unseen is not None:
        out.append((f"{job_id} IN (SELECT job_id FROM {WATCH_UNSEEN} WHERE watch_id = ?)", [flt.watch_unseen]))
    return out


def _needs_user_join(flt: JobFilter, sort: Sort | None = None, extra: str | None = None) -> bool:
    return (
        (sort is not None and sort.column in USER_SORTABLE)
        or extra in _USER_KIND
        or any(cf.column in _USER_KIND for cf in flt.column_filters)
    )


# --- the filtered relation ---------------------------------------------------------------------------


def sort_key(sort: Sort) -> str:
    """The expression a sort orders by (stage sorts in pipeline order through the mirror's stage_rank)."""
    if sort.column == RELEVANCE:
        return "m.score"
    if sort.column == "stage":
        return "coalesce(u.stage_rank, 0)"
    if sort.column in USER_SORTABLE:
        return _user_expr(sort.column)
    return _j(sort.column)


def _filtered(flt: JobFilter, table: str, sort: Sort | None = None, extra: str | None = None) -> Sql:
    """``WITH f AS (...)``: the filtered (and, if asked, collapsed) rows with their sort key."""
    validate(flt)
    conds = conditions(flt)
    where = " AND ".join(c for c, _ in conds) or "true"
    params = [p for _, ps in conds for p in ps]
    join = ""
    user_cols = ""
    if _needs_user_join(flt, sort, extra):
        join = f" LEFT JOIN {MIRROR} AS u ON u.job_id = j.job_id"
        user_cols = "".join(f", {_user_expr(n)} AS u_{n}" for n in USER_OUTPUT)
    if sort is not None and sort.column == RELEVANCE:
        if not flt.desc.strip():
            raise QueryError("sorting by relevance needs a description search")
        join += f" JOIN {DESC_MATCH} AS m ON m.fts_id = j.{FTS_ID}"
    key = f", {sort_key(sort)} AS {SORT_KEY}" if sort is not None else ""
    # rowid: a page is picked on (key, job_id) only, then its full rows are fetched by rowid (late
    # materialization; DuckDB prunes the columns of j.* that a query does not use).
    sql = f"WITH f AS (SELECT j.rowid AS _rid, j.*{user_cols}{key} FROM {_check_table(table)} AS j{join} WHERE {where})"
    if flt.collapse_dups:
        # The best matching row of each duplicate group, listed first, then the most recent. Only rows of
        # groups with several postings (DUP_SIZE > 1, a few percent) go through the window.
        best = "delisted_at IS NOT NULL, posted_at DESC NULLS LAST, first_seen_at DESC NULLS LAST, job_id"
        sql += (
            f", c AS (SELECT *, 1 AS dup_count FROM f WHERE {DUP_SIZE} = 1"
            f" UNION ALL BY NAME SELECT * EXCLUDE (_dup_rn) FROM (SELECT *, count(*) OVER w AS dup_count,"
            f" row_number() OVER (w ORDER BY {best}) AS _dup_rn FROM f WHERE {DUP_SIZE} > 1"
            " WINDOW w AS (PARTITION BY dup_group)) WHERE _dup_rn = 1)"
        )
    else:
        sql += ", c AS (SELECT * FROM f)"
    return sql, params


# --- builders ----------------------------------------------------------------------------------------


def _order(desc: bool, reverse: bool = False, alias: str = "") -> str:
    """Sort key with NULLs last (first when walking backwards), then job_id as the stable tie-breaker."""
    d = "DESC" if desc != reverse else "ASC"
    nulls = "NULLS FIRST" if reverse else "NULLS LAST"
    return f"{alias}{SORT_KEY} {d} {nulls}, {alias}job_id {d}"


def _keyset(cursor: tuple[Any, ...], desc: bool, direction: str) -> Sql:
    """Rows strictly after (next) or before (prev) ``cursor`` in the order: key NULLS LAST, job_id."""
    if not isinstance(cursor, tuple | list) or len(cursor) != 2 or not isinstance(cursor[1], str):
        raise QueryError(f"cursor: expected (sort value, job_id), got {cursor!r:.120}")
    value, job_id = cursor
    after = direction == "next"
    gt = "<" if desc == after else ">"  # the comparison that moves in the requested direction
    k = SORT_KEY
    if value is None:  # the cursor is among the NULL keys at the end
        if after:
            return f"({k} IS NULL AND job_id {gt} ?)", [job_id]
        return f"({k} IS NOT NULL OR job_id {gt} ?)", [job_id]
    nulls = f"{k} IS NULL OR " if after else ""
    return f"({nulls}{k} {gt} ? OR ({k} = ? AND job_id {gt} ?))", [value, value, job_id]


def _output(with_key: bool, collapse: bool) -> str:
    cols = [
        f"CAST(j.{schema.quote(c)} AS VARCHAR) AS {schema.quote(c)}" if c in ENUM_COLUMNS else _j(c)
        for c in OUTPUT_COLUMNS
    ]
    cols += [f"{_user_expr(n, 'u2')} AS {n}" for n in USER_OUTPUT]
    if collapse:
        cols.append("p.dup_count")
    if with_key:
        cols.append(f"p.{SORT_KEY}")
    return ", ".join(cols)


def build_page(
    flt: JobFilter,
    sort: Sort = DEFAULT_SORT,
    cursor: tuple[Any, ...] | None = None,
    direction: str = "next",
    limit: int | None = 100,
    *,
    table: str = "jobs",
    with_key: bool = True,
) -> Sql:
    """One page in sort order: ``limit + 1`` rows after (next) or before (prev) the keyset ``cursor``.

    The extra row tells the caller whether there is more. ``prev`` without a cursor is the last page.
    Rows come back in forward order either way; with ``prev`` the extra row is the first one.
    """
    validate_sort(sort)
    if direction not in DIRECTIONS:
        raise QueryError(f"direction: expected next or prev, got {direction!r}")
    most = MAX_LIMIT if with_key else 2**62  # a page is bounded; a full listing (rows, export) is not
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or not 0 < limit <= most):
        raise QueryError(f"limit: expected 1..{most}, got {limit!r}")
    sql, params = _filtered(flt, table, sort)
    reverse = direction == "prev"
    where = ""
    if cursor is not None:
        cond, cparams = _keyset(cursor, sort.desc, direction)
        where = f" WHERE {cond}"
        params += cparams
    dup_count = ", dup_count" if flt.collapse_dups else ""
    sql += f", p AS (SELECT _rid, job_id, {SORT_KEY}{dup_count} FROM c{where} ORDER BY {_order(sort.desc, reverse)}"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit + 1 if with_key else limit)
    sql += (
        f") SELECT {_output(with_key, flt.collapse_dups)} FROM p JOIN {_check_table(table)} AS j ON j.rowid = p._rid"
        f" LEFT JOIN {MIRROR} AS u2 ON u2.job_id = p.job_id ORDER BY {_order(sort.desc, alias='p.')}"
    )
    return sql, params


def build_count(flt: JobFilter, *, table: str = "jobs") -> Sql:
    sql, params = _filtered(flt, table)
    return sql + " SELECT count(*) FROM c", params


def build_ids(flt: JobFilter, *, table: str = "jobs") -> Sql:
    """The job ids of the filtered set, unordered (what a watch matches against a run's new jobs)."""
    sql, params = _filtered(flt, table)
    return sql + " SELECT job_id FROM c", params


def build_facet(flt: JobFilter, name: str, top: int = 20, *, table: str = "jobs") -> Sql:
    """(value, count) of one column over the filtered set, most frequent first; blanks are left out."""
    if name not in FACETS:
        raise QueryError(f"facet: unknown {name!r} (known: {', '.join(FACETS)})")
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise QueryError(f"facet: top must be a positive integer, got {top!r}")
    sql, params = _filtered(flt, table, extra=name)
    e = f"u_{name}" if name in _USER_KIND else schema.quote(name)
    # Group by the stored value (an ENUM groups fast), then turn it into text.
    sql += (
        f" SELECT CAST(v AS VARCHAR) AS value, n FROM (SELECT {e} AS v, count(*) AS n FROM c GROUP BY 1)"
        " WHERE coalesce(CAST(v AS VARCHAR), '') <> '' ORDER BY n DESC, value LIMIT ?"
    )
    return sql, [*params, top]


def build_timeseries(flt: JobFilter, by: str = "first_seen_at", bucket: str = "day", *, table: str = "jobs") -> Sql:
    """(bucket start date, count) over the filtered set; weeks start on Monday."""
    if by not in TIMESERIES_COLUMNS:
        raise QueryError(f"timeseries: cannot bucket by {by!r} (known: {', '.join(TIMESERIES_COLUMNS)})")
    if bucket not in BUCKETS:
        raise QueryError(f"timeseries: unknown bucket {bucket!r} (known: {', '.join(BUCKETS)})")
    sql, params = _filtered(flt, table)
    e = schema.quote(by)
    sql += (
        f" SELECT CAST(date_trunc(?, {e}) AS DATE) AS bucket, count(*) AS n FROM c"
        f" WHERE {e} IS NOT NULL GROUP BY 1 ORDER BY 1"
    )
    return sql, [*params, bucket]


def build_salary_distribution(flt: JobFilter, bins: int = 30, *, table: str = "jobs") -> Sql:
    """Per currency, an equal-width histogram of annualized midpoints between that currency's min and max.

    Rows: currency, bin (0-based), bin_start, bin_end, count (empty bins are left out)."""
    if isinstance(bins, bool) or not isinstance(bins, int) or not 1 <= bins <= 1000:
        raise QueryError(f"bins: expected 1..1000, got {bins!r}")
    sql, params = _filtered(flt, table)
    amin, amax, cur = (
        schema.quote("salary_annual_min"),
        schema.quote("salary_annual_max"),
        schema.quote("salary_currency"),
    )
    sql += f"""
    , m AS MATERIALIZED (SELECT CAST({cur} AS VARCHAR) AS currency, (coalesce({amin}, {amax}) + coalesce({amax}, {amin})) / 2 AS mid
            FROM c WHERE ({amin} IS NOT NULL OR {amax} IS NOT NULL) AND {cur} IS NOT NULL),
    r AS (SELECT currency, min(mid) AS lo, max(mid) AS hi FROM m GROUP BY currency),
    b AS (SELECT currency, lo, hi,
                 least(CAST(floor(coalesce((mid - lo) / nullif(hi - lo, 0), 0) * ?) AS INTEGER), ? - 1) AS bin
          FROM m JOIN r USING (currency))
    SELECT currency, bin, lo + (hi - lo) * bin / ? AS bin_start, lo + (hi - lo) * (bin + 1) / ? AS bin_end,
           count(*) AS count
    FROM b GROUP BY currency, bin, lo, hi ORDER BY currency, bin
    """
    return sql, [*params, bins, bins, bins, bins]


def build_job(job_id: str, *, table: str = "jobs") -> Sql:
    """Every hot column of one job plus its user data (and desc_file, for the description)."""
    _text("job_id", job_id)
    cols = [
        f"CAST(j.{schema.quote(c)} AS VARCHAR) AS {schema.quote(c)}" if c in ENUM_COLUMNS else _j(c)
        for c in OUTPUT_COLUMNS
    ]
    cols += [f"{_user_expr(n)} AS {n}" for n in USER_OUTPUT]
    sql = (
        f"SELECT {', '.join(cols)}, j.desc_file FROM {_check_table(table)} AS j"
        f" LEFT JOIN {MIRROR} AS u ON u.job_id = j.job_id WHERE j.job_id = ?"
    )
    return sql, [job_id]


def build_duplicates(job_id: str, *, table: str = "jobs") -> Sql:
    """The other jobs of ``job_id``'s duplicate group."""
    _text("job_id", job_id)
    t = _check_table(table)
    sql = (
        f"SELECT job_id, CAST(source AS VARCHAR) AS source, url FROM {t}"
        f" WHERE dup_group = (SELECT dup_group FROM {t} WHERE job_id = ?) AND job_id <> ? ORDER BY job_id"
    )
    return sql, [job_id, job_id]


# --- (de)serialization: one JSON form for cache keys, saved views and the sync's watch evaluation --------

_DATE_FIELDS = ("posted_from", "posted_to", "seen_from", "seen_to")
_TUPLE_FIELDS = ("workplace", "countries", "companies", "sources", "employment_types", "seniorities", "stages")


def filter_to_dict(flt: JobFilter) -> dict[str, Any]:
    """The fields of ``flt`` that differ from the defaults, as JSON-ready values (dates as ISO text)."""
    out: dict[str, Any] = {}
    for f in fields(flt):
        value = getattr(flt, f.name)
        if value == f.default:
            continue
        if isinstance(value, date):
            value = value.isoformat()
        elif f.name == "column_filters":
            value = [asdict(cf) for cf in value]
        elif isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    return out


def filter_from_dict(doc: dict[str, Any]) -> JobFilter:
    """The inverse of ``filter_to_dict``; unknown fields are dropped (a view saved by an older version).

    Raises QueryError for a document that is not a filter (a bad date, a header filter with wrong keys)."""
    if not isinstance(doc, dict):
        raise QueryError(f"a saved filter must be a JSON object, got {type(doc).__name__}")
    names = {f.name for f in fields(JobFilter)}
    kw: dict[str, Any] = {}
    try:
        for name, value in doc.items():
            if name not in names:
                continue
            if name in _DATE_FIELDS and value is not None:
                value = date.fromisoformat(value)
            elif name == "column_filters":
                value = tuple(ColumnFilter(**cf) for cf in value)
            elif name in _TUPLE_FIELDS:
                value = tuple(value)
            kw[name] = value
    except (TypeError, ValueError) as e:
        raise QueryError(f"saved filter field {name!r} is not valid: {e}") from None
    return JobFilter(**kw)


def filter_to_json(flt: JobFilter) -> str:
    return json.dumps(filter_to_dict(flt), sort_keys=True, default=str)


def filter_from_json(text: str) -> JobFilter:
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise QueryError(f"saved filter is not valid JSON: {e}") from None
    return filter_from_dict(doc)
