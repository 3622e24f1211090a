"""Property: over random batches, each distinct valid input row gets exactly one outcome, the counts
add up, and nothing keyed by a job_id in user data is ever purged."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from core import db, snapshots
from core.settings import load_settings
from core.sync import run_sync
from tests.conftest import job, static

T0 = datetime(2026, 1, 1)
ids = st.integers(min_value=0, max_value=30)
batch = st.lists(st.tuples(ids, st.integers(0, 2), st.booleans()), max_size=25)  # (id, content variant, valid)
runs = st.lists(
    st.tuples(batch, st.booleans(), st.integers(0, 45)), min_size=1, max_size=5
)  # (rows, source fails, days later)


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=runs, starred=st.sets(ids, max_size=6))
def test_each_row_one_outcome(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, plan, starred
) -> None:
    d: Path = tmp_path_factory.mktemp("prop")
    monkeypatch.setenv("JOBDASH_DATA_DIR", str(d / "data"))
    cfg = d / "empty.toml"
    cfg.write_text("", encoding="utf-8")
    monkeypatch.setenv("JOBDASH_CONFIG", str(cfg))
    settings = load_settings()
    now = T0
    catalog: dict[str, bool] = {}  # native id → listed, as a plain reference model
    protected: set[str] = set()
    for rows, fails, days in plan:
        now += timedelta(days=days)
        raw = [job(f"n{i}", title=f"Role {v}") if ok else {"native_id": f"n{i}", "title": ""} for i, v, ok in rows]
        result = run_sync(settings, now=now, sources=[static("S", raw, error="down" if fails else None)])
        valid = {f"n{i}" for i, _, ok in rows if ok}
        if fails:
            assert result.status == "failed"
            continue
        c = result.counts
        # Each distinct valid input row has exactly one of these outcomes.
        assert c["new"] + c["updated"] + c["unchanged"] + c["relisted"] == len(valid)
        assert result.rejected == sum(1 for _, _, ok in rows if not ok)
        assert c["new"] == len(valid - catalog.keys())
        assert c["relisted"] == len({n for n in valid if n in catalog and not catalog[n]})
        assert c["delisted"] == len({n for n, listed in catalog.items() if listed and n not in valid})
        for n in valid:
            catalog[n] = True
        for n in list(catalog):
            if n not in valid:
                catalog[n] = False
        snap = snapshots.current(settings.snapshots_dir)
        assert snap is not None
        present = {
            r[0]: r[1] for r in duckdb.sql(f"SELECT native_id, job_id FROM read_parquet('{snap.jobs_path}')").fetchall()
        }
        assert protected <= set(present.values()), "a job with user data was purged"
        for n in list(catalog):
            if n not in present:
                del catalog[n]  # purged: delisted past retention without user data
        assert set(present) == set(catalog)
        # Star some of what is there now: those ids must survive every later run.
        conn = db.connect(settings.db_path)
        with db.tx(conn):
            for i in starred:
                if f"n{i}" in present:
                    conn.execute(
                        "INSERT OR IGNORE INTO user_jobs (job_id, starred, updated_at) VALUES (?, 1, ?)",
                        [present[f"n{i}"], now.isoformat()],
                    )
                    protected.add(present[f"n{i}"])
        conn.close()
