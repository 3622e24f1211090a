"""A sync killed with SIGKILL at the worst moments leaves the previous snapshot readable, and an index the next
run catches up to what a fresh build answers."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

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
        def half_written(con, select, final, **kw):
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


# --- killed while indexing: the next run catches the index up to what a fresh build answers ----------------

INDEX_CHILD = (
    textwrap.dedent(
        """
    import os, signal, sys, threading
    from datetime import datetime
    import core.search, core.sync
    from core.settings import load_settings
    from core.sync import run_sync
    from tests.integration.test_sync_crash import big_batch

    point = sys.argv[1]
    if point == "mid_segment":  # the ordinary catch-up: a batch handed to the writer, the commit not made
        core.sync._IndexAhead.take = lambda self: self.abandon()
        real = core.search.DescriptionIndex.update
        def update(self, rows, deletes=()):
            out = real(self, rows, deletes)
            if rows.num_rows and threading.current_thread() is threading.main_thread():
                os.kill(os.getpid(), signal.SIGKILL)
            return out
        core.search.DescriptionIndex.update = update
    elif point == "before_commit":  # indexed ahead while the snapshot was written; published, not committed
        core.search.DescriptionIndex.commit = lambda self: os.kill(os.getpid(), signal.SIGKILL)
    else:  # committed to tantivy, not yet marked done in search.sqlite
        core.search.DescriptionIndex.mark_segment_done = lambda self, name: os.kill(os.getpid(), signal.SIGKILL)
    run_sync(load_settings(), now=datetime(2026, 11, 2), sources=[static_source()])
    """
    )
    .replace("static_source()", 'static("A", big_batch(1))')
    .replace(
        "from tests.integration.test_sync_crash import big_batch",
        "from tests.conftest import static\nfrom tests.integration.test_sync_crash import big_batch",
    )
)

WORDS = ("kafka", "spark", "rust", "python", "golang", "terraform")
QUERIES = ("kafka", "spark python", '"run 1"', "terra*", "python -rust", "title:lead OR company:initech", "-kafka")


def big_batch(run: int) -> list[dict[str, object]]:
    """12,000 postings (three index batches); run 1 rewrites a third of run 0's descriptions and adds 500."""
    n = 12_000 if run == 0 else 12_500
    return [
        job(
            f"k{i}",
            title="Lead Engineer" if i % 7 == 0 else "Data Engineer",
            company="Initech" if i % 5 == 0 else "Acme",
            description=f"{WORDS[i % 6]} {WORDS[(i * 7) % 6]} run {run if i % 3 == 0 else 0} posting {i}",
        )
        for i in range(n)
    ]


def _answers(settings: Settings) -> tuple[int, dict[str, object]]:
    from core.search import DescriptionIndex

    with DescriptionIndex(settings.search_path) as index:
        return index.count(), {
            q: (sorted(index.match_ids(q).to_pylist()), sorted(j for j, _ in index.match(q, limit=50_000)))
            for q in QUERIES
        }


@pytest.mark.parametrize("point", ["mid_segment", "before_commit", "before_marked_done"])
def test_killed_while_indexing_catches_up_like_a_fresh_build(settings: Settings, tmp_path: Path, point: str) -> None:
    from datetime import datetime

    from core.search import index_dir
    from core.sync import _index_descriptions

    run_sync(settings, now=datetime(2026, 11, 1), sources=[static("A", big_batch(0))])
    env = {**os.environ, "JOBDASH_DATA_DIR": str(settings.data_dir), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", INDEX_CHILD, point], env=env, cwd=ROOT, capture_output=True, timeout=300
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    snap = snapshots.current(settings.snapshots_dir)
    assert snap is not None and snap.version == 2, "killed after publishing, while indexing"
    nxt = run_sync(settings, now=datetime(2026, 11, 3), sources=[static("A", big_batch(1))])
    assert nxt.status == "ok", nxt.error
    caught_up = _answers(settings)
    assert caught_up[0] == 12_500
    # A fresh build from the same snapshot, in a copy of the folder without the index.
    fresh = replace(settings, data_dir=tmp_path / "fresh")
    shutil.copytree(settings.data_dir, fresh.data_dir)
    fresh.search_path.unlink()
    shutil.rmtree(index_dir(fresh.search_path))
    _index_descriptions(fresh, [])
    assert _answers(fresh) == caught_up
    assert caught_up[1]['"run 1"'][0], "the rewritten descriptions are searchable"
