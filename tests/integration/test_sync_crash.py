"""A sync killed with SIGKILL at the worst moments leaves the previous snapshot readable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb

from core import snapshots
from core.settings import Settings
from core.sync import run_sync
from tests.conftest import job, static

ROOT = Path(__file__).resolve().parents[2]

# The child process runs a real sync and SIGKILLs itself at the named point.
CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from datetime import datetime
    import core.snapshots, core.sync
    from core.settings import load_settings
    from tests.conftest import job, static

    point = sys.argv[1]
    if point == "before_pointer":
        core.snapshots.publish = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
    else:
        real = core.sync._copy_parquet
        def half_written(con, select, final):
            tmp = final.with_name(f".{final.name}.tmp")
            tmp.write_bytes(b"PAR1" + os.urandom(4096))  # a torn, half-written file
            os.kill(os.getpid(), signal.SIGKILL)
        core.sync._copy_parquet = half_written
    core.sync.run_sync(load_settings(), now=datetime(2026, 11, 2), sources=[static("A", [job("a1", title="Changed"), job("a9")])])
    """
)


def _crash(point: str, data_dir: Path) -> int:
    env = {**os.environ, "JOBDASH_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", CHILD, point], env=env, cwd=ROOT, capture_output=True, timeout=120)
    return proc.returncode


def _assert_previous_intact(settings: Settings, version: int) -> None:
    snap = snapshots.current(settings.snapshots_dir)
    assert snap is not None and snap.version == version
    titles = duckdb.sql(f"SELECT native_id, title FROM read_parquet('{snap.jobs_path}') ORDER BY 1").fetchall()
    assert titles == [("a1", "Data Engineer"), ("a2", "Data Engineer")]


def test_killed_after_snapshot_written_before_pointer_moves(settings: Settings) -> None:
    from datetime import datetime

    first = run_sync(settings, now=datetime(2026, 11, 1), sources=[static("A", [job("a1"), job("a2")])])
    assert _crash("before_pointer", settings.data_dir) == -signal.SIGKILL
    assert (settings.snapshots_dir / snapshots.jobs_name((first.version or 0) + 1)).exists(), "the orphan was written"
    _assert_previous_intact(settings, first.version or 0)
    nxt = run_sync(settings, now=datetime(2026, 11, 3), sources=[static("A", [job("a1"), job("a2")])])
    assert nxt.status == "ok" and (nxt.version or 0) > (first.version or 0) + 1, "the orphan's version is never reused"
    assert nxt.counts["unchanged"] == 2


def test_killed_mid_write(settings: Settings) -> None:
    from datetime import datetime

    first = run_sync(settings, now=datetime(2026, 11, 1), sources=[static("A", [job("a1"), job("a2")])])
    assert _crash("mid_write", settings.data_dir) == -signal.SIGKILL
    assert any(p.name.endswith(".tmp") for p in settings.snapshots_dir.iterdir())
    _assert_previous_intact(settings, first.version or 0)
    nxt = run_sync(settings, now=datetime(2026, 11, 3), sources=[static("A", [job("a1", title="Changed"), job("a2")])])
    assert nxt.status == "ok" and nxt.counts == {**nxt.counts, "updated": 1, "unchanged": 1}
    assert not any(p.name.endswith(".tmp") for p in settings.snapshots_dir.iterdir()), "leftover temp files pruned"
