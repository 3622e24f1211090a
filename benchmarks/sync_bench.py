"""The sync benchmark: a batch synced end to end against a built catalog, beside the row-by-row ORM reference."""

from __future__ import annotations

import gc
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from benchmarks.common import BUILD_AT, ORM_MAX_CATALOG, SYNC_AT, TableSource, bench_settings
from core.errors import JobdashError
from core.settings import ROOT, Settings
from core.sources.base import SourceConfig


def build_catalog(settings: Settings, folder: Path, jobs: int) -> dict[str, Any]:
    """A published demo catalog of ``jobs`` listed jobs in ``folder`` (the data folder of the benchmark)."""
    from core.sources.demo import demo_table
    from core.sync import run_sync

    s = bench_settings(settings, folder)
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
    from benchmarks.batch import benchmark_batch
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


_CHILD = "import json, sys; from benchmarks.sync_bench import child_sync; a = sys.argv[1:]; print(json.dumps(child_sync(a[0], a[1], int(a[2]), int(a[3]))))"


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
    from benchmarks import orm_sync as orm  # SQLAlchemy: imported only when the ORM baseline runs
    from benchmarks.batch import benchmark_batch
    from core.normalize import normalize
    from core.sources.demo import demo_table

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
