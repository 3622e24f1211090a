"""ui.warm: the catalog a page run gets is the one loaded while the server started; components skip gzip."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core import snapshots
from core.settings import load_settings
from tests.app.conftest import APP, AppEnv
from ui import cache, warm

pytestmark = pytest.mark.xdist_group("app")


def test_warm_loads_the_catalog_the_first_page_run_uses(demo_env: AppEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(warm, "RUNTIME_WAIT_S", 0.0)  # no server here: do not wait for its runtime
    settings = load_settings()
    warm.warm()
    loaded = cache.catalog(settings)
    snap = snapshots.current(settings.snapshots_dir)
    assert snap is not None and loaded.version == snap.version, "loaded during the warm-up, not on first use"
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert cache.catalog(settings) is loaded, "the page run reuses the warmed catalog"
    assert any("jobs match" in m.value for m in at.markdown)


def test_components_are_served_uncompressed_and_the_rest_as_before() -> None:
    from streamlit.web.server.starlette import starlette_gzip_middleware as gz

    warm.serve_components_uncompressed()
    warm.serve_components_uncompressed()  # idempotent: one wrapper, not a chain
    bypass = gz._should_bypass_gzip
    assert bypass("/component/st_aggrid.AgGrid.agGrid/static/js/main.js")
    assert bypass("/app/component/x/index.html", "app")
    assert bypass("/static/js/index.js"), "Streamlit's own bypass is kept"
    assert not bypass("/_stcore/host-config") and not bypass("/components-elsewhere/x")
