"""The query benchmark: the dashboard's query mix through ``Catalog``, beside the SQLite reference design and
pandas on the same snapshot; the dashboard process's memory and load time in fresh processes."""

from __future__ import annotations

import gc
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import psutil
import pyarrow as pa

from benchmarks.common import (
    BASELINE_BUDGET_S,
    MIN_BASELINE_RUNS,
    MIN_QUERY_RUNS,
    PAGE,
    TARGET_ANALYTICS_MS,
    TARGET_BEST_MATCH_MS,
    TARGET_DESC_MS,
    TARGET_TEXT_MS,
    WORD_SAMPLE,
    bench_settings,
)
from core.errors import JobdashError
from core.instrumentation.metrics import percentile
from core.settings import ROOT, Settings
from core.sources.base import SourceConfig

T = TypeVar("T")


@dataclass(frozen=True)
class QueryMix:
    """The queries every contender answers, on the same snapshot."""

    word: str  # title/company search
    workplace: tuple[str, ...]
    salary_min: float
    common: str  # two common description words
    rare: str  # two rare description words that occur together
    deep_offset: int  # rows before the deep page in the default order of the listed jobs
    facets: tuple[str, ...] = ("company", "source", "country")
    buckets: tuple[str, ...] = ("day", "week")
    bins: int = 30


FIRST_TIME = ", first search of the words"
BEST_MATCH = ", sorted by best match"  # no baseline ranks by BM25: ours alone


def _time_runs(
    fn: Callable[[int], T], runs: int, budget_s: float | None = None, min_runs: int = MIN_BASELINE_RUNS
) -> tuple[list[float], T]:
    """ms of ``fn(1) .. fn(runs)`` after one uncounted warm-up ``fn(0)``, and the warm-up's result (to compare
    contenders). With a budget, stop once the timed runs took ``budget_s`` and at least ``min_runs`` were done."""
    first = fn(0)  # warm-up, not counted: first-run plan and cache effects
    out: list[float] = []
    for i in range(1, runs + 1):
        t = time.perf_counter()
        fn(i)
        out.append((time.perf_counter() - t) * 1000)
        if budget_s is not None and len(out) >= min_runs and sum(out) / 1000 >= budget_s:
            break
    return out, first


def case_variant(text: str, i: int) -> str:
    """The i-th upper/lower case spelling of ``text``: the same case-insensitive search, a new filter value
    (so the catalog's count memo and the FTS result cache see a query they have not seen)."""
    chars = list(text.lower())
    letters = [k for k, ch in enumerate(chars) if ch.isalpha()]
    for bit, k in enumerate(letters[:24]):
        if i >> bit & 1:
            chars[k] = chars[k].upper()
    return "".join(chars)


def snapshot_with_descriptions(snap: Any) -> pa.Table:
    """The snapshot's hot columns joined with each row's current description (for the baselines)."""
    import pyarrow.parquet as pq

    from core import schema, snapshots

    jobs = pq.read_table(snap.jobs_path, columns=[*schema.HOT_COLUMNS, schema.DESC_FILE])
    parts = []
    for name in sorted(snapshots.referenced_segments(snap)):
        seg = pq.read_table(snap.directory / name, columns=["job_id", "description"])
        parts.append(seg.append_column(schema.DESC_FILE, pa.repeat(pa.scalar(name), seg.num_rows)))
    if parts:
        desc = pa.concat_tables(parts)
        joined = jobs.join(desc, keys=["job_id", schema.DESC_FILE], join_type="left outer")
    else:
        joined = jobs.append_column("description", pa.nulls(jobs.num_rows, pa.string()))
    return joined.select([*schema.HOT_COLUMNS, "description"])


def pick_description_words(
    descriptions: pa.Array | pa.ChunkedArray,
    sample: int = WORD_SAMPLE,
    words: Callable[[str], set[str]] | None = None,
) -> dict[str, Any]:
    """Two common and two rare words from document frequencies in an evenly spaced sample of descriptions.

    Common: the two most frequent words (4+ letters) found in at most half of the descriptions (words in
    nearly every posting, like "with" or "team", are boilerplate nobody searches for). Rare: of the words
    in at most 1% of the sample (and at least 2), the pair that occurs together in some description with
    the lowest larger frequency. ``words`` splits a description into its words (default: runs of 4+ ASCII
    letters)."""
    import re
    from collections import Counter
    from itertools import combinations

    n = len(descriptions)
    step = max(1, n // sample)
    split = words or (lambda text: set(re.findall(r"[a-z]{4,}", text.lower())))
    docs = [split(t or "") for t in descriptions[::step][:sample].to_pylist()]
    df = Counter(w for d in docs for w in d)
    m = len(docs)
    common = sorted((w for w in df if df[w] <= 0.5 * m), key=lambda w: (-df[w], w))[:2]
    rare_words = {w for w, c in df.items() if 2 <= c <= max(2, m // 100)}
    best: tuple[int, str, str] | None = None
    for d in docs:
        for a, b in combinations(sorted(d & rare_words), 2):
            cand = (max(df[a], df[b]), a, b)
            if best is None or cand < best:
                best = cand
    rare = [best[1], best[2]] if best else common
    return {
        "sample": m,
        "common": " ".join(common),
        "common_df": [df[w] / m for w in common],
        "rare": " ".join(rare),
        "rare_df": [df[w] / m for w in rare],
    }


def child_dashboard_memory(data_dir: str) -> dict[str, Any]:
    """In this (fresh) process: RSS before and after ``Catalog(settings).refresh()``, and after one of each
    query kind; the snapshot load time."""
    from core.catalog import Catalog
    from core.query import JobFilter, Sort

    s = Settings(data_dir=Path(data_dir), config_path=None, sources=(SourceConfig("demo", "demo"),), demo_default=False)
    proc = psutil.Process()
    gc.collect()
    rss_start = proc.memory_info().rss / 2**20
    t = time.perf_counter()
    cat = Catalog(s, search_bitmaps=True)  # as the dashboard
    cat.refresh()
    open_s = time.perf_counter() - t
    rss_loaded = proc.memory_info().rss / 2**20
    flt = JobFilter(text="engineer", workplace=("remote", "hybrid"), salary_min=60_000.0)
    cat.page(JobFilter(), Sort())
    cat.page(flt, Sort())
    cat.page(JobFilter(desc="python"), Sort())
    cat.facet(JobFilter(), "company")
    cat.timeseries(JobFilter(), "posted_at", "day")
    cat.salary_distribution(JobFilter())
    cat.search_settled(120)  # the description search's word bitmaps, built in the background, count too
    rss_queried = proc.memory_info().rss / 2**20
    load_ms = cat.last_load_ms or 0.0
    cat.close()
    return {
        "rss_start_mb": round(rss_start, 1),
        "rss_loaded_mb": round(rss_loaded, 1),
        "rss_after_queries_mb": round(rss_queried, 1),
        "load_s": load_ms / 1000,
        "open_s": open_s,
    }


_MEMORY_CHILD = "import json, sys; from benchmarks.query_bench import child_dashboard_memory as f; print(json.dumps(f(sys.argv[1])))"


def bench_dashboard_memory(base: Path, runs: int, say: Callable[[str], None]) -> list[dict[str, Any]]:
    out = []
    for i in range(runs):
        proc = subprocess.run(
            [sys.executable, "-c", _MEMORY_CHILD, str(base)], cwd=ROOT, capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise JobdashError(f"bench: the dashboard memory process failed: {tail}")
        r: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
        out.append(r)
        say(
            f"  dashboard process {i + 1}/{runs}: load {r['load_s']:.2f} s, RSS {r['rss_loaded_mb']:,.0f} MB loaded, "
            f"{r['rss_after_queries_mb']:,.0f} MB after queries (at start {r['rss_start_mb']:,.0f} MB)"
        )
    return out


def _ours(cat: Any, mix: QueryMix, cursor: tuple[Any, ...]) -> dict[str, Callable[[int], Any]]:
    """Our query mix; each takes the run index and returns plain values to compare with the baselines."""
    from core.query import DEFAULT_SORT, RELEVANCE, JobFilter, Sort

    def ids(page: Any) -> list[str]:
        out: list[str] = page.rows.column("job_id").to_pylist()
        return out

    def text(i: int) -> Any:
        p = cat.page(JobFilter(text=case_variant(mix.word, i)), Sort(), limit=PAGE)
        return ids(p), p.total

    def filtered(i: int) -> Any:
        p = cat.page(
            JobFilter(text=mix.word, workplace=mix.workplace, salary_min=mix.salary_min + i), Sort(), limit=PAGE
        )
        return ids(p), p.total

    def desc(words: str, first_time: bool = False, sort: Sort = DEFAULT_SORT) -> Callable[[int], Any]:
        """The dashboard keeps the words of searches as bitmaps, built in the background: timed once they
        are (as a user's next search with them finds them), or ``first_time``, with none kept."""

        def run(i: int) -> Any:
            if first_time:
                cat.forget_search_words()
            flt = JobFilter(desc=case_variant(words, i), workplace=mix.workplace, salary_min=mix.salary_min)
            p = cat.page(flt, sort, limit=PAGE)
            if i == 0 and not first_time:
                cat.search_settled(120)  # the uncounted warm-up run
            return ids(p), p.total

        return run

    cases: dict[str, Callable[[int], Any]] = {
        "first page (default sort)": lambda i: ids(cat.page(JobFilter(), Sort(), limit=PAGE)),
        "title/company search: page + count, new word spelling each run": text,
        "filtered page + count, new filter each run (text + workplace + salary)": filtered,
        # floors going down: the filtered page above already counted the ones going up
        "count, new filter each run": lambda i: cat.count(
            JobFilter(text=mix.word, workplace=mix.workplace, salary_min=mix.salary_min - i)
        ),
        f"description search, common words ({mix.common}) + filters{FIRST_TIME}: page + count": desc(
            mix.common, first_time=True
        ),
        f"description search, common words ({mix.common}) + filters: page + count": desc(mix.common),
        f"description search, rare words ({mix.rare}) + filters: page + count": desc(mix.rare),
        f"description search, common words ({mix.common}) + filters{BEST_MATCH}: page + count": desc(
            mix.common, sort=Sort(RELEVANCE)
        ),
    }

    def facet(name: str) -> Callable[[int], Any]:
        return lambda i: cat.facet(JobFilter(), name)

    def series(bucket: str) -> Callable[[int], Any]:
        return lambda i: [(d.isoformat(), n) for d, n in cat.timeseries(JobFilter(), "posted_at", bucket)]

    for name in mix.facets:
        cases[f"facet: {name} (all listed)"] = facet(name)
    for bucket in mix.buckets:
        cases[f"time series by {bucket} (posted_at, all listed)"] = series(bucket)
    cases["salary distribution (30 bins per currency)"] = lambda i: [
        (r["currency"], int(r["bin"]), int(r["count"])) for r in cat.salary_distribution(JobFilter(), mix.bins)
    ]
    cases["next page 90% deep (ours: keyset; baselines: OFFSET)"] = lambda i: ids(
        cat.page(JobFilter(), Sort(), cursor=cursor, limit=PAGE)
    )
    return cases


def _baseline(ref: Any, mix: QueryMix) -> dict[str, Callable[[int], Any]]:
    """The same mix over a reference (benchmarks/sqlite_reference.py or pandas_reference.py), same names.

    First and deep pages return the page only: ours answers their count from its memo (same filter)."""
    cases: dict[str, Callable[[int], Any]] = {
        "first page (default sort)": lambda i: ref.first_page(PAGE),
        "title/company search: page + count, new word spelling each run": lambda i: ref.text_page(
            case_variant(mix.word, i), PAGE
        ),
        "filtered page + count, new filter each run (text + workplace + salary)": lambda i: ref.filtered_page(
            mix.word, mix.workplace, mix.salary_min + i, PAGE
        ),
        "count, new filter each run": lambda i: ref.filtered_count(mix.word, mix.workplace, mix.salary_min - i),
        f"description search, common words ({mix.common}) + filters: page + count": lambda i: ref.desc_page(
            case_variant(mix.common, i), mix.workplace, mix.salary_min, PAGE
        ),
        f"description search, rare words ({mix.rare}) + filters: page + count": lambda i: ref.desc_page(
            case_variant(mix.rare, i), mix.workplace, mix.salary_min, PAGE
        ),
    }

    def facet(name: str) -> Callable[[int], Any]:
        return lambda i: ref.facet(name, 20)

    def series(bucket: str) -> Callable[[int], Any]:
        return lambda i: ref.timeseries(bucket)

    for name in mix.facets:
        cases[f"facet: {name} (all listed)"] = facet(name)
    for bucket in mix.buckets:
        cases[f"time series by {bucket} (posted_at, all listed)"] = series(bucket)
    cases["salary distribution (30 bins per currency)"] = lambda i: ref.salary_distribution(mix.bins)
    cases["next page 90% deep (ours: keyset; baselines: OFFSET)"] = lambda i: ref.offset_page(mix.deep_offset, PAGE)
    return cases


def _target(name: str) -> float | None:
    """p95 target in ms of a query, by its name (None: reported, not judged)."""
    if name.startswith("title/company search"):
        return TARGET_TEXT_MS
    if name.startswith("description search"):
        return TARGET_BEST_MATCH_MS if BEST_MATCH in name else TARGET_DESC_MS
    if name.startswith(("facet:", "time series")):
        return TARGET_ANALYTICS_MS
    return None


def _run_baseline(
    label: str, cases: dict[str, Callable[[int], Any]], runs: int, say: Callable[[str], None]
) -> dict[str, Any]:
    timings: dict[str, list[float]] = {}
    results: dict[str, Any] = {}
    for name, fn in cases.items():
        timings[name], results[name] = _time_runs(fn, runs, BASELINE_BUDGET_S)
        say(f"  {label} {name}: p50 {statistics.median(timings[name]):,.1f} ms ({len(timings[name])} runs)")
    return {"timings_ms": timings, "results": results}


def _same(a: Any, b: Any) -> bool:
    """Equal once both are plain JSON (tuples and lists alike)."""
    return bool(json.loads(json.dumps(a, default=str)) == json.loads(json.dumps(b, default=str)))


def bench_query(settings: Settings, base: Path, repeats: int, say: Callable[[str], None]) -> dict[str, Any]:
    from benchmarks import pandas_reference as pandas_ref
    from benchmarks import sqlite_reference as sqlite_ref
    from core import snapshots
    from core.catalog import Catalog

    s = bench_settings(settings, base)
    runs = max(MIN_QUERY_RUNS, repeats)
    snap = snapshots.current(s.snapshots_dir)
    assert snap is not None
    load_avg = [round(x, 2) for x in os.getloadavg()]  # the machine may be busy with other work: say so

    say(f"  dashboard process memory: {min(repeats, 3)} fresh process(es) …")
    memory = bench_dashboard_memory(base, min(repeats, 3), say)

    t = time.perf_counter()
    table = snapshot_with_descriptions(snap)
    read_s = time.perf_counter() - t
    words = pick_description_words(table.column("description"))
    say(f"  description words: common {words['common']!r}, rare {words['rare']!r} (sample of {words['sample']:,})")

    t = time.perf_counter()
    cat = Catalog(s, search_bitmaps=True)  # as the dashboard
    load_ms = (time.perf_counter() - t) * 1000
    try:
        con = duckdb.connect(":memory:")
        try:
            src = "FROM read_parquet(?) WHERE delisted_at IS NULL"
            (listed,) = con.execute(f"SELECT count(*) {src}", [str(snap.jobs_path)]).fetchall()[0]
            k = int(listed * 0.9)
            deep = con.execute(
                f"SELECT posted_at, job_id {src} ORDER BY posted_at DESC NULLS LAST, job_id DESC LIMIT 1 OFFSET ?",
                [str(snap.jobs_path), k],
            ).fetchall()[0]
        finally:
            con.close()
        mix = QueryMix(
            word="engineer", workplace=("remote", "hybrid"), salary_min=60_000.0,
            common=words["common"], rare=words["rare"], deep_offset=k + 1,
        )  # fmt: skip
        ours_cases = _ours(cat, mix, (deep[0], deep[1]))
        ours_results: dict[str, Any] = {}
        timings: dict[str, list[float]] = {}
        for name, fn in ours_cases.items():
            timings[name], ours_results[name] = _time_runs(fn, runs)
            say(
                f"  ours {name}: p50 {statistics.median(timings[name]):.1f} ms, p95 {percentile(timings[name], 95):.1f} ms"
            )
    finally:
        cat.close()

    db_path = base.parent / "reference.sqlite"
    say("  SQLite reference: loading …")
    t = time.perf_counter()
    sqlite_load = sqlite_ref.load(db_path, table)
    sqlite_load["load_s"] = read_s + time.perf_counter() - t
    say(f"  SQLite reference loaded in {sqlite_load['load_s']:.1f} s ({sqlite_load['file_mb']:,.0f} MB)")
    ref = sqlite_ref.Reference(db_path)
    try:
        sqlite = _run_baseline("SQLite", _baseline(ref, mix), runs, say)
    finally:
        ref.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)

    t = time.perf_counter()
    df = pandas_ref.frame(table)
    pandas_load_s = read_s + time.perf_counter() - t
    pandas_mb = float(df.memory_usage(deep=True).sum()) / 2**20
    del table
    try:
        pandas = _run_baseline("pandas", _baseline(pandas_ref.Reference(df), mix), runs, say)
    finally:
        del df
        gc.collect()

    for name in ours_results:  # the baselines keep nothing between searches: one run serves both rows
        if FIRST_TIME in name:
            for side in (sqlite, pandas):
                for part in ("results", "timings_ms"):
                    side[part][name] = side[part][name.replace(FIRST_TIME, "")]
    compared = {name: res for name, res in ours_results.items() if name in sqlite["results"]}
    agree = {
        name: {"sqlite": _same(res, sqlite["results"][name]), "pandas": _same(res, pandas["results"][name])}
        for name, res in compared.items()
    }
    totals = {
        name: {"ours": res[1], "sqlite": sqlite["results"][name][1], "pandas": pandas["results"][name][1]}
        for name, res in compared.items()
        if isinstance(res, tuple)
    }
    return {
        "catalog_rows": snap.rows,
        "listed_rows": int(listed),
        "load_avg_at_start": load_avg,
        "load_avg_at_end": [round(x, 2) for x in os.getloadavg()],
        "runs": runs,
        "baseline_budget_s": BASELINE_BUDGET_S,
        "catalog_load_ms": load_ms,
        "mix": {
            "word": mix.word,
            "workplace": list(mix.workplace),
            "salary_min": mix.salary_min,
            "common": mix.common,
            "rare": mix.rare,
            "deep_offset": mix.deep_offset,
            "words": words,
        },  # fmt: skip
        "timings_ms": timings,
        "targets_ms": {name: _target(name) for name in timings},
        "sqlite": {
            "timings_ms": sqlite["timings_ms"],
            "load": sqlite_load,
            "indexes": [list(c) for c in sqlite_ref.INDEXES],
            "cache_mb": sqlite_ref.CACHE_KB / 1024,
        },
        "pandas": {"timings_ms": pandas["timings_ms"], "load_s": pandas_load_s, "frame_mb": round(pandas_mb, 1)},
        "dashboard_memory": memory,
        "checks": {"same_result": agree, "totals": totals},
    }
