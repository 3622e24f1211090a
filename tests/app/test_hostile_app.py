"""Hostile posting text on the pages: the detail panel and the charts show it as literal text, never as
Markdown (links, images as beacons, colors, math) or HTML."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from core.settings import load_settings
from core.sync import run_sync
from tests.app.conftest import APP, TIMEOUT
from tests.conftest import job, static
from ui import keys

pytestmark = pytest.mark.xdist_group("app")

TITLE = "![](http://evil.example/beacon.png) [win](http://evil.example/x) :red[alert] $x^2$ <b>bold</b>"
COMPANY = "<a href='http://evil.example/c'>Evil</a> http://evil.example/co"


@pytest.fixture
def hostile_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    (tmp_path / "jobdash.toml").write_text('[[sources]]\nkind = "demo"\nname = "demo"\nenabled = false\n')
    monkeypatch.setenv("JOBDASH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("JOBDASH_CONFIG", str(tmp_path / "jobdash.toml"))
    rows = [job("evil", title=TITLE, company=COMPANY, department="[dept](http://evil.example/d)")]
    result = run_sync(load_settings(), now=datetime(2026, 11, 20), sources=[static("evil", rows)])
    assert result.status == "ok"
    from core.catalog import Catalog
    from core.query import JobFilter

    (row,) = Catalog(load_settings()).rows(JobFilter(), limit=None)
    yield str(row["job_id"])
    st.cache_data.clear()
    st.cache_resource.clear()


def _rendered_markup(at: AppTest) -> list[str]:
    """Every element whose text Streamlit renders as Markdown."""
    kinds = (at.markdown, at.caption, at.title, at.header, at.subheader, at.info, at.warning, at.success)
    return [str(e.value) for kind in kinds for e in kind]


def test_detail_panel_shows_posting_text_as_plain_text(hostile_env: str) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state[keys.GRID_SELECTED] = [hostile_env]
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    texts = [str(t.value) for t in at.text]
    assert TITLE in texts  # the title is shown, literally
    assert any(COMPANY in t for t in texts)
    assert not [m for m in _rendered_markup(at) if "evil.example" in m]
    assert not [b for b in at.link_button if "evil.example" in str(b.proto.url)]  # the posting's own URL is https


def test_chart_labels_are_escaped(hostile_env: str) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page("pages/analytics.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    specs = [json.dumps(json.loads(c.proto.spec), ensure_ascii=False) for c in at.get("plotly_chart")]
    assert specs, "no charts on the Analytics page"
    labels = "".join(specs)  # decoded: a "\u003c" escape in the JSON would hide a live tag from a text search
    assert "&lt;a href=" in labels and "<a href=" not in labels
