"""Greenhouse job board API: one request returns every published job of a board, with content.

``content`` is HTML that Greenhouse HTML-escapes once more; it is passed through as it comes
(normalization unescapes and sanitizes it). Custom metadata fields are free-form per company; the
common names ("Employment Type", "Time Type", "Location Type", "Workplace Type", "Remote Status",
"Salary Range" …) are read, and the pay-transparency block Greenhouse renders into ``content``
(``<div class="pay-range"><span>$X</span>…<span>$Y USD</span></div>``) gives the salary text when
no metadata field does.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from core.sources.base import FetchContext, Fetched, SourceConfig
from core.sources.http import (
    JsonClient,
    http_options,
    items,
    join_locations,
    mapping,
    objects,
    raw_table,
    text,
    title_case_token,
    validate_board,
)

DEFAULT_BASE_URL = "https://boards-api.greenhouse.io"
COLUMNS = (
    "source", "native_id", "url", "title", "company", "location", "locations", "department",
    "employment_type", "workplace_type", "is_remote", "salary_text", "posted_at", "description",
)  # fmt: skip

# Custom metadata fields are free-form per company; these names are common enough to be worth reading.
_METADATA_FIELDS = {
    "employment_type": (
        "employment type", "job type", "employment", "time type", "employee type", "worker type",
        "employment status", "position type", "type of employment", "contract type",
    ),
    "workplace_type": (
        "location type", "workplace type", "remote status", "work location type", "workplace", "remote",
        "work arrangement", "work type", "remote eligible", "remote/hybrid/onsite", "office type", "work model",
    ),
    "salary_text": ("salary", "compensation", "pay range", "salary range", "pay transparency", "base salary"),
}  # fmt: skip
_WORKPLACE_WORDS = (
    (r"\bhybrid\b", "hybrid"),
    (r"\bremote\b|\bwork from home\b|\bfully distributed\b", "remote"),
    (r"\bon[- ]?site\b|\bin[- ]office\b|\bin[- ]person\b|\boffice[- ]based\b|^office$", "onsite"),
)
# The pay-transparency block, in content unescaped once: its spans' text is "$X — $Y USD".
_PAY_RANGE = re.compile(r'<div class="pay-range">(.*?)</div>', re.S)
_TAGS = re.compile(r"<[^>]*>")


def _metadata_value(value: Any) -> str | None:
    """Metadata values are text, numbers, lists of text, or currency objects ({unit, amount})."""
    if isinstance(value, list):
        parts = [t for t in (text(v) for v in value) if t]
        return ", ".join(parts) or None
    if isinstance(value, dict):
        parts = [t for t in (text(value.get("unit")), text(value.get("amount"))) if t]
        return " ".join(parts) or None
    return text(value)


def _pay_range(content: str | None) -> str | None:
    """The first pay-range block of the content as text ("$108,400 — $129,600 USD"), or None."""
    if not content or "pay-range" not in content:
        return None
    m = _PAY_RANGE.search(html.unescape(content) if "&lt;" in content else content)
    if m is None:
        return None
    spans = [html.unescape(_TAGS.sub("", part)).strip() for part in re.split(r"</span>", m.group(1))]
    return " ".join(p for p in spans if p) or None


def _workplace(value: str | None) -> str | None:
    """A metadata value ("Hybrid", "Remote - US", "On-site", "In Office") → remote | hybrid | onsite."""
    if not value:
        return None
    lowered = value.lower()
    for word, kind in _WORKPLACE_WORDS:
        if re.search(word, lowered):
            return kind
    return None


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
        validate_board(options, where, "board")

    def fetch(self, ctx: FetchContext) -> Fetched:
        ctx.progress(0.0, f"fetching {self.label}")
        with JsonClient(self.http, self.label, not_found="board not found", ctx=ctx) as client:
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
        content = text(job.get("content"))
        workplace = _workplace(meta.get("workplace_type"))
        offices = [text(mapping(o).get("location")) or text(mapping(o).get("name")) for o in items(job.get("offices"))]
        return {
            "source": self.config.name,
            "native_id": f"{self.board}:{job_id}" if job_id else None,
            "url": text(job.get("absolute_url")),
            "title": text(job.get("title")),
            "company": self.company or text(job.get("company_name")) or title_case_token(self.board),
            "location": location,
            "locations": join_locations(location, [o for o in offices if o and o.lower() != "remote"]),
            "department": ", ".join(d.strip() for d in departments if d and d.strip()) or None,
            "employment_type": meta.get("employment_type"),
            "workplace_type": workplace,
            "is_remote": workplace == "remote" if workplace else None,
            "salary_text": meta.get("salary_text") or _pay_range(content),
            # updated_at moves on every recruiter edit; it is only a fallback for the posting date,
            # which is not part of the content hash.
            "posted_at": text(job.get("first_published")) or text(job.get("updated_at")),
            "description": content,
        }
