"""DescriptionIndex over a real tantivy index: ranking, query syntax, hostile input, updates, WAL reads."""

from __future__ import annotations

import random
import sqlite3
import threading
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import search
from core.search import DescriptionIndex, to_fts

DOCS = [
    ("ml1", "Machine Learning Engineer", "Acme", "Build machine learning models in Python. Deep learning a plus."),
    ("ml2", "Data Scientist", "Globex", "Statistics, Python, some machine work and learning on the job."),
    ("de1", "Data Engineer", "Initech", "Pipelines in Python and Spark; databases; dataops."),
    ("be1", "Backend Developer", "Umbrella", "Java and Kotlin services. No Python."),
    ("fe1", "Frontend Developer", "Zürich Labs", "TypeScript, React, CSS. Café culture."),
    ("py1", "Python Developer", "Hooli", "Django and Flask. Python Python Python."),
    ("mgr", "Engineering Manager", "Acme", "Lead a team of engineers; hiring; roadmap."),
]


def table(rows: list[tuple[str, str, str, str]]) -> pa.Table:
    cols = list(zip(*rows, strict=True))
    return pa.table({"job_id": cols[0], "title": cols[1], "company": cols[2], "description": cols[3]})


@pytest.fixture
def idx(tmp_path: Path) -> DescriptionIndex:
    index = DescriptionIndex(tmp_path / "search.sqlite")
    assert index.update(table(DOCS)) == len(DOCS)
    return index


def ids(idx: DescriptionIndex, query: str) -> list[str]:
    return [job_id for job_id, _ in idx.match(query)]


def test_bm25_ranks_title_and_frequency_first(idx: DescriptionIndex) -> None:
    hits = idx.match("python")
    assert [h[0] for h in hits][:1] == ["py1"]  # in the title and four times in the text
    assert set(h[0] for h in hits) == {"py1", "ml1", "ml2", "de1", "be1"}
    scores = [s for _, s in hits]
    assert scores == sorted(scores) and all(s < 0 for s in scores)  # bm25: lower is better


def test_phrase_is_adjacent_words_and_beats_scattered_words(idx: DescriptionIndex) -> None:
    assert ids(idx, '"machine learning"') == ["ml1"]
    both = ids(idx, "machine learning")
    assert both[0] == "ml1" and set(both) == {"ml1", "ml2"}


def test_prefix(idx: DescriptionIndex) -> None:
    assert set(ids(idx, "data*")) == {"ml2", "de1"}  # Data, databases, dataops
    assert ids(idx, "kotl*") == ["be1"]
    assert set(ids(idx, "databas")) == set()  # without * a word must match whole


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("python NOT java", {"py1", "ml1", "ml2", "de1"}),
        ("python -java", {"py1", "ml1", "ml2", "de1"}),
        ("python AND spark", {"de1"}),
        ("spark OR react", {"de1", "fe1"}),
        ("(spark OR react) -typescript", {"de1"}),
        ("-python", {"fe1", "mgr"}),  # only negations: everything without the word
        ("NOT python", {"fe1", "mgr"}),
        ('-"machine learning" python', {"ml2", "de1", "be1", "py1"}),
        ("title:python", {"py1"}),
        ("company:acme", {"ml1", "mgr"}),
        ("desc:hiring", {"mgr"}),
        ("zurich cafe", {"fe1"}),  # diacritics removed on both sides
        ("ZÜRICH", {"fe1"}),
        ("python or java", set()),  # lower-case "or" is a word, and no text holds all three
    ],
)
def test_boolean_and_column_queries(idx: DescriptionIndex, query: str, expected: set[str]) -> None:
    assert set(ids(idx, query)) == expected


NASTY = [
    "",
    "   ",
    '"',
    '""',
    '"machine learning',
    'machine learning"',
    "AND OR",
    "AND",
    "OR",
    "NOT",
    "NOT NOT",
    "python AND",
    "OR python",
    "*",
    "**",
    "-",
    "--",
    ":",
    "title:",
    "title: python",
    "nosuchcol:python",
    "(",
    ")",
    "(()",
    "python)",
    "(python",
    "((python OR) AND",
    "python\x00java",
    "\x00",
    "x" * 10_000,
    "python " * 2000,
    "NEAR(python java)",
    "python^2",
    "{title}:python",
    "c++ c# .net",
    "'; DROP TABLE docs; --",
    "🐍 python",
    "\ud800",
    "python\ud800",
    "python\udcff spark",
    b"caf\xe9".decode("utf-8", "surrogateescape"),
    123,  # not even text: a caller bug, still no exception
    "-*",
    '-"',
    "python OR -java",
]


@pytest.mark.parametrize("query", NASTY)
def test_nasty_input_returns_a_list(idx: DescriptionIndex, query: str) -> None:
    out = idx.match(query)
    assert isinstance(out, list)
    assert all(isinstance(j, str) and isinstance(s, float) for j, s in out)
    assert idx.count() == len(DOCS)  # nothing was dropped on the way


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('"machine learning', {"ml1"}),  # an unclosed quote is still a phrase
        ("title: python", {"py1"}),
        ("python)", {"py1", "ml1", "ml2", "de1", "be1"}),
        ("(python", {"py1", "ml1", "ml2", "de1", "be1"}),
        ("python\x00spark", {"de1"}),
        ("🐍 spark", {"de1"}),
        ("AND OR", set()),  # read literally: no document holds the words "and" and "or"
    ],
)
def test_nasty_input_is_read_sensibly(idx: DescriptionIndex, query: str, expected: set[str]) -> None:
    assert set(ids(idx, query)) == expected


@pytest.mark.parametrize("query", ["", "*", "-", ":", "()", '""', "title:", "🐍"])
def test_input_without_words_matches_nothing(idx: DescriptionIndex, query: str) -> None:
    assert to_fts(query) == "" and idx.match(query) == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from([*'ab "()*-:+^{}\x00', "AND", "OR", "NOT", "title:", "é"]), max_size=25).map("".join))
def test_any_input_compiles_to_valid_fts5(idx: DescriptionIndex, query: str) -> None:
    expr = to_fts(query)
    if expr:  # FTS5 itself accepts every expression we emit (the baseline in benchmarks/ runs them)
        with sqlite3.connect(":memory:") as fts:
            fts.execute("CREATE VIRTUAL TABLE docs_fts USING fts5(title, company, description)")
            fts.execute("SELECT count(*) FROM docs_fts WHERE docs_fts MATCH ?", [expr]).fetchone()
    assert isinstance(idx.match(query), list)  # and tantivy every query we build from the same parse
    assert isinstance(idx.match_ids(query), pa.Array)


def test_limit(idx: DescriptionIndex) -> None:
    assert len(idx.match("python", limit=2)) == 2
    assert idx.match("python", limit=2) == idx.match("python")[:2]
    assert idx.match("python", limit=0) == []


def test_update_replaces_changed_text_and_skips_unchanged(idx: DescriptionIndex) -> None:
    assert idx.update(table(DOCS)) == 0  # same content: nothing rewritten
    changed = [("be1", "Backend Developer", "Umbrella", "Rust and Go services now.")]
    assert idx.update(table(changed)) == 1
    assert "be1" not in ids(idx, "java")
    assert ids(idx, "rust") == ["be1"]
    assert idx.count() == len(DOCS)


def test_deletes_remove_from_index(idx: DescriptionIndex) -> None:
    assert idx.update(table(DOCS).slice(0, 0), deletes=["py1", "ml1", "missing"]) == 2
    assert "py1" not in ids(idx, "python") and "ml1" not in ids(idx, "python")
    assert idx.count() == len(DOCS) - 2
    assert idx.ids() == {d[0] for d in DOCS} - {"py1", "ml1"}


def test_nulls_and_missing_columns(tmp_path: Path) -> None:
    index = DescriptionIndex(tmp_path / "s.sqlite")
    rows = pa.table({"job_id": ["a", "b"], "title": ["Rust dev", None], "description": [None, "golang"]})
    assert index.update(rows) == 2
    assert ids(index, "rust") == ["a"] and ids(index, "golang") == ["b"]


def test_failed_update_writes_nothing(idx: DescriptionIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="job_id"):
        idx.update(pa.table({"title": ["x"]}))
    bad = pa.table(
        {"job_id": ["new1", "new2"], "title": ["ok", "ok"], "company": ["c", "c"], "description": ["x", "y"]}
    )
    # a failure on the second row (here: tantivy refuses the document): the first row and the delete roll back
    real = search.tantivy.Document

    def boom(**fields: object) -> object:
        if fields.get("job_id") == b"new2":
            raise ValueError("x")
        return real(**fields)

    monkeypatch.setattr(search.tantivy, "Document", boom)
    with pytest.raises(ValueError, match="x"):
        idx.update(bad, deletes=["mgr"])
    monkeypatch.undo()
    assert idx.count() == len(DOCS) and "new1" not in idx.ids() and "mgr" in idx.ids()
    assert idx.update(bad) == 2, "the writer was released: the next update goes through"


def test_reader_sees_consistent_results_while_a_writer_updates(tmp_path: Path) -> None:
    path = tmp_path / "search.sqlite"
    writer = DescriptionIndex(path)
    rng = random.Random(3)
    words = ["alpha", "beta", "gamma", "delta", "python", "rust"]
    base = [(f"j{i}", "dev", "co", " ".join(rng.choice(words) for _ in range(40))) for i in range(2000)]
    writer.update(table(base))
    reader = DescriptionIndex(path)
    stop = threading.Event()
    seen: list[int] = []
    errors: list[BaseException] = []

    def read() -> None:
        try:
            while not stop.is_set():
                seen.append(len(reader.match("zeta")))
        except BaseException as e:
            errors.append(e)

    t = threading.Thread(target=read)
    t.start()
    for round_ in range(10):  # each round adds "zeta" to 200 more documents, in one transaction
        batch = [(j, ti, c, d + " zeta") for j, ti, c, d in base[round_ * 200 : (round_ + 1) * 200]]
        writer.update(table(batch))
    stop.set()
    t.join()
    assert errors == []
    assert seen, "the reader ran"
    assert all(n % 200 == 0 for n in seen)  # never a half-applied update
    assert seen == sorted(seen)
    assert len(reader.match("zeta")) == 2000


def test_cached_results_follow_writes_from_another_connection(idx: DescriptionIndex) -> None:
    first = idx.match("kotlin")
    assert [j for j, _ in first] == ["be1"]
    first.clear()  # callers get their own list: the cache is not theirs to change
    assert [j for j, _ in idx.match("kotlin")] == ["be1"]
    gen = idx.generation()
    other = DescriptionIndex(idx.path)  # as if another process: its own connection
    other.update(table([("k2", "Kotlin Developer", "Initech", "Android apps.")]))
    assert idx.generation() == gen + 1
    assert [j for j, _ in idx.match("kotlin")] == ["k2", "be1"]  # title match ranks first
    assert other.update(table([("k2", "Kotlin Developer", "Initech", "Android apps.")])) == 0
    assert idx.generation() == gen + 1  # a no-op update keeps every cached result valid


def test_match_scores_rank_like_match_and_cover_match_ids(idx: DescriptionIndex) -> None:
    from core.search import fts_id

    scores = idx.match_scores("python")
    by_id = dict(zip(scores.column("fts_id").to_pylist(), scores.column("score").to_pylist(), strict=True))
    assert set(by_id) == set(idx.match_ids("python").to_pylist())
    ranked = [fts_id(j) for j, _ in idx.match("python")]
    assert sorted(by_id, key=lambda i: -by_id[i]) == ranked  # higher score = better = earlier in match()
    assert idx.match_scores("").num_rows == 0 and set(idx.match_scores("-python").column("score").to_pylist()) == {0.0}


def test_snippet_marks_the_matched_words_as_plain_text() -> None:
    text = {j: d for j, _, _, d in DOCS}  # the description the detail panel already shows
    assert search.snippet(text["ml1"], '"machine learning" -java') == (
        "Build «machine» «learning» models in Python. Deep «learning» a plus."
    )
    assert search.snippet(text["fe1"], "cafe") == "TypeScript, React, CSS. «Café» culture."  # folded like the index
    assert search.snippet(text["de1"], "data*") == "Pipelines in Python and Spark; «databases»; «dataops»."
    assert search.snippet(text["be1"], "python -kotlin") == "Java and Kotlin services. No «Python»."
    assert search.snippet(text["be1"], "rust") == "" and search.snippet("", "python") == ""
    assert search.snippet(text["be1"], "-python") == ""  # nothing asked for, nothing to mark
    long = "x " * 400 + "<b>kafka</b> " + "y " * 400
    cut = search.snippet(long, "kafka")
    assert cut.startswith("…") and cut.endswith("…") and "<b>«kafka»</b>" in cut and len(cut) < 300


def test_the_index_stores_no_texts_only_the_job_id(idx: DescriptionIndex) -> None:
    import tantivy

    s = idx._searcher()
    (_, addr), *_ = s.search(tantivy.Query.all_query(), limit=1).hits
    assert set(s.doc(addr).to_dict()) == {"job_id"}  # the texts live in the Parquet segments only
    assert ids(idx, "title:python") == ["py1"] and ids(idx, '"machine learning"') == ["ml1"]  # still indexed
