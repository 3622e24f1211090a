"""Immutable Parquet snapshots and the CURRENT pointer.

Layout under ``data/snapshots``:
- ``jobs-<version>.parquet``: every hot catalog column (all but the description) plus ``desc_file``,
  the description segment that holds the row's current description, and ``dup_key``.
- ``desc-<version>.parquet``: ``job_id, content_hash, description`` for the jobs that were new or
  changed in that run only, so unchanged descriptions are never rewritten.
- ``CURRENT``: JSON naming the published version. It is replaced last, so a crash at any point
  leaves the previous snapshot valid.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.compute as pc
import pyarrow.parquet as pq

from core.errors import NotFound

POINTER = "CURRENT"
_JOBS = re.compile(r"^jobs-(\d{6,})\.parquet$")
_DESC = re.compile(r"^desc-(\d{6,})\.parquet$")


@dataclass(frozen=True)
class Snapshot:
    version: int
    directory: Path
    rows: int
    created_at: str
    demo: bool

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


def current(directory: Path) -> Snapshot | None:
    """The published snapshot, or None before the first sync."""
    try:
        doc: dict[str, Any] = json.loads((directory / POINTER).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    snap = Snapshot(int(doc["version"]), directory, int(doc["rows"]), str(doc["created_at"]), bool(doc["demo"]))
    if not snap.jobs_path.exists():
        raise NotFound(f"CURRENT names {snap.jobs_path.name}, which is missing")
    return snap


def publish(directory: Path, version: int, rows: int, created_at: str, demo: bool) -> Snapshot:
    doc = {"version": version, "rows": rows, "created_at": created_at, "demo": demo, "jobs": jobs_name(version)}
    write_text_atomic(directory / POINTER, json.dumps(doc) + "\n")
    return Snapshot(version, directory, rows, created_at, demo)


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
    published = [v for v in versions(directory) if v <= cur.version]
    kept = set(published[-max(keep, 2) :]) | {cur.version}
    removed: list[str] = []
    for v in versions(directory):
        if v not in kept and v < cur.version:
            (directory / jobs_name(v)).unlink(missing_ok=True)
            removed.append(jobs_name(v))
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
    return removed


def desc_segments(directory: Path) -> list[str]:
    """Description segment files on disk, oldest first."""
    found = [(int(m.group(1)), p.name) for p in directory.iterdir() if (m := _DESC.match(p.name))]
    return [name for _, name in sorted(found)]


def referenced_segments(snap: Snapshot) -> set[str]:
    """The description segments a snapshot's rows point at (read from the dictionary-encoded column)."""
    col = pq.read_table(snap.jobs_path, columns=["desc_file"]).column("desc_file")
    return {v for v in pc.unique(col).to_pylist() if v}


def read_descriptions(directory: Path, rows: list[tuple[str, str]]) -> dict[str, str]:
    """Descriptions for (job_id, desc_file) pairs, read on demand from their segments."""
    by_file: dict[str, list[str]] = {}
    for job_id, desc_file in rows:
        if desc_file:
            by_file.setdefault(desc_file, []).append(job_id)
    out: dict[str, str] = {}
    for name, ids in by_file.items():
        table = pq.read_table(directory / name, columns=["job_id", "description"], filters=[("job_id", "in", ids)])
        for job_id, text in zip(
            table.column("job_id").to_pylist(), table.column("description").to_pylist(), strict=True
        ):
            out[job_id] = text or ""
    return out
