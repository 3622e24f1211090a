"""Workable, SmartRecruiters, Recruitee and Workday adapters against a real HTTP server on 127.0.0.1
serving REAL captured payloads (tests/fixtures/real/<kind>/, provenance in tests/fixtures/real/SOURCES.md).

Hand-made bodies appear only in the failure matrix and where a second page is needed."""

from __future__ import annotations

import copy
import json
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from core import snapshots
from core.errors import ConfigError, SourceError
from core.settings import load_settings
from core.sources import source_class
from core.sync import run_sync
from tests.integration import test_sources_http as matrix
from tests.integration.test_sources_http import WHERE, by_id, fetch, make_config

# The existing matrix's module-scoped 127.0.0.1 server and its per-test cleared view.
server, http = matrix.server, matrix.http

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"
T0 = datetime(2026, 10, 1, 12)


def raw(kind: str, name: str) -> bytes:
    return (REAL / kind / name).read_bytes()


def real(kind: str, name: str) -> Any:
    return json.loads(raw(kind, name))


# --- Workable --------------------------------------------------------------------------------------------

WK_PATH = "/api/v1/widget/accounts/1000heads"


def test_workable_real_payload(http: HTTPServer) -> None:
    http.expect_request(WK_PATH, query_string={"details": "true"}).respond_with_data(
        raw("workable", "1000heads_widget_details.json"), content_type="application/json"
    )
    config = make_config("workable", http, account="1000heads")
    fetched = fetch(config)
    rows = by_id(fetched, config)
    assert fetched.partial is None and set(rows) == {"1000heads:E4335D00D8", "1000heads:8EDD45BE29"}
    ad = rows["1000heads:E4335D00D8"]
    assert ad["title"] == "Account Director" and ad["company"] == "1000heads"
    assert ad["location"] == "New York, New York, United States" and ad["country"] == "US"
    assert ad["url"] == "https://apply.workable.com/j/E4335D00D8"
    assert ad["apply_url"] == "https://apply.workable.com/j/E4335D00D8/apply"
    assert ad["employment_type"] == "Full-time" and ad["department"] == "Account Management"
    assert ad["posted_at"] == "2026-07-28"  # published_on, not created_at
    assert ad["is_remote"] is False and ad["workplace_type"] is None  # not remote ≠ on-site
    assert ad["description"].startswith("<p>The Account Director will be responsible")
    assert rows["1000heads:8EDD45BE29"]["city"] == "Soho"


# --- SmartRecruiters -------------------------------------------------------------------------------------

SR_PATH = "/v1/companies/Vitol/postings"
SR_DETAIL = "744000133666057"


def serve_sr(http: HTTPServer, fail_from_offset: int | None = None, detail_status: int = 200) -> list[str]:
    """The real Vitol list (5 postings) paged by offset/limit, the real detail for its first posting."""
    listing = real("smartrecruiters", "vitol_postings.json")
    asked: list[str] = []

    def handler(request: Request) -> Response:
        offset, limit = int(request.args["offset"]), int(request.args["limit"])
        asked.append(f"{offset}/{limit}")
        if fail_from_offset is not None and offset >= fail_from_offset:
            return Response("boom", status=500)
        page = dict(
            listing, offset=offset, limit=limit, totalFound=5, content=listing["content"][offset : offset + limit]
        )
        return Response(json.dumps(page), content_type="application/json")

    http.expect_request(SR_PATH).respond_with_handler(handler)
    body = raw("smartrecruiters", f"vitol_posting_{SR_DETAIL}.json")
    http.expect_request(f"{SR_PATH}/{SR_DETAIL}").respond_with_data(
        body if detail_status == 200 else b"gone", status=detail_status, content_type="application/json"
    )
    return asked


def test_smartrecruiters_pages_and_reads_the_detail(http: HTTPServer) -> None:
    asked = serve_sr(http)
    config = make_config("smartrecruiters", http, company="Vitol", page_size=3)
    fetched = fetch(config)
    rows = by_id(fetched, config)
    assert asked == ["0/3", "3/3"]  # totalFound 5 reached on the second page
    assert fetched.partial is None and len(rows) == 5
    pe = rows[f"Vitol:{SR_DETAIL}"]
    assert pe["title"] == "Platform Engineer" and pe["company"] == "Vitol"
    assert pe["url"] == "https://jobs.smartrecruiters.com/Vitol/744000133666057-platform-engineer"
    assert (pe["city"], pe["country"], pe["department"]) == ("Singapore", "SG", "MIS, Technology")
    assert pe["employment_type"] == "Full-time" and pe["posted_at"] == "2026-06-23T17:40:25.923Z"
    desc = pe["description"]
    assert desc.startswith("<h3>Job Description</h3>\n<p>As part of Vitol’s global Cloud")
    assert "<h3>Qualifications</h3>" in desc and desc.endswith("</p>")  # company blurb last
    houston = rows["Vitol:744000133449673"]
    assert houston["location"] == "Houston, TX, United States" and houston["department"] == "Accounting"
    # The other postings' details are not served (the test server answers 500): kept, without a description, and said so.
    assert houston["description"] is None
    assert houston["url"] == "https://jobs.smartrecruiters.com/Vitol/744000133449673"
    assert len(fetched.warnings) == 4 and "HTTP 500 after 3 attempts" in fetched.warnings[0]


def test_smartrecruiters_detail_calls_are_bounded(http: HTTPServer) -> None:
    serve_sr(http)
    fetched = fetch(make_config("smartrecruiters", http, company="Vitol", max_details=1))
    details = [r for r, _ in http.log if r.path.startswith(f"{SR_PATH}/")]
    assert len(details) == 1 and fetched.table.num_rows == 5
    assert fetched.warnings == ("descriptions fetched for the first 1 of 5 postings",)


def test_smartrecruiters_failing_second_page_is_partial(http: HTTPServer) -> None:
    serve_sr(http, fail_from_offset=2)
    fetched = fetch(make_config("smartrecruiters", http, company="Vitol", page_size=2, retries=2, max_details=0))
    assert fetched.table.num_rows == 2
    assert (
        fetched.partial is not None and "page 2" in fetched.partial and "HTTP 500 after 2 attempts" in fetched.partial
    )


# --- Recruitee -------------------------------------------------------------------------------------------

RC_PATH = "/api/offers/"


def test_recruitee_real_payload(http: HTTPServer) -> None:
    http.expect_request(RC_PATH).respond_with_data(
        raw("recruitee", "makersite_offers.json"), content_type="application/json"
    )
    config = make_config("recruitee", http, company="makersite", company_name="Makersite")
    rows = by_id(fetch(config), config)
    assert set(rows) == {"makersite:2530165", "makersite:1996992"}
    ds = rows["makersite:2530165"]
    assert ds["title"] == "Senior Data Scientist (m/f/x)" and ds["company"] == "Makersite"
    assert ds["url"] == "https://makersite.io/o/senior-data-scientist-mfx-1"
    assert ds["apply_url"] == "https://makersite.io/o/senior-data-scientist-mfx-1/c/new"
    assert (ds["location"], ds["city"], ds["country"]) == ("Berlin, Germany", "Berlin", "Germany")
    assert ds["is_remote"] is True and ds["workplace_type"] == "remote" and ds["department"] == "Engineering"
    assert ds["posted_at"] == "2026-03-17 11:32:32 UTC"
    assert "Data Scientist (m/f/x)" in ds["description"] and "5+ years of e" in ds["description"]  # + requirements
    sdr = rows["makersite:1996992"]
    assert sdr["location"] == "Germany" and sdr["city"] is None  # the board's "Germany, Germany" is no city


# --- Workday ---------------------------------------------------------------------------------------------

WD_API = "/wday/cxs/kainos/Kainos"
WD_DETAIL = "/job/Belfast/Data-Engineer_JR_18460"


def serve_wd(
    http: HTTPServer, listing: dict[str, Any] | None = None, fail_from_offset: int | None = None
) -> list[dict[str, Any]]:
    listing = listing or real("workday", "kainos_jobs.json")
    bodies: list[dict[str, Any]] = []

    def handler(request: Request) -> Response:
        body = json.loads(request.data)
        bodies.append(body)
        if fail_from_offset is not None and body["offset"] >= fail_from_offset:
            return Response("boom", status=502)
        page = listing["jobPostings"][body["offset"] : body["offset"] + body["limit"]]
        return Response(json.dumps({"total": listing["total"], "jobPostings": page}), content_type="application/json")

    http.expect_request(f"{WD_API}/jobs", method="POST").respond_with_handler(handler)
    http.expect_request(f"{WD_API}{WD_DETAIL}", method="GET").respond_with_data(
        raw("workday", "kainos_job_Data-Engineer_JR_18460.json"), content_type="application/json"
    )
    return bodies


def test_workday_real_payload(http: HTTPServer) -> None:
    http.expect_request(f"{WD_API}/jobs", method="POST").respond_with_data(
        raw("workday", "kainos_jobs.json"), content_type="application/json"
    )
    http.expect_request(f"{WD_API}{WD_DETAIL}").respond_with_data(
        raw("workday", "kainos_job_Data-Engineer_JR_18460.json"), content_type="application/json"
    )
    config = make_config("workday", http, tenant="kainos", site="Kainos", host="wd3", company="Kainos")
    fetched = fetch(config)
    rows = by_id(fetched, config)
    body = json.loads(http.log[0][0].data)
    assert body == {"limit": 20, "offset": 0, "searchText": "", "appliedFacets": {}}
    assert set(rows) == {"kainos/Kainos:JR_18460", "kainos/Kainos:JR_18397", "kainos/Kainos:JR_17515"}
    lead = rows["kainos/Kainos:JR_18460"]
    assert lead["title"] == "Lead Data Engineer" and lead["company"] == "Kainos"
    assert lead["url"] == "https://kainos.wd3.myworkdayjobs.com/Kainos/job/Belfast/Data-Engineer_JR_18460"
    assert lead["location"] == "Belfast; London; Homeworker - UK; Birmingham" and lead["country"] == "GB"
    assert lead["employment_type"] == "Full time" and lead["posted_at"] == "2026-09-28"
    assert lead["description"].startswith('<h1><span class="emphasis-3">Join Kainos')
    ux = rows["kainos/Kainos:JR_18397"]  # its detail is not served: list fields, relative date, no description
    assert ux["posted_at"] == "Posted Today" and ux["location"] == "4 Locations" and ux["description"] is None
    assert ux["url"] == "https://kainos.wd3.myworkdayjobs.com/Kainos/job/Belfast/UX-Designer--12-months-FTC-_JR_18397"
    assert any("without externalPath" in w for w in fetched.warnings)  # the real bare bulletFields entry


def test_workday_pages_with_offset(http: HTTPServer) -> None:
    listing = real("workday", "kainos_jobs.json")
    template = listing["jobPostings"][1]
    listing["jobPostings"] = [dict(template, externalPath=f"/job/X/Job_{i}", bulletFields=[f"R{i}"]) for i in range(25)]
    listing["total"] = 25
    bodies = serve_wd(http, listing)
    fetched = fetch(make_config("workday", http, tenant="kainos", site="Kainos", max_details=0))
    assert [b["offset"] for b in bodies] == [0, 20] and fetched.table.num_rows == 25 and fetched.partial is None


def test_workday_failing_second_page_is_partial(http: HTTPServer) -> None:
    listing = real("workday", "kainos_jobs.json")
    listing["jobPostings"] = [dict(listing["jobPostings"][1], externalPath=f"/job/X/J_{i}") for i in range(30)]
    listing["total"] = 30
    serve_wd(http, listing, fail_from_offset=20)
    fetched = fetch(make_config("workday", http, tenant="kainos", site="Kainos", retries=2, max_details=0))
    assert fetched.table.num_rows == 20
    assert (
        fetched.partial is not None and "page 2" in fetched.partial and "HTTP 502 after 2 attempts" in fetched.partial
    )


def test_workday_url_option() -> None:
    config = make_config("workday", None, url="https://kainos.wd3.myworkdayjobs.com/en-US/Kainos/job/x")
    src = source_class("workday")(config)
    assert src.http.base_url == "https://kainos.wd3.myworkdayjobs.com"  # type: ignore[attr-defined]
    assert src.api == "/wday/cxs/kainos/Kainos"  # type: ignore[attr-defined]


# --- The failure matrix ----------------------------------------------------------------------------------

ADAPTERS = [
    ("workable", {"account": "1000heads"}, WK_PATH, "GET", {"name": "x", "jobs": []}, "workable account '1000heads': ", "account not found"),
    ("smartrecruiters", {"company": "Vitol"}, SR_PATH, "GET", {"totalFound": 0, "content": []}, "smartrecruiters company 'Vitol': ", "company not found"),
    ("recruitee", {"company": "makersite"}, RC_PATH, "GET", {"offers": []}, "recruitee company 'makersite': ", "company not found"),
    ("workday", {"tenant": "kainos", "site": "Kainos"}, f"{WD_API}/jobs", "POST", {"total": 0, "jobPostings": []}, "workday site 'kainos/Kainos': ", "site not found"),
]  # fmt: skip
adapters = pytest.mark.parametrize(
    ("kind", "options", "path", "method", "valid", "prefix", "hint"), ADAPTERS, ids=[a[0] for a in ADAPTERS]
)
CHANGED = {
    "workable": ({"results": []}, "missing 'jobs' key"),
    "smartrecruiters": ([], "expected a JSON object, got list"),
    "recruitee": ({"offers": {"a": 1}}, "expected offers as a JSON array, got dict"),
    "workday": ({"jobPostings": ["x"]}, "jobPostings[0] is not an object"),
}


@adapters
def test_404(
    http: HTTPServer, kind: str, options: dict[str, Any], path: str, method: str, valid: Any, prefix: str, hint: str
) -> None:
    http.expect_request(path, method=method).respond_with_data("Not Found", status=404)
    with pytest.raises(SourceError) as err:
        fetch(make_config(kind, http, **options))
    assert str(err.value) == f"{prefix}HTTP 404 ({hint})" and len(http.log) == 1


@adapters
def test_500(
    http: HTTPServer, kind: str, options: dict[str, Any], path: str, method: str, valid: Any, prefix: str, hint: str
) -> None:
    http.expect_request(path, method=method).respond_with_data("boom", status=500)
    with pytest.raises(SourceError) as err:
        fetch(make_config(kind, http, **options))
    assert str(err.value) == f"{prefix}HTTP 500 after 3 attempts" and len(http.log) == 3


@adapters
def test_429_then_success(
    http: HTTPServer, kind: str, options: dict[str, Any], path: str, method: str, valid: Any, prefix: str, hint: str
) -> None:
    http.expect_oneshot_request(path, method=method).respond_with_data("", status=429, headers={"Retry-After": "0"})
    http.expect_request(path, method=method).respond_with_json(valid)
    fetched = fetch(make_config(kind, http, **options))
    assert fetched.table.num_rows == 0 and fetched.partial is None
    assert [r.status_code for _, r in http.log] == [429, 200]


@adapters
def test_timeout(
    http: HTTPServer, kind: str, options: dict[str, Any], path: str, method: str, valid: Any, prefix: str, hint: str
) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.5)
        return Response(json.dumps(valid), content_type="application/json")

    http.expect_request(path, method=method).respond_with_handler(slow)
    with pytest.raises(SourceError) as err:
        fetch(make_config(kind, http, timeout_s=0.2, retries=1, **options))
    assert str(err.value) == f"{prefix}timed out after 0.2 s"


@adapters
def test_invalid_json(
    http: HTTPServer, kind: str, options: dict[str, Any], path: str, method: str, valid: Any, prefix: str, hint: str
) -> None:
    http.expect_request(path, method=method).respond_with_data("<html>Maintenance</html>", content_type="text/html")
    with pytest.raises(SourceError) as err:
        fetch(make_config(kind, http, **options))
    assert str(err.value).startswith(f"{prefix}invalid JSON: ") and "<html>Maintenance" in str(err.value)


@adapters
def test_changed_shape(
    http: HTTPServer, kind: str, options: dict[str, Any], path: str, method: str, valid: Any, prefix: str, hint: str
) -> None:
    payload, reason = CHANGED[kind]
    http.expect_request(path, method=method).respond_with_json(payload)
    with pytest.raises(SourceError) as err:
        fetch(make_config(kind, http, **options))
    assert str(err.value) == f"{prefix}unexpected response shape: {reason}"


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [
        ("workable", {}, "sources[0].account: required"),
        ("smartrecruiters", {"company": "Vitol", "page_size": 500}, "sources[0].page_size: expected 1..100"),
        ("recruitee", {"company": "a/b"}, "sources[0].company: expected a bare token"),
        ("workday", {"tenant": "kainos"}, "sources[0].site: required"),
        ("workday", {"tenant": "k", "site": "S", "host": "eu"}, "sources[0].host: expected the wdN part"),
        ("workday", {"url": "https://example.com/jobs"}, "sources[0].url: expected a career site URL"),
        ("workday", {"url": "https://k.wd1.myworkdayjobs.com/S", "site": "S"}, "sources[0].site: give either url"),
    ],
)
def test_validate_names_the_key(kind: str, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        source_class(kind).validate(options, WHERE)
    assert str(err.value).startswith(message)


# --- Sync through the adapters: same bytes twice → unchanged; one removed → exactly it delisted ----------

SYNC_CASES = {
    "workable": ('account = "1000heads"', WK_PATH, "GET", ("workable", "1000heads_widget_details.json"), "jobs"),
    "recruitee": ('company = "makersite"', RC_PATH, "GET", ("recruitee", "makersite_offers.json"), "offers"),
    "smartrecruiters": ('company = "Vitol"\nmax_details = 1', SR_PATH, "GET", ("smartrecruiters", "vitol_postings.json"), "content"),
    "workday": ('tenant = "kainos"\nsite = "Kainos"', f"{WD_API}/jobs", "POST", ("workday", "kainos_jobs.json"), "jobPostings"),
}  # fmt: skip


@pytest.mark.parametrize("kind", list(SYNC_CASES))
def test_sync_twice_unchanged_then_one_removed_is_delisted(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options, path, method, (folder, name), key = SYNC_CASES[kind]
    body = raw(folder, name)
    with HTTPServer(host="127.0.0.1", port=0) as srv:
        cfg = tmp_path / "jobdash.toml"
        cfg.write_text(
            f'[[sources]]\nname = "ats"\nkind = "{kind}"\n{options}\nbase_url = "{srv.url_for("").rstrip("/")}"\n'
            "retries = 1\nbackoff_s = 0.01\ndelay_s = 0\ntimeout_s = 5\n",
            encoding="utf-8",
        )
        monkeypatch.setenv("JOBDASH_CONFIG", str(cfg))
        monkeypatch.setenv("JOBDASH_DATA_DIR", str(tmp_path / "data"))
        settings = load_settings()

        def serve(payload: bytes) -> None:
            srv.clear()
            srv.expect_request(path, method=method).respond_with_data(payload, content_type="application/json")
            if kind == "workday":
                srv.expect_request(f"{WD_API}{WD_DETAIL}").respond_with_data(
                    raw("workday", "kainos_job_Data-Engineer_JR_18460.json"), content_type="application/json"
                )
            if kind == "smartrecruiters":
                srv.expect_request(f"{SR_PATH}/{SR_DETAIL}").respond_with_data(
                    raw("smartrecruiters", f"vitol_posting_{SR_DETAIL}.json"), content_type="application/json"
                )

        serve(body)
        first = run_sync(settings, now=T0)
        assert first.status == "ok" and first.counts["new"] >= 2
        serve(body)
        second = run_sync(settings, now=T0 + timedelta(hours=1))
        assert second.counts["unchanged"] == first.counts["new"]
        assert second.counts["new"] == second.counts["updated"] == second.counts["delisted"] == 0

        fewer = copy.deepcopy(json.loads(body))
        gone = fewer[key].pop(0)
        serve(json.dumps(fewer).encode())
        third = run_sync(settings, now=T0 + timedelta(hours=2))
        assert third.counts["delisted"] == 1 and third.counts["unchanged"] == first.counts["new"] - 1

    snap = snapshots.current(settings.snapshots_dir)
    assert snap is not None
    delisted = duckdb.sql(
        f"SELECT title FROM read_parquet('{snap.jobs_path}') WHERE delisted_at IS NOT NULL"
    ).fetchall()
    assert delisted == [(gone.get("title") or gone.get("name"),)]
