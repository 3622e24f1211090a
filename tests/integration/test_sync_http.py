"""The sync over real adapters and a real HTTP server on 127.0.0.1, configured through jobdash.toml."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from pytest_httpserver import HTTPServer

from core import snapshots
from core.settings import Settings, load_settings
from core.sync import run_sync

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "api"
T0 = datetime(2026, 3, 5, 12)


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    with HTTPServer(host="127.0.0.1", port=0) as s:
        yield s


def configure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, base: str) -> Settings:
    cfg = tmp_path / "jobdash.toml"
    common = f'base_url = "{base}"\nretries = 2\nbackoff_s = 0.01\ndelay_s = 0\ntimeout_s = 5\n'
    cfg.write_text(
        f'[[sources]]\nname = "acme"\nkind = "greenhouse"\nboard = "acme"\n{common}'
        f'[[sources]]\nname = "globex"\nkind = "lever"\nsite = "globex"\n{common}',
        encoding="utf-8",
    )
    monkeypatch.setenv("JOBDASH_CONFIG", str(cfg))
    monkeypatch.setenv("JOBDASH_DATA_DIR", str(tmp_path / "data"))
    return load_settings()


def listed(settings: Settings) -> dict[str, bool]:
    snap = snapshots.current(settings.snapshots_dir)
    assert snap is not None
    rows = duckdb.sql(f"SELECT native_id, delisted_at IS NULL FROM read_parquet('{snap.jobs_path}')").fetchall()
    return dict(rows)


def test_one_failing_one_healthy_source(server: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = configure(tmp_path, monkeypatch, server.url_for("").rstrip("/"))
    gh1, gh2 = fixture("greenhouse_acme_v1.json"), fixture("greenhouse_acme_v2.json")
    lever = fixture("lever_globex_v1.json")
    server.expect_request("/v1/boards/acme/jobs").respond_with_json(gh1)
    server.expect_request("/v0/postings/globex").respond_with_json(lever)
    first = run_sync(settings, now=T0)
    assert first.status == "ok" and first.counts["new"] == len(gh1["jobs"]) + len(lever)
    globex_ids = {k for k in listed(settings) if k.startswith("globex:")}

    # Run 2: Greenhouse moves on (one changed, one gone), Lever answers 500 every time.
    server.clear()
    server.expect_request("/v1/boards/acme/jobs").respond_with_json(gh2)
    server.expect_request("/v0/postings/globex").respond_with_data("boom", status=500)
    second = run_sync(settings, now=T0 + timedelta(hours=1))
    assert second.status == "partial"
    health = {s.name: s for s in second.sources}
    assert health["globex"].status == "failed" and "HTTP 500" in (health["globex"].error or "")
    assert second.counts["untouched"] == len(globex_ids), "the failing source's jobs are left alone"
    now_listed = listed(settings)
    assert all(now_listed[k] for k in globex_ids), "and stay listed"
    gh1_ids = {f"acme:{j['id']}" for j in gh1["jobs"]}
    gh2_ids = {f"acme:{j['id']}" for j in gh2["jobs"]}
    assert second.counts["delisted"] == len(gh1_ids - gh2_ids)
    assert second.counts["new"] == len(gh2_ids - gh1_ids)
    assert all(not now_listed[k] for k in gh1_ids - gh2_ids)


def test_only_volatile_fields_changed_means_unchanged(
    server: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = configure(tmp_path, monkeypatch, server.url_for("").rstrip("/"))
    gh = fixture("greenhouse_acme_v1.json")
    server.expect_request("/v1/boards/acme/jobs").respond_with_json(gh)
    server.expect_request("/v0/postings/globex").respond_with_json([])
    run_sync(settings, now=T0)
    # Same postings: a new updated_at and another tracking parameter on the URL.
    bumped = copy.deepcopy(gh)
    for j in bumped["jobs"]:
        j["updated_at"] = "2026-03-05T08:00:00-05:00"
        j["absolute_url"] = j["absolute_url"].split("?")[0] + "?gh_src=newsletter&utm_source=mail"
    server.clear()
    server.expect_request("/v1/boards/acme/jobs").respond_with_json(bumped)
    server.expect_request("/v0/postings/globex").respond_with_json([])
    again = run_sync(settings, now=T0 + timedelta(hours=1))
    assert again.counts["unchanged"] == len(gh["jobs"]) and again.counts["updated"] == 0
