"""Start the dashboard warm: `python -m ui.warm [streamlit run options]` is `streamlit run app.py` plus a
background thread that, while the server starts, imports the page modules and loads the catalog with its
first page (``Catalog.refresh`` precomputes the default view's page), and with components' files served
uncompressed (``serve_components_uncompressed``).

Without it the first visitor's script run paid for both: 2.4 s of its 8.5 s to first rows, measured on a
fresh 5k demo folder (docs/bench_new_user.md). The catalog lands in the same process-wide
``st.cache_resource`` entry the pages use (``ui.cache.catalog``), so the first session finds it loaded; a
session that arrives before the load finishes waits on the catalog's load lock as it would have anyway.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("jobdash.ui")
RUNTIME_WAIT_S = 30.0


def warm() -> None:
    from streamlit.runtime import Runtime

    # Streamlit warns once per st.* call made outside a script run; this thread makes a few on purpose.
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)
    deadline = time.monotonic() + RUNTIME_WAIT_S  # st.cache_resource needs the server's runtime
    while not Runtime.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        # What the first page run imports, less ui.grid: a component (st_aggrid) registers only when it is
        # declared inside a script run, so importing it here would leave the grid unserved. pandas is most of
        # st_aggrid's import (750 of 925 ms measured with -X importtime); with it here the run pays ~80 ms.
        import pandas  # noqa: F401

        from core.settings import load_settings
        from ui import cache, charts, detail, filters, live, sidebar  # noqa: F401

        cache.catalog(load_settings()).refresh(wait=True)
    except Exception as e:  # warming is an optimization: the first session loads whatever failed here
        log.warning("warm-up skipped: %s", e)


def serve_components_uncompressed() -> None:
    """Streamlit serves its own /static bundles without gzip — compressing at the origin on every request costs
    more CPU than it saves on a local connection — but still gzips components' files. The grid's 4.7 MB bundle
    was compressed anew for every new browser: 270–370 ms per request against 21–42 ms uncompressed (curl on
    127.0.0.1, load average 6). The same bypass for /component/, upstream-style; if the internals move, the
    stock behaviour stays."""
    try:
        from streamlit.web.server.starlette import starlette_gzip_middleware as gz
    except ImportError:  # pragma: no cover - another server implementation
        return
    stock = getattr(gz, "_should_bypass_gzip", None)
    if stock is None or getattr(stock, "jobdash", False):
        return

    def bypass(path: str, base_url: str = "") -> bool:
        return bool(stock(path, base_url)) or gz._strip_base_url(path, base_url).startswith("/component/")

    bypass.jobdash = True  # type: ignore[attr-defined]
    gz._should_bypass_gzip = bypass


def main(argv: list[str] | None = None) -> int:
    from streamlit.web import cli

    serve_components_uncompressed()
    threading.Thread(target=warm, name="warm-up", daemon=True).start()
    args = sys.argv[1:] if argv is None else argv
    sys.argv = ["streamlit", "run", str(ROOT / "app.py"), *args]
    return int(cli.main(standalone_mode=False) or 0)


if __name__ == "__main__":
    sys.exit(main())
