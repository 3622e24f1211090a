"""The normalize step: a source's raw Arrow table → the catalog's normalized columns.

Bad rows are rejected one by one with a reason (never an exception), oversized descriptions are
repaired and counted, and everything else is cleaned column by column — in Arrow where possible and
once per distinct value where Python has to parse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from core import schema
from core.normalize.dates import posted_column
from core.normalize.fields import employment_type, seniority_from_raw, seniority_from_title
from core.normalize.ids import job_id_column
from core.normalize.location import country_code, parse_location, workplace_type
from core.normalize.markup import MARKDOWN_KINDS, clean_description_column
from core.normalize.salary import salary_columns
from core.normalize.text import (
    as_array,
    clean_short,
    clean_short_column,
    map_distinct,
    map_distinct_many,
    unescape_column,
)
from core.normalize.urls import canonical_url_column

MAX_EXAMPLES = 20
MISSING_TITLE = "missing title"
MISSING_COMPANY = "missing company"
MISSING_ID = "missing native_id and url"
DESCRIPTION_TRUNCATED = "description truncated"
# Every posting field is attacker-controlled: a 100,000-character title is cut (and counted), not drawn.
FIELD_CAPS: dict[str, int] = {
    "title": 300, "company": 200, "department": 200, "location": 500, "locations": 2000, "city": 200,
    "region": 200, "salary_text": 300,
}  # fmt: skip


def _cap(values: Any, cap: int) -> tuple[Any, int]:
    """Text longer than ``cap`` characters cut to ``cap`` (ending in "…"); how many were cut."""
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        return values, 0
    over = pc.fill_null(pc.greater(pc.utf8_length(values), cap), False)
    cut = pc.sum(over).as_py() or 0
    if not cut:
        return values, 0
    short = pc.binary_join_element_wise(pc.utf8_slice_codeunits(values, 0, cap - 1), "…", "")
    return pc.if_else(over, short, values), cut


@dataclass(frozen=True)
class Normalized:
    """The result of ``normalize``.

    ``rejected``: reason → rows dropped for it (each row counts once, under its first reason).
    ``examples``: up to ``MAX_EXAMPLES`` (native_id or "row <n>", reason) pairs for the run record.
    ``repaired``: what was fixed but kept, e.g. {"description truncated": 1}.
    """

    table: pa.Table
    rejected: dict[str, int]
    examples: tuple[tuple[str, str], ...]
    repaired: dict[str, int] = field(default_factory=dict)


def normalize(raw: pa.Table, kind: str, now: datetime) -> Normalized:
    """Raw postings from a source of ``kind`` → ``Normalized`` (columns ``schema.NORMALIZED_COLUMNS``).

    ``now`` is the run's clock (naive UTC; an aware datetime is converted) for relative dates.
    """
    if now.tzinfo is not None:
        now = now.astimezone(UTC).replace(tzinfo=None)
    table, repaired = _conform(raw)
    title = unescape_column(clean_short_column(table.column("title")))
    company = unescape_column(clean_short_column(table.column("company")))
    native_id = clean_short_column(table.column("native_id"))
    url = canonical_url_column(table.column("url"))

    keep, rejected, examples = _rejections(title, company, native_id, url)
    if not pc.all(keep).as_py():
        table, title, company, native_id, url = (x.filter(keep) for x in (table, title, company, native_id, url))

    columns: dict[str, Any] = {
        "job_id": job_id_column(kind, native_id, url),
        "source": clean_short_column(table.column("source")),
        "native_id": native_id,
        "url": url,
        "apply_url": canonical_url_column(table.column("apply_url")),
        "title": title,
        "company": company,
        "department": unescape_column(clean_short_column(table.column("department"))),
        "employment_type": map_distinct(
            clean_short_column(table.column("employment_type")), employment_type, pa.string()
        ),
        "seniority": pc.coalesce(
            map_distinct(clean_short_column(table.column("seniority")), seniority_from_raw, pa.string()),
            map_distinct(title, seniority_from_title, pa.string()),
        ),
        "posted_at": posted_column(table.column("posted_at"), now),
    }
    columns.update(_location_columns(table))
    columns.update(salary_columns(table))
    description, truncated = clean_description_column(table.column("description"), kind in MARKDOWN_KINDS)
    columns["description"] = description

    for name in ("url", "apply_url"):  # not http(s), or too long to be a working link: dropped, and said
        dropped = pc.sum(pc.and_(pc.is_valid(table.column(name)), pc.is_null(columns[name]))).as_py() or 0
        if dropped:
            repaired[f"{name} dropped (not an http(s) link)"] = dropped
    for name, cap in FIELD_CAPS.items():
        columns[name], cut = _cap(columns[name], cap)
        if cut:
            repaired[f"{name} cut to {cap:,} characters"] = cut

    out_schema = schema.arrow_schema(schema.NORMALIZED_COLUMNS)
    arrays = [columns[f.name].cast(f.type) for f in out_schema]  # chunked columns stay chunked
    if truncated:
        repaired[DESCRIPTION_TRUNCATED] = truncated
    return Normalized(pa.Table.from_arrays(arrays, schema=out_schema), rejected, examples, repaired)


def _conform(raw: pa.Table) -> tuple[pa.Table, dict[str, int]]:
    """``schema.conform_raw``, but a column that will not cast (``is_remote`` = "yes", ``salary_min`` =
    "120k") is read value by value instead: what cannot be read becomes null and is counted."""
    try:
        return schema.conform_raw(raw), {}
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        pass
    repaired: dict[str, int] = {}
    columns: dict[str, Any] = {}
    for name, typ in schema.RAW_ARROW_TYPES.items():
        if name not in raw.column_names:
            continue
        col = as_array(raw.column(name))
        try:
            columns[name] = col.cast(typ, safe=False)
            continue
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            pass
        try:
            text = clean_short_column(col.cast(pa.string()))
            read = _LENIENT.get(str(typ))
            fixed = map_distinct(text, read, typ) if read else pa.nulls(len(col), typ)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            fixed = pa.nulls(len(col), typ)  # nested values: nothing to read
        lost = (len(col) - col.null_count) - (len(fixed) - fixed.null_count)
        if lost:
            repaired[f"unreadable {name}"] = lost
        columns[name] = fixed
    return schema.conform_raw(pa.table(columns)), repaired


def _read_bool(text: str) -> bool | None:
    lowered = text.lower()
    if lowered in ("true", "yes", "y", "1", "t", "remote"):
        return True
    if lowered in ("false", "no", "n", "0", "f"):
        return False
    return None


def _read_float(text: str) -> float | None:
    try:
        return float((clean_short(text) or "").replace(",", "").lstrip("$£€"))
    except ValueError:
        return None


_LENIENT = {"bool": _read_bool, "double": _read_float}


def _rejections(
    title: Any, company: Any, native_id: Any, url: Any
) -> tuple[Any, dict[str, int], tuple[tuple[str, str], ...]]:
    """Rows to keep, reason → count, and the first examples. A row counts under its first reason."""
    checks = (
        (MISSING_TITLE, pc.is_null(title)),
        (MISSING_COMPANY, pc.is_null(company)),
        (MISSING_ID, pc.and_(pc.is_null(native_id), pc.is_null(url))),
    )
    bad = pa.array([False] * len(title), pa.bool_()) if len(title) else pa.array([], pa.bool_())
    rejected: dict[str, int] = {}
    reasons: list[tuple[int, str]] = []
    for reason, mask in checks:
        new = pc.and_(mask, pc.invert(bad))
        positions = pc.indices_nonzero(new).to_pylist()
        if positions:
            rejected[reason] = len(positions)
            reasons.extend((p, reason) for p in positions[:MAX_EXAMPLES])
            bad = pc.or_(bad, new)
    reasons.sort()
    ids = native_id.take(pa.array([p for p, _ in reasons[:MAX_EXAMPLES]], pa.int64())).to_pylist()
    examples = tuple(
        (nid if nid is not None else f"row {p}", reason)
        for (p, reason), nid in zip(reasons[:MAX_EXAMPLES], ids, strict=True)
    )
    return pc.invert(bad), rejected, examples


def _location_columns(table: pa.Table) -> dict[str, Any]:
    """Parsed location, with the source's own city/region/country/is_remote/workplace_type winning."""
    text_type = pa.string()
    location = unescape_column(clean_short_column(table.column("location")))
    p_city, p_region, p_country, p_remote, p_workplace = map_distinct_many(
        location,
        lambda t: _place_tuple(t),
        (text_type, text_type, text_type, pa.bool_(), text_type),
    )
    raw_remote = as_array(table.column("is_remote")).cast(pa.bool_())
    raw_workplace = map_distinct(clean_short_column(table.column("workplace_type")), workplace_type, text_type)
    raw_country = map_distinct(clean_short_column(table.column("country")), country_code, text_type)
    none_text = pa.scalar(None, text_type)

    remote_from_flag = pc.if_else(raw_remote, pa.scalar("remote"), none_text)
    # A source that says "not remote" overrides a "remote" read from its location text.
    parsed_workplace = pc.if_else(
        pc.fill_null(pc.and_(pc.invert(raw_remote), pc.equal(p_workplace, "remote")), False), none_text, p_workplace
    )
    workplace = pc.coalesce(raw_workplace, remote_from_flag, parsed_workplace)
    # The board's own workplace field wins: "hybrid" is not remote whatever a flag or the text says.
    is_remote = pc.if_else(
        pc.is_valid(raw_workplace), pc.equal(raw_workplace, "remote"), pc.coalesce(raw_remote, p_remote)
    )
    return {
        "location": location,
        "locations": unescape_column(clean_short_column(table.column("locations"))),
        "city": pc.coalesce(clean_short_column(table.column("city")), p_city),
        "region": pc.coalesce(clean_short_column(table.column("region")), p_region),
        "country": pc.coalesce(raw_country, p_country),
        "is_remote": is_remote,
        "workplace_type": workplace,
    }


def _place_tuple(text: str) -> tuple[str | None, str | None, str | None, bool | None, str | None]:
    p = parse_location(text)
    return p.city, p.region, p.country, p.is_remote, p.workplace_type
