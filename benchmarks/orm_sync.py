"""The reference design we measure against: a row-by-row ORM sync on SQLite.

This is how a sync is commonly first written: a SQLAlchemy ``Job`` model with the catalog columns,
every existing row loaded into a dict keyed by ``job_id``, then for each incoming row: hash its content,
compare, insert or update, commit every 50 rows; then every row not seen this run is delisted one by
one, again committing every 50. Session defaults are kept (``expire_on_commit=True``), as such code
usually has them. It gets the same normalized rows as our sync (``core.normalize.normalize`` output),
so normalization is not part of its time while it is part of ours.

At the default sizes this can take many minutes, so ``run`` stops each loop when its share of the time
budget is spent and extrapolates linearly from the rows it did (``extrapolated`` says so); the fixed
cost of loading the existing rows is counted once, as measured.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Session

from core import schema

COMMIT_EVERY = 50
_SA_TYPES: dict[str, Any] = {"VARCHAR": sa.String, "DOUBLE": sa.Float, "BOOLEAN": sa.Boolean, "TIMESTAMP": sa.DateTime}


class Base(DeclarativeBase):
    pass


def _job_model() -> Any:
    cols: dict[str, Any] = {"__tablename__": "jobs"}
    for c in schema.COLUMNS:
        cols[c.name] = sa.Column(c.name, _SA_TYPES[c.sql], primary_key=c.name == "job_id")
    return type("Job", (Base,), cols)


Job = _job_model()
CONTENT = schema.CONTENT_COLUMNS
NORMALIZED = schema.NORMALIZED_COLUMNS


def content_hash(row: Mapping[str, Any]) -> str:
    """md5 over the content fields, as the set-based sync hashes them (unit separator between fields)."""
    text = "\x1f".join("" if row.get(c) is None else str(row[c]) for c in CONTENT)
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def seed(db_path: Path, catalog: pa.Table, now: datetime) -> int:
    """Create the SQLite catalog the ORM sync starts from (bulk insert; not part of the timing)."""
    engine = sa.create_engine(f"sqlite:///{db_path}")
    Base.metadata.create_all(engine)
    rows = []
    for r in catalog.select(list(NORMALIZED)).to_pylist():
        r.update(first_seen_at=now, last_seen_at=now, changed_at=now, delisted_at=None, content_hash=content_hash(r))
        rows.append(r)
    with engine.begin() as conn:
        conn.execute(sa.insert(Job.__table__), rows)
    engine.dispose()
    return len(rows)


def _batches(rows: list[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
    for i in range(0, len(rows), COMMIT_EVERY):
        yield rows[i : i + COMMIT_EVERY]


def run(
    db_path: Path, batch: pa.Table, now: datetime, budget_s: float = 120.0, expire_on_commit: bool = True
) -> dict[str, Any]:
    """Sync ``batch`` (normalized rows) into the seeded catalog the ORM way; return its timings.

    Each of the two loops (incoming rows, then stale rows) may use half of ``budget_s``.
    ``expire_on_commit=False`` is the tuned variant: loaded rows are not reloaded after every commit.
    """
    incoming = batch.select(list(NORMALIZED)).to_pylist()
    engine = sa.create_engine(f"sqlite:///{db_path}")
    counts = {"new": 0, "updated": 0, "unchanged": 0, "delisted": 0}
    try:
        with Session(engine, expire_on_commit=expire_on_commit) as session:
            t0 = time.perf_counter()
            existing: dict[str, Any] = {j.job_id: j for j in session.scalars(sa.select(Job))}
            load_s = time.perf_counter() - t0

            done_in = 0
            t1 = time.perf_counter()
            for chunk in _batches(incoming):
                for row in chunk:
                    h = content_hash(row)
                    job = existing.get(row["job_id"])
                    if job is None:
                        session.add(Job(**row, first_seen_at=now, last_seen_at=now, changed_at=now, content_hash=h))
                        counts["new"] += 1
                    elif job.content_hash != h:
                        for key, value in row.items():
                            setattr(job, key, value)
                        job.content_hash, job.changed_at, job.last_seen_at, job.delisted_at = h, now, now, None
                        counts["updated"] += 1
                    else:
                        job.last_seen_at = now
                        counts["unchanged"] += 1
                session.commit()
                done_in += len(chunk)
                if time.perf_counter() - t1 > budget_s / 2:
                    break
            incoming_s = time.perf_counter() - t1

            # Stale: not in this batch at all (also when the incoming loop stopped early at the budget).
            in_batch = {row["job_id"] for row in incoming}
            stale = [jid for jid in existing if jid not in in_batch]
            done_stale = 0
            t2 = time.perf_counter()
            for i in range(0, len(stale), COMMIT_EVERY):
                for jid in stale[i : i + COMMIT_EVERY]:
                    job = existing[jid]
                    if job.delisted_at is None:
                        job.delisted_at = now
                        counts["delisted"] += 1
                session.commit()
                done_stale += len(stale[i : i + COMMIT_EVERY])
                if time.perf_counter() - t2 > budget_s / 2:
                    break
            stale_s = time.perf_counter() - t2
    finally:
        engine.dispose()

    est_incoming = incoming_s * len(incoming) / done_in if done_in else 0.0
    est_stale = stale_s * len(stale) / done_stale if done_stale else 0.0
    total = load_s + est_incoming + est_stale
    return {
        "expire_on_commit": expire_on_commit,
        "catalog_rows": len(existing),
        "batch_rows": len(incoming),
        "incoming_done": done_in,
        "stale_rows": len(stale),
        "stale_done": done_stale,
        "extrapolated": done_in < len(incoming) or done_stale < len(stale),
        "load_s": round(load_s, 3),
        "incoming_s": round(incoming_s, 3),
        "stale_s": round(stale_s, 3),
        "total_s": round(total, 3),
        "jobs_per_s": round(len(incoming) / total, 2) if total else 0.0,
        "counts": counts,
    }
