"""Hostile sources through a real sync: a gzip bomb, a 200 MB body, slowloris, an off-host redirect,
a non-UTF-8 body, 100k-deep JSON — each served by a real 127.0.0.1 server. And hostile description
queries (300 "(") through the search API and the CLI.

Every hostile fetch follows one healthy sync, so the source has jobs in the catalog: the hostile run
must fail the source with a clear reason and delist nothing of it.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from types import MappingProxyType
from typing import Any

import psutil
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from core.runs import SourceOutcome
from core.search import DescriptionIndex, to_fts
from core.settings import ROOT, Settings
from core.sources import build
from core.sources.base import SourceConfig
from core.sync import PeakRss, SyncResult, run_sync
from tests.conftest import job, static, with_sources

PATH = "/v1/boards/acme/jobs"
HEALTHY = {
    "jobs": [
        {
            "id": i,
            "title": f"Data Engineer {i}",
            "absolute_url": f"https://boards.greenhouse.io/acme/jobs/{i}",
            "location": {"name": "Berlin, Germany"},
            "content": "Build pipelines.",
            "updated_at": "2026-03-01T00:00:00Z",
        }
        for i in (1, 2)
    ]
}
MB = 2**20
DEFAULT_BUDGET = 50 * MB


def config(base_url: str, timeout_s: float = 10.0, **options: Any) -> SourceConfig:
    opts = {"board": "acme", "base_url": base_url, "delay_s": 0, "backoff_s": 0.01, "retries": 1, **options}
    return SourceConfig("acme", "greenhouse", timeout_s=timeout_s, options=MappingProxyType(opts))


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    srv = HTTPServer(host="127.0.0.1", port=0)
    srv.start()
    yield srv
    srv.clear()
    srv.stop()


def base(server: HTTPServer) -> str:
    return server.url_for("").rstrip("/")


def sync(settings: Settings, cfg: SourceConfig) -> SyncResult:
    """A real sync of the source beside a steady one, so a run whose hostile source fails still publishes
    and counts what happened to the hostile source's jobs."""
    return run_sync(with_sources(settings, cfg), sources=[build(cfg), static("steady", [job("s1")])])


def outcome(result: SyncResult, name: str = "acme") -> SourceOutcome:
    return next(s for s in result.sources if s.name == name)


def sync_healthy(settings: Settings, server: HTTPServer) -> None:
    """A first sync that lists two jobs of the source; the server is cleared for the hostile answer."""
    server.expect_request(PATH).respond_with_json(HEALTHY)
    first = sync(settings, config(base(server)))
    assert first.status == "ok" and first.counts["new"] == 3, first.as_dict()
    server.clear()


def assert_failed_nothing_delisted(result: SyncResult, *reason: str) -> str:
    src = outcome(result)
    assert src.status == "failed", result.as_dict()
    assert src.error is not None
    for part in reason:
        assert part in src.error, src.error
    assert result.counts["delisted"] == 0 and result.counts["untouched"] == 2, result.counts
    return src.error


# --- size budgets -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """~3 MB of gzip that inflates to 3 GiB of zeros: identical full-flushed deflate blocks, a valid trailer."""
    block = b"\0" * MB
    c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    first = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)  # gzip header + block
    again = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)  # history reset: every later block is the same
    n = 3072
    crc = 0
    for _ in range(n):
        crc = zlib.crc32(block, crc)
    bomb = first + again * (n - 1) + b"\x03\x00" + struct.pack("<II", crc, (n * MB) & 0xFFFFFFFF)
    assert zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(bomb[:100_000], 10 * MB) == b"\0" * (10 * MB)
    return bomb


def test_gzip_bomb_stops_at_the_byte_budget(settings: Settings, server: HTTPServer, gzip_bomb: bytes) -> None:
    sync_healthy(settings, server)
    server.expect_request(PATH).respond_with_data(
        gzip_bomb, headers={"Content-Encoding": "gzip"}, content_type="application/json"
    )
    rss_before = psutil.Process().memory_info().rss
    t = time.perf_counter()
    with PeakRss(0.02) as rss:
        result = sync(settings, config(base(server)))
    took = time.perf_counter() - t
    error = assert_failed_nothing_delisted(result, f"exceeds {DEFAULT_BUDGET:,} bytes (max_bytes)", "gzip")
    assert "MemoryError" not in error
    grown_mb = (rss.peak - rss_before) / MB
    assert grown_mb < 200, f"RSS grew {grown_mb:.0f} MB during the sync"
    assert took < 30, f"{took:.1f} s"
    print(f"gzip bomb of {len(gzip_bomb):,} bytes: failed in {took:.2f} s, peak RSS +{grown_mb:.0f} MB")


def test_a_smaller_max_bytes_is_honoured_and_validated(settings: Settings, server: HTTPServer) -> None:
    from core.errors import ConfigError
    from core.sources import validate_options

    big = json.dumps({"jobs": HEALTHY["jobs"] * 1000}).encode()  # ~200 KB, announced by Content-Length
    sync_healthy(settings, server)
    server.expect_request(PATH).respond_with_data(big, content_type="application/json")
    result = sync(settings, config(base(server), max_bytes=100_000))
    assert_failed_nothing_delisted(result, f"response of {len(big):,} bytes exceeds 100,000 bytes (max_bytes)")
    for bad in (0, -1, "50MB", 1.5, True):
        with pytest.raises(ConfigError, match="max_bytes"):
            validate_options("greenhouse", {"board": "acme", "max_bytes": bad}, "sources[0].")


def test_a_200_mb_streamed_body_fails_at_the_budget_quickly(settings: Settings, server: HTTPServer) -> None:
    sent = [0]

    def endless(request: Request) -> Response:
        def body() -> Iterator[bytes]:
            yield b'{"jobs": ['
            for _ in range(200):
                sent[0] += MB
                yield b" " * MB

        return Response(body(), content_type="application/json")  # no Content-Length: only reading tells

    sync_healthy(settings, server)
    server.expect_request(PATH).respond_with_handler(endless)
    t = time.perf_counter()
    result = sync(settings, config(base(server), timeout_s=60))
    took = time.perf_counter() - t
    assert_failed_nothing_delisted(result, f"exceeds {DEFAULT_BUDGET:,} bytes (max_bytes)", "stopped reading")
    assert took < 20, f"{took:.1f} s"


# --- time: slowloris ------------------------------------------------------------------------------------

SLOW_SERVER = r"""
import socket, socketserver, sys, time
mode = sys.argv[1]
class Slow(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.recv(65536)
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n"
        try:
            if mode == "headers":
                for b in head:  # one byte a second, the status line never completes in time
                    self.request.sendall(bytes([b])); time.sleep(1)
            self.request.sendall(head + b'{"jobs": [')
            while True:
                self.request.sendall(b" "); time.sleep(1)
        except OSError:
            pass
class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
srv = Server(("127.0.0.1", 0), Slow)
print(srv.server_address[1], flush=True)
srv.serve_forever()
"""


@pytest.fixture
def slow_server(request: pytest.FixtureRequest) -> Iterator[int]:
    """A server in another process (its threads do not count here) that trickles one byte a second."""
    proc = subprocess.Popen([sys.executable, "-c", SLOW_SERVER, request.param], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    yield port
    proc.kill()
    proc.wait(10)


def _connections_to(port: int) -> list[Any]:
    return [c for c in psutil.Process().net_connections("tcp") if c.raddr and c.raddr.port == port]


@pytest.mark.parametrize("slow_server", ["body", "headers"], indirect=True)
def test_slowloris_is_cut_off_at_the_deadline_and_its_thread_ends(
    settings: Settings, server: HTTPServer, slow_server: int
) -> None:
    server.expect_request(PATH).respond_with_json(HEALTHY)
    sync(settings, config(base(server)))
    threads_before = threading.active_count()
    t = time.perf_counter()
    result = sync(settings, config(f"http://127.0.0.1:{slow_server}", timeout_s=2.0))
    took = time.perf_counter() - t
    assert_failed_nothing_delisted(result, "timed out after 2 s")
    assert took < 2.0 + 3.0, f"the sync took {took:.1f} s"
    # The fetch thread and its socket are gone within ~2 s: nothing left running against the server.
    give_up = time.monotonic() + 2.0
    while (threading.active_count() > threads_before or _connections_to(slow_server)) and time.monotonic() < give_up:
        time.sleep(0.05)
    leftover = [t.name for t in threading.enumerate()]
    assert threading.active_count() <= threads_before, f"leaked threads: {leftover}"
    assert not _connections_to(slow_server), "the socket to the slow server is still open"


@pytest.mark.parametrize("slow_server", ["body", "headers"], indirect=True)
def test_a_careers_page_that_drips_is_cut_off_at_its_deadline(slow_server: int) -> None:
    """`sources add URL` reads the company's page: one deadline for the whole page, not one per read."""
    from core.sources.detect import DetectError, fetch_page

    t = time.perf_counter()
    with pytest.raises(DetectError, match="did not arrive within 2 s"):
        fetch_page(f"http://127.0.0.1:{slow_server}/careers", timeout_s=2.0)
    took = time.perf_counter() - t
    assert took < 2.0 + 1.5, f"took {took:.1f} s"
    give_up = time.monotonic() + 2.0
    while _connections_to(slow_server) and time.monotonic() < give_up:
        time.sleep(0.05)
    assert not _connections_to(slow_server), "the socket to the slow server is still open"


def test_timeout_s_is_one_deadline_across_pages(settings: Settings, server: HTTPServer) -> None:
    """Lever pages: every page answers in 0.4 s, but 2 s is the budget of the whole fetch, not of a request."""

    def slow_page(request: Request) -> Response:
        time.sleep(0.4)
        skip = int(request.args.get("skip", "0"))
        postings = [
            {"id": f"p{skip + i}", "text": "Engineer", "hostedUrl": f"https://x.example/{skip + i}"} for i in range(2)
        ]
        return Response(json.dumps(postings), content_type="application/json")

    server.expect_request("/v0/postings/acme").respond_with_handler(slow_page)
    opts = {"site": "acme", "base_url": base(server), "delay_s": 0, "retries": 1, "page_size": 2}
    cfg = SourceConfig("acme-lever", "lever", timeout_s=2.0, options=MappingProxyType(opts))
    t = time.perf_counter()
    result = sync(settings, cfg)
    took = time.perf_counter() - t
    src = outcome(result, cfg.name)
    assert src.status == "partial", result.as_dict()  # what came before the deadline is kept, nothing delisted
    assert src.error is not None and "timed out after 2 s" in src.error
    assert 2 <= src.fetched <= 12
    assert took < 5, f"{took:.1f} s"


# --- redirects, encodings, nesting ----------------------------------------------------------------------


def test_a_redirect_to_another_host_is_refused(settings: Settings, server: HTTPServer) -> None:
    other = HTTPServer(host="localhost", port=0)  # localhost on another port: another host
    other.start()
    try:
        other.expect_request(PATH).respond_with_json({"jobs": []})  # would delist both jobs if followed
        server.expect_request(PATH).respond_with_json(HEALTHY)
        sync(settings, config(base(server)))
        server.clear()
        server.expect_request(PATH).respond_with_data(
            "", status=302, headers={"Location": f"http://localhost:{other.port}{PATH}"}
        )
        result = sync(settings, config(base(server)))
        assert_failed_nothing_delisted(
            result, f"redirected to another host (127.0.0.1:{server.port} → localhost:{other.port}); refused"
        )
        assert other.log == [], "the other host was never asked"
    finally:
        other.clear()
        other.stop()


def test_a_redirect_on_the_same_host_is_followed(settings: Settings, server: HTTPServer) -> None:
    server.expect_request(PATH).respond_with_data("", status=301, headers={"Location": "/v2/jobs?page=1"})
    server.expect_request("/v2/jobs").respond_with_json(HEALTHY)
    result = sync(settings, config(base(server)))
    assert outcome(result).status == "ok" and result.counts["new"] == 3, result.as_dict()


def test_a_non_utf8_body_is_repaired_and_said(settings: Settings, server: HTTPServer) -> None:
    payload = json.dumps(HEALTHY).replace("Data Engineer 1", "Caf\u00e9 Engineer 1")
    body = payload.encode("utf-8").replace("é".encode(), b"\xe9")  # Latin-1 é, sent as if UTF-8
    server.expect_request(PATH).respond_with_data(body, content_type="application/json")
    result = sync(settings, config(base(server)))
    src = outcome(result)
    assert src.status == "ok" and result.counts["new"] == 3, result.as_dict()
    assert any(
        "1 byte of the response from /v1/boards/acme/jobs was not utf-8 and was replaced" in w for w in src.warnings
    ), src.warnings


def test_100k_deep_json_is_a_clear_failure(settings: Settings, server: HTTPServer) -> None:
    sync_healthy(settings, server)
    server.expect_request(PATH).respond_with_data(b"[" * 100_000 + b"]" * 100_000, content_type="application/json")
    t = time.perf_counter()
    result = sync(settings, config(base(server)))
    assert time.perf_counter() - t < 10
    error = assert_failed_nothing_delisted(result, "greenhouse board 'acme': invalid JSON: nested too deeply to read")
    assert "RecursionError" not in error


# --- hostile description queries --------------------------------------------------------------------------

DEEP = "(" * 300 + "pipelines"


def test_a_deeply_nested_query_never_raises() -> None:
    assert to_fts(DEEP) == '"pipelines"'  # read literally
    assert to_fts("(" * 300) == ""
    assert to_fts(")" * 300 + "(" * 5000 + " OR " * 200) == ""  # cut at MAX_QUERY_CHARS, no words
    assert to_fts("((a OR b) AND -(c))") == '(("a" OR "b")) NOT "c"'  # shallow nesting still parses


def test_a_deeply_nested_query_through_the_search_api_and_the_cli(settings: Settings) -> None:
    run_sync(settings, sources=[static("s1", [job("a1"), job("a2", title="Cook", description="Soups only")])])
    with DescriptionIndex(settings.search_path) as index:
        assert [j for j, _ in index.match(DEEP)] and len(index.match_ids(DEEP)) == 1
        assert index.match("(" * 300) == []
    env = {**os.environ, "JOBDASH_DATA_DIR": str(settings.data_dir)}
    cli = subprocess.run(
        [sys.executable, "-m", "core", "jobs", "list", "--desc", DEEP],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    assert "Traceback" not in cli.stderr and "RecursionError" not in cli.stdout + cli.stderr
    assert "Data Engineer" in cli.stdout and "Cook" not in cli.stdout
    empty = subprocess.run(
        [sys.executable, "-m", "core", "jobs", "list", "--desc", "(" * 300],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert empty.returncode in (0, 1) and "Traceback" not in empty.stderr, empty.stderr
