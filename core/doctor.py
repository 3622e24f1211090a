"""`python -m core doctor [--repair]`: check the data folder's files against each other, say what is wrong in
plain words, and restore what can be restored without touching user data.

Checked: the CURRENT pointer (parses, names a readable jobs file with the row count it recorded), every
jobs file (Parquet footer; orphans a crash left; temp files), every description segment the current
snapshot points at, jobdash.sqlite (``PRAGMA quick_check``; runs left ``running`` by a killed sync) and
the search index (search.sqlite's ``quick_check``; search.tantivy/'s files, document count and stored
documents; its documents against the snapshot's descriptions, exactly, by id).

``--repair`` (under the sync lock, so no sync runs meanwhile): repoints CURRENT to the newest valid
snapshot, moves damaged snapshot files to ``snapshots/damaged/``, rewrites a damaged description segment
from the jobs file without its descriptions (the sync writes them again when their source sends them),
deletes orphans and temp files, rebuilds a damaged or incomplete search index from the segments, marks
killed runs. jobdash.sqlite holds the user's own data: doctor never rewrites it; a damaged one is reported
with the backup to restore from.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from core import backup, db, lock, snapshots
from core.errors import StorageError
from core.runs import RunLog
from core.settings import Settings


@dataclass
class Finding:
    what: str  # the file or part it is about
    problem: str  # plain words
    repair: str | None = None  # what --repair does about it (None: nothing can be done automatically)
    repaired: bool = False
    result: str = ""  # what the repair did or why it failed


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    checked: dict[str, Any] = field(default_factory=dict)
    repaired: bool = False  # --repair was asked

    @property
    def healthy(self) -> bool:
        return not self.findings

    @property
    def open_problems(self) -> list[Finding]:
        return [f for f in self.findings if not f.repaired]

    def exit_code(self) -> int:
        return 1 if self.open_problems else 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "open_problems": len(self.open_problems),
            "repair": self.repaired,
            "findings": [asdict(f) for f in self.findings],
            "checked": self.checked,
        }


_TMP = re.compile(r"^\..*\.tmp$")


def check(settings: Settings, *, holding_lock: bool = False) -> Report:
    """Look, change nothing."""
    report = Report()
    _check_snapshots(settings, report)
    _check_userdata(settings, report, holding_lock)
    _check_index(settings, report)
    return report


def repair(settings: Settings) -> Report:
    """Check, then restore what can be restored, under the sync lock (raises SyncBusy while a sync runs)."""
    settings.ensure_dirs()
    with lock.sync_lock(settings.lock_path, "doctor"):
        report = check(settings, holding_lock=True)
        report.repaired = True
        todo = report.findings
        for _ in range(3):  # a repair can uncover the next thing (repointing leaves the damaged file behind)
            for f in todo:
                if f.repair is None:
                    continue
                try:
                    f.result = _REPAIRS[f.repair](settings)
                    f.repaired = True
                except (StorageError, OSError, duckdb.Error, pa.ArrowException) as e:
                    f.result = f"repair failed: {e}"
            seen = {f.problem for f in report.findings}
            todo = [f for f in check(settings, holding_lock=True).findings if f.problem not in seen and f.repair]
            if not todo:
                break
            report.findings.extend(todo)
        # What the repairs left: checked again so the report says how the folder is now.
        after = check(settings, holding_lock=True)
        report.checked["after_repair"] = {
            "problems": len(after.findings),
            "findings": [a.problem for a in after.findings],
        }
        still = {a.problem for a in after.findings}
        for f in report.findings:
            if f.repaired and f.problem in still:
                f.repaired = False
                f.result += " (the problem is still there)"
    return report


# --- snapshots -------------------------------------------------------------------------------------------


def _check_snapshots(settings: Settings, report: Report) -> None:
    d = settings.snapshots_dir
    if not d.exists():
        report.checked["snapshots"] = 0
        return
    ptr = snapshots.read_pointer(d)
    published = snapshots.published_versions(d)
    versions = snapshots.versions(d)
    report.checked["snapshots"] = len(versions)
    pointed: int | None = None
    if ptr is not None:
        if ptr.doc is None:
            report.findings.append(Finding("CURRENT", str(ptr.problem), "repoint"))
        else:
            pointed = int(ptr.doc["version"])
            snap = snapshots.Snapshot(
                pointed, d, int(ptr.doc["rows"]), str(ptr.doc["created_at"]), bool(ptr.doc["demo"])
            )
            problem = snapshots.check(snap)
            if problem is not None:
                report.findings.append(Finding("CURRENT", f"CURRENT names v{pointed}, but {problem}", "repoint"))
    elif versions:
        report.findings.append(Finding("CURRENT", "CURRENT is missing while snapshots exist", "repoint"))
    for v in versions:
        path = d / snapshots.jobs_name(v)
        try:
            snapshots.parquet_rows(path)
        except snapshots.SnapshotDamaged as e:
            if v != pointed:  # the pointed one is reported above
                report.findings.append(Finding(path.name, str(e), "move_damaged"))
            continue
        if published is not None and v not in published and (pointed is None or v != pointed):
            report.findings.append(
                Finding(path.name, f"{path.name} was written but never published (a sync was stopped)", "cleanup")
            )
    for p in d.iterdir():
        if _TMP.match(p.name):
            report.findings.append(Finding(p.name, f"{p.name} is a temp file a stopped sync left", "cleanup"))
    try:
        cur = snapshots.current(d)
    except snapshots.SnapshotDamaged as e:
        report.findings.append(Finding("snapshots", str(e), None))
        return
    if cur is None:
        return
    report.checked["current_version"] = cur.version
    report.checked["current_rows"] = cur.rows
    try:
        referenced = snapshots.referenced_segments(cur)
    except (OSError, pa.ArrowException) as e:
        report.findings.append(Finding(cur.jobs_path.name, f"its desc_file column cannot be read ({e})", None))
        return
    report.checked["segments"] = len(referenced)
    waiting = 0  # jobs on a segment doctor restored without descriptions: the sync writes them again
    for name in sorted(referenced):
        try:
            snapshots.parquet_rows(d / name)
            if snapshots.restored_without_descriptions(d / name):
                waiting += _pointing(cur, name)
        except snapshots.SnapshotDamaged as e:
            report.findings.append(
                Finding(
                    name,
                    f"description segment: {e}; the {_pointing(cur, name):,} jobs that point at it cannot show"
                    " their description",
                    "restore_segment",
                )
            )
    if waiting:
        report.checked["descriptions_awaiting_sync"] = waiting


def _pointing(cur: snapshots.Snapshot, name: str) -> int:
    """How many of the snapshot's jobs keep their description in segment ``name``."""
    return int(pq.read_table(cur.jobs_path, columns=["desc_file"], filters=[("desc_file", "=", name)]).num_rows)


def _repoint(settings: Settings) -> str:
    d = settings.snapshots_dir
    snap = snapshots.current(d)
    if snap is None:
        return "no snapshot to point at"
    if snap.fallback is None:
        return f"CURRENT already names a valid snapshot (v{snap.version})"
    snapshots.repoint(d, snap)
    return f"CURRENT now names v{snap.version} ({snap.rows:,} jobs)"


def _move_damaged(settings: Settings) -> str:
    d = settings.snapshots_dir
    cur = snapshots.current(d)
    moved = []
    for v in snapshots.versions(d):
        path = d / snapshots.jobs_name(v)
        if cur is not None and v == cur.version:
            continue
        try:
            snapshots.parquet_rows(path)
        except snapshots.SnapshotDamaged:
            aside = d / "damaged"
            aside.mkdir(exist_ok=True)
            path.replace(aside / path.name)
            moved.append(path.name)
    return f"moved {', '.join(moved)} to snapshots/damaged/" if moved else "nothing to move"


def _cleanup(settings: Settings) -> str:
    d = settings.snapshots_dir
    cur = snapshots.current(d)
    published = snapshots.published_versions(d)
    removed = []
    for v in snapshots.versions(d):
        if published is not None and v not in published and (cur is None or v != cur.version):
            for name in (snapshots.jobs_name(v), snapshots.desc_name(v)):
                if (d / name).exists():
                    (d / name).unlink()
                    removed.append(name)
    for p in d.iterdir():
        if _TMP.match(p.name):
            p.unlink()
            removed.append(p.name)
    return f"removed {', '.join(removed)}" if removed else "nothing to remove"


def _restore_segment(settings: Settings) -> str:
    """Rewrite the damaged segments the current snapshot points at from the jobs file: job ids, content
    hashes, titles and companies, in the segment's layout, with no descriptions (no other copy of them is
    kept: the search index stores none). The damaged file is kept in ``snapshots/damaged/``. The rewritten
    segment is marked (``snapshots.RESTORED_KEY``), so the next sync that sees those postings writes their
    descriptions again; until then those jobs show none. The search index keeps their documents (it
    still finds them by the words of the lost descriptions)."""
    d = settings.snapshots_dir
    cur = snapshots.current(d)
    if cur is None:
        return "no snapshot"
    done = []
    con = duckdb.connect(":memory:")
    try:
        for name in sorted(snapshots.referenced_segments(cur)):
            try:
                snapshots.parquet_rows(d / name)
                continue
            except snapshots.SnapshotDamaged:
                pass
            rows = _rows_without_descriptions(con, cur, name)
            aside = d / "damaged"
            aside.mkdir(exist_ok=True)
            if (d / name).exists():
                (d / name).replace(aside / name)
            tmp = d / f".{name}.tmp"
            pq.write_table(rows, tmp, compression="zstd", row_group_size=snapshots.DESC_ROW_GROUP_ROWS)
            snapshots.fsync_replace(tmp, d / name)
            done.append(f"{name} ({rows.num_rows:,} jobs)")
    finally:
        con.close()
    if not done:
        return "nothing to rewrite"
    return (
        "rewrote " + ", ".join(done) + " from the jobs file, without their descriptions (no copy of them is left);"
        " the next sync writes each one again when its source sends the posting"
    )


def _rows_without_descriptions(con: duckdb.DuckDBPyConnection, cur: snapshots.Snapshot, name: str) -> pa.Table:
    rows: pa.Table = con.sql(
        "SELECT job_id, content_hash, title, company, NULL::VARCHAR AS description FROM read_parquet($p)"
        " WHERE desc_file = $n ORDER BY job_id",
        params={"p": str(cur.jobs_path), "n": name},
    ).to_arrow_table()
    return rows.replace_schema_metadata({snapshots.RESTORED_KEY: b"without descriptions"})


# --- jobdash.sqlite --------------------------------------------------------------------------------------


def _check_userdata(settings: Settings, report: Report, holding_lock: bool = False) -> None:
    path = settings.db_path
    if not path.exists():
        return
    newest = backup.backups(settings.data_dir)
    hint = (
        f"restore it with `python -m core userdata import {newest[-1]}` after moving the damaged file aside"
        if newest
        else "no backup exists yet; move the file aside to start empty (the catalog is re-fetched, user data is lost)"
    )
    try:
        with db.opened(path) as conn:
            bad = [str(r[0]) for r in conn.execute("PRAGMA quick_check").fetchall() if str(r[0]) != "ok"]
    except StorageError as e:
        report.findings.append(Finding(path.name, f"{e}; {hint}", None))
        return
    if bad:
        report.findings.append(Finding(path.name, f"damaged: {'; '.join(bad[:3])}; {hint}", None))
        return
    report.checked["backups"] = len(newest)
    try:
        log = RunLog(path)
        try:
            if holding_lock:  # no sync can be running: every run still marked running was killed
                stuck = [dict(r) for r in log.conn.execute("SELECT id FROM runs WHERE status = 'running'").fetchall()]
            else:
                stuck = [] if lock.is_locked(settings.lock_path) else log.stuck()
        finally:
            log.close()
    except StorageError as e:
        report.findings.append(Finding(path.name, str(e), None))
        return
    if stuck:
        ids = ", ".join(f"#{r['id']}" for r in stuck)
        report.findings.append(Finding("runs", f"run(s) {ids} still say running, but their process is gone", "reap"))


def _reap(settings: Settings) -> str:
    log = RunLog(settings.db_path)
    try:
        n = log.reap(lock_held=True)  # repair() holds the sync lock
    finally:
        log.close()
    return f"marked {n} run(s) killed"


# --- search.sqlite ---------------------------------------------------------------------------------------


def _check_index(settings: Settings, report: Report) -> None:
    from core.search import FTS_ID_SQL, DescriptionIndex

    path = settings.search_path
    try:
        cur = snapshots.current(settings.snapshots_dir)
    except snapshots.SnapshotDamaged:
        return  # reported with the snapshots
    if cur is None:
        return
    if not path.exists():
        report.findings.append(Finding(path.name, "the search index is missing", "rebuild_index"))
        return
    try:
        with DescriptionIndex(path) as index:
            problems = index.problems()
            if problems:
                report.findings.append(
                    Finding(path.name, "the search index is damaged: " + "; ".join(problems[:3]), "rebuild_index")
                )
                return
            ids = index.fts_ids()
    except StorageError as e:
        report.findings.append(Finding(path.name, f"the search index cannot be read: {e.detail or e}", "rebuild_index"))
        return
    con = duckdb.connect(":memory:")
    try:
        con.register("idx", pa.table({"id": ids}))
        con.execute(
            f"CREATE TABLE want AS SELECT {FTS_ID_SQL} AS id FROM read_parquet(?) WHERE desc_file IS NOT NULL",  # noqa: S608
            [str(cur.jobs_path)],
        )
        want = int(con.execute("SELECT count(*) FROM want").fetchall()[0][0])
        extra = int(con.execute("SELECT count(*) FROM idx ANTI JOIN want USING (id)").fetchall()[0][0])
        missing = int(con.execute("SELECT count(*) FROM want ANTI JOIN idx USING (id)").fetchall()[0][0])
    finally:
        con.close()
    report.checked["index_documents"] = len(ids)
    report.checked["catalog_descriptions"] = want
    if extra or missing:
        report.findings.append(
            Finding(
                path.name,
                f"the search index has {len(ids):,} documents for {want:,} descriptions in the catalog"
                f" ({missing:,} missing, {extra:,} of jobs no longer there): description searches answer wrong counts",
                "rebuild_index",
            )
        )


def _rebuild_index(settings: Settings) -> str:
    from core.search import DescriptionIndex
    from core.sync import _index_descriptions, _move_aside

    notes: list[str] = []
    try:
        with DescriptionIndex(settings.search_path) as index:
            bad = index.problems()
    except StorageError as e:
        bad = [str(e)]
    if bad and settings.search_path.exists():
        aside = _move_aside(settings.search_path)
        notes.append(f"moved the damaged index to {aside.name}")
    notes += _index_descriptions(settings, [])
    with DescriptionIndex(settings.search_path) as index:
        n = index.count()
    return "; ".join([*notes, f"rebuilt from the segments: {n:,} documents"])


_REPAIRS = {
    "repoint": _repoint,
    "move_damaged": _move_damaged,
    "cleanup": _cleanup,
    "restore_segment": _restore_segment,
    "reap": _reap,
    "rebuild_index": _rebuild_index,
}


def render(report: Report) -> str:
    lines: list[str] = []
    if report.healthy:
        c = report.checked
        lines.append(
            "healthy: "
            + ", ".join(
                f"{k.replace('_', ' ')} {v:,}" if isinstance(v, int) else f"{k} {v}"
                for k, v in c.items()
                if k != "after_repair"
            )
        )
        return "\n".join(lines)
    for f in report.findings:
        mark = "repaired" if f.repaired else ("problem" if not report.repaired or f.repair is None else "not repaired")
        lines.append(f"{mark}: {f.what}: {f.problem}")
        if f.result:
            lines.append(f"  → {f.result}")
        elif not report.repaired and f.repair is not None:
            lines.append("  → `python -m core doctor --repair` fixes this")
    open_n = len(report.open_problems)
    lines.append(f"{open_n} problem(s) left" if open_n else "every problem found was repaired")
    return "\n".join(lines)
