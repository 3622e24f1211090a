"""`python -m core bench` (benchmarks/harness.py) end to end at a small size: the JSON and the Markdown carry
measured figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import common, harness, query_bench, report
from benchmarks.query_bench import case_variant
from core.errors import JobdashError
from core.instrumentation.bench_results import latest_results
from core.settings import ROOT, load_settings

MACHINE = {
    "cpu_model": "cpu",
    "cpu_count": 2,
    "ram_gb": 4,
    "platform": "p",
    "python": "3",
    "duckdb": "2",
    "pyarrow": "26",
}


def test_bench_sync_small_writes_json_and_markdown(data_dir: Path, tmp_path: Path) -> None:
    md = tmp_path / "BENCHMARKS.md"
    env = {**os.environ, "JOBDASH_DATA_DIR": str(data_dir)}
    proc = subprocess.run(
        [sys.executable, "-m", "core", "bench", "sync", "--jobs", "2000", "--repeats", "1", "--orm-budget", "1", "--markdown", str(md)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr

    (path,) = sorted((data_dir / "bench").glob("bench-*.json"))
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["params"] == {"target": "sync", "jobs": 2000, "repeats": 1, "orm_budget_s": 1.0}
    assert {"cpu_count", "cpu_model", "ram_gb", "python", "duckdb"} <= set(doc["machine"])
    assert not list((data_dir / "bench").glob("work-*"))  # scratch folders are removed

    sync = doc["sync"]
    assert (sync["catalog_jobs"], sync["batch_jobs"]) == (2000, 200)
    assert sync["counts_as_expected"], sync["runs"][0]["counts"]
    (run,) = sync["runs"]
    assert run["total_s"] > 0 and run["jobs_per_s"] > 0 and run["peak_rss_mb"] > 0
    assert {"fetch", "normalize", "diff", "write", "publish", "total"} <= set(run["phases"])

    orm = doc["orm"]
    assert orm["catalog_rows"] == 2000 and orm["batch_rows"] == 200 and orm["jobs_per_s"] > 0
    assert orm["counts"]["new"] + orm["counts"]["updated"] + orm["counts"]["unchanged"] == orm["incoming_done"]

    tuned = doc["orm_tuned"]
    assert tuned["expire_on_commit"] is False and orm["expire_on_commit"] is True and tuned["jobs_per_s"] > 0

    figs = {f["name"]: f for f in doc["figures"]}
    vs_tuned = figs["sync throughput (200 batch vs 2,000 catalog), vs the tuned ORM"]
    assert vs_tuned["baseline"] == tuned["jobs_per_s"] and vs_tuned["target"] is None
    throughput = figs["sync throughput (200 batch vs 2,000 catalog)"]
    assert throughput["median"] == run["jobs_per_s"]
    assert throughput["baseline"] == orm["jobs_per_s"]
    assert abs(throughput["ratio"] - run["jobs_per_s"] / orm["jobs_per_s"]) < 1e-9
    assert figs["sync end to end (200 batch vs 2,000 catalog)"]["median"] == run["phases"]["total"]
    assert all(f["median"] >= 0 and f["n"] >= 1 for f in doc["figures"])
    assert "query" not in doc  # only what was asked for

    text = md.read_text(encoding="utf-8")
    assert "| Benchmark | Median | Spread (min–max) | n | Baseline | Ratio | Target |" in text
    assert "## 2,000 jobs" in text and "sync throughput (200 batch vs 2,000 catalog)" in text
    assert f"{doc['machine']['cpu_count']} logical CPUs" in text


def test_bench_query_small_writes_our_figures_beside_both_baselines(data_dir: Path, tmp_path: Path) -> None:
    md = tmp_path / "BENCHMARKS.md"
    env = {**os.environ, "JOBDASH_DATA_DIR": str(data_dir)}
    proc = subprocess.run(
        [sys.executable, "-m", "core", "bench", "query", "--jobs", "2000", "--repeats", "2", "--markdown", str(md)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (path,) = sorted((data_dir / "bench").glob("bench-*.json"))
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert "sync" not in doc and not list((data_dir / "bench").glob("work-*"))
    q = doc["query"]
    assert q["catalog_rows"] == 2000 and q["runs"] == common.MIN_QUERY_RUNS

    names = list(q["timings_ms"])
    assert len(names) == 15 and any(n.startswith("title/company search") for n in names)
    assert sum(n.startswith("description search") for n in names) == 4  # common (kept, first time), rare, best match
    assert {"facet: company (all listed)", "facet: source (all listed)", "facet: country (all listed)"} <= set(names)
    for name in names:  # ours: every run timed, every figure measured; baselines: the same queries, ≥ 3 runs
        assert len(q["timings_ms"][name]) == q["runs"] and min(q["timings_ms"][name]) > 0
        for key in ("sqlite", "pandas"):
            if query_bench.BEST_MATCH in name:  # no baseline ranks by BM25
                assert name not in q[key]["timings_ms"]
                continue
            ms = q[key]["timings_ms"][name]
            assert common.MIN_BASELINE_RUNS <= len(ms) <= q["runs"] and min(ms) > 0, (key, name)
    mix = q["mix"]
    assert mix["common"] != mix["rare"] and len(mix["common"].split()) == len(mix["rare"].split()) == 2
    assert max(mix["words"]["rare_df"]) < min(mix["words"]["common_df"])

    # Same data, same mix: every contender returns the same answer except substring vs token description search.
    for name, same in q["checks"]["same_result"].items():
        if not name.startswith("description search"):
            assert same == {"sqlite": True, "pandas": True}, name
    totals = q["checks"]["totals"]
    text_total = next(t for n, t in totals.items() if n.startswith("title/company search"))
    assert text_total["ours"] == text_total["sqlite"] == text_total["pandas"] > 0

    figs = {f["name"]: f for f in doc["figures"]}
    for name in names:
        f = figs[name]
        assert f["median"] > 0 and f["p95"] >= f["median"]
        if query_bench.BEST_MATCH not in name:
            assert f["baseline"] > 0 and abs(f["ratio"] - f["baseline"] / f["median"]) < 1e-9
    rows = report.query_comparison(q, 2000)
    assert [r["name"] for r in rows] == names
    for r in rows:
        ranked = query_bench.BEST_MATCH in r["name"]
        assert ranked or (r["sqlite_ratio"] > 0 and r["pandas_ratio"] > 0)
        assert r["ours"]["p95"] >= r["ours"]["p50"] > 0
        assert r["target_met"] is None  # the query targets are judged at 1M only
    assert sum(r["target_ms"] is not None for r in rows) == 10
    rss = figs["dashboard process RSS, catalog loaded"]
    assert rss["n"] == 2 and rss["min"] > 50 and isinstance(rss["target_met"], bool)  # judged at ≤ 100k
    assert figs["snapshot load into the dashboard's DuckDB"]["min"] > 0

    text = md.read_text(encoding="utf-8")
    assert (
        "| Query | Ours p50 / p95 (n) | SQLite reference p50 / p95 (n) | × | pandas p50 / p95 (n) | × | Target |"
        in text
    )
    assert "| dashboard process RSS, catalog loaded |" in text
    assert text.count("| facet: company (all listed) |") == 1  # in the comparison table only


def test_markdown_keeps_the_parts_a_newer_partial_run_did_not_do(tmp_path: Path) -> None:
    d = tmp_path / "bench"
    d.mkdir()
    machine = MACHINE
    sync_fig = report.Figure("sync", "sync end to end", "s", (2.0,)).as_dict()
    old_query = report.Figure("query", "first page", "ms", (9.0,)).as_dict()
    new_query = report.Figure("query", "first page", "ms", (3.0,)).as_dict()
    sync = {"counts_as_expected": True, "runs": [{"counts": {"new": 1}}], "expected_counts": {"new": 1}}
    docs = (
        ("1", "all", [sync_fig, old_query], {"sync": sync}),
        ("2", "query", [new_query], {}),
    )
    for stamp, target, figures, extra in docs:
        doc = {
            "created_at": stamp, "params": {"target": target, "jobs": 1000, "repeats": 3}, "machine": machine,
            "figures": figures, **extra,
        }  # fmt: skip
        (d / f"bench-2026010{stamp}T000000000000Z.json").write_text(json.dumps(doc), encoding="utf-8")
    (doc,) = report.latest_per_size(d)
    assert doc["created_at"] == "2" and doc["sync"] == sync
    assert [(f["name"], f["median"]) for f in doc["figures"]] == [("sync end to end", 2.0), ("first page", 3.0)]
    assert doc["merged_from"] == [{"part": "sync", "target": "all", "repeats": 3, "created_at": "1"}]
    text = report.markdown([doc])
    assert "| first page | 3.0 ms |" in text and "| first page | 9.0 ms |" not in text
    assert "The sync figures are from the newest run that had them" in text


def test_case_variants_are_new_spellings_of_the_same_words() -> None:
    spellings = [case_variant("team with", i) for i in range(64)]
    assert len(set(spellings)) == 64 and {s.lower() for s in spellings} == {"team with"}


def test_latest_results_picks_the_newest_readable_file(tmp_path: Path) -> None:
    d = tmp_path / "bench"
    d.mkdir()
    assert latest_results(d) is None
    (d / "bench-20260101T000000000000Z.json").write_text(json.dumps({"figures": [], "n": 1}), encoding="utf-8")
    (d / "bench-20260102T000000000000Z.json").write_text(json.dumps({"figures": [], "n": 2}), encoding="utf-8")
    (d / "bench-20260103T000000000000Z.json").write_text("{not json", encoding="utf-8")
    doc = latest_results(d)
    assert doc is not None and doc["n"] == 2


def test_figure_spread_and_ratio_on_known_samples() -> None:
    f = report.Figure("query", "x", "ms", (4.0, 1.0, 3.0, 2.0, 10.0), baseline=30.0, baseline_name="pandas").as_dict()
    assert (f["median"], f["min"], f["max"], f["n"]) == (3.0, 1.0, 10.0, 5)
    assert (f["q1"], f["q3"]) == (2.0, 4.0)
    assert f["ratio"] == 10.0  # baseline time / our time
    g = report.Figure("sync", "y", "jobs/s", (100.0, 300.0), lower_is_better=False, baseline=2.0).as_dict()
    assert g["ratio"] == 100.0  # our throughput / baseline throughput


def test_bad_arguments_are_clear_errors(data_dir: Path) -> None:
    with pytest.raises(JobdashError, match="--jobs"):
        harness.run(["sync", "--jobs", "5"], load_settings())
    with pytest.raises(JobdashError, match="--repeats"):
        harness.run(["sync", "--repeats", "0"], load_settings())


def test_markdown_has_one_section_per_catalog_size(tmp_path: Path) -> None:
    d = tmp_path / "bench"
    d.mkdir()
    machine = MACHINE
    fig = report.Figure("query", "first page", "ms", (2.0, 4.0, 3.0)).as_dict()
    for stamp, jobs, median in (("1", 1_000_000, 9.0), ("2", 100_000, 3.0), ("3", 100_000, 2.5)):
        doc = {
            "created_at": stamp, "params": {"target": "all", "jobs": jobs, "repeats": 3}, "machine": machine,
            "figures": [{**fig, "median": median}],
        }  # fmt: skip
        (d / f"bench-2026010{stamp}T000000000000Z.json").write_text(json.dumps(doc), encoding="utf-8")
    docs = report.latest_per_size(d)
    assert [(x["params"]["jobs"], x["created_at"]) for x in docs] == [(100_000, "3"), (1_000_000, "1")]
    text = report.markdown(docs)
    assert text.index("## 100,000 jobs") < text.index("## 1,000,000 jobs")
    assert "| first page | 2.5 ms | 2.0–4.0 | 3 |" in text and "| first page | 9.0 ms |" in text
    assert "| first page | 3.0 ms |" not in text  # an older run of the same size is replaced


def test_core_bench_runs_the_harness_from_the_repo_root_and_passes_its_exit_code(
    data_dir: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "JOBDASH_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    bad = subprocess.run(
        [sys.executable, "-m", "core", "bench", "sync", "--jobs", "5"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2 and bad.stderr.strip() == "error: --jobs: expected 1,000..1,000,000, got 5"
    usage = subprocess.run(
        [sys.executable, "-m", "core", "bench", "--help"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert usage.returncode == 0 and usage.stdout.startswith("usage: python -m core bench")
    assert not (data_dir / "bench").exists()  # nothing ran, nothing written


def test_core_never_imports_the_benchmarks() -> None:
    """Every core module imported: no ``benchmarks`` module comes with them (core runs the harness as a process)."""
    code = (
        "import importlib, pkgutil, sys, core\n"
        "for m in pkgutil.walk_packages(core.__path__, 'core.'):\n"
        "    if m.name != 'core.__main__':  # that one runs the command line\n"
        "        importlib.import_module(m.name)\n"
        "print(sorted(n for n in sys.modules if n.split('.')[0] == 'benchmarks'))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
