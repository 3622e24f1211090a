"""core/catalog.py over a real 20k-row snapshot, real DuckDB and real SQLite user data."""

from __future__ import annotations

import csv
import threading
from datetime import date, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from core import query, snapshots
from core.catalog import Catalog
from core.errors import NotFound, QueryError, UnknownColumn
from core.query import ColumnFilter, JobFilter, Sort
from core.userdata import UserData
from tests import catalog_fixture as cf

ALL = JobFilter(listing="both", hidden="show")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> cf.Built:
    return cf.build(tmp_path_factory.mktemp("catalog"), 20_000)


@pytest.fixture(scope="module")
def cat(built: cf.Built) -> Catalog:
    return Catalog(built.settings)


def _snapshot_rows(built: cf.Built) -> list[dict[str, object]]:
    return pq.read_table(built.snapshot.jobs_path).to_pylist()


def test_loads_current_snapshot(cat: Catalog, built: cf.Built) -> None:
    assert cat.version == built.snapshot.version
    assert cat.snapshot is not None and cat.snapshot.rows == 20_000
    assert cat.count(ALL) == 20_000
    assert cat.refresh() is False  # nothing new: only a stat


def test_enum_columns_are_stored_as_enum(cat: Catalog) -> None:
    st = cat._state
    assert st is not None
    types = dict(cat._con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {st.table})").fetchall())
    for col in query.ENUM_COLUMNS:
        assert types[col].startswith("ENUM"), col
    assert types["company"] == "VARCHAR"


def test_first_page_default_sort(cat: Catalog, built: cf.Built) -> None:
    page = cat.page(JobFilter(), limit=25)
    assert page.rows.num_rows == 25 and page.has_next and not page.has_prev
    assert "desc_file" not in page.rows.column_names and "_sort_key" not in page.rows.column_names
    assert page.rows.column_names[: len(query.OUTPUT_COLUMNS)] == list(query.OUTPUT_COLUMNS)
    posted = page.rows.column("posted_at").to_pylist()
    assert posted == sorted(posted, reverse=True)
    newest = max(r["posted_at"] for r in _snapshot_rows(built) if r["posted_at"] and r["delisted_at"] is None)
    assert posted[0] == newest
    assert page.first_key == (posted[0], page.rows.column("job_id")[0].as_py())


def test_no_snapshot_means_empty_results(tmp_path: Path) -> None:
    cat = Catalog(cf.settings_for(tmp_path))
    assert cat.version is None and cat.snapshot is None
    page = cat.page(JobFilter())
    assert page.rows.num_rows == 0 and page.total == 0 and not page.has_next
    assert page.rows.schema.names[-7:] == list(query.USER_OUTPUT)
    assert cat.count(JobFilter()) == 0
    assert cat.facet(JobFilter(), "company") == []
    assert cat.timeseries(JobFilter()) == []
    assert cat.salary_distribution(JobFilter()) == []
    assert cat.rows(JobFilter()) == []
    with pytest.raises(NotFound):
        cat.job("nope")
    assert cat.export_csv(JobFilter(), Sort(), tmp_path / "e.csv") == 0
    assert (tmp_path / "e.csv").read_text().startswith("job_id,source,")
    # bad input is still refused
    with pytest.raises(UnknownColumn):
        cat.page(JobFilter(), Sort("nope"))
    # ... and the first snapshot is picked up by the next query
    table = cf.jobs_table(50, seed=3)
    cf.write_snapshot(cat.settings, table)
    assert cat.count(ALL) == 50 and cat.version == 1


def test_job_detail_with_description_user_data_and_duplicates(cat: Catalog, built: cf.Built) -> None:
    rows = _snapshot_rows(built)
    by_group: dict[object, list[dict[str, object]]] = {}
    for r in rows:
        by_group.setdefault(r["dup_group"], []).append(r)
    group = next(g for g in by_group.values() if len(g) >= 2)
    job_id = str(group[0]["job_id"])
    job = cat.job(job_id)
    assert job["job_id"] == job_id and job["title"] == group[0]["title"]
    descs = pq.read_table(built.settings.snapshots_dir / snapshots.desc_name(built.snapshot.version)).to_pylist()
    assert job["description"] == next(d["description"] for d in descs if d["job_id"] == job_id)
    assert job["description"].startswith(f"{group[0]['title']}: we use")
    assert sorted(d["job_id"] for d in job["duplicates"]) == sorted(str(r["job_id"]) for r in group[1:])
    assert set(job["duplicates"][0]) == {"job_id", "source", "url"}
    assert job["stage"] in ("inbox", *cf.schema.STAGES) and "desc_file" not in job
    assert isinstance(job["first_seen_at"], str)  # JSON-ready
    with pytest.raises(NotFound):
        cat.job("no-such-job")


def test_rows_are_plain_json_ready_dicts(cat: Catalog) -> None:
    import json

    rows = cat.rows(JobFilter(starred=True), Sort("company", desc=False), limit=30)
    assert 0 < len(rows) <= 30
    assert all(r["starred"] is True for r in rows)
    assert set(rows[0]) == set(query.OUTPUT_COLUMNS) | set(query.USER_OUTPUT)
    json.dumps(rows)
    companies = [r["company"] for r in rows]
    assert companies == sorted(companies, key=lambda c: (c is None, c or ""))


def test_facets_timeseries_and_salary_match_python(cat: Catalog, built: cf.Built) -> None:
    rows = [r for r in _snapshot_rows(built)]
    flt = JobFilter(listing="both", hidden="show", workplace=("remote",))
    sel = [r for r in rows if r["workplace_type"] == "remote"]
    counts: dict[str, int] = {}
    for r in sel:
        if r["source"]:
            counts[str(r["source"])] = counts.get(str(r["source"]), 0) + 1
    expected = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    assert cat.facet(flt, "source", top=3) == expected

    series = dict(cat.timeseries(flt, "posted_at", "month"))
    months: dict[date, int] = {}
    for r in sel:
        if r["posted_at"]:
            d = r["posted_at"].date().replace(day=1)  # type: ignore[attr-defined]
            months[d] = months.get(d, 0) + 1
    assert series == months
    weeks = cat.timeseries(flt, "first_seen_at", "week")
    assert all(d.weekday() == 0 for d, _ in weeks) and sum(n for _, n in weeks) == len(sel)

    dist = cat.salary_distribution(flt, bins=10)
    known = [r for r in sel if r["salary_currency"] and (r["salary_annual_min"] or r["salary_annual_max"])]
    assert sum(b["count"] for b in dist) == len(known)
    for b in dist:
        assert b["bin_start"] <= b["bin_end"] and 0 <= b["bin"] < 10
    assert {b["currency"] for b in dist} == {r["salary_currency"] for r in known}


def test_stage_facet_counts_jobs_without_user_data_as_inbox(cat: Catalog) -> None:
    facet = dict(cat.facet(ALL, "stage"))
    assert sum(facet.values()) == 20_000
    assert facet["inbox"] > 15_000


def test_collapse_dups_shows_one_row_per_group(cat: Catalog) -> None:
    full = cat.rows(ALL)
    groups: dict[str, int] = {}
    for r in full:
        groups[r["dup_group"]] = groups.get(r["dup_group"], 0) + 1
    collapsed = cat.rows(JobFilter(listing="both", hidden="show", collapse_dups=True))
    assert len(collapsed) == len(groups) == cat.count(JobFilter(listing="both", hidden="show", collapse_dups=True))
    assert {r["dup_group"] for r in collapsed} == set(groups)
    assert all(r["dup_count"] == groups[r["dup_group"]] for r in collapsed)
    assert any(r["dup_count"] > 1 for r in collapsed)


def test_export_csv(cat: Catalog, tmp_path: Path) -> None:
    flt = JobFilter(starred=True, listing="both", hidden="show")
    path = tmp_path / "starred.csv"
    n = cat.export_csv(flt, Sort("title", desc=False), path)
    with path.open(newline="", encoding="utf-8") as f:
        data = list(csv.DictReader(f))
    assert n == len(data) == cat.count(flt) > 0
    assert list(data[0]) == [*query.OUTPUT_COLUMNS, *query.USER_OUTPUT]
    assert [r["job_id"] for r in data] == [r["job_id"] for r in cat.rows(flt, Sort("title", desc=False))]
    assert not list(tmp_path.glob(".*.tmp"))
    with pytest.raises(QueryError, match="does not exist"):
        cat.export_csv(flt, Sort(), tmp_path / "missing" / "x.csv")
    weird = tmp_path / "it's; DROP TABLE x.csv"  # a quote in the path is a parameter, not SQL
    assert cat.export_csv(flt, Sort(), weird) == n and weird.exists()


INJECTIONS = ["'; DROP TABLE jobs; --", "%", "_", "\\", "'", '"', "a\x00b", "x" * 10_000, "100%", "under_score"]


@pytest.mark.parametrize("evil", INJECTIONS, ids=lambda s: repr(s[:12]))
def test_injection_strings_are_literal_and_harmless(cat: Catalog, built: cf.Built, evil: str) -> None:
    rows = _snapshot_rows(built)
    words = evil.lower().split()
    hay = [f"{r['title'] or ''}\n{r['company'] or ''}".lower() for r in rows]
    expected = sum(1 for h in hay if all(w in h for w in words))
    assert cat.count(JobFilter(text=evil, listing="both", hidden="show")) == expected
    for flt in (
        JobFilter(location=evil), JobFilter(companies=(evil,)), JobFilter(currency=evil), JobFilter(sources=(evil,)),
        JobFilter(column_filters=(ColumnFilter("title", "equals", evil),)), JobFilter(desc=evil),
        JobFilter(column_filters=(ColumnFilter("notes", "contains", evil),)),
    ):  # fmt: skip
        cat.page(flt)
    assert cat.count(ALL) == 20_000  # nothing dropped
    assert len(cat.rows(ALL, limit=1)) == 1


def test_percent_and_underscore_are_not_wildcards(cat: Catalog, built: cf.Built) -> None:
    rows = _snapshot_rows(built)
    n_pct = sum(1 for r in rows if "100%" in f"{r['title']}\n{r['company']}".lower())
    n_us = sum(1 for r in rows if "under_score" in (r["company"] or "").lower())
    assert n_pct > 0 and n_us > 0
    assert cat.count(JobFilter(text="100%", listing="both", hidden="show")) == n_pct
    assert cat.count(JobFilter(text="under_score", listing="both", hidden="show")) == n_us
    assert cat.count(JobFilter(text="under%score", listing="both", hidden="show")) == 0
    assert cat.count(JobFilter(text="o'brien", listing="both", hidden="show")) > 0


def test_description_search_joins_fts_results(cat: Catalog, built: cf.Built) -> None:
    from core.search import DescriptionIndex

    hits = {j for j, _ in DescriptionIndex(built.settings.search_path).match("kubernetes")}
    flt = JobFilter(desc="kubernetes", listing="both", hidden="show")
    assert cat.count(flt) == len(hits) > 0
    both = JobFilter(desc="kubernetes", text="senior", listing="both", hidden="show")
    assert {r["job_id"] for r in cat.rows(both)} == {
        r["job_id"] for r in cat.rows(JobFilter(text="senior", listing="both", hidden="show")) if r["job_id"] in hits
    }


def test_user_edit_visible_on_next_query(cat: Catalog, built: cf.Built) -> None:
    with_data = set(UserData(built.settings.db_path).table().column("job_id").to_pylist())
    job_id = next(j for j in built.job_ids[100:] if j not in with_data)
    before = cat.count(JobFilter(starred=True, listing="both"))
    cat.set_user(job_id, starred=True, stage="interviewing", notes="spoke to Ana")
    assert cat.count(JobFilter(starred=True, listing="both")) == before + 1
    job = cat.job(job_id)
    assert job["starred"] is True and job["stage"] == "interviewing" and job["notes"] == "spoke to Ana"
    assert job_id in {r["job_id"] for r in cat.rows(JobFilter(stages=("interviewing",), listing="both"))}
    cat.set_user(job_id, hidden=True)
    assert job_id not in {r["job_id"] for r in cat.rows(JobFilter(listing="both"))}
    assert job_id in {r["job_id"] for r in cat.rows(JobFilter(listing="both", hidden="only"))}
    cat.set_user(job_id, hidden=False, starred=False)
    assert job_id in {r["job_id"] for r in cat.rows(JobFilter(listing="both"))}
    with pytest.raises(NotFound):
        cat.set_user("no-such-job", starred=True)
    with pytest.raises(QueryError):
        cat.set_user(job_id, stage="hired")
    assert cat.job(job_id)["stage"] == "interviewing"  # a refused edit changes nothing


def test_bulk_edit(cat: Catalog, built: cf.Built) -> None:
    ids = built.job_ids[1000:1010]
    assert cat.set_user_bulk(ids, stage="saved") == 10
    got = {r["job_id"]: r["stage"] for r in cat.rows(JobFilter(stages=("saved",), listing="both", hidden="show"))}
    assert all(got.get(j) == "saved" for j in ids)
    with pytest.raises(NotFound, match="and 1 more"):
        cat.set_user_bulk([*ids, "x1", "x2"], stage="offer")
    with pytest.raises(QueryError):
        cat.set_user_bulk("abc", stage="offer")


def test_edit_from_another_process_is_picked_up(cat: Catalog, built: cf.Built) -> None:
    """The CLI writes through its own UserData; the catalog notices the revision on its next query."""
    job_id = built.job_ids[4321]
    other = UserData(built.settings.db_path)
    other.set(job_id, stage="offer", starred=True)
    other.close()
    assert cat.job(job_id)["stage"] == "offer"
    assert job_id in {r["job_id"] for r in cat.rows(JobFilter(stages=("offer",), listing="both", hidden="show"))}
    page = cat.page(JobFilter(listing="both", hidden="show"), Sort("stage"), limit=2000)
    assert job_id in page.rows.column("job_id").to_pylist()


def test_sort_by_stage_follows_the_pipeline(cat: Catalog) -> None:
    page = cat.page(ALL, Sort("stage", desc=False), limit=20000)
    stages = page.rows.column("stage").to_pylist()
    ranks = [cf.schema.STAGES.index(s) for s in stages]
    assert ranks == sorted(ranks)


def test_swap_on_new_snapshot_while_querying_from_threads(tmp_path: Path) -> None:
    b = cf.build(tmp_path, 3000, seed=11, search=False)
    cat = Catalog(b.settings)
    errors: list[BaseException] = []
    totals: list[int] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                page = cat.page(ALL, Sort("salary_annual_max"), limit=50)
                totals.append(page.total)
                assert page.rows.num_rows == 50
                cat.facet(ALL, "country")
            except BaseException as e:  # noqa: BLE001 - collected and re-raised in the main thread
                errors.append(e)
                return

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    sizes = [3000]
    for i, n in enumerate((3500, 4000, 2500)):
        cf.write_snapshot(b.settings, cf.jobs_table(n, seed=20 + i))
        cat.refresh()  # a reader's query may have swapped it in first: either way the new one is served
        assert cat.version == i + 2
        sizes.append(n)
        assert cat.count(ALL) == n
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors[0]
    assert set(totals) <= set(sizes) and len(totals) > 0
    assert cat.version == 4
    # old tables and enum types are gone
    tables = {r[0] for r in cat._con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert tables == {cat._state.table, "user_jobs", "watch_unseen"}  # type: ignore[union-attr]
    types = {
        r[0] for r in cat._con.execute("SELECT type_name FROM duckdb_types() WHERE type_name LIKE 'enum_%'").fetchall()
    }
    assert len(types) == len(query.ENUM_COLUMNS)


def test_a_broken_snapshot_keeps_the_old_one(tmp_path: Path) -> None:
    b = cf.build(tmp_path, 500, seed=5, search=False)
    cat = Catalog(b.settings)
    d = b.settings.snapshots_dir
    (d / snapshots.jobs_name(2)).write_bytes(b"not parquet")
    snapshots.publish(d, 2, 10, datetime(2025, 1, 1).isoformat(), demo=False)
    assert cat.count(ALL) == 500  # the damaged v2 is never loaded: the catalog keeps serving version 1
    cat.refresh()
    assert cat.version == 1 and cat.load_error is None and cat.count(ALL) == 500
    snap = cat.snapshot
    assert snap is not None and snap.fallback and "jobs-" in snap.fallback  # and it says why


def test_keyset_walk_covers_everything_once(cat: Catalog) -> None:
    flt = JobFilter(listing="both", hidden="show", countries=("SE",))
    total = cat.count(flt)
    for sort in (Sort("salary_annual_min"), Sort("posted_at", desc=False), Sort("starred")):
        seen: list[str] = []
        for page in cf.iter_pages(cat, flt, sort, limit=97):
            seen += page.rows.column("job_id").to_pylist()
        assert len(seen) == len(set(seen)) == total


def test_lists_instead_of_tuples_still_work(cat: Catalog) -> None:
    """A filter built with lists (not hashable) is counted without the total cache."""
    flt = JobFilter(countries=["DE"], listing="both", hidden="show")  # type: ignore[arg-type]
    assert cat.count(flt) == cat.count(JobFilter(countries=("DE",), listing="both", hidden="show")) > 0
    assert cat.page(flt, limit=3).total == cat.count(flt)
