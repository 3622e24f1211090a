"""The sync engine end to end: real DuckDB, real SQLite, real files in a temp data folder."""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from core import db, snapshots
from core.errors import SyncBusy
from core.lock import sync_lock
from core.runs import RunLog
from core.settings import Settings
from core.sync import run_sync
from tests.conftest import job, static

T0 = datetime(2026, 11, 1, 12, 0, 0)


def catalog(settings: Settings) -> dict[str, dict[str, Any]]:
    snap = snapshots.current(settings.snapshots_dir)
    assert snap is not None
    rows = duckdb.sql(f"SELECT * FROM read_parquet('{snap.jobs_path}')").fetchall()
    cols = [d[0] for d in duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{snap.jobs_path}')").fetchall()]
    by_native = {}
    for r in rows:
        d = dict(zip(cols, r, strict=True))
        by_native[d["native_id"]] = d
    return by_native


def star(settings: Settings, job_id: str) -> None:
    conn = db.connect(settings.db_path)
    with db.tx(conn):
        conn.execute(
            "INSERT INTO user_jobs (job_id, starred, stage, updated_at) VALUES (?, 1, 'saved', ?)",
            [job_id, T0.isoformat()],
        )
    conn.close()


def test_three_runs_produce_every_outcome(settings: Settings) -> None:
    a = [job(f"a{i}") for i in range(1, 6)]
    b = [job(f"b{i}", company="Beta GmbH") for i in range(1, 4)]
    bad = {"native_id": "x1", "title": "  ", "company": "Acme"}

    r1 = run_sync(settings, now=T0, sources=[static("A", [*a, bad]), static("B", b)])
    assert r1.status == "ok"
    assert r1.counts["new"] == 8
    assert r1.rejected == 1 and r1.reject_reasons == {"missing title": 1}
    cat = catalog(settings)
    assert len(cat) == 8 and all(r["delisted_at"] is None for r in cat.values())
    star(settings, cat["a5"]["job_id"])

    # Run 2: a2 changes, a3/a4/a5 vanish, a6 is new, B fails (its jobs must stay listed).
    a_run2 = [job("a1"), job("a2", title="Senior Data Engineer", description=None), job("a6")]
    r2 = run_sync(
        settings,
        now=T0 + timedelta(days=1),
        sources=[static("A", a_run2), static("B", [], error="HTTP 500 after 3 attempts")],
    )
    assert r2.status == "partial"
    assert {k: v for k, v in r2.counts.items() if v} == {
        "new": 1,
        "updated": 1,
        "unchanged": 1,
        "delisted": 3,
        "untouched": 3,
    }
    cat = catalog(settings)
    assert cat["a2"]["title"] == "Senior Data Engineer"
    assert cat["a2"]["changed_at"] == T0 + timedelta(days=1)
    assert cat["a1"]["last_seen_at"] == T0 + timedelta(days=1) and cat["a1"]["first_seen_at"] == T0
    assert all(cat[f"b{i}"]["delisted_at"] is None for i in range(1, 4)), "a failed source never delists"
    assert cat["a3"]["delisted_at"] == T0 + timedelta(days=1)
    # a2 arrived without a description: the richer stored one is kept.
    descs = snapshots.read_descriptions(settings.snapshots_dir, [(cat["a2"]["job_id"], cat["a2"]["desc_file"])])
    assert descs[cat["a2"]["job_id"]].startswith("Build pipelines for Acme")
    log = RunLog(settings.db_path)
    src = {s["source"]: s for s in log.sources_of(r2.run_id)}
    log.close()
    assert src["B"]["status"] == "failed" and "HTTP 500" in src["B"]["error"]

    # Run 3, 40 days on: a3 is back, a4 (no user data) is purged, a5 (starred) is kept, B drops b3.
    later = T0 + timedelta(days=41)
    r3 = run_sync(
        settings,
        now=later,
        sources=[
            static("A", [job("a1"), job("a2", title="Senior Data Engineer", description=None), job("a3"), job("a6")]),
            static("B", b[:2]),
        ],
    )
    assert {k: v for k, v in r3.counts.items() if v} == {"unchanged": 5, "relisted": 1, "delisted": 1, "purged": 1}
    cat = catalog(settings)
    assert "a4" not in cat
    assert cat["a5"]["delisted_at"] is not None, "starred job stays, delisted"
    assert cat["a3"]["delisted_at"] is None and cat["a3"]["first_seen_at"] == T0
    assert cat["b3"]["delisted_at"] == later

    runs = RunLog(settings.db_path)
    last = runs.get(r3.run_id)
    runs.close()
    assert last is not None and last["status"] == "ok" and last["counts"]["purged"] == 1
    assert last["snapshot_version"] == r3.version and last["peak_rss_mb"] > 0 and last["jobs_per_s"] > 0
    assert set(last["phases"]) >= {"fetch", "normalize", "diff", "write", "publish", "total"}


def test_duplicates_in_one_batch_collapse_and_unchanged_descriptions_are_not_rewritten(settings: Settings) -> None:
    rows = [job("a1"), job("a1", title="Data Engineer II"), job("a2")]
    r1 = run_sync(settings, now=T0, sources=[static("A", rows)])
    assert r1.counts["new"] == 2 and r1.collapsed == 1
    assert catalog(settings)["a1"]["title"] == "Data Engineer II", "the last duplicate wins"
    r2 = run_sync(
        settings, now=T0 + timedelta(hours=1), sources=[static("A", [job("a1", title="Data Engineer II"), job("a2")])]
    )
    assert r2.counts["unchanged"] == 2
    d = settings.snapshots_dir
    assert not (d / snapshots.desc_name(r2.version or 0)).exists(), "no new descriptions, no new segment"
    assert {r["desc_file"] for r in catalog(settings).values()} == {snapshots.desc_name(r1.version or 0)}


def test_every_source_failing_publishes_nothing(settings: Settings) -> None:
    run_sync(settings, now=T0, sources=[static("A", [job("a1")])])
    before = snapshots.current(settings.snapshots_dir)
    r = run_sync(settings, now=T0 + timedelta(hours=1), sources=[static("A", [], error="timed out")])
    assert r.status == "failed" and "every source failed" in (r.error or "")
    assert snapshots.current(settings.snapshots_dir) == before
    assert catalog(settings)["a1"]["delisted_at"] is None


def test_partial_source_upserts_but_delists_nothing(settings: Settings) -> None:
    run_sync(settings, now=T0, sources=[static("A", [job("a1"), job("a2")])])
    r = run_sync(settings, now=T0 + timedelta(hours=1), sources=[static("A", [job("a3")], partial="page 2: HTTP 500")])
    assert r.counts["new"] == 1 and r.counts["untouched"] == 2 and r.counts["delisted"] == 0


def test_a_hung_source_times_out_and_fails_alone(settings: Settings) -> None:
    import time

    from core.sources.base import FetchContext, Fetched

    class Hung:
        kind = "static"

        def __init__(self) -> None:
            self.config = static("slow", []).config.__class__("slow", "static", timeout_s=0.3)

        def fetch(self, ctx: FetchContext) -> Fetched:
            time.sleep(30)
            raise AssertionError("unreachable")

    r = run_sync(settings, now=T0, sources=[Hung(), static("A", [job("a1")])])
    assert r.status == "partial" and r.counts["new"] == 1
    slow = next(s for s in r.sources if s.name == "slow")
    assert slow.status == "failed" and "timed out after 0.3 s" in (slow.error or "")


def test_second_concurrent_sync_is_refused_and_recorded(settings: Settings) -> None:
    with sync_lock(settings.lock_path, "scheduler"), pytest.raises(SyncBusy, match="already running"):
        run_sync(settings, now=T0, sources=[static("A", [job("a1")])])
    conn = sqlite3.connect(settings.db_path)
    status, error = conn.execute("SELECT status, error FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    conn.close()
    assert status == "refused" and "already running" in error and "scheduler" in error
    assert snapshots.current(settings.snapshots_dir) is None


def test_retention_keeps_current_and_previous(settings: Settings) -> None:
    from dataclasses import replace

    s = replace(settings, keep_snapshots=2)
    versions = []
    for i in range(5):
        r = run_sync(s, now=T0 + timedelta(hours=i), sources=[static("A", [job("a1", title=f"Engineer {i}")])])
        versions.append(r.version)
    left = snapshots.versions(s.snapshots_dir)
    assert left == versions[-2:]
    names = {p.name for p in s.snapshots_dir.iterdir()}
    # Only the description segments the kept snapshots refer to remain.
    assert {n for n in names if n.startswith("desc-")} == {snapshots.desc_name(v or 0) for v in versions[-2:]}
    assert json.loads((s.snapshots_dir / "CURRENT").read_text())["version"] == versions[-1]


def test_sources_dropped_from_config_are_delisted_in_a_full_run(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo catalog goes away once real sources replace it in jobdash.toml."""
    from core.settings import load_settings

    csv = tmp_path / "jobs.csv"
    csv.write_text(
        "id,title,company,location,job_url\n1,Analyst,Initech,Austin TX,https://x.example/1\n", encoding="utf-8"
    )
    cfg = tmp_path / "jobdash.toml"
    cfg.write_text('[[sources]]\nname = "demo"\nkind = "demo"\njobs = 50\nchurn = false\n', encoding="utf-8")
    monkeypatch.setenv("JOBDASH_CONFIG", str(cfg))
    first = run_sync(load_settings(), now=T0)
    assert first.counts["new"] == 50 and first.demo
    cfg.write_text(f'[[sources]]\nname = "mine"\nkind = "file"\npath = "{csv}"\n', encoding="utf-8")
    second = run_sync(load_settings(), now=T0 + timedelta(hours=1))
    assert second.counts["new"] == 1 and second.counts["delisted"] == 50 and not second.demo


def test_same_posting_on_two_boards_shares_a_dup_group(settings: Settings) -> None:
    board_a = [job("1", title="Senior Data Engineer", company="Acme Inc."), job("2", title="Designer")]
    board_b = [
        job("x", title="Senior  Data Engineer", company="ACME"),
        job("y", title="Designer", posted_at="2026-03-01"),
    ]
    run_sync(settings, now=T0, sources=[static("A", board_a), static("B", board_b)])
    cat = catalog(settings)
    assert cat["1"]["dup_group"] == cat["x"]["dup_group"], "normalized company + title + place match"
    assert cat["2"]["dup_group"] != cat["y"]["dup_group"], "posted months apart: not the same posting"
    assert cat["1"]["dup_group"] != cat["2"]["dup_group"]
    # The key is kept with the row, so the next run groups the same way without recomputing it.
    run_sync(settings, now=T0 + timedelta(hours=1), sources=[static("A", board_a), static("B", board_b)])
    again = catalog(settings)
    assert {k: r["dup_group"] for k, r in again.items()} == {k: r["dup_group"] for k, r in cat.items()}


def _regrouped(settings: Settings) -> dict[str, str]:
    """Every published row's dup group as regrouping the whole snapshot gives it (the reference)."""
    snap = snapshots.current(settings.snapshots_dir)
    assert snap is not None
    rows = duckdb.execute(
        """
        SELECT native_id, substr(dup_key, 1, 12) || '-' || sum(starts) OVER (PARTITION BY dup_key ORDER BY t, job_id)
        FROM (
            SELECT native_id, job_id, dup_key, t,
                CASE WHEN t - lag(t) OVER (PARTITION BY dup_key ORDER BY t, job_id) <= INTERVAL 30 DAY THEN 0 ELSE 1 END
                    AS starts
            FROM (SELECT native_id, job_id, dup_key, coalesce(posted_at, first_seen_at) AS t FROM read_parquet(?))
        )
        """,
        [str(snap.jobs_path)],
    ).fetchall()
    return {str(n): str(g) for n, g in rows}


def test_dup_groups_regroup_only_touched_keys_yet_equal_a_whole_regroup(settings: Settings) -> None:
    def posted(days: int) -> str:
        return (T0 - timedelta(days=days)).isoformat()

    a = [job("a1", posted_at=posted(50)), job("a2", title="Designer")]
    run_sync(settings, now=T0, sources=[static("A", a), static("B", [job("b1", posted_at=posted(10))])])
    cat = catalog(settings)
    assert cat["a1"]["dup_group"] != cat["b1"]["dup_group"], "40 days apart: two postings"
    assert {k: r["dup_group"] for k, r in cat.items()} == _regrouped(settings)

    # Only B syncs: b2 bridges a1 and b1 (20 days each way), so a1 (not seen, carried) joins their group.
    bridge = [job("b1", posted_at=posted(10)), job("b2", posted_at=posted(30))]
    run_sync(settings, now=T0 + timedelta(hours=1), sources=[static("B", bridge)])
    cat = catalog(settings)
    assert cat["a1"]["dup_group"] == cat["b2"]["dup_group"] == cat["b1"]["dup_group"]
    assert {k: r["dup_group"] for k, r in cat.items()} == _regrouped(settings)

    # b2 is delisted, then purged by a run that sees none of the three: the purge alone splits the group.
    run_sync(settings, now=T0 + timedelta(hours=2), sources=[static("B", bridge[:1])])
    later = T0 + timedelta(days=settings.purge_after_days + 1)
    r = run_sync(settings, now=later, sources=[static("C", [job("c1", title="Nurse")])])
    assert r.counts["purged"] == 1, r.counts
    cat = catalog(settings)
    assert "b2" not in cat and cat["a1"]["dup_group"] != cat["b1"]["dup_group"]
    assert {k: r["dup_group"] for k, r in cat.items()} == _regrouped(settings)


def test_a_mistyped_column_is_repaired_not_fatal(settings: Settings) -> None:
    rows = [job("a1", is_remote="maybe", salary_min="lots"), job("a2", is_remote="no", salary_min="95000")]
    r = run_sync(settings, now=T0, sources=[static("A", rows)])
    assert r.status == "ok" and r.counts["new"] == 2
    (src,) = r.sources
    assert any(w.startswith("repaired") for w in src.warnings), src.warnings


def test_a_failing_index_update_does_not_fail_the_published_run(settings: Settings) -> None:
    run_sync(settings, now=T0, sources=[static("A", [job("a1")])])
    settings.search_path.unlink()
    settings.search_path.mkdir()  # the index file cannot be opened now
    r = run_sync(settings, now=T0 + timedelta(hours=1), sources=[static("A", [job("a1"), job("a2")])])
    assert r.status == "ok" and r.counts["new"] == 1
    assert r.error is not None and "description index not updated" in r.error
    assert "a2" in catalog(settings)
    settings.search_path.rmdir()
    r3 = run_sync(settings, now=T0 + timedelta(hours=2), sources=[static("A", [job("a1"), job("a2")])])
    assert r3.error is None
    from core.search import DescriptionIndex

    assert DescriptionIndex(settings.search_path).count() == 2, "caught up from the segments"


def test_a_data_folder_with_the_old_fts5_index_is_migrated_by_the_next_sync(settings: Settings) -> None:
    """search.sqlite from before the switch (FTS5 tables, every segment marked indexed, no search.tantivy/):
    the dashboard never answers from the dropped tables, and the next sync rebuilds and says so."""
    import pyarrow as pa

    from benchmarks.fts5_index import Fts5DescriptionIndex
    from core.search import DescriptionIndex, index_dir

    rows = [job("a1", description="kafka streams"), job("a2", description="spark jobs")]
    run_sync(settings, now=T0, sources=[static("A", rows)])
    with DescriptionIndex(settings.search_path) as index:
        before = {q: sorted(index.match_ids(q).to_pylist()) for q in ("kafka", "spark OR kafka", "-spark")}
        segments = index.segments_done()
    settings.search_path.unlink()
    index_dir(settings.search_path).rename(settings.data_dir.parent / "unrelated")  # no search.tantivy/ yet
    with Fts5DescriptionIndex(settings.search_path) as old:  # what an older jobdash left in the folder
        old.update(pa.table({"job_id": ["x"], "title": ["t"], "company": ["c"], "description": ["kafka"]}))
        for name in segments:
            old.mark_segment_done(name)
    with DescriptionIndex(settings.search_path) as index:  # e.g. the dashboard, before any sync
        assert index.migrated and index.segments_done() == set() and index.count() == 0
    with sqlite3.connect(settings.search_path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"segments", "meta"}, "the FTS5 tables are dropped"
    r = run_sync(settings, now=T0 + timedelta(hours=1), sources=[static("A", rows)])
    assert r.status == "ok" and r.error is None, r.error
    assert any("moved to the new engine" in w for w in r.warnings), r.warnings
    with DescriptionIndex(settings.search_path) as index:
        assert not index.migrated
        assert {q: sorted(index.match_ids(q).to_pylist()) for q in before} == before
        assert index.segments_done() >= segments


def test_description_segments_are_small_row_groups_in_job_id_order_read_one_group_at_a_time(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The detail panel's lookup reads only the row group whose job_id range holds the job (the segment is
    written in job_id order); a segment of the old layout (one group, any order) still reads, all of it."""
    import pyarrow.parquet as pq

    monkeypatch.setattr(snapshots, "DESC_ROW_GROUP_ROWS", 2048)  # DuckDB's smallest (a vector)
    n = 5000
    run_sync(settings, now=T0, sources=[static("A", [job(f"a{i}", description=f"text {i}") for i in range(n)])])
    name = snapshots.desc_name(1)
    path = settings.snapshots_dir / name
    md = pq.read_metadata(path)
    bounds = [(md.row_group(i).column(0).statistics.min, md.row_group(i).column(0).statistics.max) for i in range(3)]
    assert md.num_row_groups == 3 and [md.row_group(i).num_rows for i in range(3)] == [2048, 2048, n - 4096]
    assert all(a[1] < b[0] for a, b in zip(bounds, bounds[1:], strict=False)), bounds  # disjoint, ascending
    cat = catalog(settings)
    want = {r["job_id"]: f"text {r['native_id'][1:]}" for r in cat.values()}
    seg = snapshots._segment(path)
    for job_id in random.Random(1).sample(sorted(want), 50):
        (group,) = snapshots._groups_holding(seg, [job_id])
        assert bounds[group][0] <= job_id <= bounds[group][1]
    assert snapshots.read_descriptions(settings.snapshots_dir, [(j, name) for j in want]) == want
    assert snapshots.read_descriptions(settings.snapshots_dir, [("not-there", name)]) == {}
    assert len(snapshots._groups_holding(seg, sorted(want)[:2] + sorted(want)[-1:])) == 2
    # The layout before: one row group in no particular order.
    old = pq.read_table(path).sort_by([("job_id", "descending")])
    pq.write_table(old, path, row_group_size=n)
    assert pq.read_metadata(path).num_row_groups == 1
    assert snapshots.read_descriptions(settings.snapshots_dir, [(j, name) for j in want]) == want
    pq.write_table(old, path, row_group_size=n, write_statistics=False)
    assert snapshots._groups_holding(snapshots._segment(path), ["x"]) == [0]  # no statistics: read every group
    assert snapshots.read_descriptions(settings.snapshots_dir, [(j, name) for j in want]) == want


def _old_tantivy_index(directory: Path, docs: list[tuple[str, str, str, str]]) -> None:
    """What jobdash 3 left: a tantivy index whose texts are stored (schema 3)."""
    import tantivy

    from core.search import fts_id

    sb = tantivy.SchemaBuilder()
    for name in ("title", "company", "description"):
        sb.add_text_field(name, stored=True, index_option="position")
    sb.add_integer_field("id", stored=False, indexed=True, fast=True)
    sb.add_integer_field("h", stored=False, indexed=False, fast=True)
    sb.add_bytes_field("job_id", stored=True, indexed=False)
    directory.mkdir()
    index = tantivy.Index(sb.build(), path=str(directory), reuse=False)
    writer = index.writer(num_threads=1)
    for j, t, c, d in docs:
        writer.add_document(tantivy.Document(id=fts_id(j), h=1, job_id=j.encode(), title=t, company=c, description=d))
    writer.commit()
    writer.wait_merging_threads()


def test_an_index_that_stores_the_texts_is_rebuilt_and_searches_say_so_meanwhile(settings: Settings) -> None:
    """Schema 3 (texts stored in tantivy, ~60% of the index) → 4: whoever opens the folder first empties it;
    until the sync has rebuilt it a description search is an error that says so, never "0 matches"."""
    import shutil

    from core.catalog import Catalog
    from core.errors import StorageError
    from core.query import JobFilter, Sort
    from core.search import DescriptionIndex, index_dir

    rows = [job("a1", description="kafka streams"), job("a2", description="spark jobs")]
    run_sync(settings, now=T0, sources=[static("A", rows)])
    shutil.rmtree(index_dir(settings.search_path))
    _old_tantivy_index(index_dir(settings.search_path), [("x", "t", "c", "kafka")])
    with sqlite3.connect(settings.search_path) as conn:
        conn.execute("UPDATE meta SET value = 3 WHERE key = 'schema'")
    cat = Catalog(settings)
    try:
        with pytest.raises(StorageError, match="being rebuilt") as e:
            cat.count(JobFilter(desc="kafka"))
        assert e.value.code == "INDEX_REBUILDING"
        with pytest.raises(StorageError, match="being rebuilt"):  # sorted by best match too
            cat.page(JobFilter(desc="kafka"), Sort("relevance"))
        assert cat.count(JobFilter()) == 2  # everything but the description search works
        a1 = catalog(settings)["a1"]["job_id"]
        assert cat.job(a1)["description"] == "kafka streams"  # from the Parquet segment, not the index
        with DescriptionIndex(settings.search_path) as index:
            assert index.migrated == 3 and index.count() == 0 and index.segments_done() == set()
        r = run_sync(settings, now=T0 + timedelta(hours=1), sources=[static("A", rows)])
        assert r.status == "ok" and r.error is None, r.error
        assert any("no longer stores the texts" in w for w in r.warnings), r.warnings
        assert cat.count(JobFilter(desc="kafka")) == 1 and cat.count(JobFilter(desc="x OR t")) == 0
    finally:
        cat.close()
    with DescriptionIndex(settings.search_path) as index:
        assert index.migrated is None and index.count() == 2


def test_a_job_starred_while_the_run_purges_it_is_kept(settings: Settings) -> None:
    from core.userdata import UserData

    run_sync(settings, now=T0, sources=[static("A", [job("a1"), job("a2")])])
    run_sync(settings, now=T0 + timedelta(days=1), sources=[static("A", [job("a1")])])  # a2 delisted
    a2 = catalog(settings)["a2"]["job_id"]
    users = UserData(settings.db_path)

    def star_after_the_diff(frac: float, msg: str) -> None:
        if msg == "writing the snapshot":  # the purge was decided without a star; the user stars it now
            users.set(a2, starred=True)

    r = run_sync(
        settings, now=T0 + timedelta(days=60), sources=[static("A", [job("a1")])], on_progress=star_after_the_diff
    )
    assert users.get(a2) is not None and users.get(a2)["starred"]
    assert r.counts["purged"] == 0, r.counts
    kept = catalog(settings)["a2"]
    assert kept["delisted_at"] == T0 + timedelta(days=1), "kept as it was: delisted, with its date"
    assert kept["dup_group"] is not None
    users.close()
