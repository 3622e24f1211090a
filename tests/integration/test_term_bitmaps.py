"""Description searches answered from the words' bitmaps (core.term_bitmaps) give exactly what tantivy gives,
and follow the index when it changes. Real tantivy indexes; every word counts as "many hits" here
(READ_NOW_MAX_HITS = 0), so the bitmap path is taken whenever the bitmaps are built."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import search
from core.search import DescriptionIndex
from core.term_bitmaps import TermBitmaps
from tests.integration.test_search import DOCS, NASTY, table

QUERIES = [
    "python",
    "python java",
    "python -java",
    "python NOT java",
    "spark OR react",
    "(spark OR react) -typescript",
    "-python",
    "NOT python",
    '"machine learning"',
    '-"machine learning" python',
    '"machine learning" OR django',
    "data*",
    "data* -spark",
    "title:python",
    "company:acme",
    "desc:hiring",
    "zurich cafe",
    "ZÜRICH",
    "python or java",
    "nosuchword python",
    "-nosuchword",
    *NASTY,
]


@pytest.fixture
def pair(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[DescriptionIndex, DescriptionIndex]]:
    """(with bitmaps, without) on one index directory."""
    monkeypatch.setattr(search, "READ_NOW_MAX_HITS", 0)
    plain = DescriptionIndex(tmp_path / "search.sqlite")
    assert plain.update(table(DOCS)) == len(DOCS)
    fast = DescriptionIndex(tmp_path / "search.sqlite", bitmaps=True)
    yield fast, plain
    fast.close()
    plain.close()


def _warm(fast: DescriptionIndex, queries: list[str]) -> None:
    for q in queries:
        fast.match_ids(q)
    assert fast.bitmaps is not None and fast.bitmaps.idle(30)
    fast._id_cache.clear()  # so the next ask searches again, from the bitmaps now


def _tantivy_searches(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """From here on, the queries that went to tantivy whole (not answered from the bitmaps)."""
    seen: list[object] = []
    compiled = search._compiled

    def counted(node: object, boost: bool) -> object:
        seen.append(node)
        return compiled(node, boost)  # type: ignore[arg-type]

    monkeypatch.setattr(search, "_compiled", counted)
    return seen


def test_bitmaps_answer_exactly_like_tantivy(
    pair: tuple[DescriptionIndex, DescriptionIndex], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, plain = pair
    expected = {q: plain.match_ids(q).to_pylist() for q in QUERIES}
    _warm(fast, QUERIES)
    view = fast.bitmaps.view(fast.generation()) if fast.bitmaps else None
    assert view is not None and search._leaf_key(search._Term("Python", False, None)) in view.masks
    slow = _tantivy_searches(monkeypatch)
    for q in QUERIES:
        before = len(slow)
        assert fast.match_ids(q).to_pylist() == expected[q], q
        if any(search._leaf_key(t) in view.masks for t in _leaves_of(q)):
            assert len(slow) == before, f"{q!r} went to tantivy"
    # Another spelling of the same words is the same bitmap.
    assert fast.match_ids("PYTHON  -Java").to_pylist() == expected["python -java"]
    assert len(slow) < len(QUERIES) / 2  # most of the mix was answered from bitmaps


def _leaves_of(q: str) -> list[search._Term]:
    node = search._parse(q)
    return [] if node is None else list(search._leaves(node))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.sampled_from(["python", "java", "data*", '"machine learning"', "-", "OR", "(", ")", " "]), max_size=9)
)
def test_any_combination_of_held_words_matches_tantivy(
    pair: tuple[DescriptionIndex, DescriptionIndex], words: list[str]
) -> None:
    fast, plain = pair
    query = " ".join(words)
    _warm(fast, ["python", "java", "data*", '"machine learning"'])
    assert fast.match_ids(query).to_pylist() == plain.match_ids(query).to_pylist()


def test_the_index_changing_rebuilds_the_words_in_use(
    pair: tuple[DescriptionIndex, DescriptionIndex], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, plain = pair
    _warm(fast, ["python -java", "spark"])
    before = fast.generation()
    plain.update(
        table([("rs1", "Rust Developer", "Ferrous", "Rust and Python."), ("jv2", "Java Dev", "Oak", "Java only.")]),
        deletes=["py1"],
    )
    assert fast.generation() != before
    expected = plain.match_ids("python -java").to_pylist()
    # The first search after the change cannot use the old bitmaps: it is right (the slow path) ...
    assert fast.match_ids("python -java").to_pylist() == expected
    # ... and the words in use come back for the new generation, without being searched again.
    assert fast.bitmaps is not None and fast.bitmaps.idle(30)
    view = fast.bitmaps.view(fast.generation())
    assert view is not None
    assert {search._leaf_key(search._Term(w, False, None)) for w in ("python", "java", "spark")} <= set(view.masks)
    fast._id_cache.clear()
    spark = plain.match_ids("spark").to_pylist()
    slow = _tantivy_searches(monkeypatch)
    assert fast.match_ids("python -java").to_pylist() == expected
    assert fast.match_ids("spark").to_pylist() == spark
    assert slow == []


def test_rare_words_are_read_now_and_not_kept(tmp_path: Path) -> None:
    """With the real threshold, a word with few hits is searched at once and takes no bitmap."""
    fast = DescriptionIndex(tmp_path / "search.sqlite", bitmaps=True)
    fast.update(table(DOCS))
    assert fast.match_ids("kotlin").to_pylist() == [search.fts_id("be1")]
    assert fast.bitmaps is not None and fast.bitmaps.idle(30)
    view = fast.bitmaps.view(fast.generation())
    assert view is not None and view.masks == {}
    fast.close()


def test_capacity_keeps_the_most_recently_used_words() -> None:
    universe = np.arange(10, 20, dtype=np.int64)
    built: list[str] = []

    def extract(key: str, generation: int) -> np.ndarray:
        built.append(key)
        return universe[: len(key)]

    bitmaps: TermBitmaps[str] = TermBitmaps(lambda: 7, lambda: (7, universe), extract, capacity=2)
    assert bitmaps.view(7) is None  # nothing built yet: the caller searches the slow way
    bitmaps.used(["a", "bb", "ccc"])
    assert bitmaps.idle(10)
    view = bitmaps.view(7)
    assert view is not None and set(view.masks) == {"bb", "ccc"}  # "a", asked first, did not fit
    assert view.ids(view.masks["ccc"]).tolist() == [10, 11, 12]
    bitmaps.used(["bb"])  # touched: now "ccc" is the least recently used
    bitmaps.used(["dddd"])
    assert bitmaps.idle(10)
    view = bitmaps.view(7)
    assert view is not None and set(view.masks) == {"bb", "dddd"}
    bitmaps.close()


def test_ids_from_another_version_of_the_index_are_never_used() -> None:
    """A word read from a newer commit than the universe (ids it does not hold) starts over on a fresh
    universe instead of setting wrong bits."""
    versions = [np.array([1, 2, 3], np.int64), np.array([1, 2, 3, 4], np.int64)]
    reads = [0]

    def universe() -> tuple[int, np.ndarray]:
        return 1, versions[min(1, reads[0])]  # after the first word read, the universe is the newer commit's

    def extract(key: str, generation: int) -> np.ndarray:
        reads[0] += 1
        return np.array([2, 4], np.int64)  # 4 exists only in the newer commit

    bitmaps: TermBitmaps[str] = TermBitmaps(lambda: 1, universe, extract)
    assert bitmaps.view(1) is None
    bitmaps.used(["w"])
    assert bitmaps.idle(10)
    view = bitmaps.view(1)
    assert view is not None and view.ids(view.masks["w"]).tolist() == [2, 4]
    bitmaps.close()


def test_an_index_that_cannot_be_read_leaves_the_slow_path_to_say_so() -> None:
    def broken() -> tuple[int, np.ndarray]:
        raise OSError("disk gone")

    bitmaps: TermBitmaps[str] = TermBitmaps(lambda: 1, broken, lambda k, g: None)
    assert bitmaps.view(1) is None
    assert bitmaps.idle(10)  # the thread gave up quietly; searches keep taking tantivy's path
    assert bitmaps.view(1) is None
    bitmaps.close()


def test_catalog_answers_the_same_page_from_bitmaps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """End to end through the catalog the dashboard uses: same page and count as without bitmaps."""
    from core.catalog import Catalog
    from core.query import JobFilter, Sort
    from tests import catalog_fixture as cf

    monkeypatch.setattr(search, "READ_NOW_MAX_HITS", 0)
    built = cf.build(tmp_path / "data", 3000, user_data=False)
    flt = JobFilter(desc="we -python", workplace=("remote", "hybrid"))
    plain, fast = Catalog(built.settings), Catalog(built.settings, search_bitmaps=True)
    try:
        want = plain.page(flt, Sort(), limit=50)
        fast.page(flt, Sort(), limit=50)
        assert fast.search_settled(30)
        got = fast.page(JobFilter(desc="WE -Python", workplace=("remote", "hybrid")), Sort(), limit=50)
        assert got.total == want.total > 0
        assert got.rows.column("job_id").to_pylist() == want.rows.column("job_id").to_pylist()
    finally:
        plain.close()
        fast.close()


def test_match_ids_is_an_int64_arrow_array(pair: tuple[DescriptionIndex, DescriptionIndex]) -> None:
    fast, _ = pair
    _warm(fast, ["python"])
    out = fast.match_ids("python")
    assert isinstance(out, pa.Array) and out.type == pa.int64()


@pytest.mark.parametrize("first_k", [1, 7, 1000])
def test_best_match_pages_from_the_best_scores_are_the_full_ranking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first_k: int
) -> None:
    """ "Best match" pages read from the best k scores (k growing as needed) walk the same rows, forward and
    back, as the ranking over every match; the totals count every match."""
    from core import catalog
    from core.catalog import Catalog
    from core.query import JobFilter, Sort
    from tests import catalog_fixture as cf

    monkeypatch.setattr(catalog, "BEST_FIRST_K", first_k)
    built = cf.build(tmp_path / "data", 1200, user_data=False)
    cat = Catalog(built.settings, search_bitmaps=True)
    try:
        for flt in (
            JobFilter(desc="python OR rust -react", workplace=("remote", "hybrid")),
            JobFilter(desc='"we use" postgres'),
            JobFilter(desc="nosuchword"),
        ):
            best = Sort("relevance")
            want = [str(r["job_id"]) for r in cat.rows(flt, best)]  # every score, one ranking
            pages = list(cf.iter_pages(cat, flt, best, limit=40))
            assert [j for p in pages for j in p.rows.column("job_id").to_pylist()] == want
            assert all(p.total == len(want) for p in pages)
            assert len(pages) > 2 or flt.desc == "nosuchword"
            back, cursor = [], pages[-1].first_key
            for p in reversed(pages[:-1]):
                prev = cat.page(flt, best, cursor, "prev", 40)
                assert prev.rows.column("job_id").to_pylist() == p.rows.column("job_id").to_pylist()
                back.append(prev)
                cursor = prev.first_key
            assert not (back[-1].has_prev if back else pages[0].has_prev)
    finally:
        cat.close()


def test_a_sync_rebuilds_the_held_words_without_a_search(
    pair: tuple[DescriptionIndex, DescriptionIndex], monkeypatch: pytest.MonkeyPatch
) -> None:
    from core import term_bitmaps
    from tests.waiting import wait_for

    monkeypatch.setattr(term_bitmaps, "POLL_S", 0.1)
    fast, plain = pair
    _warm(fast, ["python", "spark"])
    plain.update(table([("rs1", "Rust Developer", "Ferrous", "Rust and Python.")]))
    assert fast.bitmaps is not None
    # Nobody searches: the thread notices the new generation and builds the held words again.
    wait_for(lambda: fast.bitmaps._generation == fast.generation(), 10, "bitmaps on the new generation")
    assert fast.bitmaps.idle(10)
    view = fast.bitmaps.view(fast.generation())
    assert view is not None and {k.text for k in view.masks} == {"python", "spark"}
    fast._id_cache.clear()
    want = plain.match_ids("python").to_pylist()
    slow = _tantivy_searches(monkeypatch)
    assert fast.match_ids("python").to_pylist() == want and search.fts_id("rs1") in want
    assert slow == []


def test_saved_views_words_are_kept_when_a_snapshot_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.catalog import Catalog
    from core.query import JobFilter, filter_to_json
    from core.userdata import UserData
    from tests import catalog_fixture as cf

    monkeypatch.setattr(search, "READ_NOW_MAX_HITS", 0)
    built = cf.build(tmp_path / "data", 500, user_data=False)
    users = UserData(built.settings.db_path)
    users.save_view("pg", filter_to_json(JobFilter(desc="Postgres -react")))
    users.close()
    cat = Catalog(built.settings, search_bitmaps=True)
    try:
        cat.refresh()
        assert cat._index is not None and cat._index.bitmaps is not None and cat.search_settled(30)
        view = cat._index.bitmaps.view(cat._index.generation())
        assert view is not None and {k.text for k in view.masks} == {"postgres", "react"}
    finally:
        cat.close()
