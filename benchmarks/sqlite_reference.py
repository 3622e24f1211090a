# ruff: noqa: S608  -- column names come from core.schema and the INDEXES tuple below; values are parameters.
"""The reference design for catalog queries: one SQLite table with composite indexes and LIKE search.

This is the design the issue started from, built the way a reasonable engineer would: the catalog's hot
columns plus the description in one table (stdlib ``sqlite3``, WAL, a 256 MB page cache, temp sorts in
memory), the composite indexes in ``INDEXES``, title/company and description search with
``LIKE '%word%'`` (case-insensitive for ASCII; the design had no FTS), ``OFFSET`` pagination, ``COUNT(*)``
for totals, ``GROUP BY`` facets and ``strftime`` time series. Timestamps are ISO text, so they sort and
bucket with SQLite's date functions.

It is loaded from the same snapshot as our catalog (``load``: an Arrow table of the hot columns joined
with the descriptions, inserted in batches, then indexed and analyzed) and answers the same query mix
(``Reference``); each method returns plain values that ``benchmarks/query_bench.py`` compares with ours.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from core import schema

BATCH_ROWS = 50_000
CACHE_KB = 256 * 1024
# What the reference design prescribes: the default order and the listed filter, the common
# equality filters each followed by the sort column, and the salary range.
INDEXES: tuple[tuple[str, ...], ...] = (
    ("delisted_at", "posted_at"),
    ("company", "posted_at"),
    ("country", "workplace_type", "posted_at"),
    ("workplace_type", "posted_at"),
    ("source", "posted_at"),
    ("salary_annual_min",),
    ("salary_annual_max",),
)
_SQLITE_TYPE = {"VARCHAR": "TEXT", "DOUBLE": "REAL", "BOOLEAN": "INTEGER", "TIMESTAMP": "TEXT"}
COLUMNS = schema.HOT_COLUMNS
_SELECT = ", ".join(COLUMNS)
_ORDER = "posted_at DESC, job_id DESC"  # SQLite sorts NULL lowest, so DESC puts missing dates last
_LISTED = "delisted_at IS NULL"
_MID = "(coalesce(salary_annual_min, salary_annual_max) + coalesce(salary_annual_max, salary_annual_min)) / 2.0"


def index_names() -> list[str]:
    return [f"jobs_{'_'.join(cols)}" for cols in INDEXES]


def _as_text_times(batch: pa.RecordBatch) -> list[list[Any]]:
    """Columns as Python lists, timestamps as uniform ISO text (sorts as text, parses in date functions)."""
    out = []
    for name in [*COLUMNS, "description"]:
        col = batch.column(name)
        if pa.types.is_timestamp(col.type):
            col = pc.strftime(col, format="%Y-%m-%d %H:%M:%S")
        out.append(col.to_pylist())
    return out


def connect(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute(f"PRAGMA cache_size=-{CACHE_KB}")
    con.execute("PRAGMA temp_store=MEMORY")
    return con


def load(path: Path, table: pa.Table) -> dict[str, float]:
    """Create the reference database at ``path`` from ``table`` (hot columns + description); timings in s."""
    path.unlink(missing_ok=True)
    con = connect(path)
    try:
        cols = ", ".join(
            f"{c} {_SQLITE_TYPE[schema.column(c).sql]}" + (" PRIMARY KEY" if c == "job_id" else "") for c in COLUMNS
        )
        con.execute(f"CREATE TABLE jobs ({cols}, description TEXT)")
        marks = ", ".join("?" * (len(COLUMNS) + 1))
        t0 = time.perf_counter()
        con.execute("BEGIN")
        for batch in table.to_batches(max_chunksize=BATCH_ROWS):
            con.executemany(f"INSERT INTO jobs VALUES ({marks})", zip(*_as_text_times(batch), strict=True))
        con.execute("COMMIT")
        t1 = time.perf_counter()
        for name, cols_ in zip(index_names(), INDEXES, strict=True):
            con.execute(f"CREATE INDEX {name} ON jobs ({', '.join(cols_)})")
        con.execute("ANALYZE")
        t2 = time.perf_counter()
    finally:
        con.close()
    return {"insert_s": t1 - t0, "index_s": t2 - t1, "file_mb": path.stat().st_size / 2**20}


def _like(word: str) -> str:
    return f"%{word.lower()}%"


class Reference:
    """The query mix over the reference database; one connection, used from one thread."""

    def __init__(self, path: Path) -> None:
        self.con = connect(path)

    def close(self) -> None:
        self.con.close()

    def _page_and_count(self, where: str, params: Sequence[Any], limit: int) -> tuple[list[str], int]:
        ids = [
            r[0]
            for r in self.con.execute(
                f"SELECT {_SELECT} FROM jobs WHERE {where} ORDER BY {_ORDER} LIMIT ?", [*params, limit]
            )
        ]
        (total,) = self.con.execute(f"SELECT COUNT(*) FROM jobs WHERE {where}", list(params)).fetchone()
        return ids, int(total)

    @staticmethod
    def _text(words: Sequence[str], columns: Sequence[str]) -> tuple[str, list[str]]:
        """Every word in one of ``columns`` (title/company search) — LIKE, so a full scan."""
        conds, params = [], []
        for w in words:
            conds.append("(" + " OR ".join(f"{c} LIKE ?" for c in columns) + ")")
            params += [_like(w)] * len(columns)
        return " AND ".join(conds), params

    def first_page(self, limit: int) -> list[str]:
        return [
            r[0]
            for r in self.con.execute(f"SELECT {_SELECT} FROM jobs WHERE {_LISTED} ORDER BY {_ORDER} LIMIT ?", [limit])
        ]

    def text_page(self, text: str, limit: int) -> tuple[list[str], int]:
        cond, params = self._text(text.split(), ("title", "company"))
        return self._page_and_count(f"{_LISTED} AND {cond}", params, limit)

    def _filtered(
        self, cond: str, params: list[Any], workplace: Sequence[str], salary_min: float
    ) -> tuple[str, list[Any]]:
        marks = ", ".join("?" * len(workplace))
        where = (
            f"{_LISTED} AND {cond} AND workplace_type IN ({marks})"
            " AND coalesce(salary_annual_max, salary_annual_min) >= ?"
        )
        return where, [*params, *workplace, salary_min]

    def filtered_page(
        self, text: str, workplace: Sequence[str], salary_min: float, limit: int
    ) -> tuple[list[str], int]:
        where, params = self._filtered(*self._text(text.split(), ("title", "company")), workplace, salary_min)
        return self._page_and_count(where, params, limit)

    def filtered_count(self, text: str, workplace: Sequence[str], salary_min: float) -> int:
        where, params = self._filtered(*self._text(text.split(), ("title", "company")), workplace, salary_min)
        (n,) = self.con.execute(f"SELECT COUNT(*) FROM jobs WHERE {where}", params).fetchone()
        return int(n)

    def desc_page(self, words: str, workplace: Sequence[str], salary_min: float, limit: int) -> tuple[list[str], int]:
        where, params = self._filtered(*self._text(words.split(), ("description",)), workplace, salary_min)
        return self._page_and_count(where, params, limit)

    def facet(self, column: str, top: int) -> list[tuple[str, int]]:
        c = schema.BY_NAME[column].name
        sql = (
            f"SELECT {c}, COUNT(*) AS n FROM jobs WHERE {_LISTED} AND coalesce({c}, '') <> ''"
            f" GROUP BY {c} ORDER BY n DESC, {c} LIMIT ?"
        )
        return [(str(v), int(n)) for v, n in self.con.execute(sql, [top])]

    def timeseries(self, bucket: str) -> list[tuple[str, int]]:
        # weeks start on Monday: forward to the week's Sunday ('weekday 0'), back six days
        expr = {
            "day": "strftime('%Y-%m-%d', posted_at)",
            "week": "strftime('%Y-%m-%d', posted_at, 'weekday 0', '-6 days')",
        }[bucket]
        sql = f"SELECT {expr} AS b, COUNT(*) FROM jobs WHERE {_LISTED} AND posted_at IS NOT NULL GROUP BY b ORDER BY b"
        return [(str(b), int(n)) for b, n in self.con.execute(sql)]

    def salary_distribution(self, bins: int) -> list[tuple[str, int, int]]:
        sql = f"""
        WITH m AS (SELECT salary_currency AS currency, {_MID} AS mid FROM jobs
                   WHERE {_LISTED} AND (salary_annual_min IS NOT NULL OR salary_annual_max IS NOT NULL)
                     AND salary_currency IS NOT NULL),
        r AS (SELECT currency, min(mid) AS lo, max(mid) AS hi FROM m GROUP BY currency),
        b AS (SELECT m.currency AS currency,
                     min(CAST(coalesce((mid - lo) / nullif(hi - lo, 0), 0) * ? AS INTEGER), ? - 1) AS bin
              FROM m JOIN r ON r.currency = m.currency)
        SELECT currency, bin, COUNT(*) FROM b GROUP BY currency, bin ORDER BY currency, bin
        """
        return [(str(c), int(b), int(n)) for c, b, n in self.con.execute(sql, [bins, bins])]

    def offset_page(self, offset: int, limit: int) -> list[str]:
        """A page deep in the default order the reference way: OFFSET (SQLite walks every skipped row)."""
        sql = f"SELECT {_SELECT} FROM jobs WHERE {_LISTED} ORDER BY {_ORDER} LIMIT ? OFFSET ?"
        return [r[0] for r in self.con.execute(sql, [limit, offset])]
