"""Real captured payloads (tests/fixtures/real, provenance in SOURCES.md) through the real adapters,
served from 127.0.0.1, synced for real: what a reader would check, field by field."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import ftfy
import pytest
from pytest_httpserver import HTTPServer

from core import snapshots
from core.normalize.places import cities
from core.settings import Settings, load_settings
from core.sync import run_sync

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"
T0 = datetime(2026, 8, 30, 12)
MOJIBAKE = re.compile("â€|Ã|Â|Å\u0084|\u0080|\u0099")
# Markup left literal: a bold span, tags, entities, Markdown escapes (literal "***" an author typed is text).
MARKUP = re.compile(r"\*\*\w[^*\n]*\*\*|<p>|</?[a-z]+>|&amp;|&lt;|&nbsp;|\\[-*_#.]")

# kind, option for the board token, payload file, request path
HTTP_CASES = [
    ("greenhouse", "board", "greenhouse/gitlab.json", "/v1/boards/{t}/jobs"),
    ("greenhouse", "board", "greenhouse/smarterdx.json", "/v1/boards/{t}/jobs"),
    ("lever", "site", "lever/midat.json", "/v0/postings/{t}"),
    ("lever", "site", "lever/palantir.json", "/v0/postings/{t}"),
    ("ashby", "board", "ashby/midat.json", "/posting-api/job-board/{t}"),
    ("ashby", "board", "ashby/ericlee.json", "/posting-api/job-board/{t}"),
    ("ashby", "board", "ashby/lcarlini.json", "/posting-api/job-board/{t}"),
    ("remoteok", None, "remoteok/remoteok-2026-03.json", "/api"),
    ("remoteok", None, "remoteok/lcarlini.json", "/api"),
]


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    with HTTPServer(host="127.0.0.1", port=0) as s:
        yield s


def configure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> Settings:
    cfg = tmp_path / "jobdash.toml"
    cfg.write_text(body, encoding="utf-8")
    monkeypatch.setenv("JOBDASH_CONFIG", str(cfg))
    monkeypatch.setenv("JOBDASH_DATA_DIR", str(tmp_path / "data"))
    return load_settings()


def http_source(kind: str, option: str | None, base: str) -> str:
    token = f'{option} = "acme"\n' if option else ""
    return (
        f'[[sources]]\nname = "real"\nkind = "{kind}"\n{token}base_url = "{base}"\n'
        "retries = 1\nbackoff_s = 0.01\ndelay_s = 0\ntimeout_s = 10\n"
    )


def rows(settings: Settings) -> list[dict[str, Any]]:
    snap = snapshots.current(settings.snapshots_dir)
    assert snap is not None
    con = duckdb.connect()
    rel = con.read_parquet(str(snap.jobs_path))
    return [dict(zip(rel.columns, r, strict=True)) for r in rel.fetchall()]


def descriptions(settings: Settings) -> list[str]:
    snap = snapshots.current(settings.snapshots_dir)
    assert snap is not None
    out: list[str] = []
    for p in snap.jobs_path.parent.glob("*.parquet"):
        con = duckdb.connect()
        rel = con.read_parquet(str(p))
        if "description" in rel.columns:
            out += [d for (d,) in rel.select("description").fetchall() if d]
    return out


def check_reader_expectations(all_rows: list[dict[str, Any]], texts: list[str]) -> None:
    assert all_rows, "the payload synced postings"
    gazetteer = cities()
    for r in all_rows:
        for col in ("title", "company", "location", "locations", "city", "region", "department", "salary_text"):
            value = r.get(col)
            if value:
                assert not MOJIBAKE.search(value), (col, value)
                assert not ftfy.is_bad(value), (col, value)
                assert "&amp;" not in value and "<" not in value, (col, value)
        if r["city"]:
            assert r["city"].lower() in gazetteer, f"invented city {r['city']!r} from {r['location']!r}"
        if r["workplace_type"] is not None:
            assert r["is_remote"] == (r["workplace_type"] == "remote"), r
        if r["salary_period"] == "year":
            for v in (r["salary_annual_min"], r["salary_annual_max"]):
                assert v is None or 10_000 <= v <= 1_000_000, r
        if r["salary_period"] == "hour":
            assert r["salary_max"] is None or r["salary_max"] < 500, r
    assert texts, "descriptions were stored"
    for t in texts:
        assert not MOJIBAKE.search(t), t[:200]
        assert not ftfy.is_bad(t), t[:200]
        assert not MARKUP.search(t), MARKUP.search(t).group() if MARKUP.search(t) else ""


@pytest.mark.parametrize(("kind", "option", "name", "path"), HTTP_CASES, ids=[c[2] for c in HTTP_CASES])
def test_real_payload_syncs_right_and_twice_is_unchanged(
    server: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, option: str | None, name: str,
    path: str,
) -> None:  # fmt: skip
    raw = (REAL / name).read_bytes()
    route = path.format(t="acme")
    server.expect_request(route).respond_with_data(raw, content_type="application/json")
    settings = configure(tmp_path, monkeypatch, http_source(kind, option, server.url_for("").rstrip("/")))
    first = run_sync(settings, now=T0)
    assert first.status == "ok", first.as_dict()
    check_reader_expectations(rows(settings), descriptions(settings))

    second = run_sync(settings, now=T0 + timedelta(hours=1))
    assert second.counts["unchanged"] == first.counts["new"], second.counts
    assert second.counts["updated"] == 0 and second.counts["new"] == 0

    # Drop the first posting from the same bytes: exactly that one is delisted.
    doc = json.loads(raw)
    jobs = doc["jobs"] if isinstance(doc, dict) else doc
    dropped = next(j for j in jobs if "legal" not in j)
    jobs.remove(dropped)
    server.clear()
    server.expect_request(route).respond_with_json(doc)
    third = run_sync(settings, now=T0 + timedelta(hours=2))
    assert third.counts["delisted"] == 1, third.counts
    gone = [r for r in rows(settings) if r["delisted_at"] is not None]
    assert len(gone) == 1 and str(dropped["id"]) in gone[0]["native_id"]


def by_title(settings: Settings) -> dict[str, dict[str, Any]]:
    return {r["title"]: r for r in rows(settings)}


def sync_one(server: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: int) -> Settings:
    kind, option, name, path = HTTP_CASES[case]
    server.expect_request(path.format(t="acme")).respond_with_data((REAL / name).read_bytes())
    settings = configure(tmp_path, monkeypatch, http_source(kind, option, server.url_for("").rstrip("/")))
    assert run_sync(settings, now=T0).status == "ok"
    return settings


def test_greenhouse_pay_range_and_departments(
    server: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    got = rows(sync_one(server, tmp_path, monkeypatch, 0))
    paid = [r for r in got if r["salary_min"] is not None]
    assert paid, "the pay-range block in content is read"
    assert paid[0]["salary_min"] == 108_400 and paid[0]["salary_max"] == 129_600
    assert paid[0]["salary_currency"] == "USD" and paid[0]["salary_period"] == "year"
    assert all(r["department"] for r in got)
    assert {r["country"] for r in got} >= {"IT"}  # "Remote, Italy"


def test_lever_company_locations_and_workplace(
    server: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    got = rows(sync_one(server, tmp_path, monkeypatch, 2))
    assert {r["workplace_type"] for r in got} == {"hybrid"} and not any(r["is_remote"] for r in got)
    assert all(r["employment_type"] == "full_time" for r in got)
    hinge = next(r for r in got if r["salary_min"])
    assert (hinge["salary_min"], hinge["salary_max"], hinge["salary_period"]) == (150_000, 180_000, "year")
    assert {r["city"] for r in got} == {"New York", "Seoul"}


def test_ashby_remote_country_from_postal_address(
    server: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    got = rows(sync_one(server, tmp_path, monkeypatch, 6))
    assert all(r["is_remote"] and r["workplace_type"] == "remote" for r in got)
    assert "PA" in {r["country"] for r in got}  # "LatAm" with address Panama


def test_ashby_onsite_keeps_secondary_locations(
    server: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    got = rows(sync_one(server, tmp_path, monkeypatch, 5))
    assert all(r["workplace_type"] == "onsite" and r["is_remote"] is False for r in got)
    assert all(r["locations"] and "Miami" in r["locations"] for r in got)


def test_remoteok_mojibake_repaired(server: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = sync_one(server, tmp_path, monkeypatch, 7)
    texts = descriptions(settings)
    assert any("You’ll" in t or "You'll" in t for t in texts)
    assert all(r["workplace_type"] == "remote" for r in rows(settings))


def test_jobspy_csvs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "csv"
    folder.mkdir()
    for f in ("jobs_Delhi.csv", "LAS_jobs.csv"):
        shutil.copy(REAL / "jobspy" / f, folder / f)
    settings = configure(tmp_path, monkeypatch, f'[[sources]]\nname = "spy"\nkind = "file"\npath = "{folder}"\n')
    first = run_sync(settings, now=T0)
    assert first.status == "ok", first.as_dict()
    got = rows(settings)
    check_reader_expectations(got, descriptions(settings))
    hourly = [r for r in got if r["salary_period"] == "hour"]
    yearly = [r for r in got if r["salary_period"] == "year"]
    assert hourly and yearly, "Indeed's hourly and yearly salaries both kept as given"
    assert all(r["salary_max"] < 500 for r in hourly)
    assert {r["country"] for r in got if r["source"] == "spy"} >= {"IN", "US"}
    assert any(r["employment_type"] for r in got)
    again = run_sync(settings, now=T0 + timedelta(hours=1))
    assert again.counts["unchanged"] == first.counts["new"] and again.counts["updated"] == 0
    assert all(isinstance(s["warnings"], list) for s in again.as_dict()["sources"]), "sync --json shows warnings"
