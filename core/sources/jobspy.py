"""Job boards (Indeed, LinkedIn, Glassdoor, ZipRecruiter, Google) through the python-jobspy library.

The library and its dependencies are an optional extra (requirements-jobspy.txt): configuration
validates without it, and a fetch without it fails with the install command as its reason.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any, ClassVar

import pandas as pd
import pyarrow as pa

from core.errors import ConfigError, SourceError
from core.sources.base import FetchContext, Fetched, SourceConfig, optional, require
from core.sources.http import number, raw_table, text

SITES = ("indeed", "linkedin", "glassdoor", "zip_recruiter", "google")
OPTION_KEYS = ("sites", "search", "location", "results", "hours_old", "remote", "country")
NOT_INSTALLED = "python-jobspy is not installed: pip install -r requirements-jobspy.txt"
COLUMNS = (
    "source", "native_id", "url", "apply_url", "title", "company", "location", "is_remote",
    "employment_type", "seniority", "department", "salary_min", "salary_max", "salary_currency",
    "salary_period", "posted_at", "description",
)  # fmt: skip

SALARY_PERIODS = {"yearly": "year", "monthly": "month", "weekly": "week", "daily": "day", "hourly": "hour"}
EMPLOYMENT_TYPES = {
    "fulltime": "full_time",
    "parttime": "part_time",
    "internship": "internship",
    "contract": "contract",
    "temporary": "temporary",
}


def _clean(value: Any) -> Any:
    """None for the frame's missing markers (None, NaN, NaT, pd.NA); the value otherwise."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _date_text(value: Any) -> str | None:
    value = _clean(value)
    if isinstance(value, dt.date | dt.datetime | pd.Timestamp):
        return value.isoformat()
    return text(value)


def _employment(value: Any) -> str | None:
    """JobSpy joins several types with ", "; the first known one is the posting's type."""
    raw = text(_clean(value))
    if raw is None:
        return None
    for part in raw.split(","):
        if part.strip().lower() in EMPLOYMENT_TYPES:
            return EMPLOYMENT_TYPES[part.strip().lower()]
    return raw


def _row(record: Mapping[str, Any], source_name: str) -> dict[str, Any]:
    def get(key: str) -> Any:
        return _clean(record.get(key))

    site, native = text(get("site")), text(get("id")) or text(get("job_url"))
    interval = text(get("interval"))
    remote = get("is_remote")
    return {
        "source": source_name,
        "native_id": f"{site}:{native}" if site and native else native,
        "url": text(get("job_url")),
        "apply_url": text(get("job_url_direct")),
        "title": text(get("title")),
        "company": text(get("company")),
        "location": text(get("location")),
        "is_remote": bool(remote) if isinstance(remote, bool | int) else None,
        "employment_type": _employment(get("job_type")),
        "seniority": text(get("job_level")),
        "department": text(get("job_function")),
        "salary_min": number(get("min_amount")),
        "salary_max": number(get("max_amount")),
        "salary_currency": text(get("currency")),
        "salary_period": SALARY_PERIODS.get(interval.lower(), interval) if interval else None,
        "posted_at": _date_text(get("date_posted")),
        "description": text(get("description")),
    }


def jobspy_frame_to_table(df: pd.DataFrame, source_name: str) -> pa.Table:
    """JobSpy's DataFrame (one row per posting, columns as the library names them) → raw rows."""
    records = df.astype(object).to_dict(orient="records") if len(df) else []
    return raw_table([_row(r, source_name) for r in records], COLUMNS)


class JobSpySource:
    kind: ClassVar[str] = "jobspy"

    def __init__(self, config: SourceConfig) -> None:
        self.config = config
        o = config.options
        self.sites: tuple[str, ...] = tuple(o["sites"])
        self.search: str = o["search"]
        self.location: str | None = o.get("location")
        self.results: int = o.get("results", 50)
        self.hours_old: int | None = o.get("hours_old")
        self.remote: bool = o.get("remote", False)
        self.country: str = o.get("country", "usa")

    @classmethod
    def validate(cls, options: Mapping[str, Any], where: str) -> None:
        for key in options:
            if key not in OPTION_KEYS:
                raise ConfigError(f"{where}{key}: unknown option (known: {', '.join(sorted(OPTION_KEYS))})")
        sites = require(options, "sites", where, list)
        if not sites:
            raise ConfigError(f"{where}sites: must name at least one of {', '.join(SITES)}")
        for site in sites:
            if site not in SITES:
                raise ConfigError(f"{where}sites: unknown site {site!r} (known: {', '.join(SITES)})")
        if not require(options, "search", where, str).strip():
            raise ConfigError(f"{where}search: must not be empty")
        optional(options, "location", where, str, None)
        optional(options, "country", where, str, "usa")
        optional(options, "remote", where, bool, False)
        for key, default in (("results", 50), ("hours_old", None)):
            value = optional(options, key, where, int, default)
            if value is not None and value < 1:
                raise ConfigError(f"{where}{key}: must be at least 1, got {value!r}")

    def fetch(self, ctx: FetchContext) -> Fetched:
        try:
            from jobspy import scrape_jobs
        except ImportError as e:
            raise SourceError(NOT_INSTALLED) from e
        ctx.progress(0.0, f"scraping {', '.join(self.sites)} for {self.search!r}")
        try:
            df = scrape_jobs(
                site_name=list(self.sites),
                search_term=self.search,
                location=self.location,
                results_wanted=self.results,
                hours_old=self.hours_old,
                is_remote=self.remote,
                country_indeed=self.country,
                description_format="html",  # normalization sanitizes HTML; markdown would stay literal
            )
        except Exception as e:  # the library raises many kinds; all mean this source failed this run
            raise SourceError(f"jobspy {', '.join(self.sites)}: {type(e).__name__}: {e}") from e
        table = jobspy_frame_to_table(df, self.config.name)
        ctx.progress(1.0, f"{table.num_rows} postings from jobspy")
        return Fetched(table)
