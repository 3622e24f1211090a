"""Greenhouse job board API: one request returns every published job of a board, with content.

``content`` is HTML that Greenhouse HTML-escapes once more; it is passed through as it comes
(normalization unescapes and sanitizes it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

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

DEFAULT_BASE_URL = "https://boards-api.greenhouse.io"
COLUMNS = (
    "source", "native_id", "url", "title", "company", "location", "department",
    "employment_type", "salary_text", "posted_at", "description",
)  # fmt: skip

# Custom metadata fields are free-form per company; these names are common enough to be worth reading.
_METADATA_FIELDS = {
    "employment_type": ("employment type", "job type", "employment"),
    "salary_text": ("salary", "compensation", "pay range", "salary range"),
}


def _metadata_value(value: Any) -> str | None:
    """Metadata values are text, numbers, lists of text, or currency objects ({unit, amount})."""
    if isinstance(value, list):
        parts = [t for t in (text(v) for v in value) if t]
        return ", ".join(parts) or None
    if isinstance(value, dict):
        parts = [t for t in (text(value.get("unit")), text(value.get("amount"))) if t]
        return " ".join(parts) or None
    return text(value)


def _from_metadata(metadata: list[Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for entry in metadata:
        name = (text(mapping(entry).get("name")) or "").strip().lower()
        value = _metadata_value(mapping(entry).get("value"))
        if not value:
            continue
        for column, names in _METADATA_FIELDS.items():
            if column not in found and name in names:
                found[column] = value
    return found


class GreenhouseSource:
    kind: ClassVar[str] = "greenhouse"

    def __init__(self, config: SourceConfig) -> None:
        self.config = config
        self.board: str = config.options["board"]
        self.company: str | None = config.options.get("company")
        self.http = http_options(config, DEFAULT_BASE_URL)
        self.label = f"greenhouse board {self.board!r}"

    @classmethod
    def validate(cls, options: Mapping[str, Any], where: str) -> None:
        token(options, "board", where)
        optional(options, "company", where, str, None)
        validate_http_options(options, where, ("board", "company"))

    def fetch(self, ctx: FetchContext) -> Fetched:
        ctx.progress(0.0, f"fetching {self.label}")
        with JsonClient(self.http, self.label, not_found="board not found") as client:
            payload = client.get_json(f"/v1/boards/{self.board}/jobs", {"content": "true"})
        rows = [self._row(job) for job in objects(payload, "jobs", self.label)]
        ctx.progress(1.0, f"{len(rows)} postings from {self.label}")
        return Fetched(raw_table(rows, COLUMNS))

    def _row(self, job: Mapping[str, Any]) -> dict[str, Any]:
        job_id = text(job.get("id"))
        location = text(mapping(job.get("location")).get("name"))
        if location is None:  # fall back to the first office
            office = mapping(next(iter(items(job.get("offices"))), None))
            location = text(office.get("location")) or text(office.get("name"))
        departments = [text(mapping(d).get("name")) for d in items(job.get("departments"))]
        meta = _from_metadata(items(job.get("metadata")))
        return {
            "source": self.config.name,
            "native_id": f"{self.board}:{job_id}" if job_id else None,
            "url": text(job.get("absolute_url")),
            "title": text(job.get("title")),
            "company": self.company or text(job.get("company_name")) or title_case_token(self.board),
            "location": location,
            "department": ", ".join(d for d in departments if d) or None,
            "employment_type": meta.get("employment_type"),
            "salary_text": meta.get("salary_text"),
            # updated_at moves on every recruiter edit; it is only a fallback for the posting date,
            # which is not part of the content hash.
            "posted_at": text(job.get("first_published")) or text(job.get("updated_at")),
            "description": text(job.get("content")),
        }
