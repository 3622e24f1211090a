"""Benchmark results → figures (median, spread, ratio, target) and the Markdown document (docs/BENCHMARKS.md)."""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import (
    MIN_BASELINE_RUNS,
    TARGET_AT,
    TARGET_LOAD_S,
    TARGET_ORM_RATIO,
    TARGET_RSS_1M_MB,
    TARGET_RSS_100K_MB,
    TARGET_RSS_MB,
    TARGET_SYNC_CATALOG,
    TARGET_SYNC_S,
)
from core.instrumentation.bench_results import all_results
from core.instrumentation.metrics import percentile


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
            "p95": percentile(s, 95),
            "samples": list(self.samples),
            "lower_is_better": self.lower_is_better,
            "baseline": self.baseline,
            "baseline_name": self.baseline_name,
            "ratio": ratio,
            "target": self.target,
            "target_met": self.target_met,
            "note": self.note,
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
                target_met=(percentile(sorted(ms), 95) <= target) if target and at_target else None,
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
    return {"p50": statistics.median(ms), "p95": percentile(sorted(ms), 95), "n": len(ms)}


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

Measured by their own commands and kept beside this file:
- [Description search engines](bench_search_engines.md) (FTS5 external, FTS5 contentless-delete via apsw,
  tantivy, roaring bitmaps; `python -m benchmarks.search_engines --jobs 1000000`);
- [Dashboard server under load](bench_load.md) (N concurrent sessions over Streamlit's own protocol;
  `python -m benchmarks.load_test --jobs 100000 --sessions 1,5,10,20`);
- watches: `python -m benchmarks.watch_bench` (20 watches over a 100k batch against a 1M catalog);
- [New user](bench_new_user.md): fresh data folder, fresh server, fresh browser profile → first rows
  (`python -m benchmarks.new_user`, also part of `python -m core bench browser`).
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
    if browser and "breakdown" in browser:
        from benchmarks.browser_timing import markdown_split

        split = markdown_split(browser)
        lines += ["", *split] if split else []
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
    for doc in all_results(bench_dir):
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
