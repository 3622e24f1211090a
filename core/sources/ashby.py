"""Ashby public job posting API: one request returns a board's jobs, with compensation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from core.sources.base import FetchContext, Fetched, SourceConfig
from core.sources.http import (
    JsonClient,
    flag,
    http_options,
    items,
    join_locations,
    mapping,
    number,
    objects,
    raw_table,
    text,
    title_case_token,
    validate_board,
)

DEFAULT_BASE_URL = "https://api.ashbyhq.com"
COLUMNS = (
    "source", "native_id", "url", "apply_url", "title", "company", "location", "locations", "country", "is_remote",
    "workplace_type", "employment_type", "department", "salary_min", "salary_max", "salary_currency",
    "salary_period", "salary_text", "posted_at", "description",
)  # fmt: skip

EMPLOYMENT_TYPES = {
    "FullTime": "full_time",
    "PartTime": "part_time",
    "Intern": "internship",
    "Contract": "contract",
    "Temporary": "temporary",
}
WORKPLACES = {"remote": "remote", "hybrid": "hybrid", "onsite": "onsite", "on-site": "onsite", "inoffice": "onsite"}
SALARY_PERIODS = {"1 YEAR": "year", "1 MONTH": "month", "1 WEEK": "week", "1 DAY": "day", "1 HOUR": "hour"}


def _salary(compensation: Mapping[str, Any]) -> dict[str, Any]:
    """The first salary component (equity and bonus components are left to the summary text)."""
    for part in items(compensation.get("summaryComponents")):
        part = mapping(part)
        if text(part.get("compensationType")) == "Salary":
            interval = text(part.get("interval"))
            return {
                "salary_min": number(part.get("minValue")),
                "salary_max": number(part.get("maxValue")),
                "salary_currency": text(part.get("currencyCode")),
                "salary_period": SALARY_PERIODS.get(interval, interval) if interval else None,
            }
    return {}


class AshbySource:
    kind: ClassVar[str] = "ashby"

    def __init__(self, config: SourceConfig) -> None:
        self.config = config
        self.board: str = config.options["board"]
        self.company: str = config.options.get("company") or title_case_token(self.board)
        self.http = http_options(config, DEFAULT_BASE_URL)
        self.label = f"ashby board {self.board!r}"

    @classmethod
    def validate(cls, options: Mapping[str, Any], where: str) -> None:
        validate_board(options, where, "board")

    def fetch(self, ctx: FetchContext) -> Fetched:
        ctx.progress(0.0, f"fetching {self.label}")
        with JsonClient(self.http, self.label, not_found="board not found", ctx=ctx) as client:
            payload = client.get_json(f"/posting-api/job-board/{self.board}", {"includeCompensation": "true"})
        jobs = objects(payload, "jobs", self.label)
        # Unlisted jobs are reachable by link only; the board does not advertise them.
        rows = [self._row(job) for job in jobs if job.get("isListed") is not False]
        ctx.progress(1.0, f"{len(rows)} postings from {self.label}")
        return Fetched(raw_table(rows, COLUMNS))

    def _row(self, job: Mapping[str, Any]) -> dict[str, Any]:
        native = text(job.get("id")) or text(job.get("jobUrl"))
        workplace = WORKPLACES.get((text(job.get("workplaceType")) or "").lower().replace("_", ""))
        is_remote = flag(job.get("isRemote"))
        compensation = mapping(job.get("compensation"))
        employment = text(job.get("employmentType"))
        location = text(job.get("location"))
        secondary = [
            text(mapping(x).get("location")) if isinstance(x, Mapping) else text(x)
            for x in items(job.get("secondaryLocations"))
        ]
        postal = mapping(mapping(job.get("address")).get("postalAddress"))
        return {
            "source": self.config.name,
            "native_id": f"{self.board}:{native}" if native else None,
            "url": text(job.get("jobUrl")),
            "apply_url": text(job.get("applyUrl")),
            "title": text(job.get("title")),
            "company": self.company,
            "location": location,
            "locations": join_locations(location, secondary),
            # The job's postal address names its country (also for a remote job: where it may be done).
            "country": text(postal.get("addressCountry")),
            # workplaceType is the board's own answer; isRemote is also true for hybrid jobs.
            "is_remote": (workplace == "remote") if workplace else is_remote,
            "workplace_type": workplace or ("remote" if is_remote else None),
            "employment_type": EMPLOYMENT_TYPES.get(employment, employment) if employment else None,
            "department": text(job.get("department")) or text(job.get("team")),
            **_salary(compensation),
            "salary_text": text(compensation.get("compensationTierSummary"))
            or text(compensation.get("scrapeableCompensationSalarySummary")),
            "posted_at": text(job.get("publishedAt")),
            "description": text(job.get("descriptionHtml")) or text(job.get("descriptionPlain")),
        }
