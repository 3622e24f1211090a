"""Every page runs without exception, empty or on a 20k catalog; the grid gets a window, never the catalog."""

from __future__ import annotations

import pytest

from tests.app.conftest import AppEnv, grid_payload, match_count
from ui import keys
from ui.sidebar import DEMO_LABEL

pytestmark = pytest.mark.xdist_group("app")
PAGES = ("pages/jobs.py", "pages/analytics.py", "pages/sync.py")


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_on_an_empty_data_folder(empty_env: AppEnv, page: str) -> None:
    at = empty_env.app()
    assert any("No catalog yet" in w.value for w in at.sidebar.warning)
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("No catalog yet" in w.value for w in at.sidebar.warning)  # the page ran inside app.py
    if page == "pages/jobs.py":
        assert grid_payload(at).rows.num_rows == 0
        assert match_count(at) == 0
    if page == "pages/analytics.py":
        assert any("No catalog yet" in i.value for i in at.info)


@pytest.mark.parametrize("page", PAGES)
def test_page_runs_on_a_20k_catalog(demo_env: AppEnv, page: str) -> None:
    at = demo_env.app(page)
    assert not at.exception
    if page == "pages/jobs.py":
        payload = grid_payload(at)
        assert payload.rows.num_rows == 100  # a window, not 20k rows
        assert 0 < match_count(at) <= 20_000
        assert all(isinstance(v, str) for v in payload.column("posted_at") if v is not None)  # formatted text
    if page == "pages/analytics.py":
        assert len(at.get("plotly_chart")) >= 5
    if page == "pages/sync.py":
        assert at.button(key=keys.SYNC_NOW)


def test_first_start_builds_the_labeled_demo_catalog(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import APP, _clear_caches

    (tmp_path / "jobdash.toml").write_text("", encoding="utf-8")  # no sources: the embedded demo default
    monkeypatch.setenv("JOBDASH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("JOBDASH_CONFIG", str(tmp_path / "jobdash.toml"))
    try:
        at = AppTest.from_file(APP, default_timeout=120)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert any(DEMO_LABEL in i.value for i in at.sidebar.info)
        assert grid_payload(at).rows.num_rows == 100
    finally:
        _clear_caches()


def test_every_filter_widget_is_found_by_key(demo_env: AppEnv) -> None:
    at = demo_env.app()
    sb = at.sidebar
    kinds = (sb.text_input, sb.date_input, sb.number_input, sb.selectbox, sb.multiselect, sb.checkbox)
    found = {w.key for kind in kinds for w in kind}
    assert set(keys.FILTER_KEYS) <= found, set(keys.FILTER_KEYS) - found


def test_long_lived_objects_are_frozen_after_the_first_run(demo_env: AppEnv) -> None:
    import gc

    demo_env.app()
    assert gc.get_freeze_count() > 0  # Streamlit's full collection after each run no longer walks them
