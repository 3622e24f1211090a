"""Unranked description matches as fts ids (what the catalog filters by), and the id migration."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from core.search import FTS_ID_SQL, DescriptionIndex, fts_id

DOCS = {
    "j1": "Python and Kubernetes on call",
    "j2": "Machine learning with Python",
    "j3": "Java microservices",
}


@pytest.fixture
def index(tmp_path: Path) -> DescriptionIndex:
    ix = DescriptionIndex(tmp_path / "search.sqlite")
    ix.update(
        pa.table({"job_id": list(DOCS), "title": ["t"] * 3, "company": ["c"] * 3, "description": list(DOCS.values())})
    )
    return ix


def ids_of(ix: DescriptionIndex, q: str) -> set[str]:
    wanted = set(ix.match_ids(q).to_pylist())
    return {j for j in DOCS if fts_id(j) in wanted}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("python", {"j1", "j2"}),
        ('"machine learning"', {"j2"}),
        ("kube*", {"j1"}),
        ("python -kubernetes", {"j2"}),
        ("-python", {"j3"}),
        ('"unbalanced', set()),
        ("AND OR", set()),
        ("*", set()),
        ("\x00" * 10 + "x" * 10_000, set()),
    ],
)
def test_match_ids_agrees_with_ranked_match(index: DescriptionIndex, q: str, expected: set[str]) -> None:
    assert ids_of(index, q) == expected
    assert {j for j, _ in index.match(q)} == expected


def test_duckdb_derives_the_same_id() -> None:
    got = duckdb.sql(f"SELECT {FTS_ID_SQL} FROM (SELECT 'j1' AS job_id)").fetchall()[0][0]
    assert got == fts_id("j1") and 0 < got < 2**63


def test_an_index_with_old_ids_is_emptied_for_the_catch_up(tmp_path: Path) -> None:
    path = tmp_path / "search.sqlite"
    DescriptionIndex(path).update(pa.table({"job_id": ["a"], "title": ["t"], "company": ["c"], "description": ["d"]}))
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO segments (name) VALUES ('desc-000001.parquet')")
    conn.execute("UPDATE meta SET value = 1 WHERE key = 'schema'")
    conn.commit()
    conn.close()
    ix = DescriptionIndex(path)
    assert ix.count() == 0 and ix.segments_done() == set(), "the next sync re-indexes every segment"
