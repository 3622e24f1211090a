"""Description-search engines side by side: ``python -m benchmarks.search_engines --jobs 1000000``.

Issue 12, step 1: choose the engine behind ``core.search.DescriptionIndex`` by measurement. Every engine
indexes the same demo corpus (``demo_table(N, churn=False)``: title, company, description of each posting,
keyed by ``fts_id(job_id)``) and answers the same query mix, one engine at a time, single-threaded where the
engine lets us choose:

- ``fts5-external`` (sqlite3 stdlib): the index before issue 12 (``benchmarks/fts5_index.py``), built and updated through its ``update``
  (external-content FTS5 + ``docs`` table + triggers), queried with the SQL ``DescriptionIndex`` runs;
- ``fts5-cd-full|column|none`` (apsw, a current SQLite): a contentless-delete FTS5 table
  (``content='', contentless_delete=1``) whose rowid is the fts_id, at each ``detail=`` level;
- ``tantivy`` (tantivy-py): title/company/description text fields with positions, a fast i64 ``id``;
  matching ids come back as the sort key of a by-id collector, ranked top-k is BM25 with field boosts.

The mix: two common words (each in ~half the descriptions), two rare words, a phrase, a prefix*, a word
NOT another word. For each engine and kind: the matching ids as an Arrow int64 array; the same ids joined
in DuckDB with filters (a page of 50 in posted_at order + the count, what ``Catalog.page`` does); ranked
top 50 (BM25; title 5, company 3, description 1). The id sets are asserted identical across engines (after
the build and again after the incremental update) or the run stops: a figure is only comparable when the
semantics are the same. Ranked lists differ between BM25 implementations, so only "every ranked id
matches" is asserted there.

Also: index size on disk, full build time (inserts, then optimize/merge), the update of 100k documents
(delete 50k, add 50k new, one commit), RSS of a fresh process after opening the index and after one
common-word query. Output: a table on stdout, ``data/bench/search_engines-<jobs>.json`` and the Markdown
section ``docs/bench_search_engines.md``.
"""

from __future__ import annotations

import argparse
import array
import gc
import hashlib
import importlib.metadata
import json
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import psutil
import pyarrow as pa
import pyarrow.compute as pc

from benchmarks.query_bench import pick_description_words
from core.sources.demo.generator import demo_table

ROOT = Path(__file__).resolve().parent.parent
FIELDS = ("title", "company", "description")
WEIGHTS = (5.0, 3.0, 1.0)  # as core.search.WEIGHTS
PAGE = 50
TOP_K = 50
CHANGE = 100_000  # documents touched by the incremental update: half deleted, half added
BATCH = 5000
DETAILS = ("full", "column", "none")
ANALYSIS_MARK = "<!-- analysis: kept when the table above is regenerated -->"
TARGETS = {  # issue 12, at 1M
    "common ids + filters p95 ms": 100.0,
    "rare ids + filters p95 ms": 20.0,
    "index MB": 300.0,
    "build s": 60.0,
    "ranked top-50, common (200k+ hits) p95 ms": 150.0,
}


def _demo_table(n: int) -> pa.Table:
    return demo_table(n, churn=False)


def _pick_words(descriptions: pa.ChunkedArray) -> dict[str, Any]:
    """The catalog bench's common and rare words."""
    return {**pick_description_words(descriptions), "picked_by": "benchmarks.query_bench"}


def _pick_words_copy(descriptions: pa.ChunkedArray, sample: int = 5000) -> dict[str, Any]:
    """The same pick on whole tokens, as the indexes cut them (the catalog bench's regex can pick "travail"
    out of "travaillé", a word no index holds)."""

    def whole(text: str) -> set[str]:
        return {w for w in _TOKEN.findall(_fold(text)) if len(w) >= 4 and w.isalpha() and w.isascii()}

    return pick_description_words(descriptions, sample, words=whole)


def fts_id(job_id: str) -> int:
    """As core.search.fts_id: 60 bits of md5(job_id)."""
    return int(hashlib.md5(job_id.encode("utf-8"), usedforsecurity=False).hexdigest()[:15], 16)


# ---------------------------------------------------------------- corpus


@dataclass
class Corpus:
    docs: pa.Table  # fts_id, job_id, title, company, description, workplace_type, posted_at
    n: int  # documents in the initial build (docs has n + CHANGE/2: the last rows are the update's adds)


def corpus(n: int) -> Corpus:
    adds = min(CHANGE // 2, max(1, n // 2))
    raw = _demo_table(n + adds)
    job_ids = [
        hashlib.md5(f"demo:{nid}".encode(), usedforsecurity=False).hexdigest()[:16]
        for nid in raw.column("native_id").to_pylist()
    ]
    docs = pa.table(
        {
            "fts_id": pa.array([fts_id(j) for j in job_ids], pa.int64()),
            "job_id": pa.array(job_ids, pa.string()),
            **{f: pc.fill_null(raw.column(f), "") for f in FIELDS},
            "workplace_type": raw.column("workplace_type"),
            "posted_at": raw.column("posted_at"),
        }
    )
    return Corpus(docs, n)


def initial(c: Corpus) -> pa.Table:
    return c.docs.slice(0, c.n)


def change(c: Corpus, seed: int = 7) -> tuple[pa.Table, pa.Table]:
    """(rows to add, rows to delete): the corpus tail, and as many rows of the build picked at random."""
    adds = c.docs.slice(c.n)
    rng = np.random.default_rng(seed)
    gone = np.sort(rng.choice(c.n, size=adds.num_rows, replace=False))
    return adds, c.docs.take(pa.array(gone))


def _rows(t: pa.Table) -> Iterator[tuple[int, str, str, str]]:
    for b in t.to_batches(max_chunksize=BATCH):
        yield from zip(*(b.column(c).to_pylist() for c in ("fts_id", *FIELDS)), strict=True)


# ---------------------------------------------------------------- queries


@dataclass(frozen=True)
class Clause:
    """A word, a phrase (several words) or a prefix, matched in any of FIELDS."""

    words: tuple[str, ...]
    prefix: bool = False

    def fts5(self) -> str:
        return '"' + " ".join(self.words) + '"' + ("*" if self.prefix else "")


@dataclass(frozen=True)
class Query:
    kind: str
    text: str  # as a user would type it (core.search syntax)
    must: tuple[Clause, ...]
    must_not: tuple[Clause, ...] = ()

    def fts5(self) -> str:
        pos = " AND ".join(c.fts5() for c in self.must)
        if not self.must_not:
            return pos
        return f"({pos}) NOT ({' OR '.join(c.fts5() for c in self.must_not)})"


_WORD = re.compile(r"[a-z]+")
_CLAUSE_BREAK = re.compile(r"[\n.:;,!?()<>]")


def query_mix(c: Corpus) -> tuple[list[Query], dict[str, Any]]:
    """Common and rare pairs as the catalog bench picks them; a phrase, a prefix and a NOT built from the
    same sample: the phrase is the most frequent pair of adjacent 4+ letter words (in one sentence) found in
    1-10% of the sample; the prefix is the first four letters of the first common word."""
    desc = initial(c).column("description")
    picked = _pick_words(desc)
    common, rare = picked["common"].split(), picked["rare"].split()
    sample_tokens = (set(_TOKEN.findall(_fold(t))) for t in desc[:: max(1, len(desc) // 5000)][:5000].to_pylist())
    if not any(set(rare) <= toks for toks in sample_tokens):  # picked from inside longer words
        fixed = _pick_words_copy(desc)
        rare, picked = (
            fixed["rare"].split(),
            {
                **picked,
                "rare": fixed["rare"],
                "rare_df": fixed["rare_df"],
                "rare_picked_by": "whole tokens (benchmarks.search_engines)",
            },
        )
    step = max(1, len(desc) // 2000)
    sample = desc[::step].to_pylist()
    bigram_df: dict[tuple[str, str], int] = {}
    for text in sample:
        seen = set()
        for part in _CLAUSE_BREAK.split(text.lower()):  # a phrase someone would type: inside one sentence
            toks = _WORD.findall(part)
            seen |= {(a, b) for a, b in zip(toks, toks[1:], strict=False) if len(a) >= 4 and len(b) >= 4}
        for bg in seen:
            bigram_df[bg] = bigram_df.get(bg, 0) + 1
    m = len(sample)
    band = [bg for bg, k in bigram_df.items() if 0.01 * m <= k <= 0.10 * m and bg[0] != bg[1]]
    phrase = max(band, key=lambda bg: (bigram_df[bg], bg)) if band else (common[0], common[1])
    prefix = common[0][:4]
    queries = [
        Query("common", " ".join(common), tuple(Clause((w,)) for w in common)),
        Query("rare", " ".join(rare), tuple(Clause((w,)) for w in rare)),
        Query("phrase", f'"{" ".join(phrase)}"', (Clause(phrase),)),
        Query("prefix", f"{prefix}*", (Clause((prefix,), prefix=True),)),
        Query("not", f"{common[0]} -{common[1]}", (Clause((common[0],)),), (Clause((common[1],)),)),
    ]
    info = {**picked, "phrase": " ".join(phrase), "phrase_df": bigram_df.get(phrase, 0) / m, "prefix": prefix}
    return queries, info


# ---------------------------------------------------------------- engines


def _dir_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


class Engine:
    name = ""
    library = ""
    ranks = True  # answers ranked top-k (BM25)

    def __init__(self, path: Path) -> None:
        self.path = path

    def build(self, docs: pa.Table) -> dict[str, float]:
        raise NotImplementedError

    def update(self, adds: pa.Table, deletes: pa.Table) -> None:
        raise NotImplementedError

    def open(self) -> None:
        raise NotImplementedError

    def ids(self, q: Query) -> pa.Array:
        raise NotImplementedError

    def top(self, q: Query, k: int) -> list[int]:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def size(self) -> int:
        return _dir_bytes(self.path)

    def supports(self, q: Query) -> str | None:
        """None, or why this engine cannot answer ``q`` with the same semantics."""
        return None


class Fts5External(Engine):
    """The FTS5 index shipped until issue 12, kept as a baseline: ``benchmarks.fts5_index`` writes it; the
    queries are its SQL."""

    name = "fts5-external"
    library = f"sqlite3 (stdlib) {sqlite3.sqlite_version}"

    def __init__(self, path: Path) -> None:
        super().__init__(path / "search.sqlite")
        self.conn: sqlite3.Connection | None = None

    def size(self) -> int:
        return sum(_dir_bytes(p) for p in self.path.parent.glob(self.path.name + "*"))

    def build(self, docs: pa.Table) -> dict[str, float]:
        from benchmarks.fts5_index import Fts5DescriptionIndex

        self.path.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        index = Fts5DescriptionIndex(self.path)
        index.update(docs.select(["job_id", *FIELDS]))
        t1 = time.perf_counter()
        index.optimize()
        index.close()
        t2 = time.perf_counter()
        self._checkpoint()
        return {"insert_s": t1 - t0, "optimize_s": t2 - t1}

    def _checkpoint(self) -> None:
        """Fold the WAL into the file (timed, as for the contentless tables), so the size is the index alone."""
        conn = sqlite3.connect(self.path)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()

    def update(self, adds: pa.Table, deletes: pa.Table) -> None:
        from benchmarks.fts5_index import Fts5DescriptionIndex

        index = Fts5DescriptionIndex(self.path)
        index.update(adds.select(["job_id", *FIELDS]), deletes.column("job_id").to_pylist())
        index.close()
        self._checkpoint()

    def open(self) -> None:
        self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")

    def ids(self, q: Query) -> pa.Array:
        assert self.conn is not None
        rows = self.conn.execute("SELECT rowid FROM docs_fts WHERE docs_fts MATCH ?", [q.fts5()]).fetchall()
        return pa.array([r[0] for r in rows], pa.int64())

    def top(self, q: Query, k: int) -> list[int]:
        assert self.conn is not None
        sql = "SELECT rowid FROM docs_fts WHERE docs_fts MATCH ? ORDER BY bm25(docs_fts, ?, ?, ?), rowid LIMIT ?"
        return [r[0] for r in self.conn.execute(sql, [q.fts5(), *WEIGHTS, k])]

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class Fts5Contentless(Engine):
    """A contentless-delete FTS5 table in apsw's SQLite: only the index, rowid = fts_id."""

    def __init__(self, path: Path, detail: str) -> None:
        import apsw

        super().__init__(path / "search.sqlite")
        self.detail = detail
        self.name = f"fts5-cd-{detail}"
        self.library = f"apsw {apsw.apsw_version()} (SQLite {apsw.sqlite_lib_version()})"
        self.conn: Any = None

    def size(self) -> int:
        return sum(_dir_bytes(p) for p in self.path.parent.glob(self.path.name + "*"))

    def _connect(self) -> Any:
        import apsw

        conn = apsw.Connection(str(self.path))
        conn.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000")
        return conn

    def supports(self, q: Query) -> str | None:
        if self.detail != "full" and any(len(c.words) > 1 for c in q.must + q.must_not):
            return f"detail={self.detail} cannot answer multi-word phrases"
        return None

    def build(self, docs: pa.Table) -> dict[str, float]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = self._connect()
        conn.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS f USING fts5(title, company, description, content='',"
            f" contentless_delete=1, detail={self.detail}, tokenize='unicode61 remove_diacritics 2')"
        )
        t0 = time.perf_counter()
        with conn:
            conn.executemany("INSERT INTO f(rowid, title, company, description) VALUES (?, ?, ?, ?)", _rows(docs))
        t1 = time.perf_counter()
        conn.execute("INSERT INTO f(f) VALUES ('optimize')")
        t2 = time.perf_counter()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        return {"insert_s": t1 - t0, "optimize_s": t2 - t1}

    def update(self, adds: pa.Table, deletes: pa.Table) -> None:
        conn = self._connect()
        with conn:
            gone = deletes.column("fts_id").to_pylist()
            conn.executemany("DELETE FROM f WHERE rowid = ?", [(i,) for i in gone])
            conn.executemany("INSERT INTO f(rowid, title, company, description) VALUES (?, ?, ?, ?)", _rows(adds))
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()

    def open(self) -> None:
        self.conn = self._connect()

    def ids(self, q: Query) -> pa.Array:
        rows = self.conn.execute("SELECT rowid FROM f WHERE f MATCH ?", [q.fts5()]).fetchall()
        return pa.array([r[0] for r in rows], pa.int64())

    def top(self, q: Query, k: int) -> list[int]:
        sql = "SELECT rowid FROM f WHERE f MATCH ? ORDER BY bm25(f, ?, ?, ?), rowid LIMIT ?"
        return [r[0] for r in self.conn.execute(sql, [q.fts5(), *WEIGHTS, k])]

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class Tantivy(Engine):
    """tantivy: one writer thread; tokens as FTS5's unicode61 (letters/digits, lowercased, accents folded)."""

    name = "tantivy"
    HEAP = 256 * 1024 * 1024

    def __init__(self, path: Path) -> None:
        import tantivy

        super().__init__(path / "tantivy")
        self.library = f"tantivy-py {importlib.metadata.version('tantivy')}"
        self.index: Any = None
        self.searcher: Any = None
        self.t = tantivy

    def _schema(self) -> Any:
        sb = self.t.SchemaBuilder()
        for f in FIELDS:
            sb.add_text_field(f, stored=False, tokenizer_name="fold", index_option="position")
        sb.add_integer_field("id", stored=False, indexed=True, fast=True)
        return sb.build()

    def _open_index(self) -> Any:
        t = self.t
        self.path.mkdir(parents=True, exist_ok=True)
        index = t.Index(self._schema(), path=str(self.path))
        analyzer = t.TextAnalyzerBuilder(t.Tokenizer.simple()).filter(t.Filter.lowercase())
        index.register_tokenizer("fold", analyzer.filter(t.Filter.ascii_fold()).build())
        return index

    def _add(self, writer: Any, docs: pa.Table) -> None:
        doc = self.t.Document
        for i, ti, co, de in _rows(docs):
            writer.add_document(doc(id=i, title=ti, company=co, description=de))

    def build(self, docs: pa.Table) -> dict[str, float]:
        index = self._open_index()
        t0 = time.perf_counter()
        writer = index.writer(heap_size=self.HEAP, num_threads=1)
        self._add(writer, docs)
        writer.commit()
        t1 = time.perf_counter()
        writer.wait_merging_threads()
        return {"insert_s": t1 - t0, "optimize_s": time.perf_counter() - t1}

    def update(self, adds: pa.Table, deletes: pa.Table) -> None:
        index = self._open_index()
        writer = index.writer(heap_size=self.HEAP, num_threads=1)
        gone = deletes.column("fts_id").to_pylist()
        writer.delete_documents_by_query(self.t.Query.term_set_query(index.schema, "id", gone))
        self._add(writer, adds)
        writer.commit()
        writer.wait_merging_threads()

    def open(self) -> None:
        self.index = self._open_index()
        self.index.reload()
        self.searcher = self.index.searcher()
        self.schema = self.index.schema

    def _clause(self, c: Clause, boost: bool) -> Any:
        Q, Occur = self.t.Query, self.t.Occur
        parts = []
        for f, w in zip(FIELDS, WEIGHTS, strict=True):
            if c.prefix:
                q = Q.regex_query(self.schema, f, re.escape(c.words[0]) + ".*")
            elif len(c.words) == 1:
                q = Q.term_query(self.schema, f, c.words[0])
            else:
                q = Q.phrase_query(self.schema, f, list(c.words))
            parts.append((Occur.Should, Q.boost_query(q, w) if boost else q))
        return Q.boolean_query(parts)

    def query(self, q: Query, boost: bool = False) -> Any:
        Occur = self.t.Occur
        items = [(Occur.Must, self._clause(c, boost)) for c in q.must]
        items += [(Occur.MustNot, self._clause(c, False)) for c in q.must_not]
        return self.t.Query.boolean_query(items)

    def ids(self, q: Query) -> pa.Array:
        s = self.searcher
        hits = s.search(self.query(q), limit=max(1, s.num_docs), count=False, order_by_field="id").hits
        return pa.array([h[0] for h in hits], pa.int64())

    def top(self, q: Query, k: int) -> list[int]:
        s = self.searcher
        hits = s.search(self.query(q, boost=True), limit=k, count=False).hits
        out: list[int] = s.fast_field_values("id", [h[1] for h in hits])
        return out

    def close(self) -> None:
        self.searcher = self.index = None


_TOKEN = re.compile(r"[^\W_]+")
# byte -> itself lowercased if an ASCII letter or digit, else a space
_ASCII_TABLE = np.array(
    [ord(chr(b).lower()) if chr(b).isascii() and chr(b).isalnum() else 32 for b in range(256)], dtype=np.uint8
)


def _fold(text: str) -> str:
    """Lowercase and strip diacritics (as unicode61 remove_diacritics 2); ASCII text is only lowercased."""
    text = text.lower()
    if text.isascii():
        return text
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


class Roaring(Engine):
    """An inverted index of roaring bitmaps (pyroaring) built with Arrow compute: per term, the ordinals of
    the documents holding it in any field; per pair of adjacent words in one field (a bigram), the same, so a
    two-word phrase is one bitmap. Both in SQLite (``WITHOUT ROWID`` tables of serialized bitmaps);
    ord -> fts_id in a numpy file; deleted ordinals in a tombstone bitmap. AND/NOT are bitmap operations, a
    prefix ORs the bitmaps of a term range, a longer phrase ANDs its bigrams and checks the candidates' texts
    with a regular expression (here an Arrow file; in the app the Parquet description segments). No BM25:
    it answers the id set only."""

    name = "roaring"
    ranks = False
    CHUNK = 1 << 16
    SPLIT = r"[^\p{L}\p{N}]+"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.library = f"pyroaring {importlib.metadata.version('pyroaring')} + pyarrow {pa.__version__}"
        self.conn: sqlite3.Connection | None = None

    def size(self) -> int:  # the texts kept for long-phrase checks are the catalog's, not the index's
        return sum(p.stat().st_size for p in self.path.iterdir() if p.name != "texts.arrow")

    @classmethod
    def _fold_arrow(cls, col: pa.ChunkedArray | pa.Array) -> pa.ListArray:
        """Tokens as unicode61 remove_diacritics 2 cuts them: lowercased, NFKD, combining marks dropped."""
        text = pc.utf8_lower(col)
        text = pc.replace_substring_regex(pc.utf8_normalize(text, "NFKD"), r"\p{Mn}+", "")
        return pc.split_pattern_regex(text, cls.SPLIT)

    @staticmethod
    def _ascii_tokens(sub: pa.Array) -> pa.ListArray:
        """ASCII text: lowercase and blank out every byte that is not a letter or digit with one table
        lookup over the data buffer (RE2 split was the build's slowest step), then split on spaces."""
        sub = pc.cast(sub, pa.string()).combine_chunks() if isinstance(sub, pa.ChunkedArray) else sub
        sub = pa.concat_arrays([sub])  # offset 0, own buffers
        offsets, data = sub.buffers()[1], sub.buffers()[2]
        raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
        clean = _ASCII_TABLE[raw]
        text = pa.StringArray.from_buffers(len(sub), offsets, pa.py_buffer(clean.tobytes()), sub.buffers()[0])
        return pc.split_pattern(text, " ")

    @classmethod
    def _chunk_keys(cls, docs: pa.Table) -> tuple[pa.Array, np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """(the chunk's term dictionary, term index per posting, local doc ordinal per posting): words, then
        bigrams as indexes >= len(dictionary) into the second half of the returned dictionary ("a b")."""
        flats: list[pa.Array] = []
        parents: list[np.ndarray[Any, Any]] = []
        for f in FIELDS:
            col = docs.column(f).combine_chunks()
            ascii_rows = np.asarray(pc.string_is_ascii(col))
            fl, pa_ = [], []
            for is_ascii in (True, False):
                where = np.flatnonzero(ascii_rows == is_ascii)
                if not len(where):
                    continue
                sub = col.take(pa.array(where))
                toks = cls._ascii_tokens(sub) if is_ascii else cls._fold_arrow(sub)
                flat = pc.list_flatten(toks)
                parent = where[pc.list_parent_indices(toks).to_numpy()]
                keep = np.asarray(pc.greater(pc.binary_length(flat), 0))
                fl.append(flat.filter(pa.array(keep)))
                pa_.append(parent[keep])
            flat = pa.concat_arrays(fl)
            parent = np.concatenate(pa_)
            if len(fl) > 1:
                order = np.argsort(parent, kind="stable")  # each document's tokens together, in text order
                flat, parent = flat.take(pa.array(order)), parent[order]
            flats.append(flat)
            parents.append(parent)
        # one dictionary for the chunk's words; bigrams as pairs of word indexes (no string per pair)
        enc = pc.dictionary_encode(pa.concat_arrays(flats))
        words = enc.dictionary
        widx = enc.indices.to_numpy().astype(np.int64)
        term_idx = [widx]
        row_idx = [np.concatenate(parents)]
        pos = 0
        pair_keys, pair_rows = [], []
        for parent in parents:
            w = widx[pos : pos + len(parent)]
            pos += len(parent)
            if len(parent) > 1:
                same = parent[:-1] == parent[1:]
                pair_keys.append((w[:-1][same] << 32) | w[1:][same])
                pair_rows.append(parent[:-1][same])
        names = words
        if pair_keys:
            uniq, inv = np.unique(np.concatenate(pair_keys), return_inverse=True)
            first = words.take(pa.array(uniq >> 32))
            second = words.take(pa.array(uniq & 0xFFFFFFFF))
            names = pa.concat_arrays([words, pc.binary_join_element_wise(first, second, " ")])
            term_idx.append(inv.astype(np.int64) + len(words))
            row_idx.append(np.concatenate(pair_rows))
        return names, np.concatenate(term_idx), np.concatenate(row_idx)

    @classmethod
    def _postings(cls, docs: pa.Table, first: int) -> dict[str, Any]:
        from pyroaring import BitMap

        out: dict[str, Any] = {}
        for start in range(0, docs.num_rows, cls.CHUNK):
            part = docs.slice(start, cls.CHUNK)
            dictionary, idx, rows = cls._chunk_keys(part)
            keys = np.sort((idx << 32) | (rows.astype(np.int64) + first + start))  # np.unique hashes: slower
            keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])]
            tid = keys >> 32
            ords = (keys & 0xFFFFFFFF).astype(np.uint32)
            bounds = np.flatnonzero(np.diff(tid)) + 1
            names = dictionary.take(pa.array(tid[np.concatenate([[0], bounds])])).to_pylist()
            for name, grp in zip(names, np.split(ords, bounds), strict=True):
                bm = BitMap(array.array("I", grp.tobytes()))
                have = out.get(name)
                if have is None:
                    out[name] = bm
                else:
                    have |= bm
        return out

    def _write_texts(self, docs: pa.Table) -> None:
        import pyarrow.feather as feather

        feather.write_feather(docs.select(list(FIELDS)), self.path / "texts.arrow", compression="uncompressed")

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path / "postings.sqlite", isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        for table in ("words", "bigrams"):
            conn.execute(f"CREATE TABLE IF NOT EXISTS {table} (term TEXT PRIMARY KEY, bm BLOB NOT NULL) WITHOUT ROWID")
        conn.execute("CREATE TABLE IF NOT EXISTS tomb (k INTEGER PRIMARY KEY, bm BLOB NOT NULL)")
        return conn

    def build(self, docs: pa.Table) -> dict[str, float]:
        from pyroaring import BitMap

        self.path.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        post = self._postings(docs, 0)
        t1 = time.perf_counter()
        conn = self._connect()
        conn.execute("BEGIN")
        for table, items in (
            ("words", ((t, b.serialize()) for t, b in sorted(post.items()) if " " not in t)),
            ("bigrams", ((t, b.serialize()) for t, b in sorted(post.items()) if " " in t)),
        ):
            conn.executemany(f"INSERT INTO {table} VALUES (?, ?)", items)  # noqa: S608
        conn.execute("INSERT OR REPLACE INTO tomb VALUES (0, ?)", [BitMap().serialize()])
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        np.save(self.path / "ids.npy", docs.column("fts_id").to_numpy())
        t2 = time.perf_counter()
        self._write_texts(docs)  # not index work: the app reads the Parquet segments it already has
        return {"insert_s": t1 - t0, "optimize_s": t2 - t1}

    def update(self, adds: pa.Table, deletes: pa.Table) -> None:
        import pyarrow.feather as feather
        from pyroaring import BitMap

        ids = np.load(self.path / "ids.npy")
        order = np.argsort(ids)
        gone = deletes.column("fts_id").to_numpy()
        pos = order[np.searchsorted(ids, gone, sorter=order)]
        post = self._postings(adds, len(ids))
        conn = self._connect()
        conn.execute("BEGIN")
        tomb = BitMap.deserialize(conn.execute("SELECT bm FROM tomb WHERE k = 0").fetchone()[0])
        tomb.update(array.array("I", pos.astype(np.uint32).tobytes()))
        conn.execute("UPDATE tomb SET bm = ? WHERE k = 0", [tomb.serialize()])
        for term, bm in post.items():
            table = "bigrams" if " " in term else "words"
            row = conn.execute(f"SELECT bm FROM {table} WHERE term = ?", [term]).fetchone()  # noqa: S608
            if row:
                bm |= BitMap.deserialize(row[0])
            conn.execute(f"INSERT OR REPLACE INTO {table} VALUES (?, ?)", [term, bm.serialize()])  # noqa: S608
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        np.save(self.path / "ids.npy", np.concatenate([ids, adds.column("fts_id").to_numpy()]))
        old = feather.read_table(self.path / "texts.arrow")
        self._write_texts(pa.concat_tables([old, adds.select(list(FIELDS))]))

    def open(self) -> None:
        import pyarrow.feather as feather
        from pyroaring import BitMap

        self.conn = self._connect()
        self.ord_ids = np.load(self.path / "ids.npy", mmap_mode="r")
        self.tomb = BitMap.deserialize(self.conn.execute("SELECT bm FROM tomb WHERE k = 0").fetchone()[0])
        self.texts = feather.read_table(self.path / "texts.arrow", memory_map=True)

    def _get(self, table: str, term: str) -> Any:
        from pyroaring import BitMap

        assert self.conn is not None
        row = self.conn.execute(f"SELECT bm FROM {table} WHERE term = ?", [term]).fetchone()  # noqa: S608
        return BitMap.deserialize(row[0]) if row else BitMap()

    def _bitmap(self, c: Clause) -> Any:
        from pyroaring import BitMap

        assert self.conn is not None
        if c.prefix:
            lo = c.words[0]
            hi = lo[:-1] + chr(ord(lo[-1]) + 1)
            rows = self.conn.execute("SELECT bm FROM words WHERE term >= ? AND term < ?", [lo, hi]).fetchall()
            return BitMap.union(BitMap(), *(BitMap.deserialize(r[0]) for r in rows))
        if len(c.words) == 1:
            return self._get("words", c.words[0])
        pairs = [self._get("bigrams", f"{a} {b}") for a, b in zip(c.words, c.words[1:], strict=False)]
        out = BitMap.intersection(*pairs) if len(pairs) > 1 else pairs[0]
        if len(c.words) > 2:  # adjacent pairs need not be one run of words: check the candidates' texts
            cand = np.frombuffer(out.to_array(), dtype=np.uint32).astype(np.int64)
            sep = r"[^\pL\pN]"
            pattern = "(?i)(?:^|" + sep + ")" + (sep + "+").join(map(re.escape, c.words)) + "(?:$|" + sep + ")"
            take = pa.array(cand)
            hit = None
            for f in FIELDS:
                m = pc.match_substring_regex(self.texts.column(f).take(take), pattern)
                hit = m if hit is None else pc.or_(hit, m)
            out = BitMap(array.array("I", cand[np.asarray(hit)].astype(np.uint32).tobytes()))
        return out

    def ids(self, q: Query) -> pa.Array:
        from pyroaring import BitMap

        bm = BitMap.intersection(*(self._bitmap(c) for c in q.must)) if len(q.must) > 1 else self._bitmap(q.must[0])
        for c in q.must_not:
            bm = bm - self._bitmap(c)
        bm = bm - self.tomb
        ords = np.frombuffer(bm.to_array(), dtype=np.uint32)
        return pa.array(np.asarray(self.ord_ids)[ords], pa.int64())

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def make_engine(name: str, base: Path) -> Engine:
    path = base / name
    if name == "fts5-external":
        return Fts5External(path)
    if name.startswith("fts5-cd-"):
        return Fts5Contentless(path, name.removeprefix("fts5-cd-"))
    if name == "tantivy":
        return Tantivy(path)
    if name == "roaring":
        return Roaring(path)
    raise ValueError(f"unknown engine {name}")


ENGINES = ("fts5-external", *(f"fts5-cd-{d}" for d in DETAILS), "tantivy", "roaring")


# ---------------------------------------------------------------- the catalog side (DuckDB)


class Catalog:
    """The DuckDB half of a description search: the matching ids semi-joined with filters, a page in
    posted_at order and the count (as Catalog.page), on one thread."""

    def __init__(self, docs: pa.Table) -> None:
        self.con = duckdb.connect()
        self.con.execute("SET threads = 1")
        self.con.register("src", docs.select(["fts_id", "workplace_type", "posted_at"]))
        self.con.execute("CREATE TABLE jobs AS SELECT * FROM src ORDER BY posted_at DESC, fts_id DESC")
        self.con.unregister("src")
        kinds = [r[0] for r in self.con.execute("SELECT DISTINCT workplace_type FROM jobs").fetchall()]
        self.workplace = sorted(k for k in kinds if k and ("remote" in k.lower() or "hybrid" in k.lower()))

    def apply(self, adds: pa.Table, deletes: pa.Table) -> None:
        self.con.register("gone", deletes.select(["fts_id"]))
        self.con.execute("DELETE FROM jobs WHERE fts_id IN (SELECT fts_id FROM gone)")
        self.con.unregister("gone")
        self.con.register("new", adds.select(["fts_id", "workplace_type", "posted_at"]))
        self.con.execute("INSERT INTO jobs SELECT * FROM new")
        self.con.unregister("new")

    def page_count(self, ids: pa.Array) -> tuple[list[int], int]:
        cur = self.con.cursor()
        try:
            cur.register("m", pa.table({"fts_id": ids}))
            marks = ",".join("?" * len(self.workplace))
            where = f"fts_id IN (SELECT fts_id FROM m) AND workplace_type IN ({marks})"
            page = cur.execute(
                f"SELECT fts_id FROM jobs WHERE {where} ORDER BY posted_at DESC, fts_id DESC LIMIT {PAGE}",  # noqa: S608
                self.workplace,
            ).fetchall()
            total = cur.execute(f"SELECT count(*) FROM jobs WHERE {where}", self.workplace).fetchone()  # noqa: S608
            return [r[0] for r in page], int(total[0]) if total else 0
        finally:
            cur.close()


def _filtered(cat: Catalog, eng: Engine, q: Query) -> tuple[list[int], int]:
    return cat.page_count(eng.ids(q))


# ---------------------------------------------------------------- timing


def _pct(ordered: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of sorted samples."""
    k = max(0, min(len(ordered) - 1, int(np.ceil(p / 100 * len(ordered))) - 1))
    return ordered[k]


def stats(ms: list[float]) -> dict[str, Any]:
    s = sorted(ms)
    return {"n": len(s), "p50": statistics.median(s), "p95": _pct(s, 95), "min": s[0], "max": s[-1]}


def timed(fn: Callable[[], Any], runs: int) -> tuple[dict[str, Any], Any]:
    first = fn()  # warm-up, not counted
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return stats(out), first


def rss_mb() -> float:
    return float(psutil.Process().memory_info().rss) / 2**20


def child_rss(name: str, base: str, query_json: str) -> dict[str, Any]:
    """In this fresh process: RSS after the imports, after opening the index, after one query of each
    kind (ids and ranked)."""
    gc.collect()
    before = rss_mb()
    eng = make_engine(name, Path(base))
    eng.open()
    opened = rss_mb()
    raw = json.loads(query_json)

    def clauses(key: str) -> tuple[Clause, ...]:
        return tuple(Clause(tuple(c["words"]), c["prefix"]) for c in raw[key])

    q = Query(raw["kind"], raw["text"], clauses("must"), clauses("must_not"))
    eng.ids(q)
    if eng.ranks:
        eng.top(q, TOP_K)
    after = rss_mb()
    eng.close()
    return {"rss_base_mb": before, "rss_open_mb": opened, "rss_after_query_mb": after}


def measure_rss(name: str, base: Path, q: Query) -> dict[str, Any]:
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.search_engines",
        "--child-rss",
        name,
        "--base",
        str(base),
        "--query",
        json.dumps(asdict(q)),
    ]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# ---------------------------------------------------------------- the run


@dataclass
class EngineResult:
    name: str
    library: str
    build: dict[str, float] = field(default_factory=dict)
    build_s: float = 0.0
    size_mb: float = 0.0
    update_s: float = 0.0
    size_after_update_mb: float = 0.0
    rss: dict[str, float] = field(default_factory=dict)
    queries: dict[str, dict[str, Any]] = field(default_factory=dict)
    after_update: dict[str, dict[str, Any]] = field(default_factory=dict)


def _check_same(kind: str, got: dict[str, np.ndarray[Any, Any]], phase: str) -> int:
    ref_name, ref = next(iter(got.items()))
    for name, arr in got.items():
        if not np.array_equal(arr, ref):
            only_a = np.setdiff1d(ref, arr)[:5].tolist()
            only_b = np.setdiff1d(arr, ref)[:5].tolist()
            raise SystemExit(
                f"{phase}: {kind}: {name} matched {len(arr)} ids, {ref_name} {len(ref)}"
                f" (only {ref_name}: {only_a}, only {name}: {only_b}): not the same semantics"
            )
    return len(ref)


def run(
    jobs: int,
    runs: int,
    engines: Sequence[str],
    work: Path,
    say: Callable[[str], None],
    save: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    t0 = time.perf_counter()
    load0 = list(os.getloadavg())  # the machine is shared: say how busy it was
    c = corpus(jobs)
    say(f"corpus: {c.docs.num_rows:,} documents in {time.perf_counter() - t0:.1f} s")
    queries, picked = query_mix(c)
    say("queries: " + "; ".join(f"{q.kind}: {q.fts5()}" for q in queries))
    docs = initial(c)
    adds, deletes = change(c)
    cat = Catalog(docs)
    cat_after = Catalog(docs)
    cat_after.apply(adds, deletes)
    results: list[EngineResult] = []
    matched: dict[str, dict[str, np.ndarray[Any, Any]]] = {q.kind: {} for q in queries}
    matched_after: dict[str, dict[str, np.ndarray[Any, Any]]] = {q.kind: {} for q in queries}
    pages: dict[str, dict[str, Any]] = {q.kind: {} for q in queries}

    def summary() -> dict[str, Any]:
        """Checks the engines so far agree, and the document of their figures."""
        hits = {k: _check_same(k, v, "after the build") for k, v in matched.items() if v}
        hits_after = {k: _check_same(k, v, "after the update") for k, v in matched_after.items() if v}
        for kind, per in pages.items():
            if len({json.dumps(p) for p in per.values()}) > 1:
                raise SystemExit(f"{kind}: the filtered page differs between engines")
        return {
            "jobs": jobs,
            "runs": runs,
            "change": {"added": adds.num_rows, "deleted": deletes.num_rows},
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": {
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
                "loadavg_at_start": load0,
                "loadavg_now": list(os.getloadavg()),
            },
            "queries": [
                {
                    "kind": q.kind,
                    "text": q.text,
                    "fts5": q.fts5(),
                    "hits": hits.get(q.kind),
                    "hits_after_update": hits_after.get(q.kind),
                }
                for q in queries
            ],
            "picked": picked,
            "filters": {"workplace_type": cat.workplace, "page": PAGE},
            "engines": [asdict(r) for r in results],
            "total_s": time.perf_counter() - t0,
        }

    doc: dict[str, Any] = {}
    for name in engines:
        eng = make_engine(name, work)
        res = EngineResult(name, eng.library)
        gc.collect()
        t = time.perf_counter()
        res.build = eng.build(docs)
        res.build_s = time.perf_counter() - t
        res.size_mb = eng.size() / 2**20
        say(f"{name}: built in {res.build_s:.1f} s ({res.build}), {res.size_mb:.1f} MB")
        res.rss = measure_rss(name, work, queries[0])
        eng.open()
        for q in queries:
            why = eng.supports(q)
            if why:
                res.queries[q.kind] = {"unsupported": why}
                continue
            ids_st, ids = timed(partial(eng.ids, q), runs)
            both_st, page = timed(partial(_filtered, cat, eng, q), runs)
            arr = np.sort(ids.to_numpy())
            matched[q.kind][name] = arr
            pages[q.kind][name] = page
            top_st: dict[str, Any] | None = None
            if eng.ranks:
                top_st, top = timed(partial(eng.top, q, TOP_K), runs)
                if not np.isin(np.asarray(top, dtype=np.int64), arr).all() or len(top) != min(TOP_K, len(arr)):
                    raise SystemExit(f"{name}: {q.kind}: a ranked id is not among the matches")
            res.queries[q.kind] = {
                "hits": len(arr),
                "ids": ids_st,
                "ids_filters": both_st,
                "top": top_st,
                "filtered_total": page[1],
                "ids_sha1": hashlib.sha1(arr.tobytes(), usedforsecurity=False).hexdigest(),  # compare across runs
            }
            say(
                f"  {q.kind:7} {len(arr):>9,} hits  ids p50 {ids_st['p50']:8.1f} ms  +filters p50"
                f" {both_st['p50']:8.1f}  top{TOP_K} p50 {top_st['p50'] if top_st else float('nan'):8.1f}"
            )
        eng.close()
        t = time.perf_counter()
        eng.update(adds, deletes)
        res.update_s = time.perf_counter() - t
        res.size_after_update_mb = eng.size() / 2**20
        eng.open()
        for q in queries:
            if eng.supports(q):
                continue
            st, ids = timed(partial(eng.ids, q), max(3, runs // 4))
            matched_after[q.kind][name] = np.sort(ids.to_numpy())
            res.after_update[q.kind] = {"ids": st}
        eng.close()
        say(
            f"{name}: update of {adds.num_rows + deletes.num_rows:,} documents in {res.update_s:.1f} s,"
            f" RSS after open {res.rss['rss_open_mb']:.0f} MB"
        )
        results.append(res)
        shutil.rmtree(work / name, ignore_errors=True)
        doc = summary()
        if save is not None:
            save(doc)  # after every engine: a long run that is stopped still leaves its figures
    return doc


# ---------------------------------------------------------------- output


def _ms(st: dict[str, Any] | None, key: str = "p50") -> str:
    if not st or key not in st:
        return "n/a"
    v = st[key]
    return f"{v:.1f}" if v < 100 else f"{v:.0f}"


def table(doc: dict[str, Any]) -> list[str]:
    kinds = [q["kind"] for q in doc["queries"]]
    names = [e["name"] for e in doc["engines"]]
    head = "| figure | " + " | ".join(names) + " |"
    lines = [head, "|---|" + "---:|" * len(names)]

    def row(label: str, vals: list[str]) -> None:
        lines.append(f"| {label} | " + " | ".join(vals) + " |")

    eng = doc["engines"]
    row("index on disk, MB", [f"{e['size_mb']:.0f}" for e in eng])
    row(
        "full build, s (insert + optimize/merge)",
        [f"{e['build_s']:.1f} ({e['build']['insert_s']:.1f} + {e['build']['optimize_s']:.1f})" for e in eng],
    )
    row(
        f"update {doc['change']['deleted'] // 1000}k deleted + {doc['change']['added'] // 1000}k added, s",
        [f"{e['update_s']:.1f}" for e in eng],
    )
    row("index after the update, MB", [f"{e['size_after_update_mb']:.0f}" for e in eng])
    row("RSS after open (fresh process), MB", [f"{e['rss']['rss_open_mb']:.0f}" for e in eng])
    row("RSS after one common query, MB", [f"{e['rss']['rss_after_query_mb']:.0f}" for e in eng])
    for part, label in (
        ("ids", "ids as Arrow"),
        ("ids_filters", "ids + filters, page + count"),
        ("top", f"ranked top {TOP_K}"),
    ):
        for kind in kinds:
            q = next(x for x in doc["queries"] if x["kind"] == kind)
            vals = []
            for e in eng:
                r = e["queries"].get(kind, {})
                vals.append("unsupported" if "unsupported" in r else f"{_ms(r.get(part))} / {_ms(r.get(part), 'p95')}")
            row(f"{label}: {kind} `{q['text']}` ({q['hits']:,} hits), p50 / p95 ms", vals)
    for kind in kinds:
        vals = []
        for e in eng:
            r = e["after_update"].get(kind)
            vals.append(_ms(r["ids"]) if r else "unsupported")
        row(f"ids after the update: {kind}, p50 ms", vals)
    return lines


def markdown(doc: dict[str, Any], title: str | None = None) -> str:
    n = doc["jobs"]
    load = doc["machine"].get("loadavg_at_start")
    libs = ", ".join(f"{e['name']}: {e['library']}" for e in doc["engines"])
    out = [
        title or f"## Description search engines at {n:,} documents",
        "",
        f"`.venv/bin/python -m benchmarks.search_engines --jobs {n}` ({doc['at']}, {doc['machine']['cpus']} cores"
        f" shared, one engine at a time, one thread each; {doc['runs']} timed runs per figure after a warm-up).",
        f"Libraries: {libs}. Filters: workplace_type in {doc['filters']['workplace_type']}, a page of"
        f" {doc['filters']['page']} in posted_at order + the count, in DuckDB (1 thread) over the matching ids."
        " The matching-id sets were asserted identical across engines for every query, after the build and"
        " after the update."
        + (f" Load average at the start: {load[0]:.1f} (1 min) on {doc['machine']['cpus']} cores." if load else ""),
        "",
        *table(doc),
        "",
    ]
    return "\n".join(out)


def all_results(out: Path, doc: dict[str, Any]) -> list[dict[str, Any]]:
    """This run's document and the saved one of every other corpus size, largest first."""
    docs = {doc["jobs"]: doc}
    for path in out.glob("search_engines-*.json"):
        try:
            other = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        docs.setdefault(int(other.get("jobs", 0)), other)
    return [docs[n] for n in sorted(docs, reverse=True) if n]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.search_engines", description=__doc__.split("\n")[0])
    p.add_argument("--jobs", type=int, default=100_000)
    p.add_argument("--runs", type=int, default=20, help="timed runs per figure (after one warm-up)")
    p.add_argument("--engines", default=",".join(ENGINES), help=f"comma-separated, of {', '.join(ENGINES)}")
    p.add_argument("--work", type=Path, default=None, help="scratch folder for the indexes (default: a temp dir)")
    p.add_argument("--out", type=Path, default=ROOT / "data" / "bench")
    p.add_argument("--markdown", type=Path, default=ROOT / "docs" / "bench_search_engines.md")
    p.add_argument("--child-rss", default=None, help=argparse.SUPPRESS)
    p.add_argument("--base", default=None, help=argparse.SUPPRESS)
    p.add_argument("--query", default=None, help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.child_rss:
        print(json.dumps(child_rss(args.child_rss, args.base, args.query)))
        return 0

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    work = args.work or Path(tempfile.mkdtemp(prefix="search-engines-"))
    path = args.out / f"search_engines-{args.jobs}.json"

    def save(doc: dict[str, Any]) -> None:
        args.out.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=1))
        if args.markdown:
            # the hand-written reading of the figures (after the marker) survives a rerun
            kept = args.markdown.read_text() if args.markdown.exists() else ""
            tail = kept[kept.index(ANALYSIS_MARK) :] if ANALYSIS_MARK in kept else ""
            sections = [markdown(d) for d in all_results(args.out, doc)]
            args.markdown.write_text("\n".join(sections) + ("\n" + tail if tail else ""))

    try:
        doc = run(args.jobs, args.runs, engines, work, say, save)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print("\n".join(table(doc)))
    print(f"\nwrote {path}" + (f" and {args.markdown}" if args.markdown else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
