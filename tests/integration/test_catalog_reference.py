"""The catalog against a straightforward pure-Python reference, for a few hundred random filter/sort
combinations over one 20k-row catalog: same exact count, same rows in the same order, and keyset pages
forward and backward that neither skip nor repeat a row."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from core import schema
from core.catalog import Catalog
from core.query import ColumnFilter, JobFilter, Sort
from core.search import DescriptionIndex
from core.userdata import UserData
from tests import catalog_fixture as cf

Row = dict[str, Any]
USER_DEFAULTS = {"starred": False, "stage": "inbox", "notes": "", "applied_at": None, "follow_up_on": None,
                 "hidden": False, "updated_at": None}  # fmt: skip


class Reference:
    def __init__(self, built: cf.Built) -> None:
        users = {r["job_id"]: r for r in UserData(built.settings.db_path).table().to_pylist()}
        self.rows: list[Row] = []
        for r in pq.read_table(built.snapshot.jobs_path).to_pylist():
            r.pop(schema.DESC_FILE)
            u = users.get(r["job_id"], {})
            r.update({k: (u.get(k) if u.get(k) is not None else d) for k, d in USER_DEFAULTS.items()})
            r["_hay"] = f"{r['title'] or ''}\n{r['company'] or ''}".lower()
            self.rows.append(r)
        self.index = DescriptionIndex(built.settings.search_path)

    def select(self, flt: JobFilter, sort: Sort) -> list[Row]:
        hits = {j for j, _ in self.index.match(flt.desc)} if flt.desc.strip() else None
        rows = [r for r in self.rows if _matches(r, flt, hits)]
        if flt.collapse_dups:
            rows = _collapse(rows)
        return _sorted(rows, sort)


def _day(d: date) -> datetime:
    return datetime(d.year, d.month, d.day)


def _text_kind(column: str) -> str:
    if column in ("starred", "hidden"):
        return "bool"
    if column in ("stage", "notes"):
        return "text"
    if column in ("applied_at", "follow_up_on", "updated_at"):
        return "time"
    return {"VARCHAR": "text", "DOUBLE": "number", "TIMESTAMP": "time", "BOOLEAN": "bool"}[schema.BY_NAME[column].sql]


def _as_dt(v: Any) -> datetime:
    return v if isinstance(v, datetime) else _day(v)


def _column_ok(r: Row, cf_: ColumnFilter) -> bool:
    v, kind, op = r[cf_.column], _text_kind(cf_.column), cf_.op
    if op == "blank":
        return v is None or (kind == "text" and v == "")
    if op == "not_blank":
        return v is not None and not (kind == "text" and v == "")
    if kind == "text":
        needle, s = str(cf_.value).lower(), (None if v is None else str(v).lower())
        if op == "not_equal":
            return s is None or s != needle
        if s is None:
            return False
        return {"contains": needle in s, "equals": s == needle, "starts_with": s.startswith(needle)}[op]
    if kind == "bool":
        want = str(cf_.value).lower() in ("true", "1")
        return (v == want) if op == "equals" else (v is None or v != want)
    if kind == "number":
        x = float(cf_.value)  # type: ignore[arg-type]
        if op == "not_equal":
            return v is None or v != x
        if v is None:
            return False
        if op == "in_range":
            return x <= v <= float(cf_.value_to)  # type: ignore[arg-type]
        return {"equals": v == x, "lt": v < x, "lte": v <= x, "gt": v > x, "gte": v >= x}[op]
    start = _day(date.fromisoformat(str(cf_.value)[:10]))
    end = start + timedelta(days=1)
    if op == "not_equal":
        return v is None or not (start <= _as_dt(v) < end)
    if v is None:
        return False
    t = _as_dt(v)
    if op == "in_range":
        return start <= t < _day(date.fromisoformat(str(cf_.value_to)[:10])) + timedelta(days=1)
    return {"equals": start <= t < end, "lt": t < start, "lte": t < end, "gt": t >= end, "gte": t >= start}[op]


def _in_pipeline(r: Row) -> bool:
    return bool(r["starred"] or r["stage"] != "inbox" or r["notes"] or r["follow_up_on"] or r["applied_at"])


def _matches(r: Row, flt: JobFilter, hits: set[str] | None) -> bool:
    if flt.listing == "listed" and r["delisted_at"] is not None and not _in_pipeline(r):
        return False  # a closed posting stays in view while it has user data
    if flt.pipeline and not _in_pipeline(r):
        return False
    if flt.listing == "delisted" and r["delisted_at"] is None:
        return False
    if not all(w in r["_hay"] for w in flt.text.lower().split()):
        return False
    if hits is not None and r["job_id"] not in hits:
        return False
    for col, lo, hi in (("posted_at", flt.posted_from, flt.posted_to), ("first_seen_at", flt.seen_from, flt.seen_to)):
        if lo is not None and (r[col] is None or r[col] < _day(lo)):
            return False
        if hi is not None and (r[col] is None or r[col] >= _day(hi) + timedelta(days=1)):
            return False
    amin, amax = r["salary_annual_min"], r["salary_annual_max"]
    low, high = (amin if amin is not None else amax), (amax if amax is not None else amin)
    if flt.salary_min is not None and (high is None or high < flt.salary_min):
        return False
    if flt.salary_max is not None and (low is None or low > flt.salary_max):
        return False
    if flt.salary_known and low is None:
        return False
    if flt.currency and r["salary_currency"] != flt.currency:
        return False
    if flt.location.strip():
        needle = flt.location.strip().lower()
        if not any(needle in (r[c] or "").lower() for c in ("location", "city", "region", "country")):
            return False
    for col, values in (("workplace_type", flt.workplace), ("country", flt.countries), ("company", flt.companies),
                        ("source", flt.sources), ("employment_type", flt.employment_types),
                        ("seniority", flt.seniorities)):  # fmt: skip
        if values and r[col] not in values:
            return False
    if flt.starred and not r["starred"]:
        return False
    if flt.stages and r["stage"] not in flt.stages:
        return False
    if flt.hidden == "hide" and r["hidden"]:
        return False
    if flt.hidden == "only" and not r["hidden"]:
        return False
    return all(_column_ok(r, c) for c in flt.column_filters)


def _collapse(rows: list[Row]) -> list[Row]:
    groups: dict[str, list[Row]] = {}
    for r in rows:
        groups.setdefault(r["dup_group"] or r["job_id"], []).append(r)
    out = []
    for members in groups.values():
        # listed first, newest posted first (NULLs last), newest first seen, then job_id
        members = sorted(
            members,
            key=lambda r: (
                r["delisted_at"] is not None,
                _newest(r["posted_at"]),
                _newest(r["first_seen_at"]),
                r["job_id"],
            ),
        )
        out.append({**members[0], "dup_count": len(members)})
    return out


def _newest(t: datetime | None) -> tuple[bool, float]:
    """Sorts newest first, NULLs last."""
    return (t is None, 0.0 if t is None else -(t - datetime(1970, 1, 1)).total_seconds())


def _key(r: Row, column: str) -> Any:
    return schema.STAGES.index(r["stage"]) if column == "stage" else r[column]


def _sorted(rows: list[Row], sort: Sort) -> list[Row]:
    present = [r for r in rows if _key(r, sort.column) is not None]
    missing = [r for r in rows if _key(r, sort.column) is None]
    present.sort(key=lambda r: (_key(r, sort.column), r["job_id"]), reverse=sort.desc)
    missing.sort(key=lambda r: r["job_id"], reverse=sort.desc)
    return present + missing


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Catalog, Reference]:
    built = cf.build(tmp_path_factory.mktemp("reference"), 20_000)
    return Catalog(built.settings), Reference(built)


COMPANIES = tuple(a + b for a in cf.COMPANY_A[:6] for b in cf.COMPANY_B[:5])
TEXTS = ("", "senior", "engineer", "Data", "python", "100%", "under_score", "o'brien", "_", "%", "engineer go",
         "Acme Labs", "ml", "'; DROP TABLE jobs; --", "zzz")  # fmt: skip
SORTS = ("posted_at", "first_seen_at", "salary_annual_max", "salary_annual_min", "company", "title", "source",
         "country", "seniority", "job_id", "is_remote", "delisted_at", "starred", "stage", "updated_at", "follow_up_on")  # fmt: skip
DAYS = st.dates(min_value=date(2024, 5, 20), max_value=date(2025, 6, 5))

column_filters = st.one_of(
    st.builds(ColumnFilter, st.just("title"), st.sampled_from(["contains", "starts_with", "not_equal"]),
              st.sampled_from(["engineer", "senior", "Data Scientist", "%", "x"])),
    st.builds(ColumnFilter, st.just("department"), st.sampled_from(["blank", "not_blank"])),
    st.builds(ColumnFilter, st.just("salary_annual_max"), st.sampled_from(["gt", "lte", "not_equal"]),
              st.sampled_from([50_000.0, 90_000.0, 120_000.0])),
    st.builds(ColumnFilter, st.just("salary_min"), st.just("in_range"), st.just(10.0), st.just(90_000.0)),
    st.builds(ColumnFilter, st.just("posted_at"), st.sampled_from(["lte", "gte", "equals", "gt"]), DAYS.map(str)),
    st.builds(ColumnFilter, st.just("is_remote"), st.sampled_from(["equals", "not_equal"]), st.sampled_from(["true", "false"])),
    st.builds(ColumnFilter, st.just("stage"), st.just("equals"), st.sampled_from(["Saved", "inbox", "offer"])),
    st.builds(ColumnFilter, st.just("notes"), st.sampled_from(["contains", "blank"]), st.just("100%")),
    st.builds(ColumnFilter, st.just("follow_up_on"), st.sampled_from(["gte", "not_blank"]), st.just("2025-06-10")),
)  # fmt: skip


def _subset(values: tuple[str, ...], size: int = 3) -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.sampled_from(values), max_size=size, unique=True).map(tuple)


FIELDS = ("text", "desc", "posted", "seen", "salary", "currency", "salary_known", "workplace", "location",
          "countries", "companies", "sources", "employment_types", "seniorities", "listing", "starred", "stages",
          "hidden", "collapse_dups", "column_filters", "pipeline")  # fmt: skip


@st.composite
def filters(draw: st.DrawFn) -> JobFilter:
    """A few filters at a time (0-4 of FIELDS), so most combinations still match some rows."""
    on = draw(st.sets(st.sampled_from(FIELDS), max_size=4))
    kw: dict[str, Any] = {}
    if "text" in on:
        kw["text"] = draw(st.sampled_from(TEXTS))
    if "desc" in on:
        kw["desc"] = draw(st.sampled_from(["kubernetes", "rust OR equity", "python -react", "on-call"]))
    for name, field in (("posted", "posted"), ("seen", "seen")):
        if field in on:
            lo, hi = sorted(draw(st.lists(DAYS, min_size=2, max_size=2)))
            kind = draw(st.sampled_from(["from", "to", "both"]))
            if kind in ("from", "both"):
                kw[f"{name}_from"] = lo
            if kind in ("to", "both"):
                kw[f"{name}_to"] = hi
    if "salary" in on:
        lo = draw(st.sampled_from([None, 40_000.0, 80_000.0, 120_000.0]))
        hi = draw(st.sampled_from([None, 70_000.0, 150_000.0]))
        if lo is not None and hi is not None and lo > hi:
            lo, hi = hi, lo
        kw.update(salary_min=lo, salary_max=hi)
    if "currency" in on:
        kw["currency"] = draw(st.sampled_from(["EUR", "USD", "GBP", "XXX"]))
    if "salary_known" in on:
        kw["salary_known"] = True
    if "workplace" in on:
        kw["workplace"] = draw(_subset(schema.WORKPLACE_TYPES, 2))
    if "location" in on:
        kw["location"] = draw(st.sampled_from(["berlin", "Remote", "ca", "île", "New York", " lisbon "]))
    for field, values in (("countries", ("DE", "US", "GB", "SE", "FR")), ("companies", COMPANIES),
                          ("sources", cf.SOURCES), ("employment_types", schema.EMPLOYMENT_TYPES),
                          ("seniorities", tuple(cf.LEVELS)), ("stages", schema.STAGES)):  # fmt: skip
        if field in on:
            kw[field] = draw(_subset(values))
    if "listing" in on:
        kw["listing"] = draw(st.sampled_from(["delisted", "both"]))
    if "starred" in on:
        kw["starred"] = True
    if "pipeline" in on:
        kw["pipeline"] = True
    if "hidden" in on:
        kw["hidden"] = draw(st.sampled_from(["show", "only"]))
    if "collapse_dups" in on:
        kw["collapse_dups"] = True
    if "column_filters" in on:
        kw["column_filters"] = tuple(draw(st.lists(column_filters, min_size=1, max_size=2)))
    return JobFilter(**kw)


def _ids(page_rows: Any) -> list[str]:
    return [str(x) for x in page_rows.column("job_id").to_pylist()]


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    flt=filters(), column=st.sampled_from(SORTS), desc=st.booleans(), limit=st.integers(1, 40), start=st.floats(0, 1)
)
def test_catalog_matches_reference(
    world: tuple[Catalog, Reference], flt: JobFilter, column: str, desc: bool, limit: int, start: float
) -> None:
    cat, ref = world
    sort = Sort(column, desc)
    expected = ref.select(flt, sort)
    ids = [r["job_id"] for r in expected]
    event("rows: " + ("0" if not ids else "1-100" if len(ids) <= 100 else "101-1000" if len(ids) <= 1000 else ">1000"))

    first = cat.page(flt, sort, limit=limit)
    assert first.total == len(expected)
    assert _ids(first.rows) == ids[:limit]
    assert first.has_next == (len(ids) > limit) and not first.has_prev
    if flt.collapse_dups and expected:
        assert first.rows.column("dup_count").to_pylist() == [r["dup_count"] for r in expected[:limit]]

    if len(ids) <= 3 * limit + 3:
        # the whole set, forward then backward from the end: every row exactly once, in order
        forward: list[str] = []
        for page in cf.iter_pages(cat, flt, sort, limit=limit):
            forward += _ids(page.rows)
        assert forward == ids
        backward: list[str] = []
        page = cat.page(flt, sort, None, "prev", limit)  # the last page
        backward = _ids(page.rows)
        while page.has_prev:
            page = cat.page(flt, sort, page.first_key, "prev", limit)
            backward = _ids(page.rows) + backward
        assert backward == ids
        return

    # a big set: from a random row, two pages forward and back again
    i = int(start * (len(ids) - 1))
    r = expected[i]
    key = (_key(r, column), r["job_id"])
    nxt = cat.page(flt, sort, key, "next", limit)
    assert _ids(nxt.rows) == ids[i + 1 : i + 1 + limit]
    assert nxt.has_prev and nxt.has_next == (i + 1 + limit < len(ids))
    if nxt.has_next:
        nxt2 = cat.page(flt, sort, nxt.last_key, "next", limit)
        assert _ids(nxt2.rows) == ids[i + 1 + limit : i + 1 + 2 * limit]
        back = cat.page(flt, sort, nxt2.first_key, "prev", limit)
        assert _ids(back.rows) == _ids(nxt.rows)
    prev = cat.page(flt, sort, key, "prev", limit)
    assert _ids(prev.rows) == ids[max(0, i - limit) : i]
    assert prev.has_prev == (i - limit > 0) and prev.has_next
