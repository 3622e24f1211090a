"""The demo source: deterministic, realistic, and churning between epochs by the documented rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from benchmarks.batch import benchmark_batch
from core import schema
from core.errors import ConfigError
from core.sources import build, validate_options
from core.sources.base import FetchContext, SourceConfig
from core.sources.demo import EPOCH_ZERO, demo_table, epoch_of

JOBS = 2000
CONTENT = [c for c in schema.CONTENT_COLUMNS if c in demo_table(10).column_names]


def by_id(table: pa.Table) -> dict[str, dict[str, Any]]:
    return {row["native_id"]: row for row in table.to_pylist()}


def content(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[c] for c in CONTENT)


def demo_config(**options: Any) -> SourceConfig:
    return SourceConfig("my-demo", "demo", options=MappingProxyType(options))


def test_same_seed_and_epoch_give_identical_tables() -> None:
    assert demo_table(JOBS, seed=7, epoch=12).equals(demo_table(JOBS, seed=7, epoch=12))
    other = demo_table(JOBS, seed=8, epoch=12)
    assert other.column("title") != demo_table(JOBS, seed=7, epoch=12).column("title")


def test_columns_have_the_raw_types_and_conform() -> None:
    table = demo_table(1000)
    for field in table.schema:
        assert field.name in schema.RAW_ARROW_TYPES, field.name
        assert field.type == schema.RAW_ARROW_TYPES[field.name], field.name
    conformed = schema.conform_raw(table)
    assert conformed.schema == schema.raw_schema()
    assert conformed.num_rows == table.num_rows


def test_rows_look_like_a_real_board() -> None:
    table = demo_table(5000, churn=False)
    rows = table.to_pylist()
    assert len(rows) == 5000
    assert len({r["native_id"] for r in rows}) == 5000
    assert all(r["url"] == f"https://jobs.example.com/demo/{r['native_id']}" for r in rows)
    assert len({r["company"] for r in rows}) > 1000
    assert all(r["title"] and r["company"] and r["location"] for r in rows)
    titles = {r["title"] for r in rows}
    assert any(t.startswith("Senior ") for t in titles) and any(t.startswith("Head of ") for t in titles)
    locations = {r["location"] for r in rows}
    assert any(loc.startswith("Remote") for loc in locations) and any("Hybrid" in loc for loc in locations)
    assert {"US", "GB", "DE", "IN", "CA"} <= {r["country"] for r in rows}
    assert {"USD", "EUR", "GBP", "CAD", "INR"} <= {r["salary_currency"] for r in rows}
    # salaries: structured, text only, both, and missing all occur
    structured = [r for r in rows if r["salary_min"] is not None]
    text_only = [r for r in rows if r["salary_text"] and r["salary_min"] is None]
    missing = [r for r in rows if r["salary_text"] is None and r["salary_min"] is None]
    assert min(len(structured), len(text_only), len(missing)) > 300
    assert all(r["salary_max"] >= r["salary_min"] for r in structured)
    assert {r["salary_period"] for r in structured} >= {"year", "hour", "month"}
    assert any("k" in r["salary_text"] for r in text_only) and any("," in r["salary_text"] for r in text_only)
    # descriptions: multi-paragraph plain text, a few in simple HTML, each unique
    lengths = pc.utf8_length(table.column("description")).to_pylist()
    assert 380 <= sorted(lengths)[len(lengths) // 20] and sorted(lengths)[-len(lengths) // 20] <= 1000
    html = [r["description"] for r in rows if r["description"].startswith("<p>")]
    assert 100 < len(html) < 600 and all("<ul><li>" in d for d in html)
    assert all("\n\n" in r["description"] for r in rows if not r["description"].startswith("<p>"))
    assert len({r["description"] for r in rows}) == 5000


def test_posted_at_is_iso_text_within_the_last_60_days_of_the_epoch() -> None:
    epoch = 24 * 300
    now = EPOCH_ZERO + timedelta(hours=epoch)
    for text in demo_table(1000, epoch=epoch).column("posted_at").to_pylist():
        posted = datetime.fromisoformat(text)
        posted = posted if posted.tzinfo else posted.replace(tzinfo=UTC)
        assert now - timedelta(days=61) <= posted <= now, text


def test_churn_between_epochs_follows_the_rule() -> None:
    e0, e1 = by_id(demo_table(JOBS, epoch=0)), by_id(demo_table(JOBS, epoch=1))
    vanished = e0.keys() - e1.keys()
    new = e1.keys() - e0.keys()
    changed = [i for i in e0.keys() & e1.keys() if content(e0[i]) != content(e1[i])]
    assert 0.01 * JOBS < len(vanished) < 0.06 * JOBS
    assert 0.02 * JOBS < len(changed) < 0.08 * JOBS
    assert any(int(i) >= JOBS for i in new), "brand-new ids above the base range"
    assert any(int(i) < JOBS for i in new), "relisted base ids"
    # a changed posting keeps its identity and changes a little: description closing, salary or title
    for i in changed[:20]:
        diff = {c for c in CONTENT if e0[i][c] != e1[i][c]}
        assert "description" in diff and diff <= {"description", "salary_min", "salary_max", "salary_text", "title"}
    # some postings delisted at epoch 1 come back in a later epoch (relisted)
    later = set().union(*(by_id(demo_table(JOBS, epoch=e)).keys() for e in (2, 3)))
    assert vanished & later
    # new batches close after three epochs
    assert not {i for i in e0 if int(i) >= JOBS} & by_id(demo_table(JOBS, epoch=3)).keys()


def test_any_two_epochs_differ_even_for_tiny_boards() -> None:
    ids = [set(demo_table(3, epoch=e).column("native_id").to_pylist()) for e in range(6)]
    assert all(ids[a] != ids[b] for a in range(6) for b in range(a + 1, 6))


def test_without_churn_every_epoch_is_the_base_population() -> None:
    a, b = demo_table(JOBS, epoch=0, churn=False), demo_table(JOBS, epoch=977, churn=False)
    assert a.column("native_id").to_pylist() == [f"{i:07d}" for i in range(JOBS)]
    assert a.drop_columns(["posted_at"]).equals(b.drop_columns(["posted_at"]))


def test_benchmark_batch_is_60_20_20_against_the_catalog() -> None:
    catalog = by_id(demo_table(3000, churn=False, epoch=0))
    batch = benchmark_batch(3000, 1000)
    assert batch.schema == demo_table(10).schema
    rows = batch.to_pylist()
    unchanged = [r for r in rows if r["native_id"] in catalog and r == catalog[r["native_id"]]]
    updated = [r for r in rows if r["native_id"] in catalog and content(r) != content(catalog[r["native_id"]])]
    new = [r for r in rows if r["native_id"] not in catalog]
    assert (len(unchanged), len(updated), len(new)) == (600, 200, 200)
    assert len({r["native_id"] for r in rows}) == 1000
    assert benchmark_batch(3000, 1000).equals(batch)
    with pytest.raises(ValueError):
        benchmark_batch(100, 1000)


def test_source_fetch_names_the_source_and_derives_the_epoch_from_the_clock() -> None:
    src: Any = build(demo_config(jobs=1000))
    now = "2026-01-02T05:30:00+00:00"
    assert epoch_of(now) == 29 and epoch_of("2025-06-01T00:00:00Z") == 0
    seen: list[float] = []
    fetched = src.fetch(FetchContext(now, lambda frac, msg: seen.append(frac)))
    assert fetched.partial is None and seen[-1] == 1.0
    assert set(fetched.table.column("source").to_pylist()) == {"my-demo"}
    expected = demo_table(1000, epoch=29).drop_columns(["source"])
    assert fetched.table.drop_columns(["source"]).equals(expected)
    pinned: Any = build(demo_config(jobs=1000, epoch=0, churn=False, seed=3))
    assert pinned.fetch(FetchContext(now)).table.num_rows == 1000


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"jobs": 0}, "sources[0].jobs: must be between 1 and 1,000,000"),
        ({"jobs": 2_000_000}, "sources[0].jobs: must be between"),
        ({"jobs": "many"}, "sources[0].jobs: expected int"),
        ({"jobs": True}, "sources[0].jobs: expected int"),
        ({"seed": 1.5}, "sources[0].seed: expected int"),
        ({"churn": "yes"}, "sources[0].churn: expected bool"),
        ({"epoch": -1}, "sources[0].epoch: must be 0 or more"),
        ({"rows": 5}, "sources[0].rows: unknown option"),
    ],
)
def test_bad_options_name_the_key(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        validate_options("demo", options, "sources[0].")


def test_a_posting_does_not_depend_on_the_rest_of_the_table() -> None:
    # 140k rows span two generation chunks; the first rows equal those of a small board
    big = demo_table(140_000, churn=False)
    assert big.slice(0, 300).equals(demo_table(300, churn=False))
    tail = big.slice(131_000, 200).to_pylist()
    assert [r["native_id"] for r in tail] == [f"{i:07d}" for i in range(131_000, 131_200)]
    assert len({r["description"] for r in tail}) == 200
