"""`python -m core bench [sync|query|browser|all] [--jobs N] [--repeats K]`: measured figures beside baselines.

- **sync**: a demo catalog of N jobs is built once with ``run_sync``; then a batch of N/10 jobs (60%
  unchanged, 20% updated, 20% new; the rest of the catalog is delisted) is synced against it end to end,
  K times, each on a fresh copy of the built data folder in a fresh process (so peak RSS is the sync's
  own). Beside it, the reference design (``benchmarks/orm_sync.py``: row-by-row SQLAlchemy ORM on SQLite,
  commit per 50; with defaults and with ``expire_on_commit=False``) on the same normalized rows at
  min(N, 100k) catalog / one tenth batch.
- **query**: a query mix (pages, title/company search, counts, description search with common and rare
  words, facets, time series, salary distribution, a page 90% deep) timed end to end through
  ``core.catalog.Catalog``, and the same mix on the same snapshot in the reference design
  (``benchmarks/sqlite_reference.py``: SQLite, composite indexes, LIKE, OFFSET) and in pandas
  (``benchmarks/pandas_reference.py``); p50/p95 with ratios and the targets at 1M. Also the dashboard
  process's RSS and snapshot load time, each in a fresh process.
- **browser**: ``benchmarks/browser_timing.py`` if it exists and Chromium is installed.

Results go to ``<data>/bench/bench-<UTC time>.json`` (read by the Performance page) and a Markdown table
(``docs/BENCHMARKS.md`` unless ``--markdown`` says otherwise). Every figure is a median with its spread
(min–max and quartiles); ``ratio`` is how many times better ours is than the baseline (baseline time /
our time, or our throughput / baseline throughput).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import duckdb
import psutil
import pyarrow as pa

from core.errors import JobdashError
from core.settings import ROOT, Settings
from core.sources.base import FetchContext, Fetched, SourceConfig

DEFAULT_JOBS = 100_000
DEFAULT_REPEATS = 3
ORM_MAX_CATALOG = 100_000
ORM_BUDGET_S = 120.0
MIN_QUERY_RUNS = 20
BUILD_AT = datetime(2026, 1, 1, 12, 0)
SYNC_AT = BUILD_AT + timedelta(days=1)
TARGET_SYNC_S = 10.0  # at a 100k batch against a 1M catalog
TARGET_SYNC_CATALOG = 1_000_000
TARGET_RSS_MB = 2048.0
TARGET_ORM_RATIO = 100.0
TARGETS = ("sync", "query", "browser", "all")
T = TypeVar("T")


# ---------------------------------------------------------------- figures


@dataclass(frozen=True)
class Figure:
    group: str
    name: str
    unit: str
    samples: tuple[float, ...]
    lower_is_better: bool = True
    baseline: float | None = None
    baseline_name: str | None = None
    target: str | None = None
    target_met: bool | None = None
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        s = sorted(self.samples)
        q1, q3 = statistics.quantiles(s, n=4, method="inclusive")[::2] if len(s) >= 2 else (s[0], s[0])
        med = statistics.median(s)
        ratio = None
        if self.baseline:
            ratio = (self.baseline / med if self.lower_is_better else med / self.baseline) if med else None
        return {
            "group": self.group,
            "name": self.name,
            "unit": self.unit,
            "n": len(s),
            "median": med,
            "min": s[0],
            "max": s[-1],
            "q1": q1,
            "q3": q3,
            "p95": _nearest_rank(s, 95),
            "samples": list(self.samples),
            "lower_is_better": self.lower_is_better,
            "baseline": self.baseline,
            "baseline_name": self.baseline_name,
            "ratio": ratio,
            "target": self.target,
            "target_met": self.target_met,
            "note": self.note,
        }


def _nearest_rank(ordered: Sequence[float], p: float) -> float:
    from core.metrics import percentile

    return percentile(ordered, p)


def machine() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.lower().startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu_count": os.cpu_count(),
        "cpu_physical": psutil.cpu_count(logical=False),
        "cpu_model": model,
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "pyarrow": pa.__version__,
        "platform": platform.platform(),
    }


# ---------------------------------------------------------------- sync


@dataclass
class TableSource:
    """A source that hands the sync a prepared table, so generating the batch is not timed as fetching."""

    config: SourceConfig
    table: pa.Table
    kind: ClassVar[str] = "demo"

    @classmethod
    def validate(cls, options: Mapping[str, Any], where: str) -> None:
        """Built in code, never from a config file: nothing to check."""

    def fetch(self, ctx: FetchContext) -> Fetched:
        return Fetched(self.table)


def _bench_settings(settings: Settings, data_dir: Path) -> Settings:
    return replace(
        settings, data_dir=data_dir, config_path=None, sources=(SourceConfig("demo", "demo"),), demo_default=False
    )


def build_catalog(settings: Settings, folder: Path, jobs: int) -> dict[str, Any]:
    """A published demo catalog of ``jobs`` listed jobs in ``folder`` (the data folder of the benchmark)."""
    from core.sources.demo import demo_table
    from core.sync import run_sync

    s = _bench_settings(settings, folder)
    src = TableSource(s.sources[0], demo_table(jobs, churn=False))
    result = run_sync(s, trigger="bench", now=BUILD_AT, sources=[src])
    if result.status != "ok":
        raise JobdashError(f"bench: building the catalog failed: {result.error}")
    return {
        "jobs": jobs,
        "seconds": result.phases["total"],
        "jobs_per_s": result.jobs_per_s,
        "peak_rss_mb": result.peak_rss_mb,
        "phases": result.phases,
    }


def _copy_data(src: Path, dst: Path) -> None:
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("tmp", "sync.lock"))


def child_sync(data_dir: str, memory_limit: str, jobs: int, batch_jobs: int) -> dict[str, Any]:
    """One timed batch sync in this (fresh) process; peak RSS is then the sync's, not the benchmark's."""
    from core.sources.demo import benchmark_batch
    from core.sync import run_sync

    s = Settings(
        data_dir=Path(data_dir), config_path=None, sources=(SourceConfig("demo", "demo"),), demo_default=False,
        memory_limit=memory_limit,
    )  # fmt: skip
    batch = benchmark_batch(jobs, batch_jobs)
    gc.collect()
    rss_before = psutil.Process().memory_info().rss / 2**20
    result = run_sync(s, trigger="bench", now=SYNC_AT, sources=[TableSource(s.sources[0], batch)])
    if result.status != "ok":
        raise JobdashError(f"bench: the batch sync failed: {result.error}")
    return {
        "total_s": result.phases["total"],
        "phases": result.phases,
        "jobs_in": result.jobs_in,
        "jobs_per_s": result.jobs_per_s,
        "peak_rss_mb": result.peak_rss_mb,
        "rss_before_mb": round(rss_before, 1),
        "counts": result.counts,
    }


_CHILD = "import json, sys; from core.bench import child_sync; a = sys.argv[1:]; print(json.dumps(child_sync(a[0], a[1], int(a[2]), int(a[3]))))"


def bench_sync(
    settings: Settings, base: Path, work: Path, jobs: int, repeats: int, say: Callable[[str], None]
) -> dict[str, Any]:
    """K timed batch syncs, each in a fresh process on a fresh copy of the built data folder."""
    batch_jobs = max(1, jobs // 10)
    runs: list[dict[str, Any]] = []
    for i in range(repeats):
        folder = work / f"sync-{i}"
        _copy_data(base, folder)
        args = [str(folder), settings.memory_limit, str(jobs), str(batch_jobs)]
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, *args], cwd=ROOT, capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise JobdashError(f"bench: the batch sync process failed: {tail}")
        run: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
        runs.append(run)
        say(
            f"  sync {i + 1}/{repeats}: {run['total_s']:.2f} s, {run['jobs_per_s']:,.0f} jobs/s, "
            f"peak RSS {run['peak_rss_mb']:,.0f} MB (process at start {run['rss_before_mb']:,.0f} MB)"
        )
        shutil.rmtree(folder, ignore_errors=True)
    n_unchanged, n_updated = round(0.6 * batch_jobs), round(0.2 * batch_jobs)
    expected = {
        "unchanged": n_unchanged,
        "updated": n_updated,
        "new": batch_jobs - n_unchanged - n_updated,
        "delisted": jobs - n_unchanged - n_updated,
    }
    got = runs[0]["counts"]
    return {
        "catalog_jobs": jobs,
        "batch_jobs": batch_jobs,
        "runs": runs,
        "expected_counts": expected,
        "counts_as_expected": all(got.get(k) == v for k, v in expected.items()),
    }


def bench_orm(jobs: int, work: Path, budget_s: float, say: Callable[[str], None]) -> dict[str, Any]:
    """The ORM reference design twice on the same seeded catalog: with SQLAlchemy's defaults ("orm") and
    with ``expire_on_commit=False`` ("orm_tuned")."""
    from core.normalize import normalize
    from core.sources.demo import benchmark_batch, demo_table

    orm = importlib.import_module("benchmarks.orm_sync")
    catalog_jobs = min(jobs, ORM_MAX_CATALOG)
    batch_jobs = max(1, catalog_jobs // 10)
    catalog = normalize(demo_table(catalog_jobs, churn=False), "demo", BUILD_AT).table
    batch = normalize(benchmark_batch(catalog_jobs, batch_jobs), "demo", SYNC_AT).table
    work.mkdir(parents=True, exist_ok=True)
    db_path = work / "orm.sqlite"
    db_path.unlink(missing_ok=True)
    orm.seed(db_path, catalog, BUILD_AT)
    del catalog
    tuned_path = work / "orm-tuned.sqlite"
    shutil.copyfile(db_path, tuned_path)
    gc.collect()
    out: dict[str, Any] = {}
    for name, path, expire in (("orm", db_path, True), ("orm_tuned", tuned_path, False)):
        res: dict[str, Any] = orm.run(path, batch, SYNC_AT, budget_s, expire_on_commit=expire)
        path.unlink(missing_ok=True)
        note = " (extrapolated from a prefix)" if res["extrapolated"] else ""
        say(f"  ORM reference, expire_on_commit={expire}: {res['jobs_per_s']:,.1f} jobs/s{note}")
        out[name] = res
    return out


# ---------------------------------------------------------------- query

# Targets at 1M jobs (judged only at that size; the dashboard-memory target also at 100k).
TARGET_AT = 1_000_000
TARGET_TEXT_MS = 50.0
TARGET_DESC_MS = 100.0
TARGET_ANALYTICS_MS = 50.0
TARGET_RSS_100K_MB = 300.0
TARGET_RSS_1M_MB = 1024.0
TARGET_LOAD_S = 3.0
# Slow baselines stop after this many seconds of timed runs per query (at least MIN_BASELINE_RUNS).
BASELINE_BUDGET_S = 6.0
MIN_BASELINE_RUNS = 3
WORD_SAMPLE = 5_000
PAGE = 100


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


def pick_description_words(descriptions: pa.Array | pa.ChunkedArray, sample: int = WORD_SAMPLE) -> dict[str, Any]:
    """Two common and two rare words from document frequencies in an evenly spaced sample of descriptions.

    Common: the two most frequent words (4+ letters) found in at most half of the descriptions (words in
    nearly every posting, like "with" or "team", are boilerplate nobody searches for). Rare: of the words
    in at most 1% of the sample (and at least 2), the pair that occurs together in some description with
    the lowest larger frequency."""
    import re
    from collections import Counter
    from itertools import combinations

    n = len(descriptions)
    step = max(1, n // sample)
    docs = [set(re.findall(r"[a-z]{4,}", (t or "").lower())) for t in descriptions[::step][:sample].to_pylist()]
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
    cat = Catalog(s)
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


_MEMORY_CHILD = (
    "import json, sys; from core.bench import child_dashboard_memory as f; print(json.dumps(f(sys.argv[1])))"
)


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
    from core.query import JobFilter, Sort

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

    def desc(words: str) -> Callable[[int], Any]:
        def run(i: int) -> Any:
            flt = JobFilter(desc=case_variant(words, i), workplace=mix.workplace, salary_min=mix.salary_min)
            p = cat.page(flt, Sort(), limit=PAGE)
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
        f"description search, common words ({mix.common}) + filters: page + count": desc(mix.common),
        f"description search, rare words ({mix.rare}) + filters: page + count": desc(mix.rare),
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
        return TARGET_DESC_MS
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
    from core import snapshots
    from core.catalog import Catalog

    s = _bench_settings(settings, base)
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
    cat = Catalog(s)
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
                f"  ours {name}: p50 {statistics.median(timings[name]):.1f} ms, p95 {_nearest_rank(timings[name], 95):.1f} ms"
            )
    finally:
        cat.close()

    sqlite_ref = importlib.import_module("benchmarks.sqlite_reference")
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

    pandas_ref = importlib.import_module("benchmarks.pandas_reference")
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

    agree = {
        name: {"sqlite": _same(res, sqlite["results"][name]), "pandas": _same(res, pandas["results"][name])}
        for name, res in ours_results.items()
    }
    totals = {
        name: {"ours": res[1], "sqlite": sqlite["results"][name][1], "pandas": pandas["results"][name][1]}
        for name, res in ours_results.items()
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


def _query_figures(query: dict[str, Any], jobs: int) -> list[Figure]:
    """One figure per query (baseline: the SQLite reference) plus dashboard memory and load time."""
    out: list[Figure] = []
    at_target = jobs >= TARGET_AT
    sqlite = query.get("sqlite", {}).get("timings_ms", {})
    for name, ms in query["timings_ms"].items():
        target = query.get("targets_ms", {}).get(name)
        base = sqlite.get(name)
        out.append(
            Figure(
                "query",
                name,
                "ms",
                tuple(ms),
                baseline=statistics.median(base) if base else None,
                baseline_name=f"SQLite reference, median of {len(base)}" if base else None,
                target=f"p95 ≤ {target:g} ms at 1M" if target else None,
                target_met=(_nearest_rank(sorted(ms), 95) <= target) if target and at_target else None,
            )
        )
    mem = query.get("dashboard_memory")
    if mem:
        rss_target = TARGET_RSS_100K_MB if jobs <= 100_000 else TARGET_RSS_1M_MB if jobs >= TARGET_AT else None
        for key, label in (
            ("rss_loaded_mb", "catalog loaded"),
            ("rss_after_queries_mb", "after one query of each kind"),
        ):
            rss = tuple(r[key] for r in mem)
            out.append(
                Figure(
                    "dashboard",
                    f"dashboard process RSS, {label}",
                    "MB",
                    rss,
                    target=f"≤ {TARGET_RSS_100K_MB:g} MB at 100k, ≤ {TARGET_RSS_1M_MB:,.0f} MB at 1M",
                    target_met=max(rss) <= rss_target if rss_target else None,
                    note="fresh process each",
                )
            )
        loads = tuple(r["load_s"] for r in mem)
        out.append(
            Figure(
                "dashboard",
                "snapshot load into the dashboard's DuckDB",
                "s",
                loads,
                target=f"≤ {TARGET_LOAD_S:g} s at 1M",
                target_met=max(loads) <= TARGET_LOAD_S if at_target else None,
            )
        )
    return out


def _stats(ms: list[float] | None) -> dict[str, Any] | None:
    if not ms:
        return None
    return {"p50": statistics.median(ms), "p95": _nearest_rank(sorted(ms), 95), "n": len(ms)}


def query_comparison(query: dict[str, Any], jobs: int) -> list[dict[str, Any]]:
    """Per query: ours, the SQLite reference and pandas (p50, p95, n), both ratios (baseline p50 / our p50)
    and the p95 target."""
    rows = []
    for name, ms in query["timings_ms"].items():
        ours = _stats(ms)
        assert ours is not None
        row: dict[str, Any] = {"name": name, "ours": ours}
        for key in ("sqlite", "pandas"):
            other = _stats(query.get(key, {}).get("timings_ms", {}).get(name))
            row[key] = other
            row[f"{key}_ratio"] = other["p50"] / ours["p50"] if other and ours["p50"] else None
        target = query.get("targets_ms", {}).get(name)
        row["target_ms"] = target
        row["target_met"] = ours["p95"] <= target if target and jobs >= TARGET_AT else None
        rows.append(row)
    return rows


# ---------------------------------------------------------------- browser


def bench_browser(jobs: int, repeats: int) -> dict[str, Any]:
    if not (ROOT / "benchmarks" / "browser_timing.py").exists():
        return {"skipped": "benchmarks/browser_timing.py does not exist"}
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        return {"skipped": "Chromium is not installed"}
    mod = importlib.import_module("benchmarks.browser_timing")
    out: dict[str, Any] = mod.run(jobs, repeats)
    return out


# ---------------------------------------------------------------- figures, JSON, Markdown


def figures(results: dict[str, Any]) -> list[Figure]:
    out: list[Figure] = []
    sync, orm = results.get("sync"), results.get("orm")  # orm_tuned is read below
    if sync:
        runs = sync["runs"]
        size = f"{sync['batch_jobs']:,} batch vs {sync['catalog_jobs']:,} catalog"
        at_target_size = sync["catalog_jobs"] >= TARGET_SYNC_CATALOG
        totals = tuple(r["total_s"] for r in runs)
        out.append(
            Figure(
                "sync",
                f"sync end to end ({size})",
                "s",
                totals,
                target=f"≤ {TARGET_SYNC_S:g} s at 100k vs 1M",
                target_met=statistics.median(totals) <= TARGET_SYNC_S if at_target_size else None,
            )
        )
        jps = tuple(r["jobs_per_s"] for r in runs)
        baselines = [(orm, "ORM row by row, SQLAlchemy defaults", True)]
        baselines.append((results.get("orm_tuned"), "ORM row by row, expire_on_commit=False", False))
        for ref, label, is_target in baselines:
            if not ref and not is_target:
                continue
            ref_jps = ref["jobs_per_s"] if ref else None
            ref_name = None
            if ref:
                ref_name = f"{label}, {ref['batch_rows']:,} vs {ref['catalog_rows']:,}" + (
                    " (extrapolated from a prefix)" if ref["extrapolated"] else ""
                )
            ratio = statistics.median(jps) / ref_jps if ref_jps else None
            out.append(
                Figure(
                    "sync",
                    f"sync throughput ({size})" + ("" if is_target else ", vs the tuned ORM"),
                    "jobs/s",
                    jps,
                    lower_is_better=False,
                    baseline=ref_jps,
                    baseline_name=ref_name,
                    target=f"≥ {TARGET_ORM_RATIO:g}× the ORM" if is_target else None,
                    target_met=(ratio >= TARGET_ORM_RATIO if ratio is not None else None) if is_target else None,
                )
            )
        rss = tuple(r["peak_rss_mb"] for r in runs)
        out.append(
            Figure(
                "sync",
                "sync peak RSS",
                "MB",
                rss,
                target=f"≤ {TARGET_RSS_MB:,.0f} MB",
                target_met=max(rss) <= TARGET_RSS_MB,
            )
        )
        if all("to_publish" in r["phases"] for r in runs):
            out.append(
                Figure(
                    "sync",
                    f"sync until the snapshot is published ({size})",
                    "s",
                    tuple(r["phases"]["to_publish"] for r in runs),
                    note="the description index is updated after the publish",
                )
            )
        for phase in runs[0]["phases"]:
            if phase not in ("total", "to_publish"):
                out.append(
                    Figure("sync phase", f"phase: {phase}", "s", tuple(r["phases"].get(phase, 0.0) for r in runs))
                )
        build = sync.get("build")
        if build:
            out.append(
                Figure("sync", f"initial build of {build['jobs']:,} jobs", "s", (build["seconds"],), note="built once")
            )
    query = results.get("query")
    if query:
        out += _query_figures(query, int(query["catalog_rows"]))
        out.append(Figure("query", "catalog load into DuckDB", "ms", (query["catalog_load_ms"],), note="once"))
    browser = results.get("browser")
    if browser and "figures" in browser:
        for f in browser["figures"]:
            out.append(
                Figure(
                    "browser",
                    str(f["name"]),
                    str(f.get("unit", "ms")),
                    tuple(float(x) for x in f["samples"]),
                    baseline=f.get("baseline"),
                    baseline_name=f.get("baseline_name"),
                    target=f.get("target"),
                    target_met=f.get("target_met"),
                )
            )
    return out


def _num(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value:,.1f}"
    if unit == "s":
        return f"{value:,.2f}" if value >= 1 else f"{value:.3f}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"


MARKDOWN_HEAD = """# Benchmarks

Generated by `python -m core bench` (`make bench`, `make bench-large`) from the newest results per catalog
size in the data folder's `bench/`; do not edit by hand. How each benchmark works and what is fair about
it: `benchmarks/README.md`.

Each figure is the median of its runs with the spread (min–max; quartiles and p95 in the JSON).
Ratio = how many times better ours is than the baseline (baseline time / our time, or our jobs/s /
baseline jobs/s).
"""


def markdown(docs: Sequence[dict[str, Any]]) -> str:
    """The Markdown document: one section per results document."""
    return MARKDOWN_HEAD + "".join("\n" + markdown_section(doc) for doc in docs)


def markdown_section(doc: dict[str, Any]) -> str:
    m, p = doc["machine"], doc["params"]
    lines = [
        f"## {p['jobs']:,} jobs",
        "",
        f"`python -m core bench {p['target']} --jobs {p['jobs']} --repeats {p['repeats']}` at {doc['created_at']}, "
        f"{doc.get('elapsed_s', 0):,.0f} s in all.",
        "",
        f"Machine: {m['cpu_model']}, {m['cpu_count']} logical CPUs, {m['ram_gb']} GB RAM, {m['platform']}; "
        f"Python {m['python']}, DuckDB {m['duckdb']}, pyarrow {m['pyarrow']}.",
        "",
        "| Benchmark | Median | Spread (min–max) | n | Baseline | Ratio | Target |",
        "|---|---:|---:|---:|---|---:|---|",
    ]
    query = doc.get("query")
    compared = query_comparison(query, p["jobs"]) if query and "targets_ms" in query else []
    in_comparison = {r["name"] for r in compared}
    for f in doc["figures"]:
        if f["group"] == "query" and f["name"] in in_comparison:
            continue  # in the comparison table below
        unit = f["unit"]
        base = f"{_num(f['baseline'], unit)} {unit} — {f['baseline_name']}" if f["baseline"] else "—"
        ratio = f"{f['ratio']:,.1f}×" if f["ratio"] else "—"
        target = f["target"] or "—"
        if f["target"]:
            unjudged = " (n/a at this size)" if f["group"].startswith("sync") else " (not judged here)"
            target += {True: " ✅ met", False: " ❌ not met", None: unjudged}[f["target_met"]]
        spread = f"{_num(f['min'], unit)}–{_num(f['max'], unit)}"
        lines.append(
            f"| {f['name']} | {_num(f['median'], unit)} {unit} | {spread} | {f['n']} | {base} | {ratio} | {target} |"
        )
    notes = []
    sync = doc.get("sync")
    if sync:
        ok = "as expected" if sync["counts_as_expected"] else "NOT as expected"
        notes.append(
            f"Sync batch outcomes {ok}: {json.dumps(sync['runs'][0]['counts'])} "
            f"(expected {json.dumps(sync['expected_counts'])}). Our sync time includes normalization, diff, "
            "snapshot write, description indexing and publish; the ORM gets already normalized rows."
        )
        before = [r["rss_before_mb"] for r in sync["runs"] if "rss_before_mb" in r]
        if before:
            notes.append(
                "Each timed sync runs in a fresh process, so its peak RSS is the sync's own; that process held "
                f"{statistics.median(before):,.0f} MB before the sync started (interpreter, libraries, the batch as Arrow)."
            )
        build = sync.get("build")
        if build:
            phases = ", ".join(
                f"{k} {v:,.1f} s" for k, v in build["phases"].items() if k not in ("total", "to_publish")
            )
            notes.append(f"Initial build of {build['jobs']:,} jobs (not a target): {phases}.")
    for key, label in (("orm", "SQLAlchemy defaults"), ("orm_tuned", "expire_on_commit=False")):
        orm = doc.get(key)
        if orm:
            notes.append(
                f"ORM reference ({label}): loaded {orm['catalog_rows']:,} rows in {orm['load_s']:.2f} s, "
                f"did {orm['incoming_done']:,} of {orm['batch_rows']:,} incoming rows in {orm['incoming_s']:.1f} s "
                f"and {orm['stale_done']:,} of {orm['stale_rows']:,} stale rows in {orm['stale_s']:.1f} s"
                + ("; the rest is extrapolated linearly." if orm["extrapolated"] else ".")
            )
    if query and "pandas_filtered_total" in query.get("checks", {}):  # results written before the comparison
        c = query["checks"]
        notes.append(
            f"Queries: {query['runs']} timed runs each after one warm-up, on {query['catalog_rows']:,} catalog rows; "
            f"filtered total {c['filtered_total']:,} (pandas {c['pandas_filtered_total']:,}), "
            f"first page same as pandas: {c['same_first_page_as_pandas']}."
        )
    if compared:
        assert query is not None
        notes += _query_notes(query)
    browser = doc.get("browser")
    if browser and "skipped" in browser:
        notes.append(f"Browser benchmark skipped: {browser['skipped']}.")
    for part in doc.get("merged_from", []):
        notes.append(
            f"The {part['part']} figures are from the newest run that had them: "
            f"`python -m core bench {part['target']} --jobs {p['jobs']} --repeats {part['repeats']}` at {part['created_at']}."
        )
    if compared:
        lines += ["", *comparison_table(compared)]
    if notes:
        lines += ["", "Notes:", ""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def _ms_pair(st: dict[str, Any] | None) -> str:
    return f"{_num(st['p50'], 'ms')} / {_num(st['p95'], 'ms')} ({st['n']})" if st else "—"


def comparison_table(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Markdown lines: each query, ours beside the SQLite reference design and pandas."""
    out = [
        "Catalog queries beside the alternatives, same snapshot, same query mix: p50 / p95 in ms (timed runs). "
        "× = baseline p50 / our p50.",
        "",
        "| Query | Ours p50 / p95 (n) | SQLite reference p50 / p95 (n) | × | pandas p50 / p95 (n) | × | Target |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        ratios = [f"{r[k]:,.1f}×" if r[k] else "—" for k in ("sqlite_ratio", "pandas_ratio")]
        target = "—"
        if r["target_ms"]:
            verdict = {True: " ✅ met", False: " ❌ not met", None: " (judged at 1M)"}[r["target_met"]]
            target = f"p95 ≤ {r['target_ms']:g} ms{verdict}"
        out.append(
            f"| {r['name']} | {_ms_pair(r['ours'])} | {_ms_pair(r['sqlite'])} | {ratios[0]} "
            f"| {_ms_pair(r['pandas'])} | {ratios[1]} | {target} |"
        )
    return out


def _query_notes(query: dict[str, Any]) -> list[str]:
    mix, sq, pd_ = query["mix"], query["sqlite"], query["pandas"]
    words = mix["words"]
    same = query["checks"]["same_result"]
    differ = [n for n, v in same.items() if not (v["sqlite"] and v["pandas"])]
    totals = "; ".join(
        f"{n.split(':')[0]}: ours {t['ours']:,}, SQLite {t['sqlite']:,}, pandas {t['pandas']:,}"
        for n, t in query["checks"]["totals"].items()
    )
    out = [
        f"Queries: ours {query['runs']} timed runs each after one warm-up, on {query['catalog_rows']:,} catalog rows "
        f"({query['listed_rows']:,} listed); baselines up to {query['runs']} runs but stop after "
        f"{query['baseline_budget_s']:g} s of timed runs per query (at least {MIN_BASELINE_RUNS}), so their p95 "
        "over few runs is close to their maximum. Every contender first runs each query once, uncounted. "
        f"Load average (1, 5, 15 min) at the start {query.get('load_avg_at_start')}, at the end "
        f"{query.get('load_avg_at_end')}: other work on the machine shows up in the times.",
        f"Query mix: title/company word {mix['word']!r}; filters workplace {'/'.join(mix['workplace'])} and annual "
        f"salary ≥ {mix['salary_min']:,.0f} (+1 each run where it says new filter); description words picked from "
        f"document frequencies in {words['sample']:,} sampled descriptions: common {mix['common']!r} "
        f"({', '.join(f'{x:.0%}' for x in words['common_df'])} of descriptions), rare {mix['rare']!r} "
        f"({', '.join(f'{x:.2%}' for x in words['rare_df'])}); deep page after {mix['deep_offset']:,} rows.",
        f"Result checks — totals: {totals}. Results identical to both baselines for every query except: "
        f"{', '.join(differ) if differ else 'none'} (description search: ours matches FTS5 tokens in title, company "
        "and description; the baselines match substrings of the description).",
        f"SQLite reference: loaded (read + insert + index) in {sq['load']['load_s']:.1f} s, "
        f"{sq['load']['file_mb']:,.0f} MB file, {sq['cache_mb']:,.0f} MB page cache; indexes "
        + ", ".join(f"({', '.join(c)})" for c in sq["indexes"])
        + f". pandas: DataFrame built in {pd_['load_s']:.1f} s, {pd_['frame_mb']:,.0f} MB deep size."
        f" Ours: catalog load {query['catalog_load_ms'] / 1000:.2f} s in the benchmark process.",
    ]
    mem = query.get("dashboard_memory") or []
    if mem:
        out.append(
            "Dashboard memory: a fresh process each time, `Catalog(settings).refresh()` then one page, filtered "
            "page, description search, facet, time series and salary distribution; it held "
            f"{statistics.median([r['rss_start_mb'] for r in mem]):,.0f} MB before loading (interpreter, DuckDB, pyarrow)."
        )
    return out


def _all_results(bench_dir: Path) -> list[dict[str, Any]]:
    """Every readable results document, oldest first."""
    out = []
    for path in sorted(bench_dir.glob("bench-*.json")) if bench_dir.exists() else []:
        try:
            doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        doc["path"] = str(path)
        out.append(doc)
    return out


# What each part of a run writes: its top-level keys and its figure groups.
PARTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "sync": (("sync", "orm", "orm_tuned"), ("sync", "sync phase")),
    "query": (("query",), ("query", "dashboard")),
    "browser": (("browser",), ("browser",)),
}


def _parts(doc: dict[str, Any]) -> set[str]:
    target = doc.get("params", {}).get("target", "all")
    return set(PARTS) if target == "all" else {target}


def latest_per_size(bench_dir: Path) -> list[dict[str, Any]]:
    """For each catalog size (``--jobs``), smallest first: the newest results document, with the parts it did
    not run (``bench query`` runs no sync) taken from the newest older run of that size that did
    (``merged_from`` says which)."""
    by_size: dict[int, list[dict[str, Any]]] = {}
    for doc in _all_results(bench_dir):
        jobs = doc.get("params", {}).get("jobs")
        if isinstance(jobs, int) and doc.get("figures") is not None and doc.get("machine"):
            by_size.setdefault(jobs, []).append(doc)
    out = []
    for jobs in sorted(by_size):
        docs = by_size[jobs]
        doc = dict(docs[-1])
        figures: list[dict[str, Any]] = []
        merged = []
        for part, (keys, groups) in PARTS.items():
            src = next((d for d in reversed(docs) if part in _parts(d)), None)
            if src is None:
                continue
            mine = [f for f in src["figures"] if f.get("group") in groups]
            figures += mine
            if src is not docs[-1] and (mine or any(k in src for k in keys)):
                doc.update({k: src[k] for k in keys if k in src})
                p = src["params"]
                merged.append(
                    {"part": part, "target": p["target"], "repeats": p["repeats"], "created_at": src["created_at"]}
                )
        known = {g for _, groups in PARTS.values() for g in groups}
        figures += [f for f in docs[-1]["figures"] if f.get("group") not in known]
        doc["figures"] = figures
        if merged:
            doc["merged_from"] = merged
        out.append(doc)
    return out


def latest_results(bench_dir: Path) -> dict[str, Any] | None:
    """The newest results JSON under ``bench_dir``, or None."""
    docs = _all_results(bench_dir)
    return docs[-1] if docs else None


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# ---------------------------------------------------------------- entry point


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m core bench", description="measure sync and query speed beside baselines"
    )
    p.add_argument("target", nargs="?", choices=TARGETS, default="all")
    p.add_argument(
        "--jobs",
        type=int,
        default=DEFAULT_JOBS,
        help=f"catalog size (default {DEFAULT_JOBS:,}; 1,000,000 is the large one)",
    )
    p.add_argument("--repeats", type=int, default=DEFAULT_REPEATS, help="sync repeats (queries run at least 20 times)")
    p.add_argument(
        "--orm-budget", type=float, default=ORM_BUDGET_S, help="seconds the ORM baseline may run before extrapolating"
    )
    p.add_argument("--no-orm", action="store_true", help="skip the ORM baseline")
    p.add_argument(
        "--markdown", type=Path, default=ROOT / "docs" / "BENCHMARKS.md", help="where the Markdown table goes"
    )
    return p


def run(argv: list[str], settings: Settings) -> int:
    args = _parser().parse_args(argv)
    if not 1_000 <= args.jobs <= 1_000_000:
        raise JobdashError(f"--jobs: expected 1,000..1,000,000, got {args.jobs}")
    if args.repeats < 1:
        raise JobdashError(f"--repeats: expected 1 or more, got {args.repeats}")

    def say(msg: str) -> None:
        print(msg, flush=True)

    created = datetime.now(UTC)
    work = settings.bench_dir / f"work-{os.getpid()}"
    base = work / "catalog"
    results: dict[str, Any] = {}
    t_all = time.perf_counter()
    try:
        want = {args.target} if args.target != "all" else {"sync", "query", "browser"}
        if want & {"sync", "query"}:
            say(f"building a catalog of {args.jobs:,} demo jobs …")
            build = build_catalog(settings, base, args.jobs)
            say(f"  built in {build['seconds']:.1f} s ({build['jobs_per_s']:,.0f} jobs/s)")
        if "sync" in want:
            say(f"sync: {max(1, args.jobs // 10):,} batch against {args.jobs:,} catalog, {args.repeats} repeat(s) …")
            results["sync"] = {**bench_sync(settings, base, work, args.jobs, args.repeats, say), "build": build}
            if not args.no_orm:
                say("sync baseline: row-by-row ORM on SQLite …")
                results.update(bench_orm(args.jobs, work / "orm", args.orm_budget, say))
        if "query" in want:
            say("query: catalog queries and the pandas baseline …")
            results["query"] = bench_query(settings, base, args.repeats, say)
        if "browser" in want:
            results["browser"] = bench_browser(args.jobs, args.repeats)
            if "skipped" in results["browser"]:
                say(f"browser: skipped — {results['browser']['skipped']}")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    doc: dict[str, Any] = {
        "created_at": created.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "params": {"target": args.target, "jobs": args.jobs, "repeats": args.repeats, "orm_budget_s": args.orm_budget},
        "machine": machine(),
        "elapsed_s": round(time.perf_counter() - t_all, 1),
        **results,
    }
    doc["figures"] = [f.as_dict() for f in figures(results)]
    out = settings.bench_dir / f"bench-{created.strftime('%Y%m%dT%H%M%S%fZ')}.json"
    _write_atomic(out, json.dumps(doc, indent=2, default=str) + "\n")
    _write_atomic(args.markdown, markdown(latest_per_size(settings.bench_dir)))
    say("")
    say(markdown_section(doc))
    say(f"results: {out}\ntable: {args.markdown}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    from core.settings import load_settings

    sys.exit(run(sys.argv[1:], load_settings()))
