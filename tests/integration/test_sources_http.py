"""HTTP source adapters against a real HTTP server on 127.0.0.1 serving recorded-format payloads.

Fixtures in tests/fixtures/api are hand-written in each API's documented response format:
<kind>_<board>_v1.json is a first sync, _v2 the next one (one posting changed, one gone, one new).
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pyarrow as pa
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from core.errors import ConfigError, SourceError
from core.schema import CONTENT_COLUMNS, RAW_ARROW_TYPES
from core.sources import build, source_class, validate_options
from core.sources.base import FetchContext, Fetched, SourceConfig
from core.sources.http import USER_AGENT, http_options

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "api"
WHERE = "sources[0]."


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    srv = HTTPServer(host="127.0.0.1", port=0)
    srv.start()
    yield srv
    srv.clear()
    srv.stop()


@pytest.fixture
def http(server: HTTPServer) -> Iterator[HTTPServer]:
    server.clear()
    yield server
    server.clear()


def make_config(kind: str, server: HTTPServer | None, timeout_s: float = 5.0, **options: Any) -> SourceConfig:
    opts: dict[str, Any] = {"delay_s": 0, "backoff_s": 0.01, **options}
    if server is not None:
        opts.setdefault("base_url", server.url_for("/").rstrip("/"))
    validate_options(kind, opts, WHERE)  # tests use only options a user could write
    return SourceConfig(name=f"my-{kind}", kind=kind, timeout_s=timeout_s, options=MappingProxyType(opts))


def fetch(config: SourceConfig) -> Fetched:
    return build(config).fetch(FetchContext(now_iso="2026-03-10T00:00:00Z"))


def by_id(fetched: Fetched, config: SourceConfig) -> dict[str, dict[str, Any]]:
    """Rows keyed by native_id, after checking the table speaks the raw schema exactly."""
    table = fetched.table
    for field in table.schema:
        assert field.name in RAW_ARROW_TYPES, field.name
        assert field.type == RAW_ARROW_TYPES[field.name], field.name
    rows = table.to_pylist()
    assert {r["source"] for r in rows} <= {config.name}
    ids = [r["native_id"] for r in rows]
    assert len(ids) == len(set(ids)), "native ids are unique"
    return {r["native_id"]: r for r in rows}


def content(row: dict[str, Any]) -> dict[str, Any]:
    return {c: row[c] for c in CONTENT_COLUMNS if c in row}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


# --- Greenhouse ------------------------------------------------------------------------------------------


GH_PATH = "/v1/boards/acme/jobs"


def test_greenhouse_maps_every_field(http: HTTPServer) -> None:
    payload = load("greenhouse_acme_v1.json")
    http.expect_request(
        GH_PATH, query_string={"content": "true"}, headers={"User-Agent": USER_AGENT}
    ).respond_with_json(payload)
    config = make_config("greenhouse", http, board="acme")
    fetched = fetch(config)
    rows = by_id(fetched, config)

    assert fetched.partial is None
    assert set(rows) == {"acme:4012345", "acme:4012346", "acme:4012347"}
    eng = rows["acme:4012345"]
    assert eng["source"] == "my-greenhouse"
    assert eng["url"] == "https://boards.example.test/acme/jobs/4012345?gh_src=abc123"
    assert eng["title"] == "Senior Backend Engineer"
    assert eng["company"] == "Acme Corp"
    assert eng["location"] == "Berlin, Germany"
    assert eng["department"] == "Engineering, Platform"
    assert eng["employment_type"] == "Full-time"
    assert eng["salary_text"] == "EUR 85000.0"
    assert eng["posted_at"] == "2026-02-20T09:00:00-05:00"  # first_published, not updated_at
    # HTML-escaped HTML passes through untouched; normalization unescapes it.
    assert eng["description"] == payload["jobs"][0]["content"]
    assert "&amp;#39;" in eng["description"] and "Zürich" in eng["description"]
    assert not any("2026-03-02T10:15:00" in str(v) for v in eng.values()), "updated_at leaks nowhere"

    designer = rows["acme:4012346"]
    assert designer["title"] == "Product Designer (Remote – EU) 🎨"
    assert designer["location"] == "Remote – Europe"
    assert designer["employment_type"] == "Contract, Part-time"
    assert designer["salary_text"] is None
    assert designer["posted_at"] == "2026-03-01T08:00:00Z"  # no first_published: updated_at as the date
    assert "日本語" in designer["description"]

    data = rows["acme:4012347"]
    assert data["company"] == "Acme"  # no company_name: the board token, title-cased
    assert data["location"] == "Zürich, Switzerland"  # no location: the first office
    assert data["department"] is None and data["employment_type"] is None


def test_greenhouse_second_payload_changes_one_posting_and_drops_one(http: HTTPServer) -> None:
    config = make_config("greenhouse", http, board="acme", company="ACME")
    http.expect_oneshot_request(GH_PATH).respond_with_json(load("greenhouse_acme_v1.json"))
    http.expect_oneshot_request(GH_PATH).respond_with_json(load("greenhouse_acme_v2.json"))
    first, second = by_id(fetch(config), config), by_id(fetch(config), config)

    assert set(first) - set(second) == {"acme:4012347"}  # disappeared
    assert set(second) - set(first) == {"acme:4012348"}  # appeared
    assert second["acme:4012348"]["location"] == "München, Bayern, Deutschland"
    assert content(first["acme:4012345"]) != content(second["acme:4012345"])
    assert second["acme:4012345"]["title"] == "Staff Backend Engineer"
    assert second["acme:4012345"]["salary_text"] == "EUR 95000.0"
    # Only updated_at moved for the designer: no content field changes.
    assert content(first["acme:4012346"]) == content(second["acme:4012346"])
    assert first["acme:4012346"]["company"] == "ACME"  # the option wins over company_name


# --- Lever -----------------------------------------------------------------------------------------------


LEVER_PATH = "/v0/postings/globex"


def serve_lever(http: HTTPServer, postings: list[dict[str, Any]], fail_from_skip: int | None = None) -> list[str]:
    """Serve ``postings`` by skip/limit like Lever does; return the query strings that were asked for."""
    asked: list[str] = []

    def handler(request: Request) -> Response:
        asked.append(request.query_string.decode())
        assert request.args["mode"] == "json"
        skip, limit = int(request.args["skip"]), int(request.args["limit"])
        if fail_from_skip is not None and skip >= fail_from_skip:
            return Response("upstream broke", status=500)
        return Response(json.dumps(postings[skip : skip + limit]), content_type="application/json")

    http.expect_request(LEVER_PATH).respond_with_handler(handler)
    return asked


def test_lever_pages_and_maps_every_field(http: HTTPServer) -> None:
    postings = load("lever_globex_v1.json")
    asked = serve_lever(http, postings)
    config = make_config("lever", http, site="globex", page_size=2)
    fetched = fetch(config)
    rows = by_id(fetched, config)

    assert asked == ["mode=json&skip=0&limit=2", "mode=json&skip=2&limit=2"]  # second page short: stop
    assert fetched.partial is None
    assert len(rows) == 3
    sre = rows["globex:5a1b2c3d-0001-4e5f-8a9b-000000000001"]
    assert sre["source"] == "my-lever"
    assert sre["url"] == "https://jobs.example.test/globex/5a1b2c3d-0001-4e5f-8a9b-000000000001"
    assert sre["apply_url"] == sre["url"] + "/apply"
    assert sre["title"] == "Senior Site Reliability Engineer"
    assert sre["company"] == "Globex"
    assert sre["location"] == "London, United Kingdom"
    assert sre["country"] == "GB"
    assert sre["workplace_type"] == "hybrid" and sre["is_remote"] is False
    assert sre["employment_type"] == "Full-time"
    assert sre["department"] == "Engineering"
    assert (sre["salary_min"], sre["salary_max"]) == (90000.0, 120000.0)
    assert (sre["salary_currency"], sre["salary_period"]) == ("GBP", "year")
    assert sre["salary_text"] == "£90k – £120k + equity"
    assert sre["posted_at"] == "1767225600000"  # epoch ms, as text
    desc = sre["description"]
    assert desc.startswith("<div>Keep our platform up &amp; fast — on‑call")
    assert "<h3>What you'll do</h3>\n<ul><li>Run Kubernetes</li><li>Improve SLOs</li></ul>" in desc
    assert "<li>5+ years &amp; Terraform</li>" in desc and desc.endswith("a learning budget.</div>")

    csm = rows["globex:5a1b2c3d-0002-4e5f-8a9b-000000000002"]
    assert csm["title"] == "Customer Success Manager — São Paulo"
    assert csm["workplace_type"] is None and csm["is_remote"] is None  # "unspecified"
    assert csm["department"] == "Customer Success"  # no department: the team
    assert csm["description"] == "Ajude nossos clientes."  # only descriptionPlain
    assert csm["salary_min"] is None and csm["salary_currency"] is None and csm["country"] is None

    labeler = rows["globex:5a1b2c3d-0003-4e5f-8a9b-000000000003"]
    assert labeler["is_remote"] is True and labeler["workplace_type"] == "remote"
    assert (labeler["salary_min"], labeler["salary_max"], labeler["salary_period"]) == (22.5, 30.0, "hour")


def test_lever_full_last_page_asks_once_more(http: HTTPServer) -> None:
    asked = serve_lever(http, load("lever_globex_v1.json"))
    fetched = fetch(make_config("lever", http, site="globex", page_size=3))
    assert fetched.table.num_rows == 3 and fetched.partial is None
    assert asked == ["mode=json&skip=0&limit=3", "mode=json&skip=3&limit=3"]


def test_lever_pauses_between_pages(http: HTTPServer) -> None:
    postings, stamps = load("lever_globex_v1.json"), []

    def handler(request: Request) -> Response:
        stamps.append(time.monotonic())
        skip, limit = int(request.args["skip"]), int(request.args["limit"])
        return Response(json.dumps(postings[skip : skip + limit]), content_type="application/json")

    http.expect_request(LEVER_PATH).respond_with_handler(handler)
    fetch(make_config("lever", http, site="globex", page_size=2, delay_s=0.2))
    assert len(stamps) == 2 and stamps[1] - stamps[0] >= 0.2


def test_lever_failing_second_page_returns_the_first_as_partial(http: HTTPServer) -> None:
    serve_lever(http, load("lever_globex_v1.json"), fail_from_skip=2)
    fetched = fetch(make_config("lever", http, site="globex", page_size=2, retries=2))
    assert fetched.table.num_rows == 2
    assert fetched.partial is not None
    assert "page 2" in fetched.partial and "HTTP 500 after 2 attempts" in fetched.partial


def test_lever_failing_first_page_raises(http: HTTPServer) -> None:
    serve_lever(http, load("lever_globex_v1.json"), fail_from_skip=0)
    with pytest.raises(SourceError, match=r"^lever site 'globex': HTTP 500 after 2 attempts$"):
        fetch(make_config("lever", http, site="globex", page_size=2, retries=2))


def test_lever_second_payload_changes_one_posting_and_drops_one(http: HTTPServer) -> None:
    config = make_config("lever", http, site="globex", company="Globex Corporation")
    http.expect_oneshot_request(LEVER_PATH).respond_with_json(load("lever_globex_v1.json"))
    http.expect_oneshot_request(LEVER_PATH).respond_with_json(load("lever_globex_v2.json"))
    first, second = by_id(fetch(config), config), by_id(fetch(config), config)
    sre, csm, labeler, office = (f"globex:5a1b2c3d-000{i}-4e5f-8a9b-00000000000{i}" for i in (1, 2, 3, 4))

    assert set(first) - set(second) == {csm}
    assert set(second) - set(first) == {office}
    assert content(first[sre]) != content(second[sre])
    assert (second[sre]["salary_min"], second[sre]["salary_max"]) == (95000.0, 125000.0)
    assert content(first[labeler]) == content(second[labeler])
    assert second[office]["salary_period"] == "month" and second[office]["company"] == "Globex Corporation"


def test_lever_region_picks_the_eu_host() -> None:
    eu = make_config("lever", None, site="globex", region="eu")
    assert build(eu).http.base_url == "https://api.eu.lever.co"  # type: ignore[attr-defined]
    assert build(make_config("lever", None, site="globex")).http.base_url == "https://api.lever.co"  # type: ignore[attr-defined]


# --- Ashby -----------------------------------------------------------------------------------------------


ASHBY_PATH = "/posting-api/job-board/initech"


def test_ashby_maps_every_field_and_skips_unlisted(http: HTTPServer) -> None:
    http.expect_request(ASHBY_PATH, query_string={"includeCompensation": "true"}).respond_with_json(
        load("ashby_initech_v1.json")
    )
    config = make_config("ashby", http, board="initech")
    rows = by_id(fetch(config), config)

    ml_id, student_id = "initech:0d6f7a9e-aaaa-4b1c-9c1e-000000000001", "initech:0d6f7a9e-bbbb-4b1c-9c1e-000000000002"
    intern_id = "initech:https://jobs.example.test/initech/intern-2026"  # no id: the job URL
    assert set(rows) == {ml_id, student_id, intern_id}  # the unlisted search is not advertised

    ml = rows[ml_id]
    assert ml["source"] == "my-ashby"
    assert ml["url"] == "https://jobs.example.test/initech/0d6f7a9e-aaaa-4b1c-9c1e-000000000001"
    assert ml["apply_url"] == ml["url"] + "/application"
    assert ml["title"] == "Machine Learning Engineer"
    assert ml["company"] == "Initech"
    assert ml["location"] == "New York, NY"
    assert ml["is_remote"] is False and ml["workplace_type"] == "hybrid"
    assert ml["employment_type"] == "full_time"
    assert ml["department"] == "Research"
    assert (ml["salary_min"], ml["salary_max"], ml["salary_currency"], ml["salary_period"]) == (
        180000.0,
        220000.0,
        "USD",
        "year",
    )  # the Salary component, not the equity one listed first
    assert ml["salary_text"] == "$180K – $220K • Offers Equity"
    assert ml["posted_at"] == "2026-02-01T15:30:00.000+00:00"
    assert ml["description"] == "<p>Train models &amp; ship them. Naïve Bayes welcome.</p>"

    student = rows[student_id]
    assert student["title"] == "Werkstudent:in Marketing"
    assert student["employment_type"] == "part_time" and student["department"] == "Growth"
    assert student["is_remote"] is True and student["workplace_type"] == "remote"
    assert student["description"] == "Für Studierende — 20 Std./Woche."
    assert student["salary_min"] is None and student["salary_text"] is None

    intern = rows[intern_id]
    assert intern["employment_type"] == "internship" and intern["workplace_type"] == "onsite"
    assert (intern["salary_min"], intern["salary_max"], intern["salary_period"]) == (40.0, 45.0, "hour")
    assert intern["apply_url"] is None


def test_ashby_second_payload_changes_one_posting_and_drops_one(http: HTTPServer) -> None:
    config = make_config("ashby", http, board="initech")
    http.expect_oneshot_request(ASHBY_PATH).respond_with_json(load("ashby_initech_v1.json"))
    http.expect_oneshot_request(ASHBY_PATH).respond_with_json(load("ashby_initech_v2.json"))
    first, second = by_id(fetch(config), config), by_id(fetch(config), config)
    ml = "initech:0d6f7a9e-aaaa-4b1c-9c1e-000000000001"

    assert set(first) - set(second) == {"initech:0d6f7a9e-bbbb-4b1c-9c1e-000000000002"}
    assert set(second) <= set(first)
    assert second[ml]["location"] == "Boston, MA" and content(first[ml]) != content(second[ml])
    intern = "initech:https://jobs.example.test/initech/intern-2026"
    assert content(first[intern]) == content(second[intern])


# --- RemoteOK --------------------------------------------------------------------------------------------


def test_remoteok_skips_the_legal_notice_and_maps_every_field(http: HTTPServer) -> None:
    http.expect_request("/api", headers={"User-Agent": USER_AGENT}).respond_with_json(load("remoteok_v1.json"))
    config = make_config("remoteok", http)
    rows = by_id(fetch(config), config)

    assert set(rows) == {"1100001", "1100002", "1100003"}
    rust = rows["1100001"]
    assert rust["source"] == "my-remoteok"
    assert rust["url"] == "https://jobs.example.test/remoteok/remote-jobs/remote-senior-rust-developer-hooli-1100001"
    assert rust["apply_url"] == "https://jobs.example.test/remoteok/l/1100001"
    assert rust["title"] == "Senior Rust Developer" and rust["company"] == "Hooli"
    assert rust["location"] == "Worldwide"
    assert rust["is_remote"] is True and rust["workplace_type"] == "remote"
    assert (rust["salary_min"], rust["salary_max"], rust["salary_currency"], rust["salary_period"]) == (
        120000.0,
        160000.0,
        "USD",
        None,  # RemoteOK names no period: normalization infers it from the amounts
    )
    assert rust["posted_at"] == "2025-12-31T00:00:00+00:00"
    assert rust["description"] == "<p>Write &lt;safe&gt; systems code. Ünïcödé welcome &amp; encouraged.</p>"

    community = rows["1100002"]
    assert community["title"] == "Community Manager 🌍"
    assert community["location"] is None  # empty string
    assert community["salary_min"] is None and community["salary_max"] is None  # 0 means not given
    assert community["salary_currency"] is None and community["salary_period"] is None
    assert community["posted_at"] == "1767052800000"  # no date: epoch seconds → ms

    devops = rows["1100003"]  # numeric id
    assert (devops["salary_min"], devops["salary_max"]) == (70000.0, None)
    assert devops["apply_url"] is None


def test_remoteok_second_payload_changes_one_posting_and_drops_one(http: HTTPServer) -> None:
    config = make_config("remoteok", http)
    http.expect_oneshot_request("/api").respond_with_json(load("remoteok_v1.json"))
    http.expect_oneshot_request("/api").respond_with_json(load("remoteok_v2.json"))
    first, second = by_id(fetch(config), config), by_id(fetch(config), config)

    assert set(first) - set(second) == {"1100003"}
    assert content(first["1100001"]) != content(second["1100001"])
    assert second["1100001"]["salary_max"] == 175000.0
    assert content(first["1100002"]) == content(second["1100002"])


# --- Failures, the same for every HTTP adapter ------------------------------------------------------------

# kind, options, path, a valid payload, how its errors start
ADAPTERS = [
    ("greenhouse", {"board": "acme"}, GH_PATH, {"jobs": []}, "greenhouse board 'acme': "),
    ("lever", {"site": "globex"}, LEVER_PATH, [], "lever site 'globex': "),
    ("ashby", {"board": "initech"}, ASHBY_PATH, {"jobs": []}, "ashby board 'initech': "),
    ("remoteok", {}, "/api", [{"legal": "terms"}], "remoteok: "),
]
adapters = pytest.mark.parametrize(
    ("kind", "options", "path", "valid", "prefix"), ADAPTERS, ids=[a[0] for a in ADAPTERS]
)


@adapters
def test_http_404_fails_at_once_with_a_clear_reason(
    http: HTTPServer, kind: str, options: dict[str, Any], path: str, valid: Any, prefix: str
) -> None:
    http.expect_request(path).respond_with_data("no such board", status=404)
    with pytest.raises(SourceError) as err:
        fetch(make_config(kind, http, **options))
    hint = "not found" if kind == "remoteok" else ("site not found" if kind == "lever" else "board not found")
    assert str(err.value) == f"{prefix}HTTP 404 ({hint})"
    assert len(http.log) == 1  # a 404 is not retried


@adapters
def test_http_500_is_retried_then_fails(
    http: HTTPServer, kind: str, options: dict[str, Any], path: str, valid: Any, prefix: str
) -> None:
    http.expect_request(path).respond_with_data("boom", status=500)
    with pytest.raises(SourceError) as err:
        fetch(make_config(kind, http, **options))
    assert str(err.value) == f"{prefix}HTTP 500 after 3 attempts"
    assert len(http.log) == 3


@adapters
def test_http_429_then_success(
    http: HTTPServer, kind: str, options: dict[str, Any], path: str, valid: Any, prefix: str
) -> None:
    http.expect_oneshot_request(path).respond_with_data("slow down", status=429, headers={"Retry-After": "0"})
    http.expect_oneshot_request(path).respond_with_data("try later", status=503)
    http.expect_request(path).respond_with_json(valid)
    fetched = fetch(make_config(kind, http, **options))
    assert fetched.table.num_rows == 0 and fetched.partial is None
    assert [resp.status_code for _, resp in http.log] == [429, 503, 200]


def test_a_small_retry_after_is_honoured(http: HTTPServer) -> None:
    stamps: list[float] = []

    def limited_once(request: Request) -> Response:
        stamps.append(time.monotonic())
        if len(stamps) == 1:
            return Response("slow down", status=429, headers={"Retry-After": "1"})
        return Response('{"jobs": []}', content_type="application/json")

    http.expect_request(GH_PATH).respond_with_handler(limited_once)
    fetch(make_config("greenhouse", http, board="acme"))  # backoff_s is 0.01: the wait is Retry-After's
    assert len(stamps) == 2 and stamps[1] - stamps[0] >= 1.0


@adapters
def test_long_retry_after_is_not_waited_for(
    http: HTTPServer, kind: str, options: dict[str, Any], path: str, valid: Any, prefix: str
) -> None:
    http.expect_request(path).respond_with_data("", status=429, headers={"Retry-After": "3600"})
    with pytest.raises(SourceError) as err:
        fetch(make_config(kind, http, **options))
    assert str(err.value) == f"{prefix}HTTP 429 (rate limited), asked to retry after 3600 s"
    assert len(http.log) == 1


@adapters
def test_timeout(http: HTTPServer, kind: str, options: dict[str, Any], path: str, valid: Any, prefix: str) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.5)
        return Response(json.dumps(valid), content_type="application/json")

    http.expect_request(path).respond_with_handler(slow)
    with pytest.raises(SourceError) as err:
        fetch(make_config(kind, http, timeout_s=0.2, retries=1, **options))
    assert str(err.value) == f"{prefix}timed out after 0.2 s"


@adapters
def test_invalid_json(http: HTTPServer, kind: str, options: dict[str, Any], path: str, valid: Any, prefix: str) -> None:
    http.expect_request(path).respond_with_data("<html>Maintenance</html>", content_type="text/html")
    with pytest.raises(SourceError) as err:
        fetch(make_config(kind, http, **options))
    assert str(err.value).startswith(f"{prefix}invalid JSON: ")
    assert "<html>Maintenance" in str(err.value)


CHANGED_SHAPES = {
    "greenhouse": ({"postings": []}, "missing 'jobs' key"),
    "lever": ({"data": []}, "expected postings as a JSON array, got dict"),
    "ashby": ([], "expected a JSON object, got list"),
    "remoteok": ({"jobs": []}, "expected jobs as a JSON array, got dict"),
}


@adapters
def test_changed_shape(
    http: HTTPServer, kind: str, options: dict[str, Any], path: str, valid: Any, prefix: str
) -> None:
    payload, reason = CHANGED_SHAPES[kind]
    http.expect_request(path).respond_with_json(payload)
    with pytest.raises(SourceError) as err:
        fetch(make_config(kind, http, **options))
    assert str(err.value) == f"{prefix}unexpected response shape: {reason}"


@pytest.mark.parametrize("kind", ["greenhouse", "ashby"])
def test_missing_jobs_key(http: HTTPServer, kind: str) -> None:
    _, options, path, _, prefix = next(a for a in ADAPTERS if a[0] == kind)
    http.expect_request(path).respond_with_json({"meta": {"total": 0}})
    with pytest.raises(SourceError, match=r"unexpected response shape: missing 'jobs' key$"):
        fetch(make_config(kind, http, **options))


def test_a_job_that_is_not_an_object_is_a_shape_error(http: HTTPServer) -> None:
    http.expect_request(GH_PATH).respond_with_json({"jobs": [{"id": 1, "title": "ok"}, "oops"]})
    with pytest.raises(SourceError, match=r"^greenhouse board 'acme': unexpected response shape: jobs\[1\] is not"):
        fetch(make_config("greenhouse", http, board="acme"))


def test_connection_refused_is_retried_then_fails() -> None:
    config = make_config("remoteok", None, base_url=f"http://127.0.0.1:{free_port()}", retries=2)
    with pytest.raises(SourceError, match=r"^remoteok: connection failed: .*Connection refused \(2 attempts\)$"):
        fetch(config)


def test_an_empty_board_is_an_empty_table_with_the_raw_types(http: HTTPServer) -> None:
    http.expect_request(GH_PATH).respond_with_json({"jobs": [], "meta": {"total": 0}})
    config = make_config("greenhouse", http, board="acme")
    table = fetch(config).table
    assert table.num_rows == 0
    assert table.schema == pa.schema([pa.field(f.name, RAW_ARROW_TYPES[f.name]) for f in table.schema])


# --- Options ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [
        ("greenhouse", {}, "sources[0].board: required"),
        ("ashby", {"company": "Initech"}, "sources[0].board: required"),
        ("lever", {}, "sources[0].site: required"),
        ("greenhouse", {"board": ""}, "sources[0].board: expected a non-empty string"),
        ("lever", {"site": "globex/x"}, "sources[0].site: expected a bare token"),
        ("lever", {"site": "globex", "region": "mars"}, "sources[0].region: expected one of global, eu"),
        ("lever", {"site": "globex", "page_size": 0}, "sources[0].page_size: expected 1..1000"),
        ("greenhouse", {"bord": "acme", "board": "acme"}, "sources[0].bord: unknown option"),
        ("remoteok", {"retries": 0}, "sources[0].retries: expected a whole number of attempts >= 1"),
        ("remoteok", {"backoff_s": -1}, "sources[0].backoff_s: must be at least 0"),
        ("remoteok", {"delay_s": "fast"}, "sources[0].delay_s: expected a number"),
        ("ashby", {"board": "x", "base_url": "ftp://x"}, "sources[0].base_url: expected an http(s) URL"),
        ("greenhouse", {"board": "acme", "company": 3}, "sources[0].company: expected str"),
    ],
)
def test_validate_names_the_key(kind: str, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as err:
        source_class(kind).validate(options, WHERE)
    assert str(err.value).startswith(message)


def test_defaults_come_from_the_options_and_the_source_timeout() -> None:
    config = SourceConfig("gh", "greenhouse", timeout_s=120.0, options=MappingProxyType({"board": "acme"}))
    opts = http_options(config, "https://boards-api.greenhouse.io")
    assert opts.base_url == "https://boards-api.greenhouse.io"
    assert opts.timeout_s == 30.0 and opts.deadline_s == 120.0  # one request never waits past 30 s
    assert (opts.retries, opts.backoff_s, opts.delay_s) == (3, 1.0, 0.5)
