"""`python -m core sync | status | demo | sources` as real subprocesses: JSON shapes, exit codes, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUTCOMES = {"new", "updated", "unchanged", "relisted", "delisted", "untouched", "purged", "rejected"}


def cli(tmp_path: Path, *args: str, config: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "JOBDASH_DATA_DIR": str(tmp_path / "data")}
    cfg = tmp_path / "jobdash.toml"
    cfg.write_text(config or "", encoding="utf-8")
    env["JOBDASH_CONFIG"] = str(cfg)
    return subprocess.run(
        [sys.executable, "-m", "core", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_embedded_default_demo_sync_and_status(tmp_path: Path) -> None:
    first = cli(tmp_path, "sync", "--json")
    assert first.returncode == 0, first.stderr
    doc = json.loads(first.stdout)
    assert set(doc["counts"]) == OUTCOMES
    assert doc["counts"]["new"] > 4000 and doc["demo"] is True
    assert doc["sources"] == [
        {
            "name": "demo",
            "kind": "demo",
            "status": "ok",
            "error": None,
            "fetched": doc["sources"][0]["fetched"],
            "warnings": [],
        }
    ]

    status = cli(tmp_path, "status", "--json")
    st = json.loads(status.stdout)
    assert st["demo"] is True and st["snapshot"]["rows"] == doc["counts"]["new"]
    assert st["last_counts"]["new"] == doc["counts"]["new"]
    plain = cli(tmp_path, "status")
    assert "demo data" in plain.stdout and plain.returncode == 0


def test_sync_one_source_and_sources_listing(tmp_path: Path) -> None:
    config = '[[sources]]\nname = "small"\nkind = "demo"\njobs = 100\nchurn = false\n[[sources]]\nname = "broken"\nkind = "file"\npath = "missing/*.csv"\n'
    one = cli(tmp_path, "sync", "--source", "small", "--json", config=config)
    assert one.returncode == 0, one.stderr
    assert [s["name"] for s in json.loads(one.stdout)["sources"]] == ["small"]
    both = cli(tmp_path, "sync", "--json", config=config)
    doc = json.loads(both.stdout)
    assert doc["status"] == "partial" and doc["counts"]["unchanged"] == 100
    broken = next(s for s in doc["sources"] if s["name"] == "broken")
    assert broken["status"] == "failed" and broken["error"]
    listing = json.loads(cli(tmp_path, "sources", "--json", config=config).stdout)
    assert {r["name"]: r["last_status"] for r in listing} == {"small": "ok", "broken": "failed"}


@pytest.mark.parametrize(
    ("args", "config", "message"),
    [
        (("sync", "--source", "nope"), None, "no source named 'nope'"),
        (("demo", "--jobs", "0"), None, "--jobs: expected 1..1,000,000"),
        (("status",), "[schedule]\ninterval_minutes = -1\n", "schedule.interval_minutes: must be positive"),
        (("frobnicate",), None, "invalid choice"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path: Path, args: tuple[str, ...], config: str | None, message: str) -> None:
    out = cli(tmp_path, *args, config=config)
    assert out.returncode == 2
    assert message in out.stderr and "Traceback" not in out.stderr


def test_demo_builds_n_jobs(tmp_path: Path) -> None:
    out = cli(tmp_path, "demo", "--jobs", "250", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["counts"]["new"] >= 250


def test_status_raises_alerts_from_measurements(tmp_path: Path) -> None:
    config = '[[sources]]\nname = "ok"\nkind = "demo"\njobs = 50\n[[sources]]\nname = "gone"\nkind = "file"\npath = "nope.csv"\n'
    for _ in range(3):
        assert cli(tmp_path, "sync", config=config).returncode == 0
    doc = json.loads(cli(tmp_path, "status", "--json", config=config).stdout)
    rules = {a["rule"]: a for a in doc["alerts"]}
    assert rules["source_failing"]["value"] == 3 and "'gone'" in rules["source_failing"]["measurement"]
    assert "scheduler_down" in rules, "no scheduler is running in this test"
    assert "alert: " in cli(tmp_path, "status", config=config).stdout
