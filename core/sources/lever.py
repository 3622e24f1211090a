"""Lever postings API, paged with skip/limit until a page comes back short.

A page that fails after earlier pages succeeded keeps what was fetched and marks the result
partial, so the sync upserts those postings but delists nothing of this source.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from core.errors import ConfigError, SourceError
from core.sources.base import FetchContext, Fetched, SourceConfig, optional
from core.sources.http import (
    JsonClient,
    http_options,
    items,
    join_locations,
    mapping,
    number,
    object_list,
    raw_table,
    text,
    title_case_token,
    validate_board,
)

BASE_URLS = {"global": "https://api.lever.co", "eu": "https://api.eu.lever.co"}
DEFAULT_PAGE_SIZE = 100
MAX_PAGES = 1000  # a server that ignores skip would otherwise be paged forever
COLUMNS = (
    "source", "native_id", "url", "apply_url", "title", "company", "location", "locations", "country", "is_remote",
    "workplace_type", "employment_type", "department", "salary_min", "salary_max", "salary_currency",
    "salary_period", "salary_text", "posted_at", "description",
)  # fmt: skip

SALARY_PERIODS = {
    "per-year-salary": "year",
    "per-month-salary": "month",
    "per-week-salary": "week",
    "per-day-wage": "day",
    "per-hour-wage": "hour",
}
WORKPLACES = {"remote": "remote", "hybrid": "hybrid", "on-site": "onsite", "onsite": "onsite"}


def _description_html(posting: Mapping[str, Any]) -> str | None:
    """Lever splits a posting into an opening, titled lists of <li> items and a closing; join them."""
    parts = [text(posting.get("description")) or text(posting.get("descriptionPlain"))]
    for entry in items(posting.get("lists")):
        heading, content = text(mapping(entry).get("text")), text(mapping(entry).get("content"))
        if heading:
            parts.append(f"<h3>{heading}</h3>")
        if content:
            parts.append(f"<ul>{content}</ul>")
    parts.append(text(posting.get("additional")) or text(posting.get("additionalPlain")))
    html = "\n".join(p for p in parts if p)
    return html or None


class LeverSource:
    kind: ClassVar[str] = "lever"

    def __init__(self, config: SourceConfig) -> None:
        self.config = config
        o = config.options
        self.site: str = o["site"]
        self.company: str = o.get("company") or title_case_token(self.site)
        self.page_size: int = o.get("page_size", DEFAULT_PAGE_SIZE)
        self.http = http_options(config, BASE_URLS[o.get("region", "global")])
        self.label = f"lever site {self.site!r}"

    @classmethod
    def validate(cls, options: Mapping[str, Any], where: str) -> None:
        region = optional(options, "region", where, str, "global")
        if region not in BASE_URLS:
            raise ConfigError(f"{where}region: expected one of {', '.join(BASE_URLS)}, got {region!r}")
        size = optional(options, "page_size", where, int, DEFAULT_PAGE_SIZE)
        if not 1 <= size <= 1000:
            raise ConfigError(f"{where}page_size: expected 1..1000, got {size!r}")
        validate_board(options, where, "site", extra=("region", "page_size"))

    def fetch(self, ctx: FetchContext) -> Fetched:
        rows: list[dict[str, Any]] = []
        seen: set[str] = set()
        partial: str | None = None
        with JsonClient(self.http, self.label, not_found="site not found", ctx=ctx) as client:
            for page in range(MAX_PAGES):
                if page:
                    client.pause()
                ctx.progress(0.0, f"{self.label}: page {page + 1} ({len(rows)} postings so far)")
                params: dict[str, str | int] = {"mode": "json", "skip": page * self.page_size, "limit": self.page_size}
                try:
                    payload = client.get_json(f"/v0/postings/{self.site}", params)
                    postings = object_list(payload, "postings", self.label)
                except SourceError as e:
                    if not rows:
                        raise
                    partial = f"page {page + 1} failed after {len(rows)} postings: {e}"
                    break
                fresh = [p for p in postings if self._key(p) not in seen]
                seen.update(self._key(p) for p in fresh)
                rows.extend(self._row(p) for p in fresh)
                if len(postings) < self.page_size or not fresh:
                    break
            else:
                partial = f"stopped after {MAX_PAGES} pages ({len(rows)} postings)"
        ctx.progress(1.0, f"{len(rows)} postings from {self.label}")
        return Fetched(raw_table(rows, COLUMNS), partial=partial)

    @staticmethod
    def _key(posting: Mapping[str, Any]) -> str:
        return text(posting.get("id")) or text(posting.get("hostedUrl")) or repr(sorted(posting.items()))

    def _row(self, p: Mapping[str, Any]) -> dict[str, Any]:
        categories = mapping(p.get("categories"))
        salary = mapping(p.get("salaryRange"))
        interval = text(salary.get("interval"))
        workplace = WORKPLACES.get((text(p.get("workplaceType")) or "").lower())
        posting_id = text(p.get("id"))
        return {
            "source": self.config.name,
            "native_id": f"{self.site}:{posting_id}" if posting_id else None,
            "url": text(p.get("hostedUrl")),
            "apply_url": text(p.get("applyUrl")),
            "title": text(p.get("text")),
            "company": self.company,
            "location": text(categories.get("location")),
            "locations": join_locations(text(categories.get("location")), items(categories.get("allLocations"))),
            "country": text(p.get("country")),
            "is_remote": workplace == "remote" if workplace else None,
            "workplace_type": workplace,
            "employment_type": text(categories.get("commitment")),
            "department": text(categories.get("department")) or text(categories.get("team")),
            "salary_min": number(salary.get("min")),
            "salary_max": number(salary.get("max")),
            "salary_currency": text(salary.get("currency")),
            "salary_period": SALARY_PERIODS.get(interval, interval) if interval else None,
            "salary_text": text(p.get("salaryDescriptionPlain")),
            "posted_at": text(p.get("createdAt")),
            "description": _description_html(p),
        }
