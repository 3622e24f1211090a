"""Make sure a page runs inside app.py's navigation.

Streamlit keeps a process-wide "pages/ directory" flag (multipage v1) that is only cleared once app.py has
called st.navigation. If the first request after a server start is a page URL (/sync, a bookmark), Streamlit
runs pages/<name>.py on its own — no shared sidebar, no filter state. A page calls ``ensure_app()`` first:
when app.py is not running around it, it clears the flag and reruns, and the rerun goes through app.py.
"""

from __future__ import annotations

import gc
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from core.instrumentation import metrics

try:  # internal API: if it moves, the fallback is Streamlit's own behaviour
    from streamlit.runtime.pages_manager import PagesManager
except ImportError:  # pragma: no cover
    PagesManager = None  # type: ignore[assignment,misc]

_inside = threading.local()  # a script run stays on one thread
_frozen = threading.Event()


@contextmanager
def app_running() -> Iterator[None]:
    """app.py wraps the page run in this, so a page knows the shared setup ran."""
    _inside.active = True
    try:
        yield
    finally:
        _inside.active = False


def freeze_long_lived_objects() -> None:
    """Once per process, after the first full run: move what exists now (modules, the catalog, caches) out of
    the garbage collector's reach. Streamlit runs a full collection after every script run
    (``runner.postScriptGC``), which otherwise walks all of it each time: 36% of the server's CPU with 10
    sessions in the load test (docs/BENCHMARKS.md). Later garbage is still collected as usual."""
    if not _frozen.is_set():
        _frozen.set()
        gc.collect()
        gc.freeze()


def ensure_app() -> None:
    if PagesManager is not None and getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        if not in_app_run():
            st.rerun()


def in_app_run() -> bool:
    """True inside a full run of app.py; False in a fragment-only rerun (app.py does not run then)."""
    return bool(getattr(_inside, "active", False))


def record_fragment(page: str, ms: float) -> None:
    """Record a fragment's run as a script run when it ran on its own (a full run is recorded by app.py)."""
    if not in_app_run():
        record_script(f"{page} (fragment)", ms)


def record_script(page: str, ms: float) -> None:
    """Record a page run in core.metrics; with JOBDASH_SCRIPT_LOG set, also append it to that file as JSON
    lines with the run's timed blocks (the browser benchmark reads it to split server time per block)."""
    metrics.record_script(page, ms)
    blocks = metrics.run_blocks()  # the blocks this run timed (query, grid payload, detail …)
    path = os.environ.get("JOBDASH_SCRIPT_LOG")
    if path:
        line = {
            "page": page,
            "ms": round(ms, 2),
            "t": time.time(),
            "blocks": {k: round(v, 2) for k, v in blocks.items()},
        }
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(line) + "\n")
