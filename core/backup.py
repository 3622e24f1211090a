"""Backups of what cannot be re-fetched: the user's own data, exported to versioned JSON.

The catalog comes back with the next sync; stars, stages, their history, notes, saved views and watches do
not. After each run that changed them (the user-data revision moved since the last backup) they are written
to ``data/backups/userdata-<timestamp>.json`` (temp name, fsync, ``os.replace``), keeping the newest
``KEEP`` files. ``python -m core userdata export|import`` does the same by hand.

The export is generic over ``TABLES``: a table is listed with its natural key (never a rowid, which differs
between folders) and, when it has one, the column that says which copy is newer. A table that does not
exist in this folder (watches before they were set up) is skipped. Import **merges**: a row whose key is
new is inserted, a row present on both sides is replaced only when the imported copy is strictly newer,
and keyed-only rows (stage history) are deduplicated, so importing twice, or an old file, never loses an
edit.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core import db
from core.errors import JobdashError
from core.userdata import REV_KEY

FORMAT = "jobdash-userdata"
FORMAT_VERSION = 1
KEEP = 10
BACKUP_REV_KEY = "backup_rev"  # the user-data revision the newest backup holds


@dataclass(frozen=True)
class Table:
    name: str
    key: tuple[str, ...]  # the natural key rows merge on
    newer: str | None = None  # the column that orders two copies of one row (None: keep the local copy)
    skip: tuple[str, ...] = ()  # columns not exported (rowids, leases, process state)


# The hook for new user tables: add them here (watch_matches and notifications are re-derived, not backed up).
TABLES: tuple[Table, ...] = (
    Table("user_jobs", ("job_id",), "updated_at"),
    Table("stage_history", ("job_id", "from_stage", "to_stage", "at"), skip=("id",)),
    Table("saved_views", ("name",)),
    Table("watches", ("view",), skip=("id", "lease_until")),
)


class BackupError(JobdashError):
    """A backup file that cannot be read or is not a jobdash user-data export."""


def _existing(conn: db.Connection) -> dict[str, list[str]]:
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()]
    out: dict[str, list[str]] = {}
    for t in TABLES:
        if t.name in names:
            out[t.name] = [r[1] for r in conn.execute(f"PRAGMA table_info({t.name})").fetchall()]
    return out


def _revision(conn: db.Connection) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", [REV_KEY]).fetchone()
    return int(row[0]) if row else 0


def export_doc(conn: db.Connection) -> dict[str, Any]:
    """Every user table as plain rows (read in one transaction, so the tables agree with each other)."""
    tables: dict[str, Any] = {}
    conn.execute("BEGIN")
    try:
        rev = _revision(conn)
        for t in TABLES:
            cols = _existing(conn).get(t.name)
            if cols is None:
                continue
            keep = [c for c in cols if c not in t.skip]
            order = ", ".join(t.key)
            # identifiers come from TABLES and from SQLite's own table_info, never from input
            rows = conn.execute(f"SELECT {', '.join(keep)} FROM {t.name} ORDER BY {order}").fetchall()  # noqa: S608
            tables[t.name] = {"key": list(t.key), "columns": keep, "rows": [list(r) for r in rows]}
    finally:
        conn.execute("COMMIT")
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "exported_at": datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds"),
        "user_rev": rev,
        "tables": tables,
    }


def write_atomic(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def export(db_path: Path, path: Path) -> dict[str, int]:
    """Write every user table to ``path``; returns rows per table."""
    with db.opened(db_path) as conn:
        doc = export_doc(conn)
    write_atomic(path, doc)
    return {name: len(t["rows"]) for name, t in doc["tables"].items()}


def backups_dir(data_dir: Path) -> Path:
    return data_dir / "backups"


def backups(data_dir: Path) -> list[Path]:
    """Backup files, oldest first."""
    d = backups_dir(data_dir)
    return sorted(d.glob("userdata-*.json")) if d.exists() else []


def backup_if_changed(data_dir: Path, db_path: Path, keep: int = KEEP) -> Path | None:
    """A new backup when the user data changed since the last one (rotated to ``keep`` files); None when
    nothing changed. Raises StorageError / OSError (the sync turns them into a warning)."""
    with db.opened(db_path) as conn:
        rev = _revision(conn)
        row = conn.execute("SELECT value FROM meta WHERE key = ?", [BACKUP_REV_KEY]).fetchone()
        if rev == 0 or (row is not None and int(row[0]) == rev and backups(data_dir)):
            return None
        doc = export_doc(conn)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = backups_dir(data_dir) / f"userdata-{stamp}.json"
        write_atomic(path, doc)
        with db.tx(conn):
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [BACKUP_REV_KEY, str(doc["user_rev"])],
            )
    for old in backups(data_dir)[:-keep]:
        old.unlink(missing_ok=True)
    return path


def read(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{path}: no such file") from None
    except (OSError, ValueError) as e:
        raise BackupError(f"{path}: not a readable JSON backup ({e})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("tables"), dict):
        raise BackupError(f"{path}: not a jobdash user-data export (format {FORMAT!r} expected)")
    if not isinstance(doc.get("version"), int) or doc["version"] > FORMAT_VERSION:
        raise BackupError(
            f"{path}: format version {doc.get('version')!r}; this jobdash reads versions up to {FORMAT_VERSION}"
        )
    return doc


@dataclass(frozen=True)
class Merged:
    inserted: int
    updated: int
    kept_local: int  # present on both sides, the local copy as new or newer
    skipped_tables: tuple[str, ...]


def import_file(db_path: Path, path: Path) -> dict[str, Merged]:
    """Merge a backup into jobdash.sqlite in one transaction; never overwrites a newer local edit."""
    doc = read(path)
    out: dict[str, Merged] = {}
    with db.opened(db_path) as conn:
        have = _existing(conn)
        with db.tx(conn):
            changed = 0
            for t in TABLES:
                data = doc["tables"].get(t.name)
                if data is None:
                    continue
                local_cols = have.get(t.name)
                if local_cols is None:
                    out[t.name] = Merged(0, 0, 0, (t.name,))
                    continue
                merged = _merge(conn, t, data, local_cols, path)
                changed += merged.inserted + merged.updated
                out[t.name] = merged
            if changed:
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES (?, '1') "
                    "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
                    [REV_KEY],
                )
    return out


def _merge(conn: db.Connection, t: Table, data: Any, local_cols: list[str], path: Path) -> Merged:
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("columns"), list)
        or not isinstance(data.get("rows"), list)
    ):
        raise BackupError(f"{path}: table {t.name} is malformed")
    cols = [c for c in data["columns"] if isinstance(c, str)]
    if cols != data["columns"] or any(k not in cols for k in t.key):
        raise BackupError(f"{path}: table {t.name} lacks its key columns {list(t.key)}")
    usable = [c for c in cols if c in local_cols and c not in t.skip]  # only columns this folder has
    where = " AND ".join(f"{k} IS ?" for k in t.key)
    inserted = updated = kept = 0
    for raw in data["rows"]:
        if not isinstance(raw, list) or len(raw) != len(cols):
            raise BackupError(f"{path}: a row of {t.name} does not match its columns")
        row = dict(zip(cols, raw, strict=True))
        key = [row[k] for k in t.key]
        # identifiers: TABLES and the intersection with SQLite's table_info; values are parameters
        local = conn.execute(f"SELECT * FROM {t.name} WHERE {where}", key).fetchone()  # noqa: S608
        values = [row[c] for c in usable]
        if local is None:
            marks = ", ".join("?" * len(usable))
            conn.execute(f"INSERT INTO {t.name} ({', '.join(usable)}) VALUES ({marks})", values)  # noqa: S608
            inserted += 1
        elif t.newer and row.get(t.newer) is not None and str(row[t.newer]) > str(local[t.newer] or ""):
            sets = ", ".join(f"{c} = ?" for c in usable)
            conn.execute(f"UPDATE {t.name} SET {sets} WHERE {where}", [*values, *key])  # noqa: S608
            updated += 1
        else:
            kept += 1
    return Merged(inserted, updated, kept, ())
