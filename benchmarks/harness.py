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
- **browser**: ``benchmarks/browser_timing.py`` if Chromium is installed, then ``benchmarks/new_user.py``
  (fresh data folder, server and browser profile → first rows; written to ``docs/bench_new_user.md``).

Results go to ``<data>/bench/bench-<UTC time>.json`` (read by the Performance page) and a Markdown table
(``docs/BENCHMARKS.md`` unless ``--markdown`` says otherwise). Every figure is a median with its spread
(min–max and quartiles); ``ratio`` is how many times better ours is than the baseline (baseline time /
our time, or our throughput / baseline throughput).

This module is the entry point (``python -m benchmarks.harness``; ``python -m core bench`` starts it as a
subprocess, so core never imports the benchmarks). The parts: ``sync_bench.py``, ``query_bench.py``,
``report.py`` (figures and Markdown), ``common.py`` (clock, targets), ``batch.py`` (the sync batch).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks import browser_timing, new_user
from benchmarks.common import DEFAULT_JOBS, DEFAULT_REPEATS, ORM_BUDGET_S, machine, write_atomic
from benchmarks.query_bench import bench_query
from benchmarks.report import figures, latest_per_size, markdown, markdown_section
from benchmarks.sync_bench import bench_orm, bench_sync, build_catalog
from core.errors import JobdashError
from core.settings import ROOT, Settings, load_settings

TARGETS = ("sync", "query", "browser", "all")


def bench_browser(jobs: int, repeats: int) -> dict[str, Any]:
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        return {"skipped": "Chromium is not installed"}
    result = browser_timing.run(jobs, repeats)
    fresh = new_user.run()
    write_atomic(ROOT / "docs" / "bench_new_user.md", new_user.markdown(fresh))
    return {**result, "new_user": fresh}


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
    write_atomic(out, json.dumps(doc, indent=2, default=str) + "\n")
    write_atomic(args.markdown, markdown(latest_per_size(settings.bench_dir)))
    say("")
    say(markdown_section(doc))
    say(f"results: {out}\ntable: {args.markdown}")
    browser = results.get("browser") or {}
    if browser.get("breakdown"):
        from benchmarks.browser_timing import table as browser_table

        say("")
        say(browser_table(browser))
    if "new_user" in browser:
        say("")
        say("new user (fresh server, fresh browser profile):")
        say(new_user.table(browser["new_user"]))
    return 1 if browser.get("target_met") is False else 0  # the browser targets (NFR-PERF-01) were missed


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.harness …`` (what ``python -m core bench …`` runs): an error is one line on stderr."""
    try:
        return run(list(sys.argv[1:] if argv is None else argv), load_settings())
    except JobdashError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
