"""Workday candidate-experience (CXS) API of a ``*.myworkdayjobs.com`` career site.

The list is a POST paged by offset/limit (``total`` is reliable on the first page only); the
description, time type and start date come from one detail GET per posting, bounded by
``max_details``. A failing later list page keeps what was fetched and marks the result partial; a
failing detail keeps the posting without its description and says so in the warnings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import urlsplit

from core.errors import ConfigError, SourceError
from core.sources.base import FetchContext, Fetched, SourceConfig, optional
from core.sources.http import (
    JsonClient,
    http_options,
    items,
    mapping,
    objects,
    raw_table,
    text,
    title_case_token,
    token,
    validate_http_options,
)

PAGE_SIZE = 20  # what the CXS endpoint accepts
MAX_PAGES = 500
DEFAULT_MAX_DETAILS = 500
COLUMNS = (
    "source", "native_id", "url", "apply_url", "title", "company", "location", "country", "employment_type",
    "posted_at", "description",
)  # fmt: skip
OWN_KEYS = ("tenant", "site", "host", "url", "company", "max_details")
_HOST = re.compile(r"^wd\d+$")
_SITE_URL = re.compile(r"^https://([a-z0-9-]+)\.(wd\d+)\.myworkdayjobs\.com/(?:[a-z]{2}-[A-Z]{2}/)?([^/?#]+)")


def parse_site_url(url: str) -> tuple[str, str, str] | None:
    """'https://acme.wd5.myworkdayjobs.com/en-US/Careers/...' → ('acme', 'wd5', 'Careers')."""
    m = _SITE_URL.match(url.strip())
    return (m.group(1), m.group(2), m.group(3)) if m else None


def _site(options: Mapping[str, Any]) -> tuple[str, str, str]:
    if "url" in options:
        parsed = parse_site_url(str(options["url"]))
        assert parsed is not None  # validated at load time
        return parsed
    return options["tenant"], options.get("host", "wd1"), options["site"]


class WorkdaySource:
    kind: ClassVar[str] = "workday"

    def __init__(self, config: SourceConfig) -> None:
        self.config = config
        o = config.options
        self.tenant, self.host, self.site = _site(o)
        self.company: str = o.get("company") or title_case_token(self.tenant)
        self.max_details: int = o.get("max_details", DEFAULT_MAX_DETAILS)
        self.public = f"https://{self.tenant}.{self.host}.myworkdayjobs.com"
        self.http = http_options(config, self.public)
        self.api = f"/wday/cxs/{self.tenant}/{self.site}"
        self.label = f"workday site '{self.tenant}/{self.site}'"

    @classmethod
    def validate(cls, options: Mapping[str, Any], where: str) -> None:
        if "url" in options:
            url = optional(options, "url", where, str, None)
            if parse_site_url(url) is None:
                raise ConfigError(
                    f"{where}url: expected a career site URL such as "
                    f"https://acme.wd5.myworkdayjobs.com/Careers, got {url!r}"
                )
            for key in ("tenant", "site", "host"):
                if key in options:
                    raise ConfigError(f"{where}{key}: give either url or tenant/site/host, not both")
        else:
            token(options, "tenant", where)
            token(options, "site", where)
            host = optional(options, "host", where, str, "wd1")
            if not _HOST.match(host):
                raise ConfigError(f"{where}host: expected the wdN part of the host name such as 'wd5', got {host!r}")
        optional(options, "company", where, str, None)
        n = optional(options, "max_details", where, int, DEFAULT_MAX_DETAILS)
        if n < 0:
            raise ConfigError(f"{where}max_details: expected a whole number >= 0, got {n!r}")
        validate_http_options(options, where, OWN_KEYS)

    def fetch(self, ctx: FetchContext) -> Fetched:
        postings: list[Mapping[str, Any]] = []
        seen: set[str] = set()
        warnings: list[str] = []
        partial: str | None = None
        total: int | None = None
        with JsonClient(self.http, self.label, not_found="site not found", ctx=ctx) as client:
            for page in range(MAX_PAGES):
                if page:
                    client.pause()
                ctx.progress(0.0, f"{self.label}: page {page + 1} ({len(postings)} postings so far)")
                body = {"limit": PAGE_SIZE, "offset": page * PAGE_SIZE, "searchText": "", "appliedFacets": {}}
                try:
                    payload = client.post_json(f"{self.api}/jobs", body)
                    found = objects(payload, "jobPostings", self.label)
                except SourceError as e:
                    if not postings:
                        raise
                    partial = f"page {page + 1} failed after {len(postings)} postings: {e}"
                    break
                if total is None and isinstance(payload.get("total"), int):
                    total = payload["total"]
                fresh = []
                for p in found:
                    path = text(p.get("externalPath"))
                    if path is None:
                        warnings.append(f"skipped a posting without externalPath: {text(p.get('title')) or p}")
                    elif path not in seen:
                        seen.add(path)
                        fresh.append(p)
                postings.extend(fresh)
                if len(found) < PAGE_SIZE or not fresh or (total is not None and (page + 1) * PAGE_SIZE >= total):
                    break
            else:
                partial = f"stopped after {MAX_PAGES} pages ({len(postings)} postings)"
            paths = [f"{self.api}{p['externalPath']}" for p in postings]
            details = client.details(paths, self.max_details, ctx.progress, warnings)
            rows = [
                self._row(p, mapping(d.get("jobPostingInfo")), mapping(d.get("hiringOrganization")))
                for p, d in zip(postings, details, strict=True)
            ]
        ctx.progress(1.0, f"{len(rows)} postings from {self.label}")
        return Fetched(raw_table(rows, COLUMNS), partial=partial, warnings=tuple(warnings))

    def _row(self, p: Mapping[str, Any], info: Mapping[str, Any], org: Mapping[str, Any]) -> dict[str, Any]:
        path = text(p.get("externalPath")) or ""
        req_id = text(info.get("jobReqId")) or next((text(b) for b in items(p.get("bulletFields")) if text(b)), None)
        url = text(info.get("externalUrl"))
        if url is None or urlsplit(url).scheme != "https":
            url = f"{self.public}/{self.site}{path}"
        places = [text(info.get("location"))] + [text(x) for x in items(info.get("additionalLocations"))]
        location = "; ".join(x for x in places if x) or text(p.get("locationsText"))
        country = mapping(mapping(info.get("jobRequisitionLocation")).get("country"))
        return {
            "source": self.config.name,
            "native_id": f"{self.tenant}/{self.site}:{req_id or path}",
            "url": url,
            "apply_url": f"{url}/apply" if url else None,
            "title": text(info.get("title")) or text(p.get("title")),
            "company": self.config.options.get("company") or text(org.get("name")) or self.company,
            "location": location,
            "country": text(country.get("alpha2Code")) or text(mapping(info.get("country")).get("descriptor")),
            "employment_type": text(info.get("timeType")) or text(p.get("timeType")),
            # startDate is a date; postedOn ("Posted 3 Days Ago") is relative to the run's clock.
            "posted_at": text(info.get("startDate")) or text(info.get("postedOn")) or text(p.get("postedOn")),
            "description": text(info.get("jobDescription")),
        }
