"""The one column registry: catalog columns, their types and what each may be used for.

Every identifier that reaches SQL comes from here (see ``column``); everything else is a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from core.errors import UnknownColumn


@dataclass(frozen=True)
class Column:
    name: str
    arrow: pa.DataType
    sql: str
    label: str
    filterable: bool = True
    sortable: bool = True
    content: bool = False  # part of the content hash
    hot: bool = True  # loaded into the dashboard's in-memory catalog (descriptions are not)
    raw: bool = False  # a source may supply it


_S, _F, _B, _T = pa.string(), pa.float64(), pa.bool_(), pa.timestamp("us")

COLUMNS: tuple[Column, ...] = (
    Column("job_id", _S, "VARCHAR", "Job id", sortable=True),
    Column("source", _S, "VARCHAR", "Source", raw=True),
    Column("native_id", _S, "VARCHAR", "Native id", raw=True),
    Column("url", _S, "VARCHAR", "URL", content=True, raw=True, sortable=False),
    Column("apply_url", _S, "VARCHAR", "Apply URL", content=True, raw=True, sortable=False),
    Column("title", _S, "VARCHAR", "Title", content=True, raw=True),
    Column("company", _S, "VARCHAR", "Company", content=True, raw=True),
    Column("location", _S, "VARCHAR", "Location", content=True, raw=True),
    # Every location a posting lists ("A; B; C"), when it lists more than the one in ``location``.
    Column("locations", _S, "VARCHAR", "All locations", content=True, raw=True, sortable=False),
    Column("city", _S, "VARCHAR", "City", content=True, raw=True),
    Column("region", _S, "VARCHAR", "Region", content=True, raw=True),
    Column("country", _S, "VARCHAR", "Country", content=True, raw=True),
    Column("is_remote", _B, "BOOLEAN", "Remote", content=True, raw=True),
    Column("workplace_type", _S, "VARCHAR", "Workplace", content=True, raw=True),
    Column("employment_type", _S, "VARCHAR", "Type", content=True, raw=True),
    Column("seniority", _S, "VARCHAR", "Seniority", content=True, raw=True),
    Column("department", _S, "VARCHAR", "Department", content=True, raw=True),
    Column("salary_min", _F, "DOUBLE", "Salary min", content=True, raw=True),
    Column("salary_max", _F, "DOUBLE", "Salary max", content=True, raw=True),
    Column("salary_currency", _S, "VARCHAR", "Currency", content=True, raw=True),
    Column("salary_period", _S, "VARCHAR", "Period", content=True, raw=True),
    Column("salary_annual_min", _F, "DOUBLE", "Annual min"),
    Column("salary_annual_max", _F, "DOUBLE", "Annual max"),
    Column("salary_text", _S, "VARCHAR", "Salary", content=True, raw=True, sortable=False),
    Column("salary_source", _S, "VARCHAR", "Salary from"),
    Column("posted_at", _T, "TIMESTAMP", "Posted", raw=True),
    Column("first_seen_at", _T, "TIMESTAMP", "First seen"),
    Column("last_seen_at", _T, "TIMESTAMP", "Last seen"),
    Column("changed_at", _T, "TIMESTAMP", "Changed"),
    Column("delisted_at", _T, "TIMESTAMP", "Delisted"),
    Column("content_hash", _S, "VARCHAR", "Content hash", filterable=False, sortable=False),
    Column("dup_group", _S, "VARCHAR", "Duplicate group", sortable=False),
    Column(
        "description",
        _S,
        "VARCHAR",
        "Description",
        content=True,
        hot=False,
        raw=True,
        filterable=False,
        sortable=False,
    ),
)

BY_NAME: dict[str, Column] = {c.name: c for c in COLUMNS}

# What a source yields: any subset of these, by these names and types (missing ones are null).
RAW_COLUMNS: tuple[Column, ...] = tuple(c for c in COLUMNS if c.raw)
RAW_ARROW_TYPES: dict[str, pa.DataType] = {
    c.name: (pa.string() if c.name == "posted_at" else c.arrow) for c in RAW_COLUMNS
}
# posted_at arrives as text (ISO, epoch ms, "3 days ago"); normalization turns it into a timestamp.

# Content fields feed the hash; volatile ones (fetch time, posted_at drift, tracking params) do not.
CONTENT_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.content)
HOT_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.hot)
# Columns the sync owns; normalization produces all the others.
SYNC_COLUMNS: tuple[str, ...] = (
    "first_seen_at",
    "last_seen_at",
    "changed_at",
    "delisted_at",
    "content_hash",
    "dup_group",
)
NORMALIZED_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.name not in SYNC_COLUMNS)

# Stored in the hot snapshot only: which description segment holds the row's description.
DESC_FILE = "desc_file"

WORKPLACE_TYPES = ("remote", "hybrid", "onsite")
EMPLOYMENT_TYPES = ("full_time", "part_time", "contract", "internship", "temporary")
SENIORITIES = ("intern", "junior", "mid", "senior", "staff", "principal", "lead", "manager", "director", "executive")
SALARY_PERIODS = ("hour", "day", "week", "month", "year")
STAGES = ("inbox", "saved", "applied", "interviewing", "offer", "rejected", "withdrawn", "ghosted")


def column(name: str) -> Column:
    """The registry entry for ``name``; anything else is refused before SQL is built."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise UnknownColumn(f"unknown column {name!r}") from None


def quote(name: str) -> str:
    """A registered identifier, double-quoted for SQL."""
    return '"' + column(name).name + '"'


def arrow_schema(names: tuple[str, ...]) -> pa.Schema:
    return pa.schema([pa.field(n, BY_NAME[n].arrow) for n in names])


def raw_schema() -> pa.Schema:
    return pa.schema([pa.field(n, t) for n, t in RAW_ARROW_TYPES.items()])


def conform_raw(table: pa.Table) -> pa.Table:
    """Select and cast a source's table to the raw schema, filling missing columns with nulls."""
    cols = []
    for name, typ in RAW_ARROW_TYPES.items():
        if name in table.column_names:
            col = table.column(name)
            cols.append(col if col.type == typ else col.cast(typ, safe=False))
        else:
            cols.append(pa.nulls(table.num_rows, typ))
    return pa.Table.from_arrays(cols, schema=raw_schema())
