"""The Sync page's "Add a company" form and per-source buttons, with the board on a 127.0.0.1 server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from streamlit.testing.v1 import AppTest

from core.settings import ROOT, load_settings
from tests.app.conftest import APP, _clear_caches
from ui import keys

pytestmark = pytest.mark.xdist_group("app")
BOARD = json.loads((ROOT / "tests" / "fixtures" / "api" / "greenhouse_acme_v1.json").read_text(encoding="utf-8"))
USER_TOML = (
    '# my sources\n[[sources]]\nname = "initech"  # keep me\nkind = "ashby"\nboard = "initech"\nenabled = false\n'
)


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "jobdash.toml"
    path.write_text(USER_TOML, encoding="utf-8")
    monkeypatch.setenv("JOBDASH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("JOBDASH_CONFIG", str(path))
    yield path
    _clear_caches()


def _sync_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("pages/sync.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def test_add_a_company_from_its_careers_page(cfg: Path, httpserver: HTTPServer) -> None:
    page = '<html><script src="https://boards.greenhouse.io/embed/job_board/js?for=acme"></script></html>'
    httpserver.expect_request("/careers").respond_with_data(page, content_type="text/html")
    httpserver.expect_request("/v1/boards/acme/jobs").respond_with_json(BOARD)
    at = _sync_page()
    at.text_input(key=keys.SRC_URL).input(httpserver.url_for("/careers"))
    at.text_input(key=keys.SRC_BASE_URL).input(httpserver.url_for("/"))
    at.button(key=keys.SRC_CHECK).click()
    at.run()
    assert not at.exception
    texts = _texts(at)
    assert any(t.startswith("Detected: greenhouse (board='acme')") for t in texts), texts
    assert f"Test fetch: {len(BOARD['jobs'])} jobs listed" in " ".join(texts)
    assert cfg.read_text(encoding="utf-8") == USER_TOML  # nothing written before "Add"

    at.button(key=keys.SRC_ADD).click()
    at.run()
    assert not at.exception
    assert any("added source 'acme'" in t for t in _texts(at))
    assert cfg.read_text(encoding="utf-8").startswith(USER_TOML)
    assert [s.name for s in load_settings().sources] == ["initech", "acme"]
    # The new source has its own row of buttons now.
    assert at.button(key=keys.source_key(keys.SRC_TOGGLE, "acme")).label == "Disable"


def test_a_bad_url_shows_the_reason_as_plain_text_and_writes_nothing(cfg: Path) -> None:
    at = _sync_page()
    at.text_input(key=keys.SRC_URL).input("javascript:alert('**x**')")
    at.button(key=keys.SRC_CHECK).click()
    at.run()
    assert not at.exception
    assert at.error and "Not changed" in at.error[0].value
    assert any("only http(s) URLs are accepted" in t and "**x**" in t for t in _texts(at))  # shown as is
    assert cfg.read_bytes() == USER_TOML.encode()


def test_enable_and_remove_a_source_from_the_page(cfg: Path) -> None:
    at = _sync_page()
    toggle = at.button(key=keys.source_key(keys.SRC_TOGGLE, "initech"))
    assert toggle.label == "Enable"
    toggle.click()
    at.run()
    assert load_settings().source("initech").enabled
    assert cfg.read_text(encoding="utf-8") == USER_TOML.replace("enabled = false", "enabled = true")
    assert at.button(key=keys.source_key(keys.SRC_TOGGLE, "initech")).label == "Disable"

    at.button(key=keys.source_key(keys.SRC_REMOVE, "initech")).click()
    at.run()
    assert "initech" in cfg.read_text(encoding="utf-8")  # the first click only asks
    at.button(key=keys.source_key(keys.SRC_REMOVE_CONFIRM, "initech")).click()
    at.run()
    assert not at.exception
    assert "initech" not in cfg.read_text(encoding="utf-8")
    assert "# my sources" in cfg.read_text(encoding="utf-8")
    assert load_settings().demo_default
