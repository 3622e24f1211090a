"""RemoteOK public API: a JSON array whose first element is a legal notice, then the jobs.

Every RemoteOK job is remote; its salary fields are US dollars (0 means not given) with no period:
normalization infers it from the figures ("25–27" is hourly, "120000" yearly), never a fixed "year".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from core.sources.base import FetchContext, Fetched, SourceConfig
from core.sources.http import (
    JsonClient,
    http_options,
    number,
    object_list,
    raw_table,
    text,
    validate_http_options,
)

DEFAULT_BASE_URL = "https://remoteok.com"
COLUMNS = (
    "source", "native_id", "url", "apply_url", "title", "company", "location", "is_remote", "workplace_type",
    "salary_min", "salary_max", "salary_currency", "salary_period", "posted_at", "description",
)  # fmt: skip


def _salary(value: Any) -> float | None:
    amount = number(value)
    return amount if amount else None  # 0 stands for "not given"


class RemoteOkSource:
    kind: ClassVar[str] = "remoteok"

    def __init__(self, config: SourceConfig) -> None:
        self.config = config
        self.http = http_options(config, DEFAULT_BASE_URL)
        self.label = "remoteok"

    @classmethod
    def validate(cls, options: Mapping[str, Any], where: str) -> None:
        validate_http_options(options, where, ())

    def fetch(self, ctx: FetchContext) -> Fetched:
        ctx.progress(0.0, "fetching remoteok")
        with JsonClient(self.http, self.label, ctx=ctx) as client:
            payload = client.get_json("/api")
        entries = object_list(payload, "jobs", self.label)
        # The legal notice has no job id; it is the first element today, but check rather than count.
        jobs = [e for e in entries if not ("legal" in e and "id" not in e)]
        rows = [self._row(job) for job in jobs]
        ctx.progress(1.0, f"{len(rows)} postings from remoteok")
        return Fetched(raw_table(rows, COLUMNS))

    def _row(self, job: Mapping[str, Any]) -> dict[str, Any]:
        low, high = _salary(job.get("salary_min")), _salary(job.get("salary_max"))
        has_salary = low is not None or high is not None
        epoch = number(job.get("epoch"))
        return {
            "source": self.config.name,
            "native_id": text(job.get("id")),
            "url": text(job.get("url")),
            "apply_url": text(job.get("apply_url")),
            "title": text(job.get("position")),
            "company": text(job.get("company")),
            "location": text(job.get("location")),
            "is_remote": True,
            "workplace_type": "remote",
            "salary_min": low,
            "salary_max": high,
            "salary_currency": "USD" if has_salary else None,
            "salary_period": None,  # not given by the feed: inferred from the amounts
            "posted_at": text(job.get("date")) or (str(int(epoch * 1000)) if epoch else None),
            "description": text(job.get("description")),
        }
