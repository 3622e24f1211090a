"""Immutable Parquet snapshots and the CURRENT pointer.

Layout under ``data/snapshots``:
- ``jobs-<version>.parquet``: every hot catalog column (all but the description) plus ``desc_file``,
  the description segment that holds the row's current description, and ``dup_key``.
- ``desc-<version>.parquet``: ``job_id, content_hash, title, company, description`` for the jobs that were
  new or changed in that run only, so unchanged descriptions are never rewritten. Ordered by job_id in row
  groups of ``DESC_ROW_GROUP_ROWS``: the detail panel's lookup of one description reads one small group,
  found by the job_id statistics. A segment doctor rewrote without its descriptions carries ``RESTORED_KEY``
  in its metadata (the sync writes those descriptions again when their source sends them).
- ``CURRENT``: JSON naming the published version. It is replaced last, so a crash at any point
  leaves the previous snapshot valid.
- ``published.log``: one JSON line per publish (version, rows), appended after ``CURRENT`` moved: which
  jobs files were ever published, so an orphan a crash left behind never counts as a snapshot.

Reading ``CURRENT`` validates it: the pointer must parse, and the file it names must exist, have a readable
Parquet footer and the row count the pointer recorded. Otherwise ``current()`` falls back to the newest valid
published snapshot older than the damaged one and says so in ``Snapshot.fallback``; the next sync builds on
that one and publishes over the damage.
"""

from __future__ import annotations

import bisect
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from core.errors import StorageError

POINTER = "CURRENT"
# Rows per row group of a description segment. A point lookup decompresses a whole group's description chunk:
# 122,880 rows (DuckDB's default) cost 77 ms p50 at 1M jobs, 4,096 rows 2.7 ms, for 9% more bytes on disk
# (docs/bench_search_engines.md, "The index without stored texts"). DuckDB's smallest group is 2,048 rows.
DESC_ROW_GROUP_ROWS = 4096
# Parquet key-value metadata of a segment doctor rewrote without its descriptions (no copy of them was left).
RESTORED_KEY = b"jobdash.restored"
PUBLISHED_LOG = "published.log"
_JOBS = re.compile(r"^jobs-(\d{6,})\.parquet$")
_DESC = re.compile(r"^desc-(\d{6,})\.parquet$")


@dataclass(frozen=True)
class Snapshot:
    version: int
    directory: Path
    rows: int
    created_at: str
    demo: bool
    # Why this is not the snapshot CURRENT names (a damaged pointer or file), or None when it is.
    fallback: str | None = None

    @property
    def jobs_path(self) -> Path:
        return self.directory / jobs_name(self.version)


def jobs_name(version: int) -> str:
    return f"jobs-{version:06d}.parquet"


def desc_name(version: int) -> str:
    return f"desc-{version:06d}.parquet"


def fsync_replace(tmp: Path, final: Path) -> None:
    """fsync a finished temp file, move it into place atomically, fsync the folder."""
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, final)
    dfd = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    fsync_replace(tmp, path)


def pointer_stat(directory: Path) -> tuple[int, int] | None:
    """(mtime_ns, inode) of CURRENT: a cheap check for 'has a new snapshot been published?'."""
    try:
        st = (directory / POINTER).stat()
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_ino)


class SnapshotDamaged(StorageError):
    """A snapshot, description segment or CURRENT on disk cannot be read (truncated, garbled, missing)."""

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message, path=path, code="DAMAGED", detail=message)


REPAIR_HINT = "run `python -m core doctor --repair`, or `python -m core sync` to publish a fresh snapshot"


def parquet_rows(path: Path) -> int:
    """The row count in a Parquet file's footer; raises SnapshotDamaged if the file is missing or unreadable."""
    try:
        return int(pq.read_metadata(path).num_rows)
    except FileNotFoundError:
        raise SnapshotDamaged(f"{path.name} is missing", path) from None
    except (OSError, pa.ArrowException) as e:
        raise SnapshotDamaged(f"{path.name} is damaged (its Parquet footer cannot be read: {e})", path) from e


# (path, size, mtime_ns) -> rows: a footer is read once per file version, not on every rerun.
_FOOTERS: dict[tuple[str, int, int], int] = {}


def _rows_cached(path: Path) -> int:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise SnapshotDamaged(f"{path.name} is missing", path) from None
    key = (str(path), st.st_size, st.st_mtime_ns)
    hit = _FOOTERS.get(key)
    if hit is None:
        hit = parquet_rows(path)
        if len(_FOOTERS) > 256:
            _FOOTERS.clear()
        _FOOTERS[key] = hit
    return hit


@dataclass(frozen=True)
class Pointer:
    """What CURRENT says, or why it cannot be read (``problem``)."""

    doc: dict[str, Any] | None
    problem: str | None


def read_pointer(directory: Path) -> Pointer | None:
    """CURRENT parsed, or None when there is none (before the first sync)."""
    try:
        raw = (directory / POINTER).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None
    except OSError as e:
        return Pointer(None, f"CURRENT cannot be read ({e.strerror or e})")
    if not raw.strip():
        return Pointer(None, "CURRENT is empty")
    try:
        doc = json.loads(raw)
        if not isinstance(doc, dict):
            raise ValueError("not an object")
        doc["version"] = int(doc["version"])
        doc["rows"] = int(doc["rows"])
        doc["created_at"] = str(doc.get("created_at", ""))
        doc["demo"] = bool(doc.get("demo", False))
    except (ValueError, KeyError, TypeError):
        return Pointer(None, "CURRENT is garbled (not the JSON pointer a sync writes)")
    return Pointer(doc, None)


def check(snap: Snapshot) -> str | None:
    """What is wrong with a snapshot's jobs file, in words, or None when its footer reads and its row
    count matches the pointer's."""
    try:
        rows = _rows_cached(snap.jobs_path)
    except SnapshotDamaged as e:
        return str(e)
    if rows != snap.rows:
        return f"{snap.jobs_path.name} holds {rows:,} rows but CURRENT recorded {snap.rows:,}"
    return None


def published_versions(directory: Path) -> set[int] | None:
    """Every version published.log records (lines that do not parse are skipped); None when there is no log
    (a data folder from before the log: every jobs file up to CURRENT counts as published)."""
    try:
        text = (directory / PUBLISHED_LOG).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None
    except OSError:
        return None
    found: set[int] = set()
    for line in text.splitlines():
        try:
            found.add(int(json.loads(line)["version"]))
        except (ValueError, KeyError, TypeError):
            continue
    return found


def _fallback_from(directory: Path, below: int | None, why: str) -> Snapshot | None:
    """The newest valid published jobs file older than ``below`` (any version when None)."""
    published = published_versions(directory)
    for v in reversed(versions(directory)):
        if below is not None and v >= below:
            continue
        if published is not None and v not in published:
            continue  # an orphan a crash left: never published
        path = directory / jobs_name(v)
        try:
            rows = _rows_cached(path)
        except SnapshotDamaged:
            continue
        created = ""
        try:
            created = datetime_of(path)
        except OSError:
            pass
        return Snapshot(v, directory, rows, created, False, f"{why}; using the newest valid snapshot v{v} instead")
    return None


def datetime_of(path: Path) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def current(directory: Path) -> Snapshot | None:
    """The published snapshot, or None before the first sync.

    A damaged pointer or jobs file falls back to the newest valid older snapshot, with ``fallback`` saying
    why; raises SnapshotDamaged only when no valid snapshot is left at all."""
    ptr = read_pointer(directory)
    if ptr is None:
        return None
    if ptr.doc is None:
        why = str(ptr.problem)
        below = None
    else:
        doc = ptr.doc
        snap = Snapshot(doc["version"], directory, doc["rows"], doc["created_at"], doc["demo"])
        problem = check(snap)
        if problem is None:
            return snap
        why = f"CURRENT names v{snap.version}, but {problem}"
        below = snap.version
    found = _fallback_from(directory, below, why)
    if found is None:
        raise SnapshotDamaged(f"{why}, and no older valid snapshot is left; run `python -m core sync`", directory)
    return found


def publish(directory: Path, version: int, rows: int, created_at: str, demo: bool) -> Snapshot:
    doc = {"version": version, "rows": rows, "created_at": created_at, "demo": demo, "jobs": jobs_name(version)}
    write_text_atomic(directory / POINTER, json.dumps(doc) + "\n")
    _log_published(directory, version, rows)
    return Snapshot(version, directory, rows, created_at, demo)


def repoint(directory: Path, snap: Snapshot) -> None:
    """Write CURRENT for an existing valid snapshot (doctor's repair after a fallback)."""
    doc = {
        "version": snap.version,
        "rows": snap.rows,
        "created_at": snap.created_at,
        "demo": snap.demo,
        "jobs": jobs_name(snap.version),
    }
    write_text_atomic(directory / POINTER, json.dumps(doc) + "\n")
    _log_published(directory, snap.version, snap.rows)


def _log_published(directory: Path, version: int, rows: int) -> None:
    line = json.dumps({"version": version, "rows": rows}) + "\n"
    if not (directory / PUBLISHED_LOG).exists():
        # A folder from before the log: the jobs files already there were published (the old rule).
        line = "".join(json.dumps({"version": v}) + "\n" for v in versions(directory) if v < version) + line
    fd = os.open(directory / PUBLISHED_LOG, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def _rewrite_log(directory: Path, keep: set[int]) -> None:
    """Keep published.log to the versions still on disk (atomically)."""
    published = published_versions(directory)
    if published is None:
        return
    lines = "".join(json.dumps({"version": v}) + "\n" for v in sorted(published & keep))
    write_text_atomic(directory / PUBLISHED_LOG, lines)


def versions(directory: Path) -> list[int]:
    """Published-or-not jobs files on disk, oldest first (temp files never match)."""
    if not directory.exists():
        return []
    return sorted(int(m.group(1)) for p in directory.iterdir() if (m := _JOBS.match(p.name)))


def next_version(directory: Path) -> int:
    """One past every version on disk, so an orphan left by a crash is never overwritten in place."""
    found = versions(directory)
    descs = [int(m.group(1)) for p in directory.iterdir() if (m := _DESC.match(p.name))] if directory.exists() else []
    return max(found + descs, default=0) + 1


def prune(directory: Path, keep: int, con: duckdb.DuckDBPyConnection) -> list[str]:
    """Delete old snapshots beyond ``keep`` (never the current or the previous one), leftover temp files,
    and description segments no kept snapshot refers to. Returns the names removed."""
    cur = current(directory)
    if cur is None:
        return []
    log = published_versions(directory)
    # Orphans (written, never published: a crash before the pointer moved) take no retention slot.
    published = [v for v in versions(directory) if v <= cur.version and (log is None or v in log or v == cur.version)]
    kept = set(published[-max(keep, 2) :]) | {cur.version}
    removed: list[str] = []
    for v in versions(directory):
        if v not in kept and v < cur.version:
            (directory / jobs_name(v)).unlink(missing_ok=True)
            removed.append(jobs_name(v))
    for v in versions(directory):
        if v > cur.version:  # pruning runs under the sync lock, after a publish: a newer file is a crash's orphan
            (directory / jobs_name(v)).unlink(missing_ok=True)
            removed.append(jobs_name(v))
    for p in list(directory.iterdir()):
        m = _DESC.match(p.name)
        if m and int(m.group(1)) > cur.version:
            p.unlink(missing_ok=True)
            removed.append(p.name)
    for p in directory.glob(".*.tmp"):
        p.unlink(missing_ok=True)
        removed.append(p.name)
    files = [str(directory / jobs_name(v)) for v in sorted(kept) if (directory / jobs_name(v)).exists()]
    rows = con.execute("SELECT DISTINCT desc_file FROM read_parquet(?)", [files]).fetchall()
    referenced = {r[0] for r in rows if r[0]}
    for p in directory.iterdir():
        m = _DESC.match(p.name)
        if m and p.name not in referenced and int(m.group(1)) <= cur.version:
            p.unlink(missing_ok=True)
            removed.append(p.name)
    if removed:
        _rewrite_log(directory, set(versions(directory)))
    return removed


def desc_segments(directory: Path) -> list[str]:
    """Description segment files on disk, oldest first."""
    found = [(int(m.group(1)), p.name) for p in directory.iterdir() if (m := _DESC.match(p.name))]
    return [name for _, name in sorted(found)]


def referenced_segments(snap: Snapshot) -> set[str]:
    """The description segments a snapshot's rows point at (read from the dictionary-encoded column)."""
    col = pq.read_table(snap.jobs_path, columns=["desc_file"]).column("desc_file")
    return {v for v in pc.unique(col).to_pylist() if v}


@dataclass(frozen=True)
class _Segment:
    metadata: pq.FileMetaData
    bounds: list[tuple[str, str] | None]  # job_id (min, max) of each row group; None: no usable statistics


# (path, size, mtime_ns) -> footer and job_id ranges: a lookup parses a segment's footer once per file version.
_SEGMENTS: dict[tuple[str, int, int], _Segment] = {}
_SEGMENTS_MAX = 16


def _segment(path: Path) -> _Segment:
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    hit = _SEGMENTS.get(key)
    if hit is None:
        md = pq.read_metadata(path)
        col = md.schema.names.index("job_id")
        bounds: list[tuple[str, str] | None] = []
        for i in range(md.num_row_groups):
            stats = md.row_group(i).column(col).statistics
            ok = stats is not None and stats.has_min_max and isinstance(stats.min, str) and isinstance(stats.max, str)
            bounds.append((stats.min, stats.max) if ok and stats is not None else None)
        hit = _Segment(md, bounds)
        if len(_SEGMENTS) >= _SEGMENTS_MAX:
            _SEGMENTS.clear()
        _SEGMENTS[key] = hit
    return hit


def _groups_holding(seg: _Segment, ids: list[str]) -> list[int]:
    """The row groups whose job_id range can hold one of ``ids`` (sorted)."""
    out = []
    for i, b in enumerate(seg.bounds):
        if b is None:
            out.append(i)
            continue
        k = bisect.bisect_left(ids, b[0])
        if k < len(ids) and ids[k] <= b[1]:
            out.append(i)
    return out


def _read_segment(path: Path, ids: list[str]) -> pa.Table:
    """(job_id, description) of these jobs from one segment, reading only the row groups that can hold them
    (every group of a segment without job_id statistics)."""
    seg = _segment(path)
    groups = _groups_holding(seg, sorted(ids))
    if not groups:
        return pa.table({"job_id": pa.array([], pa.string()), "description": pa.array([], pa.string())})
    table = pq.ParquetFile(path, metadata=seg.metadata).read_row_groups(groups, columns=["job_id", "description"])
    return table.filter(pc.is_in(table.column("job_id"), value_set=pa.array(ids, pa.string())))


def read_descriptions(directory: Path, rows: list[tuple[str, str]]) -> dict[str, str]:
    """Descriptions for (job_id, desc_file) pairs, read on demand from their segments."""
    by_file: dict[str, list[str]] = {}
    for job_id, desc_file in rows:
        if desc_file:
            by_file.setdefault(desc_file, []).append(job_id)
    out: dict[str, str] = {}
    for name, ids in by_file.items():
        try:
            table = _read_segment(directory / name, ids)
        except FileNotFoundError:
            raise SnapshotDamaged(
                f"{name}: cannot read the description: the segment is missing; {REPAIR_HINT}", directory / name
            ) from None
        except (OSError, ValueError, pa.ArrowException) as e:
            raise SnapshotDamaged(
                f"{name}: cannot read the description ({e}): the segment is damaged; {REPAIR_HINT}", directory / name
            ) from e
        for job_id, text in zip(
            table.column("job_id").to_pylist(), table.column("description").to_pylist(), strict=True
        ):
            out[job_id] = text or ""
    return out


def restored_without_descriptions(path: Path) -> bool:
    """Doctor rewrote this segment from the jobs file, without the descriptions (see ``RESTORED_KEY``)."""
    meta = pq.read_metadata(path).metadata
    return bool(meta and RESTORED_KEY in meta)
