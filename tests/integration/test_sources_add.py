"""`sources add URL` against a 127.0.0.1 server: a company page that embeds a Greenhouse board, the board API,
a board that 404s. jobdash.toml keeps the user's bytes, loads, and is untouched whenever anything fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from core import config_edit
from core.errors import ConfigError, SourceError
from core.settings import ROOT, load_settings
from core.sources.detect import DetectError

FIXTURES = ROOT / "tests" / "fixtures" / "api"
BOARD = json.loads((FIXTURES / "greenhouse_acme_v1.json").read_text(encoding="utf-8"))

USER_TOML = """\
# My job search — hand-written, keep my comments!
[schedule]
interval_minutes = 30   # twice an hour

# the boards I care about
[[sources]]
name = "initech"        # inline comment stays
kind = "ashby"
board = "initech"
enabled = false

# a comment between sources (it sits above globex)
[[sources]]
name = "globex"
kind = "lever"
site = "globex"

# trailing notes at the end of the file
"""


def company_page(board: str) -> str:
    return f"""<!doctype html><html><head><title>Careers at Acme</title></head><body>
<h1>Join us</h1><div id="grnhse_app"></div>
<script src="https://boards.greenhouse.io/embed/job_board/js?for={board}"></script>
</body></html>"""


@pytest.fixture
def site(httpserver: HTTPServer) -> HTTPServer:
    httpserver.expect_request("/careers").respond_with_data(company_page("acme"), content_type="text/html")
    httpserver.expect_request("/gone-careers").respond_with_data(company_page("gone"), content_type="text/html")
    httpserver.expect_request("/plain").respond_with_data("<html>no board here</html>", content_type="text/html")
    httpserver.expect_request("/v1/boards/acme/jobs").respond_with_json(BOARD)
    httpserver.expect_request("/v1/boards/gone/jobs").respond_with_data("not found", status=404)
    return httpserver


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "jobdash.toml"
    path.write_text(USER_TOML, encoding="utf-8")
    monkeypatch.setenv("JOBDASH_CONFIG", str(path))
    monkeypatch.setenv("JOBDASH_DATA_DIR", str(tmp_path / "data"))
    return path


def test_a_company_page_that_embeds_a_board_is_detected_test_fetched_and_added(site: HTTPServer, cfg: Path) -> None:
    checked = config_edit.check_url(site.url_for("/careers"), base_url=site.url_for("/"))
    assert (checked.found.kind, dict(checked.found.options), checked.found.found_in_page) == (
        "greenhouse",
        {"board": "acme"},
        True,
    )
    assert checked.fetch is not None and checked.fetch.jobs == len(BOARD["jobs"])
    assert cfg.read_text(encoding="utf-8") == USER_TOML  # checking writes nothing

    name = config_edit.add_checked(checked)
    assert name == "acme"
    text = cfg.read_text(encoding="utf-8")
    assert text.startswith(USER_TOML)  # every byte the user wrote, in place; the new table is appended
    added = text[len(USER_TOML) :]
    assert "[[sources]]\n" in added and 'name = "acme"\nkind = "greenhouse"\nboard = "acme"\n' in added
    assert f'base_url = "{site.url_for("/").rstrip("/")}"' in added
    settings = load_settings()
    assert [s.name for s in settings.sources] == ["initech", "globex", "acme"]
    assert settings.source("acme").options["board"] == "acme"
    assert settings.interval_minutes == 30

    # The same board again (from another URL shape) is refused, and so is a taken name.
    with pytest.raises(ConfigError, match="already configured: source 'acme'"):
        config_edit.check_url("https://boards.greenhouse.io/ACME/jobs/1", test=False)
    with pytest.raises(ConfigError, match="already exists"):
        config_edit.check_url("https://jobs.ashbyhq.com/other", name="globex", test=False)
    assert cfg.read_text(encoding="utf-8") == text


def test_a_board_that_404s_is_a_clear_error_and_nothing_is_written(site: HTTPServer, cfg: Path) -> None:
    with pytest.raises(SourceError, match=r"greenhouse board 'gone': HTTP 404 \(board not found\)"):
        config_edit.check_url(site.url_for("/gone-careers"), base_url=site.url_for("/"))
    assert cfg.read_bytes() == USER_TOML.encode()


def test_a_page_without_a_board_and_a_failing_page_are_clear_errors(site: HTTPServer, cfg: Path) -> None:
    with pytest.raises(DetectError, match="no supported job board found"):
        config_edit.check_url(site.url_for("/plain"))
    with pytest.raises(DetectError, match="HTTP 500|answered HTTP"):
        config_edit.check_url(site.url_for("/missing"))  # pytest-httpserver answers 500 to unexpected paths
    assert cfg.read_bytes() == USER_TOML.encode()


def test_the_page_is_read_within_the_byte_budget(httpserver: HTTPServer) -> None:
    from core.sources.detect import fetch_page

    big = "<html>" + "x" * 300_000 + '<a href="https://jobs.lever.co/late">jobs</a></html>'
    httpserver.expect_request("/big").respond_with_data(big, content_type="text/html")
    page = fetch_page(httpserver.url_for("/big"), max_bytes=100_000)
    assert page.truncated and len(page.text) == 100_000
    assert "jobs.lever.co" not in page.text


def test_an_invalid_result_leaves_the_file_untouched(cfg: Path) -> None:
    with pytest.raises(ConfigError, match="invalid configuration.*bogus: unknown option"):
        config_edit.add_source("greenhouse", {"board": "x", "bogus": 1}, token="x", path=cfg)
    assert cfg.read_bytes() == USER_TOML.encode()
    assert [p.name for p in cfg.parent.iterdir() if p.name.endswith(".tmp")] == []  # no temp file left behind


def test_enable_disable_remove_keep_every_comment(cfg: Path) -> None:
    assert config_edit.set_enabled("initech", True, path=cfg)
    text = cfg.read_text(encoding="utf-8")
    assert text == USER_TOML.replace("enabled = false", "enabled = true")
    assert not config_edit.set_enabled("initech", True, path=cfg)  # already on: not rewritten

    assert config_edit.set_enabled("globex", False, path=cfg)
    text = cfg.read_text(encoding="utf-8")
    assert 'site = "globex"\nenabled = false\n\n# trailing notes at the end of the file\n' in text
    assert not load_settings().source("globex").enabled

    config_edit.remove_source("initech", path=cfg)
    text = cfg.read_text(encoding="utf-8")
    assert "initech" not in text
    for kept in ("# My job search", "# twice an hour", "# the boards I care about", "# a comment between sources",
                 "# trailing notes at the end of the file"):  # fmt: skip
        assert kept in text
    assert text.index("# a comment between sources") < text.index('name = "globex"')
    assert [s.name for s in load_settings().sources] == ["globex"]

    with pytest.raises(ConfigError, match="no source named 'initech'"):
        config_edit.remove_source("initech", path=cfg)
    config_edit.remove_source("globex", path=cfg)
    text = cfg.read_text(encoding="utf-8")
    assert "[[sources]]" not in text and "# trailing notes at the end of the file" in text
    assert load_settings().demo_default


# --- the command line, as a real subprocess -------------------------------------------------------------


def cli(tmp_path: Path, cfg: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "JOBDASH_DATA_DIR": str(tmp_path / "data"), "JOBDASH_CONFIG": str(cfg)}
    return subprocess.run(
        [sys.executable, "-m", "core", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_cli_add_disable_enable_remove(site: HTTPServer, tmp_path: Path) -> None:
    cfg = tmp_path / "fresh" / "jobdash.toml"  # a fresh install: no file yet
    cfg.parent.mkdir()
    base = site.url_for("/").rstrip("/")
    r = cli(tmp_path, cfg, "sources", "add", site.url_for("/careers"), "--base-url", base, "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert (doc["name"], doc["kind"], doc["jobs"], doc["found_in_page"]) == (
        "acme",
        "greenhouse",
        len(BOARD["jobs"]),
        True,
    )
    created = cfg.read_text(encoding="utf-8")
    assert created.startswith("# jobdash configuration")  # the comment header of a new file
    assert load_settings({"JOBDASH_CONFIG": str(cfg)}).source("acme").kind == "greenhouse"

    r = cli(tmp_path, cfg, "sources", "add", "https://jobs.lever.co/globex/abc/apply", "--no-test", "--name", "globex")
    assert r.returncode == 0, r.stderr
    assert "detected: lever (site='globex')" in r.stdout and "added source 'globex'" in r.stdout

    r = cli(tmp_path, cfg, "sources", "disable", "acme")
    assert r.returncode == 0 and "disabled" in r.stdout
    listed = json.loads(cli(tmp_path, cfg, "sources", "--json").stdout)
    assert [(s["name"], s["enabled"]) for s in listed] == [("acme", False), ("globex", True)]
    assert cli(tmp_path, cfg, "sources", "enable", "acme").returncode == 0
    assert load_settings({"JOBDASH_CONFIG": str(cfg)}).source("acme").enabled

    r = cli(tmp_path, cfg, "sources", "remove", "globex")
    assert r.returncode == 0, r.stderr
    assert [s.name for s in load_settings({"JOBDASH_CONFIG": str(cfg)}).sources] == ["acme"]
    plain = cli(tmp_path, cfg, "sources")
    assert plain.returncode == 0 and plain.stdout.startswith("acme ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("sources", "add", "ftp://boards.greenhouse.io/acme"), "only http(s) URLs are accepted"),
        (("sources", "add", "javascript:alert(1)"), "only http(s) URLs are accepted"),
        (("sources", "add", "not a url"), "not a URL"),
        (("sources", "add", "/gone-careers"), "HTTP 404 (board not found)"),
        (("sources", "add", "/plain"), "no supported job board found"),
        (("sources", "add", "https://jobs.ashbyhq.com/initech", "--no-test"), "already configured"),
        (("sources", "remove", "nope"), "no source named 'nope'"),
        (("sources", "enable", "nope"), "no source named 'nope'"),
    ],
)
def test_cli_failures_exit_2_with_one_line_and_leave_the_file_untouched(
    site: HTTPServer, cfg: Path, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    args = tuple(site.url_for(a) if a.startswith("/") else a for a in args)
    r = cli(tmp_path, cfg, *args, "--base-url", site.url_for("/")) if "add" in args else cli(tmp_path, cfg, *args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert message in r.stderr and "Traceback" not in r.stderr
    assert cfg.read_bytes() == USER_TOML.encode()
