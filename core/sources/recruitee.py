"""Recruitee careers-site API: ``https://<company>.recruitee.com/api/offers/`` returns every published
offer with its description in one response (the API has no paging)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from core.sources.base import FetchContext, Fetched, SourceConfig
from core.sources.http import (
    JsonClient,
    flag,
    http_options,
    mapping,
    number,
    objects,
    raw_table,
    text,
    title_case_token,
    validate_board,
)

COLUMNS = (
    "source", "native_id", "url", "apply_url", "title", "company", "location", "city", "country", "is_remote",
    "workplace_type", "employment_type", "department", "salary_min", "salary_max", "salary_currency",
    "salary_period", "posted_at", "description",
)  # fmt: skip
PERIODS = {"hour": "hour", "day": "day", "week": "week", "month": "month", "year": "year"}


class RecruiteeSource:
    kind: ClassVar[str] = "recruitee"

    def __init__(self, config: SourceConfig) -> None:
        self.config = config
        o = config.options
        self.slug: str = o["company"]
        self.company_name: str | None = o.get("company_name")
        self.http = http_options(config, f"https://{self.slug}.recruitee.com")
        self.label = f"recruitee company {self.slug!r}"

    @classmethod
    def validate(cls, options: Mapping[str, Any], where: str) -> None:
        validate_board(options, where, "company", "company_name")

    def fetch(self, ctx: FetchContext) -> Fetched:
        ctx.progress(0.0, f"fetching {self.label}")
        with JsonClient(self.http, self.label, not_found="company not found", ctx=ctx) as client:
            payload = client.get_json("/api/offers/")
        offers = objects(payload, "offers", self.label)
        rows = [self._row(o) for o in offers if text(o.get("status")) in (None, "published")]
        skipped = len(offers) - len(rows)
        warnings = (f"skipped {skipped} offers that are not published",) if skipped else ()
        ctx.progress(1.0, f"{len(rows)} postings from {self.label}")
        return Fetched(raw_table(rows, COLUMNS), warnings=warnings)

    def _row(self, o: Mapping[str, Any]) -> dict[str, Any]:
        remote, hybrid, on_site = flag(o.get("remote")), flag(o.get("hybrid")), flag(o.get("on_site"))
        workplace = "remote" if remote else "hybrid" if hybrid else "onsite" if on_site else None
        salary = mapping(o.get("salary"))
        period = text(salary.get("period"))
        parts = [text(o.get("description")), text(o.get("requirements"))]
        offer_id = text(o.get("id")) or text(o.get("slug"))
        city, country = text(o.get("city")), text(o.get("country"))
        location = text(o.get("location")) or ", ".join(dict.fromkeys(x for x in (city, country) if x)) or None
        return {
            "source": self.config.name,
            "native_id": f"{self.slug}:{offer_id}",
            "url": text(o.get("careers_url")),
            "apply_url": text(o.get("careers_apply_url")),
            "title": text(o.get("title")),
            "company": self.company_name or text(o.get("company_name")) or title_case_token(self.slug),
            "location": location,
            "city": city if city != country else None,  # "Germany" as a city is the board's placeholder
            "country": text(o.get("country_code")) or country,
            "is_remote": remote,
            "workplace_type": workplace,
            "employment_type": text(o.get("employment_type_code")),
            "department": text(o.get("department")),
            "salary_min": number(salary.get("min")),
            "salary_max": number(salary.get("max")),
            "salary_currency": text(salary.get("currency")),
            "salary_period": PERIODS.get(period or ""),
            "posted_at": text(o.get("published_at")) or text(o.get("created_at")),
            "description": "\n".join(p for p in parts if p) or None,
        }
