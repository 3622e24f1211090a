"""A damaged or aging data folder, on real files and real processes: each case is a defect from issue 13.

A truncated or garbled snapshot pointer falls back to the newest valid snapshot and says so; a damaged
jobdash.sqlite, a read-only folder or a full disk is one line and exit 2, never a traceback, nothing half
written; a damaged search index is detected and rebuilt; prune errors are warnings; killed runs are marked;
the lock probe never refuses a sync; a stop request is honoured while indexing; the index stays compact.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core import lock, snapshots
from core.runs import RunLog
from core.search import DescriptionIndex, fts_id, index_dir
from core.settings import Settings
from core.sync import _index_descriptions, run_sync
from tests.conftest import job, static

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 1, 9)


def cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cfg = data.parent / "jobdash.toml"
    if not cfg.exists():
        cfg.write_text("", encoding="utf-8")
    env = {**os.environ, "JOBDASH_DATA_DIR": str(data), "JOBDASH_CONFIG": str(cfg)}
    return subprocess.run(
        [sys.executable, "-m", "core", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


def rows(n: int, tag: str = "") -> list[dict[str, object]]:
    return [job(f"j{i}", description=f"Posting {i} {tag} pipelines kafka") for i in range(n)]


@pytest.fixture
def two_versions(settings: Settings) -> Settings:
    run_sync(settings, now=T0, sources=[static("A", rows(40))])
    run_sync(settings, now=T0 + timedelta(hours=1), sources=[static("A", rows(41))])
    assert snapshots.versions(settings.snapshots_dir) == [1, 2]
    return settings


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


# --- the pointer and the jobs file ----------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "missing-file"])
def test_a_damaged_current_falls_back_to_the_newest_valid_snapshot_and_says_so(
    two_versions: Settings, damage: str
) -> None:
    s = two_versions
    d = s.snapshots_dir
    if damage == "truncated":
        _truncate(d / snapshots.jobs_name(2))
    elif damage == "garbage":
        (d / "CURRENT").write_bytes(os.urandom(64))
    elif damage == "empty":
        (d / "CURRENT").write_text("", encoding="utf-8")
    else:
        (d / snapshots.jobs_name(2)).unlink()
    # A damaged pointer: the newest valid published file (v2); a damaged v2: the one before it.
    good, n = (2, 41) if damage in ("garbage", "empty") else (1, 40)
    snap = snapshots.current(d)
    assert snap is not None and snap.version == good and snap.rows == n
    assert snap.fallback and f"v{good}" in snap.fallback

    status = cli(s.data_dir, "status", "--json")
    assert status.returncode == 0, status.stderr
    doc = json.loads(status.stdout)
    assert doc["snapshot"]["version"] == good
    assert f"using the newest valid snapshot v{good}" in doc["snapshot"]["fallback"]
    listed = cli(s.data_dir, "jobs", "list", "--json", "--limit", "500")
    assert listed.returncode == 0 and "Traceback" not in listed.stderr, listed.stderr
    assert len(json.loads(listed.stdout)) == n

    # The sync builds on the valid one, says so, and publishes over the damage.
    r = run_sync(s, now=T0 + timedelta(hours=2), sources=[static("A", rows(42))])
    assert r.status == "ok" and r.version == 3, r.error
    assert r.counts["new"] == 42 - n and r.counts["unchanged"] == n
    assert any("built on an older snapshot" in w for w in r.warnings), r.warnings
    after = snapshots.current(d)
    assert after is not None and after.version == 3 and after.fallback is None


def test_status_with_no_valid_snapshot_left_is_one_line(settings: Settings) -> None:
    run_sync(settings, now=T0, sources=[static("A", rows(5))])
    _truncate(settings.snapshots_dir / snapshots.jobs_name(1))
    line = one_line_error(cli(settings.data_dir, "status"))
    assert "no older valid snapshot" in line
    r = run_sync(settings, now=T0 + timedelta(hours=1), sources=[static("A", rows(5))])
    assert r.status == "failed" and "no older valid snapshot" in str(r.error)


def test_an_orphan_takes_no_retention_slot(settings: Settings) -> None:
    s = replace(settings, keep_snapshots=2)
    run_sync(s, now=T0, sources=[static("A", rows(3))])
    # A jobs file written but never published (a sync killed before the pointer moved).
    shutil.copy(s.snapshots_dir / snapshots.jobs_name(1), s.snapshots_dir / snapshots.jobs_name(2))
    for h in range(1, 4):
        run_sync(s, now=T0 + timedelta(hours=h), sources=[static("A", rows(3 + h))])
    assert snapshots.versions(s.snapshots_dir) == [4, 5], "two published kept, the orphan gone"


# --- SQLite files, a read-only folder, a full disk ------------------------------------------------------


def test_a_garbled_jobdash_sqlite_is_one_line_in_every_command(two_versions: Settings) -> None:
    p = two_versions.db_path
    for suffix in ("-wal", "-shm"):
        p.with_name(p.name + suffix).unlink(missing_ok=True)
    p.write_bytes(b"not a database " * 4096)
    for args in (
        ["status"],
        ["sync"],
        ["jobs", "list"],
        ["jobs", "set", "x", "--star"],
        ["doctor"],
        ["userdata", "export"],
    ):
        proc = cli(two_versions.data_dir, *args)
        if args == ["doctor"]:
            assert proc.returncode == 1 and "jobdash.sqlite" in proc.stdout, proc.stdout + proc.stderr
            continue
        line = one_line_error(proc)
        assert "jobdash.sqlite" in line


@pytest.fixture
def tmpfs() -> Iterator[Path]:
    mnt = Path(f"/tmp/jobdash-tmpfs-{os.getpid()}")
    mnt.mkdir(exist_ok=True)
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mnt)], capture_output=True)
    if proc.returncode != 0:
        mnt.rmdir()
        pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.decode().strip()}): the full-disk case needs one")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)
        mnt.rmdir()


def test_a_full_disk_is_one_line_and_leaves_nothing_half_written(tmpfs: Path) -> None:
    data = tmpfs / "data"
    assert cli(data, "demo", "--jobs", "200").returncode == 0
    before = (data / "snapshots" / "CURRENT").read_text(encoding="utf-8")
    filler = tmpfs / "filler"
    with open(filler, "wb") as f:  # fill every byte left
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    proc = cli(data, "demo", "--jobs", "3000")
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    assert proc.returncode in (1, 2), proc.stdout + proc.stderr
    assert (data / "snapshots" / "CURRENT").read_text(encoding="utf-8") == before
    assert not list((data / "snapshots").glob(".*.tmp")), "no half-written temp file left"
    for args in (["status"], ["jobs", "list"]):
        p = cli(data, *args)
        assert "Traceback" not in p.stderr, p.stderr
    filler.unlink()
    again = cli(data, "demo", "--jobs", "300")
    left = {str(f.relative_to(tmpfs)): f.stat().st_size for f in tmpfs.rglob("*") if f.is_file()}
    assert again.returncode == 0, f"space back: the next run publishes ({again.stdout} {again.stderr} {left})"


def test_a_read_only_data_folder_is_one_line(tmpfs: Path) -> None:
    data = tmpfs / "data"
    assert cli(data, "demo", "--jobs", "100").returncode == 0
    if subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], capture_output=True).returncode != 0:
        pytest.skip("cannot remount the tmpfs read-only")
    try:
        for args in (["sync"], ["jobs", "set", "x", "--star"], ["userdata", "export"], ["demo", "--jobs", "10"]):
            line = one_line_error(cli(data, *args))
            assert "read" in line.lower() and "Traceback" not in line, line
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(tmpfs)], check=False)


# --- the description segments and the search index ------------------------------------------------------


def test_a_truncated_segment_is_reported_and_doctor_restores_it_without_descriptions(two_versions: Settings) -> None:
    """No other copy of the descriptions is kept (the index stores no texts): doctor rewrites the segment
    from the jobs file with empty descriptions and says so, and the next sync that sees the postings writes
    them again."""
    s = two_versions
    seg = s.snapshots_dir / snapshots.desc_name(1)
    _truncate(seg)
    on_seg = pq.read_table(s.snapshots_dir / snapshots.jobs_name(2), columns=["job_id", "desc_file", "title"])
    victims = [r for r in on_seg.to_pylist() if r["desc_file"] == seg.name]
    victim = victims[0]["job_id"]
    shown = cli(s.data_dir, "jobs", "show", victim, "--json")
    assert shown.returncode != 0 and seg.name in shown.stderr and "doctor --repair" in shown.stderr, shown.stderr
    found = cli(s.data_dir, "doctor")
    assert found.returncode == 1 and f"the {len(victims)} jobs that point at it" in found.stdout, found.stdout
    fixed = cli(s.data_dir, "doctor", "--repair")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "without their descriptions" in fixed.stdout and "next sync" in fixed.stdout, fixed.stdout
    assert (s.snapshots_dir / "damaged" / seg.name).exists(), "the damaged file is kept"
    shown = cli(s.data_dir, "jobs", "show", victim, "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["description"] == "" and json.loads(shown.stdout)["title"] == victims[0]["title"]
    restored = pq.read_table(seg)
    assert restored.column("title").to_pylist() == [r["title"] for r in sorted(victims, key=lambda r: r["job_id"])]
    assert set(restored.column("description").to_pylist()) == {None}
    healthy = cli(s.data_dir, "doctor")
    assert healthy.returncode == 0 and f"descriptions awaiting sync {len(victims)}" in healthy.stdout, healthy.stdout
    with DescriptionIndex(s.search_path) as index:  # the index keeps the documents it had: still found by words
        assert fts_id(victim) in set(index.match_ids("pipelines kafka").to_pylist())

    r = run_sync(s, now=T0 + timedelta(hours=2), sources=[static("A", rows(41))])
    assert r.status == "ok" and r.error is None, r.error
    assert r.counts["updated"] == 0  # writing the description again is not a change of the posting
    (note,) = [w for w in r.warnings if seg.name in w]
    assert "restored by doctor" in note and f"{len(victims)} descriptions written again" in note, note
    shown = cli(s.data_dir, "jobs", "show", victim, "--json")
    assert shown.returncode == 0 and "pipelines kafka" in json.loads(shown.stdout)["description"], shown.stderr
    again = run_sync(s, now=T0 + timedelta(hours=3), sources=[static("A", rows(41))])
    assert not [w for w in again.warnings if seg.name in w], again.warnings
    assert "awaiting" not in cli(s.data_dir, "doctor").stdout


def test_a_truncated_segment_heals_on_the_next_sync_with_the_same_postings(two_versions: Settings) -> None:
    s = two_versions
    seg = s.snapshots_dir / snapshots.desc_name(1)
    cols = ["job_id", "native_id", "desc_file", "changed_at"]
    before = pq.read_table(s.snapshots_dir / snapshots.jobs_name(2), columns=cols).to_pylist()
    on_seg = {r["job_id"]: r for r in before if r["desc_file"] == seg.name}
    assert len(on_seg) == 40
    victim = sorted(on_seg)[0]
    stored = snapshots.read_descriptions(s.snapshots_dir, [(victim, seg.name)])[victim]  # before the damage
    assert f"Posting {on_seg[victim]['native_id'][1:]} " in stored
    _truncate(seg)
    with pytest.raises(snapshots.SnapshotDamaged, match=seg.name):
        snapshots.read_descriptions(s.snapshots_dir, [(victim, seg.name)])

    r = run_sync(s, now=T0 + timedelta(hours=2), sources=[static("A", rows(41))])
    assert r.status == "ok" and r.error is None, r.error
    assert r.counts["unchanged"] == 41 and r.counts["updated"] == 0  # healing is not a change of the posting
    (note,) = [w for w in r.warnings if seg.name in w]
    assert "damaged" in note and "40 descriptions rewritten" in note, note
    after = pq.read_table(s.snapshots_dir / snapshots.jobs_name(r.version), columns=cols).to_pylist()
    moved = {x["job_id"]: x for x in after if x["job_id"] in on_seg}
    assert {x["desc_file"] for x in moved.values()} == {snapshots.desc_name(r.version)}
    assert all(moved[j]["changed_at"] == on_seg[j]["changed_at"] for j in on_seg)
    assert snapshots.read_descriptions(s.snapshots_dir, [(victim, moved[victim]["desc_file"])]) == {victim: stored}

    shown = cli(s.data_dir, "jobs", "show", victim, "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["description"] == stored
    again = run_sync(s, now=T0 + timedelta(hours=3), sources=[static("A", rows(41))])
    assert not [w for w in again.warnings if "damaged" in w], again.warnings  # healed: nothing left to rewrite


def _index_count(s: Settings) -> int:
    with DescriptionIndex(s.search_path) as index:
        return index.count()


def test_a_corrupt_search_index_is_detected_and_rebuilt_by_the_next_sync(two_versions: Settings) -> None:
    s = two_versions
    p = s.search_path
    for suffix in ("-wal", "-shm"):
        p.with_name(p.name + suffix).unlink(missing_ok=True)
    raw = bytearray(p.read_bytes())
    raw[:100] = os.urandom(100)  # the header: "file is not a database"
    p.write_bytes(bytes(raw))
    r = run_sync(s, now=T0 + timedelta(hours=2), sources=[static("A", rows(41))])
    assert r.status == "ok" and r.error is None, r.error
    assert any("moved aside" in w and "rebuilt" in w for w in r.warnings), r.warnings
    assert _index_count(s) == 41
    assert list(s.data_dir.glob("search.sqlite.damaged-*")), "the damaged file is kept aside, not deleted"


def test_an_index_with_missing_or_extra_documents_is_caught_up(two_versions: Settings) -> None:
    s = two_versions
    with DescriptionIndex(s.search_path) as index:  # wrong counts, silently: the segments still say indexed
        index.delete_fts_ids(index.fts_ids().to_pylist()[:5])
        index.update(pa.table({"job_id": ["purged-by-a-killed-run"], "description": ["kafka"]}))
    assert cli(s.data_dir, "doctor").returncode == 1
    notes = _index_descriptions(s, [])
    assert any("removed 1" in n for n in notes) and any("re-indexing" in n for n in notes), notes
    assert _index_count(s) == 41
    with DescriptionIndex(s.search_path) as index:
        assert "purged-by-a-killed-run" not in index.ids()
    assert cli(s.data_dir, "doctor").returncode == 0


def test_an_index_failure_is_not_reported_as_ok(settings: Settings) -> None:
    assert cli(settings.data_dir, "demo", "--jobs", "50").returncode == 0
    settings.search_path.unlink()
    settings.search_path.mkdir()  # cannot be opened
    proc = cli(settings.data_dir, "demo", "--jobs", "60")
    assert proc.returncode == 1 and "description index not updated" in proc.stdout, proc.stdout


# --- runs, prune, lock, stop, growth --------------------------------------------------------------------


def test_a_prune_error_is_a_warning_on_a_published_run(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    run_sync(settings, now=T0, sources=[static("A", rows(3))])

    def broken(*a: object, **k: object) -> list[str]:
        raise PermissionError("cannot delete jobs-000001.parquet")

    monkeypatch.setattr(snapshots, "prune", broken)
    r = run_sync(settings, now=T0 + timedelta(hours=1), sources=[static("A", rows(4))])
    assert r.status == "ok" and r.version == 2
    assert any("not pruned" in w for w in r.warnings)


KILLED_CHILD = textwrap.dedent(
    """
    import os, signal
    from core.runs import RunLog
    from core.settings import load_settings
    log = RunLog(load_settings().db_path)
    log.start("cli")
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_a_killed_run_is_marked_killed(settings: Settings) -> None:
    settings.ensure_dirs()
    env = {**os.environ, "JOBDASH_DATA_DIR": str(settings.data_dir), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", KILLED_CHILD], env=env, cwd=ROOT, timeout=60)
    assert proc.returncode == -signal.SIGKILL
    log = RunLog(settings.db_path)
    try:
        (stuck,) = log.recent(1)
        assert stuck["status"] == "running"
        assert [r["id"] for r in log.stuck()] == [stuck["id"]]
    finally:
        log.close()
    r = run_sync(settings, now=T0, sources=[static("A", rows(2))])
    log = RunLog(settings.db_path)
    try:
        assert log.get(stuck["id"])["status"] == "killed"  # type: ignore[index]
        assert log.get(r.run_id)["status"] == "ok"  # type: ignore[index]
    finally:
        log.close()


def test_the_lock_probe_never_refuses_a_sync(settings: Settings) -> None:
    settings.ensure_dirs()
    stop = threading.Event()
    probes = [0]

    def probe() -> None:
        while not stop.is_set():
            lock.is_locked(settings.lock_path)
            probes[0] += 1

    threads = [threading.Thread(target=probe, daemon=True) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        results = [run_sync(settings, now=T0 + timedelta(hours=h), sources=[static("A", rows(5))]) for h in range(8)]
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert probes[0] > 100
    assert [r.status for r in results] == ["ok"] * 8
    with lock.sync_lock(settings.lock_path, "test"):
        assert lock.is_locked(settings.lock_path)
    assert not lock.is_locked(settings.lock_path)


def test_a_stop_request_is_honoured_between_index_batches(settings: Settings) -> None:
    run_sync(settings, now=T0, sources=[static("A", rows(12_000))])
    settings.search_path.unlink()  # the whole index to rebuild: three batches
    for suffix in ("-wal", "-shm"):
        settings.search_path.with_name(settings.search_path.name + suffix).unlink(missing_ok=True)
    cancel = threading.Event()
    cancel.set()
    notes = _index_descriptions(settings, [], cancel)
    assert any("stopped by a stop request" in n for n in notes)
    assert _index_count(settings) < 12_000
    assert not _index_descriptions(settings, []) or True
    assert _index_count(settings) == 12_000, "the next run finishes it"


def test_the_index_stays_compact_over_many_syncs_with_churn(settings: Settings) -> None:
    def size() -> int:
        p = settings.search_path
        wal = p.with_name(p.name + "-wal")
        tree = sum(f.stat().st_size for f in index_dir(p).iterdir())  # the tantivy index beside the state file
        return p.stat().st_size + (wal.stat().st_size if wal.exists() else 0) + tree

    sizes = []
    for r in range(12):
        batch = [
            job(f"j{i}", description=f"Posting {i} run {r if i % 3 == r % 3 else 0} " + "lorem ipsum dolor " * 20)
            for i in range(800)
        ]
        assert run_sync(settings, now=T0 + timedelta(hours=r), sources=[static("A", batch)]).status == "ok"
        sizes.append(size())
    # Before optimize/merge/incremental vacuum this grew ~2x over 30 such syncs (see the CHANGELOG). tantivy
    # keeps a replaced document's space until its log merge policy merges the segment (8 small segments at a
    # time), so the size reaches its plateau after the first few syncs, not at the first: no growth after it.
    assert sizes[-1] <= max(sizes[:4]) * 1.3, sizes


def test_status_json_into_a_closed_pipe_ends_quietly(two_versions: Settings) -> None:
    code = textwrap.dedent(
        """
        import os, sys
        r, w = os.pipe()
        os.close(r)
        os.dup2(w, 1)
        from core.cli import main
        sys.exit(main(["status", "--json", "--runs", "50"]))
        """
    )
    env = {**os.environ, "JOBDASH_DATA_DIR": str(two_versions.data_dir), "PYTHONPATH": str(ROOT)}
    env["JOBDASH_CONFIG"] = str(two_versions.data_dir.parent / "none.toml")
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr
    assert proc.returncode == 0


def test_pyarrow_table_of_segment_is_intact(two_versions: Settings) -> None:
    """The restore path writes the same columns the sync writes (job_id, content_hash, title, company, description)."""
    seg = two_versions.snapshots_dir / snapshots.desc_name(1)
    assert pq.read_schema(seg).names[:2] == ["job_id", "content_hash"]
    assert isinstance(pq.read_table(seg), pa.Table)
