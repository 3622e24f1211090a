"""A job with user data never leaves the user's view: after its posting closes it stays in the default view
and the pipeline views (starred, stage, "My pipeline"), marked closed with its date."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.catalog import Catalog
from core.query import JobFilter
from core.settings import Settings
from core.sync import run_sync
from core.userdata import UserData
from tests.conftest import job, static

T0 = datetime(2026, 11, 1, 9, 0)


def ids(cat: Catalog, flt: JobFilter) -> dict[str, object]:
    return {str(r["native_id"]): r["delisted_at"] for r in cat.rows(flt, limit=None)}


def test_closed_jobs_with_user_data_stay_in_pipeline_views(settings: Settings) -> None:
    rows = [job("applied"), job("starred"), job("noted"), job("plain"), job("open")]
    run_sync(settings, now=T0, sources=[static("A", rows)])
    cat = Catalog(settings)
    by_native = {str(r["native_id"]): str(r["job_id"]) for r in cat.rows(JobFilter(), limit=None)}
    users = UserData(settings.db_path)
    users.set(by_native["applied"], stage="applied")
    users.set(by_native["starred"], starred=True)
    users.set(by_native["noted"], notes="recruiter said end of month")
    users.close()

    closed_at = T0 + timedelta(days=2)
    run_sync(settings, now=closed_at, sources=[static("A", [job("open")])])  # four postings close
    cat = Catalog(settings)

    default = ids(cat, JobFilter())
    assert set(default) == {"open", "applied", "starred", "noted"}, "closed without user data is hidden"
    assert default["applied"] == closed_at.isoformat() and default["open"] is None, (
        "kept jobs are marked closed, with the date"
    )
    assert set(ids(cat, JobFilter(starred=True))) == {"starred"}
    assert set(ids(cat, JobFilter(stages=("applied",)))) == {"applied"}
    assert set(ids(cat, JobFilter(pipeline=True))) == {"applied", "starred", "noted"}
    assert set(ids(cat, JobFilter(listing="delisted"))) == {"applied", "starred", "noted", "plain"}
    assert cat.count(JobFilter()) == 4
