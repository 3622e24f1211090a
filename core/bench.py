"""`python -m core bench [sync|query|browser|all] [--jobs N] [--repeats K]`: measured figures beside baselines.

- **sync**: a demo catalog of N jobs is built once with ``run_sync``; then a batch of N/10 jobs (60%
  unchanged, 20% updated, 20% new; the rest of the catalog is delisted) is synced against it end to end,
  K times, each on a fresh copy of the built data folder in a fresh process (so peak RSS is the sync's
  own). Beside it, the reference design (``benchmarks/orm_sync.py``: row-by-row SQLAlchemy ORM on SQLite,
  commit per 50; with defaults and with ``expire_on_commit=False``) on the same normalized rows at
  min(N, 100k) catalog / one tenth batch.
- **query**: the catalog's queries (first page, filtered page, count, facet, deep keyset page,
  description search) timed end to end through ``core.catalog.Catalog``; beside the filtered page, the
  same filter + sort + head in pandas over the full DataFrame.
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import duckdb
import psutil
import pyarrow as pa

from core.errors import JobdashError
from core.settings import ROOT, Settings, SourceConfig
from core.sources.base import FetchContext, Fetched

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


def _time(fn: Callable[[], object], runs: int) -> list[float]:
    fn()  # warm-up, not counted: first-run plan and cache effects
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def _pandas_filtered_page(df: Any, word: str, workplace: tuple[str, ...], salary_min: float, limit: int) -> Any:
    """The filtered page the pandas way: boolean masks over the full frame, sort, head."""
    text = df["title"].str.contains(word, case=False, regex=False, na=False) | df["company"].str.contains(
        word, case=False, regex=False, na=False
    )
    salary = df["salary_annual_max"].fillna(df["salary_annual_min"]) >= salary_min
    mask = text & df["workplace_type"].isin(list(workplace)) & salary & df["delisted_at"].isna()
    hit = df[mask]
    page = hit.sort_values(["posted_at", "job_id"], ascending=False, na_position="last").head(limit)
    return page, len(hit)


def bench_query(settings: Settings, base: Path, repeats: int, say: Callable[[str], None]) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from core import schema, snapshots
    from core.catalog import Catalog
    from core.query import JobFilter, Sort

    s = _bench_settings(settings, base)
    runs = max(MIN_QUERY_RUNS, repeats)
    t = time.perf_counter()
    cat = Catalog(s)
    load_ms = (time.perf_counter() - t) * 1000
    snap = snapshots.current(s.snapshots_dir)
    assert snap is not None
    try:
        word, workplace, salary_min = "engineer", ("remote", "hybrid"), 60_000.0
        filtered = JobFilter(text=word, workplace=workplace, salary_min=salary_min)
        desc = JobFilter(desc="python", workplace=("remote",))
        # A keyset cursor 90% deep into the default order (posted_at desc, job_id desc) of the listed jobs.
        con = duckdb.connect(":memory:")
        try:
            src = "FROM read_parquet(?) WHERE delisted_at IS NULL"
            (listed,) = con.execute(f"SELECT count(*) {src}", [str(snap.jobs_path)]).fetchone() or (0,)
            deep = con.execute(
                f"SELECT posted_at, job_id {src} ORDER BY posted_at DESC NULLS LAST, job_id DESC LIMIT 1 OFFSET ?",
                [str(snap.jobs_path), int(listed * 0.9)],
            ).fetchone()
        finally:
            con.close()
        assert deep is not None
        cursor = (deep[0], deep[1])
        # The catalog memoizes counts per filter; a new salary floor each run makes every filter change cold,
        # as when a user moves a filter. The pandas baseline gets the same sequence.
        floors = iter(range(10**9))

        def changed() -> JobFilter:
            return replace(filtered, salary_min=salary_min + next(floors))

        cases: dict[str, Callable[[], object]] = {
            "first page (default sort)": lambda: cat.page(JobFilter(), Sort(), limit=100),
            "filtered page, new filter each run (text + workplace + salary)": lambda: cat.page(
                changed(), Sort(), limit=100
            ),
            "count, new filter each run": lambda: cat.count(changed()),
            "facet: company (all listed)": lambda: cat.facet(JobFilter(), "company"),
            "keyset next page, 90% deep": lambda: cat.page(JobFilter(), Sort(), cursor=cursor, limit=100),
            "description search + filter": lambda: cat.page(desc, Sort(), limit=100),
        }
        checks = {
            "filtered_total": cat.count(filtered),
            "deep_page_rows": cat.page(JobFilter(), Sort(), cursor=cursor, limit=100).rows.num_rows,
            "desc_total": cat.count(desc),
        }
        timings: dict[str, list[float]] = {}
        for name, fn in cases.items():
            timings[name] = _time(fn, runs)
            say(f"  {name}: median {statistics.median(timings[name]):.1f} ms")
        ours_ids = cat.page(filtered, Sort(), limit=100).rows.column("job_id").to_pylist()
    finally:
        cat.close()

    t = time.perf_counter()
    df = pq.read_table(snap.jobs_path, columns=list(schema.HOT_COLUMNS)).to_pandas()
    pandas_load_ms = (time.perf_counter() - t) * 1000
    floors = iter(range(10**9))
    pandas_ms = _time(lambda: _pandas_filtered_page(df, word, workplace, salary_min + next(floors), 100), runs)
    page, total = _pandas_filtered_page(df, word, workplace, salary_min, 100)
    say(f"  pandas filtered page: median {statistics.median(pandas_ms):.1f} ms")
    return {
        "catalog_rows": snap.rows,
        "runs": runs,
        "catalog_load_ms": load_ms,
        "pandas_load_ms": pandas_load_ms,
        "timings_ms": timings,
        "pandas_filtered_page_ms": pandas_ms,
        "checks": {
            **checks,
            "pandas_filtered_total": total,
            "same_first_page_as_pandas": page["job_id"].tolist() == ours_ids,
        },
    }


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
        pandas = statistics.median(query["pandas_filtered_page_ms"])
        for name, ms in query["timings_ms"].items():
            is_filtered = name.startswith("filtered page")
            out.append(
                Figure(
                    "query",
                    name,
                    "ms",
                    tuple(ms),
                    baseline=pandas if is_filtered else None,
                    baseline_name="pandas filter + sort + head over the full DataFrame" if is_filtered else None,
                )
            )
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
    for f in doc["figures"]:
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
    query = doc.get("query")
    if query:
        c = query["checks"]
        notes.append(
            f"Queries: {query['runs']} timed runs each after one warm-up, on {query['catalog_rows']:,} catalog rows; "
            f"filtered total {c['filtered_total']:,} (pandas {c['pandas_filtered_total']:,}), "
            f"first page same as pandas: {c['same_first_page_as_pandas']}."
        )
    browser = doc.get("browser")
    if browser and "skipped" in browser:
        notes.append(f"Browser benchmark skipped: {browser['skipped']}.")
    if notes:
        lines += ["", "Notes:", ""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


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


def latest_per_size(bench_dir: Path) -> list[dict[str, Any]]:
    """The newest results document for each catalog size (``--jobs``), smallest size first."""
    newest: dict[int, dict[str, Any]] = {}
    for doc in _all_results(bench_dir):
        jobs = doc.get("params", {}).get("jobs")
        if isinstance(jobs, int) and doc.get("figures") is not None and doc.get("machine"):
            newest[jobs] = doc
    return [newest[k] for k in sorted(newest)]


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
