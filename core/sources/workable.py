"""Workable careers widget: ``apply.workable.com/api/v1/widget/accounts/<account>?details=true``
returns every published job of an account with its description in one response (no paging)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from core.sources.base import FetchContext, Fetched, SourceConfig
from core.sources.http import (
    JsonClient,
    flag,
    http_options,
    items,
    mapping,
    objects,
    raw_table,
    text,
    title_case_token,
    validate_board,
)

DEFAULT_BASE_URL = "https://apply.workable.com"
COLUMNS = (
    "source", "native_id", "url", "apply_url", "title", "company", "location", "city", "region", "country",
    "is_remote", "workplace_type", "employment_type", "department", "posted_at", "description",
)  # fmt: skip


class WorkableSource:
    kind: ClassVar[str] = "workable"

    def __init__(self, config: SourceConfig) -> None:
        self.config = config
        o = config.options
        self.account: str = o["account"]
        self.company: str | None = o.get("company")
        self.http = http_options(config, DEFAULT_BASE_URL)
        self.label = f"workable account {self.account!r}"

    @classmethod
    def validate(cls, options: Mapping[str, Any], where: str) -> None:
        validate_board(options, where, "account")

    def fetch(self, ctx: FetchContext) -> Fetched:
        ctx.progress(0.0, f"fetching {self.label}")
        with JsonClient(self.http, self.label, not_found="account not found", ctx=ctx) as client:
            payload = client.get_json(f"/api/v1/widget/accounts/{self.account}", {"details": "true"})
        jobs = objects(payload, "jobs", self.label)
        name = self.company or text(payload.get("name")) or title_case_token(self.account)
        rows = [self._row(job, name) for job in jobs]
        ctx.progress(1.0, f"{len(rows)} postings from {self.label}")
        return Fetched(raw_table(rows, COLUMNS))

    def _row(self, job: Mapping[str, Any], company: str) -> dict[str, Any]:
        places = [mapping(x) for x in items(job.get("locations")) if mapping(x).get("hidden") is not True]
        first = places[0] if places else {}
        city = text(first.get("city")) or text(job.get("city"))
        region = text(first.get("region")) or text(job.get("state"))
        country = text(first.get("country")) or text(job.get("country"))
        labels = [", ".join(x for x in (city, region, country) if x)]
        labels += [", ".join(x for x in (text(p.get("city")), text(p.get("country"))) if x) for p in places[1:]]
        remote = flag(job.get("telecommuting"))
        shortcode = text(job.get("shortcode"))
        return {
            "source": self.config.name,
            "native_id": f"{self.account}:{shortcode or text(job.get('url'))}",
            "url": text(job.get("url")) or text(job.get("shortlink")),
            "apply_url": text(job.get("application_url")),
            "title": text(job.get("title")),
            "company": company,
            "location": "; ".join(x for x in labels if x) or None,
            "city": city,
            "region": region,
            "country": text(first.get("countryCode")) or country,
            "is_remote": remote,
            # telecommuting false says only "not fully remote": hybrid and on-site are not told apart.
            "workplace_type": "remote" if remote else None,
            "employment_type": text(job.get("employment_type")),
            "department": text(job.get("department")),
            "posted_at": text(job.get("published_on")) or text(job.get("created_at")),
            "description": text(job.get("description")),
        }
