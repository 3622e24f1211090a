"""SmartRecruiters posting API: the list is paged by offset/limit against ``totalFound``; the
description (``jobAd.sections``) and posting URL come from one detail GET per posting, at most
``max_details`` of them and with the polite delay between each.

A failing later list page keeps what was fetched and marks the result partial; a failing detail
keeps the posting without its description and says so in the warnings. An unknown company answers
200 with no postings, so it looks like an empty board.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from core.errors import ConfigError, SourceError
from core.sources.base import FetchContext, Fetched, SourceConfig, optional
from core.sources.http import (
    JsonClient,
    flag,
    http_options,
    mapping,
    objects,
    raw_table,
    text,
    validate_board,
)

DEFAULT_BASE_URL = "https://api.smartrecruiters.com"
DEFAULT_PAGE_SIZE = 100  # the API's maximum
MAX_PAGES = 1000
DEFAULT_MAX_DETAILS = 300
COLUMNS = (
    "source", "native_id", "url", "apply_url", "title", "company", "location", "city", "region", "country",
    "is_remote", "workplace_type", "employment_type", "department", "posted_at", "description",
)  # fmt: skip
SECTIONS = ("jobDescription", "qualifications", "additionalInformation", "companyDescription")


def description_html(detail: Mapping[str, Any]) -> str | None:
    """The job ad's sections, each under its own heading; the company blurb last."""
    sections = mapping(mapping(detail.get("jobAd")).get("sections"))
    parts = []
    for key in SECTIONS:
        section = mapping(sections.get(key))
        body = text(section.get("text"))
        if body:
            heading = text(section.get("title"))
            parts.append(f"<h3>{heading}</h3>\n{body}" if heading else body)
    return "\n".join(parts) or None


class SmartRecruitersSource:
    kind: ClassVar[str] = "smartrecruiters"

    def __init__(self, config: SourceConfig) -> None:
        self.config = config
        o = config.options
        self.company_id: str = o["company"]
        self.company_name: str | None = o.get("company_name")
        self.page_size: int = o.get("page_size", DEFAULT_PAGE_SIZE)
        self.max_details: int = o.get("max_details", DEFAULT_MAX_DETAILS)
        self.http = http_options(config, DEFAULT_BASE_URL)
        self.label = f"smartrecruiters company {self.company_id!r}"

    @classmethod
    def validate(cls, options: Mapping[str, Any], where: str) -> None:
        size = optional(options, "page_size", where, int, DEFAULT_PAGE_SIZE)
        if not 1 <= size <= 100:
            raise ConfigError(f"{where}page_size: expected 1..100, got {size!r}")
        n = optional(options, "max_details", where, int, DEFAULT_MAX_DETAILS)
        if n < 0:
            raise ConfigError(f"{where}max_details: expected a whole number >= 0, got {n!r}")
        validate_board(options, where, "company", "company_name", ("page_size", "max_details"))

    def fetch(self, ctx: FetchContext) -> Fetched:
        postings: list[Mapping[str, Any]] = []
        seen: set[str] = set()
        warnings: list[str] = []
        partial: str | None = None
        path = f"/v1/companies/{self.company_id}/postings"
        with JsonClient(self.http, self.label, not_found="company not found", ctx=ctx) as client:
            for page in range(MAX_PAGES):
                if page:
                    client.pause()
                ctx.progress(0.0, f"{self.label}: page {page + 1} ({len(postings)} postings so far)")
                try:
                    payload = client.get_json(path, {"offset": page * self.page_size, "limit": self.page_size})
                    found = objects(payload, "content", self.label)
                except SourceError as e:
                    if not postings:
                        raise
                    partial = f"page {page + 1} failed after {len(postings)} postings: {e}"
                    break
                fresh = [p for p in found if text(p.get("id")) and text(p.get("id")) not in seen]
                seen.update(str(text(p.get("id"))) for p in fresh)
                postings.extend(fresh)
                total = payload.get("totalFound")
                done = isinstance(total, int) and (page + 1) * self.page_size >= total
                if done or len(found) < self.page_size or not fresh:
                    break
            else:
                partial = f"stopped after {MAX_PAGES} pages ({len(postings)} postings)"
            paths = [f"{path}/{p['id']}" for p in postings]
            details = client.details(paths, self.max_details, ctx.progress, warnings)
            rows = [self._row(p, detail) for p, detail in zip(postings, details, strict=True)]
        ctx.progress(1.0, f"{len(rows)} postings from {self.label}")
        return Fetched(raw_table(rows, COLUMNS), partial=partial, warnings=tuple(warnings))

    def _row(self, p: Mapping[str, Any], detail: Mapping[str, Any]) -> dict[str, Any]:
        loc = mapping(p.get("location"))
        remote, hybrid = flag(loc.get("remote")), flag(loc.get("hybrid"))
        workplace = "remote" if remote else "hybrid" if hybrid else None
        posting_id = text(p.get("id"))
        url = text(detail.get("postingUrl"))
        if url is None and posting_id:
            url = f"https://jobs.smartrecruiters.com/{self.company_id}/{posting_id}"
        country = text(loc.get("country"))
        return {
            "source": self.config.name,
            "native_id": f"{self.company_id}:{posting_id}",
            "url": url,
            "apply_url": text(detail.get("applyUrl")),
            "title": text(p.get("name")),
            "company": self.company_name or text(mapping(p.get("company")).get("name")) or self.company_id,
            "location": text(loc.get("fullLocation")),
            "city": text(loc.get("city")),
            "region": text(loc.get("region")),
            "country": country.upper() if country else None,
            "is_remote": remote,
            "workplace_type": workplace,
            "employment_type": text(mapping(p.get("typeOfEmployment")).get("label")),
            "department": text(mapping(p.get("department")).get("label")),
            "posted_at": text(p.get("releasedDate")),
            "description": description_html(detail),
        }
