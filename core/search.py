"""Full-text search over job titles, companies and descriptions: a tantivy index (issue 12).

Two files in the data folder:

- ``search.tantivy/``: the tantivy index. Title, company and description are text fields with positions
  (phrases), tokenized as SQLite's ``unicode61 remove_diacritics 2`` did (split on anything that is not a
  letter or digit, lowercased, accents folded); ``id`` is ``fts_id(job_id)`` as an indexed fast i64 (the
  catalog joins on it); ``h`` a fast hash of the three texts (an unchanged row is not rewritten). Only the
  job id is stored (a ranked match answers job ids): the texts live in the Parquet description segments,
  and storing them again here cost ~310 MB of the 509 MB index at 1M jobs (schema 4 dropped them).
- ``search.sqlite``: small transactional state tantivy-py has no place for (it has no commit payload):
  the description segments already indexed, the generation (bumped after every commit that changed
  something: the cache key of every process's results) and the schema version. It is written after the
  tantivy commit, so a kill between the two only means a segment is indexed again, which is idempotent
  (an upsert by id). A data folder from before the switch holds the FTS5 tables in this same file: they
  are dropped on first open and the sync's catch-up rebuilds the index from the segments.

User input never reaches tantivy's own query parser: ``_parse`` reads it (phrases, prefix*, AND/OR/NOT,
-word, parentheses, title:/company:/description: filters) and ``_Build`` emits tantivy ``Query`` objects.
Input the grammar cannot read becomes a literal search of its words. ``to_fts`` still emits the same
AST as an FTS5 expression, for the FTS5 baseline in ``benchmarks/``.

Words with many hits: a search that combines words of earlier searches is answered from their bitmaps
(``core.term_bitmaps``, when the owner asks for them: the dashboard's catalog) instead of tantivy's hits.

Concurrency: one writer (the sync, under its lock) holds tantivy's writer lock; readers (the dashboard)
open the same directory with a manual reload policy and reload when the generation changes. A commit is
atomic: a reader sees all of a batch or none of it.

Errors: a missing, damaged or locked index raises ``StorageError`` naming the file, never an empty result
that would read as "0 jobs match"; the sync moves a damaged index aside and rebuilds it from the segments.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, TypeVar

import numpy as np
import pyarrow as pa
import tantivy

from core import db
from core.errors import StorageError
from core.term_bitmaps import IndexMoved, TermBitmaps, View

_K = TypeVar("_K")
_V = TypeVar("_V")
_Q = TypeVar("_Q")

SCHEMA = """
-- description segments (data/snapshots/desc-*.parquet) already indexed, so a crash is caught up next sync
CREATE TABLE IF NOT EXISTS segments (name TEXT PRIMARY KEY);
-- generation (bumped by every commit that changed something), schema, docs (documents after the last
-- commit: a cheap check that the index is the one this file describes), created (the index directory
-- was made: if it is gone later, that is damage, not a fresh start)
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

SCHEMA_VERSION = 4  # 2: FTS5 with docs.id = fts_id(job_id); 3: tantivy; 4: tantivy without stored texts
INDEX_DIR_SUFFIX = ".tantivy"


def fts_id(job_id: str) -> int:
    """A document's integer id, derived from its job id (60 bits of md5; the catalog computes the same
    in SQL), so a match's rowids filter the catalog directly."""
    return int(hashlib.md5(job_id.encode("utf-8")).hexdigest()[:15], 16)


FTS_ID_SQL = "CAST(('0x' || substr(md5(job_id), 1, 15)) AS BIGINT)"  # fts_id() in DuckDB


# bm25 column weights: a word in the title says more about a job than the same word in its description.
WEIGHTS = (5.0, 3.0, 1.0)
COLUMNS = ("title", "company", "description")
COLUMN_ALIASES = {"title": "title", "company": "company", "description": "description", "desc": "description"}
MAX_QUERY_CHARS = 2000  # longer input is cut: nobody types more, and each term costs a b-tree lookup
MAX_TERMS = 32
MAX_DEPTH = 16  # nested "(" beyond this is not a query anyone means: the input is searched literally
BATCH_ROWS = 5000
VACUUM_FREE_PERCENT = 20  # free pages (of the file) that make maintain() give space back
CACHE_ENTRIES = 32  # one dashboard rerun asks the same description query for the page, count, facets, charts
# A word (or phrase) with at most this many hits is read from tantivy during the search (~0.4 µs a hit);
# one with more needs its bitmap (core.term_bitmaps), or the whole query goes to tantivy meanwhile.
READ_NOW_MAX_HITS = 25_000
_OPERATORS = ("AND", "OR", "NOT")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_TOKEN_CHAR = re.compile(r"[^\W_]")  # what unicode61 keeps: letters and digits; everything else separates


# --- query parsing ---------------------------------------------------------------------------------


class _Syntax(Exception):
    """Input the grammar cannot read; ``to_fts`` falls back to a literal search."""


@dataclass(frozen=True)
class _Lex:
    kind: str  # "term" | "phrase" | "op" | "neg" | "lpar" | "rpar" | "col"
    text: str = ""
    prefix: bool = False


@dataclass(frozen=True)
class _Term:
    text: str
    prefix: bool
    column: str | None


@dataclass(frozen=True)
class _And:
    items: tuple[_Node, ...]


@dataclass(frozen=True)
class _Or:
    items: tuple[_Node, ...]


@dataclass(frozen=True)
class _Not:
    item: _Node


_Node = _Term | _And | _Or | _Not


def _as_text(query: object) -> str:
    """A typed caller always passes text; an untyped one (None from a form) gets no exception either."""
    return query if isinstance(query, str) else "" if query is None else str(query)


def _clean(query: str) -> str:
    """Cut to size, blank out control characters and lone surrogates (SQLite would refuse them)."""
    text = query[:MAX_QUERY_CHARS].encode("utf-8", errors="replace").decode("utf-8")
    return _CONTROL.sub(" ", text)


def _has_token(text: str) -> bool:
    return _TOKEN_CHAR.search(text) is not None


def _lex(query: str) -> Iterator[_Lex]:
    text = _clean(query)
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch == '"':
            end = text.find('"', i + 1)
            end = n if end < 0 else end  # an unclosed quote runs to the end: still a phrase
            phrase = text[i + 1 : end]
            i = end + 1
            prefix = i < n and text[i] == "*"
            while i < n and text[i] == "*":
                i += 1
            yield _Lex("phrase", phrase, prefix)
        elif ch == "-" and i + 1 < n and text[i + 1] in '"(':
            yield _Lex("neg")  # -"a phrase" or -(a group)
            i += 1
        elif ch in "()":
            yield _Lex("lpar" if ch == "(" else "rpar")
            i += 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in '"()':
                j += 1
            yield from _lex_word(text[i:j])
            i = j


def _lex_word(word: str) -> Iterator[_Lex]:
    if word in _OPERATORS:
        yield _Lex("op", word)
        return
    if word[0] in "-+" and len(word) > 1:
        if word[0] == "-":
            yield _Lex("neg")
        word = word[1:]
    head, sep, rest = word.partition(":")
    if sep and head.lower() in COLUMN_ALIASES:
        yield _Lex("col", COLUMN_ALIASES[head.lower()])
        word = rest
        if not word:
            return
    prefix = word.endswith("*")
    word = word.rstrip("*")
    yield _Lex("term", word, prefix)


class _Parser:
    """or := and ("OR" and)* ; and := unary (["AND"] unary | "NOT" unary)* ; unary := "-" atom | atom
    atom := "(" or ")" | [column ":"] (term | phrase). Terms without letters or digits are dropped."""

    def __init__(self, tokens: list[_Lex]) -> None:
        self.toks = tokens
        self.pos = 0
        self.depth = 0

    def peek(self) -> _Lex | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self) -> _Lex:
        tok = self.toks[self.pos]
        self.pos += 1
        return tok

    def parse(self) -> _Node | None:
        node = self.or_()
        if self.peek() is not None:
            raise _Syntax("unexpected ')'")
        return node

    def or_(self) -> _Node | None:
        items = [self.and_()]
        while (tok := self.peek()) is not None and tok.kind == "op" and tok.text == "OR":
            self.take()
            items.append(self.and_())
        if len(items) > 1 and any(i is None for i in items):
            raise _Syntax("OR needs a term on both sides")
        kept = [i for i in items if i is not None]
        return None if not kept else kept[0] if len(kept) == 1 else _Or(tuple(kept))

    def and_(self) -> _Node | None:
        items: list[_Node | None] = []
        while (tok := self.peek()) is not None:
            if tok.kind == "rpar" or (tok.kind == "op" and tok.text == "OR"):
                break
            if tok.kind == "op" and tok.text == "NOT" and not items and self._followed_by_operand():
                self.take()  # a leading NOT reads as "without"
                operand = self.unary()
                items.append(None if operand is None else _Not(operand))
            elif tok.kind == "op":
                self.take()
                if not items or self._at_end_of_group():
                    raise _Syntax(f"{tok.text} needs a term on both sides")
                operand = self.unary()
                if operand is None:
                    raise _Syntax(f"{tok.text} needs a term after it")
                items.append(_Not(operand) if tok.text == "NOT" else operand)
            else:
                items.append(self.unary())
        kept = [i for i in items if i is not None]
        return None if not kept else kept[0] if len(kept) == 1 else _And(tuple(kept))

    def _followed_by_operand(self) -> bool:
        nxt = self.toks[self.pos + 1] if self.pos + 1 < len(self.toks) else None
        return nxt is not None and nxt.kind in ("term", "phrase", "lpar", "col")

    def _at_end_of_group(self) -> bool:
        tok = self.peek()
        return tok is None or tok.kind == "rpar" or tok.kind == "op"

    def unary(self) -> _Node | None:
        tok = self.peek()
        if tok is not None and tok.kind == "neg":
            self.take()
            node = self.atom()
            return None if node is None else _Not(node)
        return self.atom()

    def atom(self) -> _Node | None:
        tok = self.take()
        column = None
        if tok.kind == "col":
            column = tok.text
            nxt = self.peek()
            if nxt is None or nxt.kind not in ("term", "phrase"):
                return None  # "title:" with nothing after it: ignore the filter
            tok = self.take()
        if tok.kind == "lpar":
            if self.depth >= MAX_DEPTH:  # each level is four frames of recursion: bound it, never RecursionError
                raise _Syntax(f"more than {MAX_DEPTH} nested parentheses")
            self.depth += 1
            node = self.or_()
            if (end := self.peek()) is not None and end.kind == "rpar":
                self.take()
            # an unclosed "(" closes at the end of the input
            self.depth -= 1
            return node
        if tok.kind in ("term", "phrase"):
            return _Term(tok.text, tok.prefix, column) if _has_token(tok.text) else None
        if tok.kind == "rpar":
            raise _Syntax("unbalanced ')'")
        raise _Syntax(f"unexpected {tok.text or tok.kind}")


_SIMPLE = re.compile(r'^(?:\w+ : )?"(?:[^"]|"")*"\*?$')


def _paren(expr: str) -> str:
    """Parenthesize a compound expression; a single quoted term needs none."""
    return expr if _SIMPLE.match(expr) else f"({expr})"


def _quote(term: _Term) -> str:
    text = '"' + term.text.replace('"', '""') + '"' + ("*" if term.prefix else "")
    return f"{term.column} : {text}" if term.column else text


def _emit(node: _Node) -> tuple[str | None, list[str]]:
    """(positive expression or None, negated expressions). FTS5 NOT is binary, so negations are
    collected and subtracted from the positive part of the nearest AND; a branch with nothing
    positive cannot be expressed inside an OR and is dropped there."""
    if isinstance(node, _Term):
        return _quote(node), []
    if isinstance(node, _Not):
        inner = _full(node.item)
        return None, [inner] if inner else []
    if isinstance(node, _And):
        pos: list[str] = []
        neg: list[str] = []
        for item in node.items:
            p, n = _emit(item)
            if p:
                pos.append(p)
            neg.extend(n)
        return (" AND ".join(_paren(p) for p in pos) if pos else None), neg
    branches = [b for b in (_full(i) for i in node.items) if b]
    return (" OR ".join(_paren(b) for b in branches) if branches else None), []


def _full(node: _Node) -> str | None:
    pos, neg = _emit(node)
    if pos is None:
        return None
    return _subtract(pos, neg)


def _subtract(pos: str, neg: list[str]) -> str:
    return f"{_paren(pos)} NOT {_paren(' OR '.join(_paren(n) for n in neg))}" if neg else pos


def _literal(query: str) -> str:
    """Every word of the input as a quoted phrase, all required: the fallback that cannot fail."""
    words = [w for w in re.split(r'[\s"()]+', _clean(query)) if _has_token(w)]
    return " AND ".join('"' + w.replace('"', '""') + '"' for w in words[:MAX_TERMS])


def _compile(query: str) -> tuple[str, str]:
    """(expression to MATCH, expression to exclude when nothing positive was asked for)."""
    query = _as_text(query)
    try:
        tokens = list(_lex(query))
        if sum(t.kind in ("term", "phrase") for t in tokens) > MAX_TERMS:
            raise _Syntax("too many terms")
        node = _Parser(tokens).parse()
    except (_Syntax, RecursionError):  # RecursionError: a last guard (a caller already deep in its stack)
        return _literal(query), ""
    if node is None:
        return "", ""
    pos, neg = _emit(node)
    if pos is None:
        return "", " OR ".join(_paren(n) for n in neg)
    return _subtract(pos, neg), ""


def to_fts(query: str) -> str:
    """User text → a safe FTS5 expression ("" when it holds no searchable word)."""
    return _compile(query)[0]


REBUILD_ADVICE = "it only indexes the snapshots' descriptions: run `python -m core sync` to rebuild it"
HEAP_BYTES = 128 * 1024 * 1024  # the writer's indexing buffer: a 5000-row batch is ~10 MB of text
WRITER_THREADS = 2  # indexing threads (the machine's two cores); the Python side feeds them documents
# One analyzer for documents and query words alike: unicode61 remove_diacritics 2, as the FTS5 index had.
TOKENIZER = "fold"
_ANALYZER = (
    tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    .filter(tantivy.Filter.lowercase())
    .filter(tantivy.Filter.ascii_fold())
    .build()
)


def _schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    for name in COLUMNS:
        sb.add_text_field(name, stored=False, tokenizer_name=TOKENIZER, index_option="position")
    sb.add_integer_field("id", stored=False, indexed=True, fast=True)
    sb.add_integer_field("h", stored=False, indexed=False, fast=True)
    sb.add_bytes_field("job_id", stored=True, indexed=False)
    return sb.build()


_SCHEMA = _schema()


def _doc_hash(title: str, company: str, description: str) -> int:
    digest = hashlib.blake2b(f"{title}\x1f{company}\x1f{description}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1  # fits an i64


def _job_id(doc: tantivy.Document) -> str:
    value = doc.get_first("job_id")
    return value.decode() if isinstance(value, bytes) else str(value or "")


def tokens(text: str) -> list[str]:
    """The words of ``text`` as the index holds them (lowercased, accents folded)."""
    return list(_ANALYZER.analyze(text))


# --- parsed query -> tantivy ----------------------------------------------------------------------


class _Compose(Generic[_Q]):
    """The parser's AST composed the way ``_emit`` gives FTS5: an AND subtracts the negations collected
    below it; an OR branch with nothing positive is dropped; a query of negations only matches every
    document without them. Subclasses say what a term, "all of", "any of", a subtraction and "every
    document" are (tantivy queries in ``_Build``, bitmaps in ``_MaskBuild``)."""

    def term(self, t: _Term) -> _Q:
        raise NotImplementedError

    def all_of(self, items: list[_Q]) -> _Q:
        raise NotImplementedError

    def any_of(self, items: list[_Q]) -> _Q:
        raise NotImplementedError

    def without(self, pos: _Q, neg: list[_Q]) -> _Q:
        raise NotImplementedError

    def everything(self) -> _Q:
        raise NotImplementedError

    def emit(self, node: _Node) -> tuple[_Q | None, list[_Q]]:
        if isinstance(node, _Term):
            return self.term(node), []
        if isinstance(node, _Not):
            inner = self.full(node.item)
            return None, [inner] if inner is not None else []
        if isinstance(node, _And):
            pos: list[_Q] = []
            neg: list[_Q] = []
            for item in node.items:
                p, n = self.emit(item)
                if p is not None:
                    pos.append(p)
                neg.extend(n)
            if not pos:
                return None, neg
            return (pos[0] if len(pos) == 1 else self.all_of(pos)), neg
        branches = [b for b in (self.full(i) for i in node.items) if b is not None]
        return (self.any_of(branches) if branches else None), []

    def full(self, node: _Node) -> _Q | None:
        pos, neg = self.emit(node)
        return None if pos is None else self.subtract(pos, neg)

    def subtract(self, pos: _Q, neg: list[_Q]) -> _Q:
        return self.without(pos, neg) if neg else pos

    def top(self, node: _Node) -> tuple[_Q, bool]:
        """(query, ranked): ranked is False for negations only (every document without them)."""
        pos, neg = self.emit(node)
        if pos is not None:
            return self.subtract(pos, neg), True
        return self.subtract(self.everything(), neg), False


class _Build(_Compose[tantivy.Query]):
    """The parser's AST as tantivy queries. ``boost`` weights the fields for ranking (title 5, company 3,
    description 1); the id set needs no scores."""

    def __init__(self, boost: bool) -> None:
        self.boost = boost

    def term(self, t: _Term) -> tantivy.Query:
        words: list[str | tuple[int, str]] = list(tokens(t.text))
        if not words:
            return tantivy.Query.empty_query()
        fields = [t.column] if t.column else list(COLUMNS)
        parts = []
        for name in fields:
            if len(words) == 1:
                q = (
                    tantivy.Query.regex_query(_SCHEMA, name, re.escape(str(words[0])) + ".*")
                    if t.prefix
                    else tantivy.Query.term_query(_SCHEMA, name, words[0])
                )
            elif t.prefix:
                q = tantivy.Query.phrase_prefix_query(_SCHEMA, name, words)
            else:
                q = tantivy.Query.phrase_query(_SCHEMA, name, words)
            if self.boost:
                q = tantivy.Query.boost_query(q, WEIGHTS[COLUMNS.index(name)])
            parts.append(q)
        if len(parts) == 1:
            return parts[0]
        return self.any_of(parts)

    def all_of(self, items: list[tantivy.Query]) -> tantivy.Query:
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in items])

    def any_of(self, items: list[tantivy.Query]) -> tantivy.Query:
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in items])

    def without(self, pos: tantivy.Query, neg: list[tantivy.Query]) -> tantivy.Query:
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, pos), *((tantivy.Occur.MustNot, n) for n in neg)])

    def everything(self) -> tantivy.Query:
        return tantivy.Query.all_query()


def _parse(query: object) -> _Node | None:
    """The query's AST; input the grammar cannot read becomes all of its words, required (``_literal``)."""
    text = _as_text(query)
    try:
        toks = list(_lex(text))
        if sum(t.kind in ("term", "phrase") for t in toks) > MAX_TERMS:
            raise _Syntax("too many terms")
        return _Parser(toks).parse()
    except (_Syntax, RecursionError):
        return _literal_node(text)


def _literal_node(query: str) -> _Node | None:
    words = [w for w in re.split(r'[\s"()]+', _clean(query)) if _has_token(w)][:MAX_TERMS]
    items = tuple(_Term(w, False, None) for w in words)
    return None if not items else items[0] if len(items) == 1 else _And(items)


def _compiled(node: _Node, boost: bool) -> tuple[tantivy.Query, bool]:
    """tantivy queries of a parsed query; a construct tantivy refuses (a regex it cannot compile) falls
    back to the literal words, and those to nothing."""
    try:
        return _Build(boost).top(node)
    except ValueError:
        return tantivy.Query.empty_query(), True


# --- the index -------------------------------------------------------------------------------------


def _text_column(rows: pa.Table, name: str) -> list[str]:
    if name not in rows.column_names:
        return [""] * rows.num_rows
    return ["" if v is None else str(v) for v in rows.column(name).to_pylist()]


def index_dir(path: Path) -> Path:
    """The tantivy directory beside the state file (data/search.sqlite -> data/search.tantivy)."""
    return path.with_name(path.stem + INDEX_DIR_SUFFIX)


def _segment_files_missing(directory: Path) -> list[str]:
    """Files tantivy's meta.json lists that are not there (a segment lost by hand or by a bad restore):
    tantivy would fail on the first search that reaches them, or answer without their documents."""
    meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
    present = {p.name for p in directory.iterdir()}
    missing = []
    for seg in meta.get("segments", []):
        stem = str(seg["segment_id"]).replace("-", "")
        missing += [f"{stem}.{ext}" for ext in ("idx", "term", "store", "fast") if f"{stem}.{ext}" not in present]
    return missing


class DescriptionIndex:
    """tantivy index of job titles, companies and descriptions, keyed by job_id (see the module doc)."""

    def __init__(self, path: Path, *, bitmaps: bool = False) -> None:
        """``bitmaps``: keep the words of searches as bitmaps (a background thread; what the dashboard wants,
        not a one-off command)."""
        self.path = path
        self.dir = index_dir(path)
        self._conns = db.PerThread(path, SCHEMA, damaged_advice=REBUILD_ADVICE)
        self._cache: OrderedDict[tuple[_Node, int, int], list[tuple[str, float]]] = OrderedDict()
        self._id_cache: OrderedDict[tuple[_Node, int], pa.Array] = OrderedDict()
        self._score_cache: OrderedDict[tuple[_Node, int], pa.Table] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._reload_lock = threading.Lock()
        self._seen_generation = -1
        self._bulk: tantivy.IndexWriter | None = None
        self._bulk_written = 0
        conn = self._conn()
        self._migrate(conn)
        self._index = self._open(conn)
        self.bitmaps: TermBitmaps[_Term] | None = (
            TermBitmaps(self.generation, self._universe, self._leaf_ids) if bitmaps else None
        )

    # --- opening ----------------------------------------------------------------------------------------

    def _meta(self, conn: db.Connection, key: str) -> int | None:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return None if row is None else int(row[0])

    def _migrate(self, conn: db.Connection) -> None:
        """An index of another schema (FTS5, tantivy with stored texts, unknown): drop it and start empty;
        the sync's segment catch-up rebuilds the index, and until it has, description searches say so
        (``rebuilding``) instead of answering from an empty index. The freed pages go back to the disk in
        ``maintain()`` (VACUUM)."""
        was = self._meta(conn, "schema")
        if was == SCHEMA_VERSION:
            return
        old = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")]
        with db.tx(conn):
            for name in ("docs_ai", "docs_ad", "docs_au"):
                if name in old:
                    conn.execute(f"DROP TRIGGER {name}")  # noqa: S608 - fixed names
            for name in ("docs_fts", "docs"):
                if name in old:
                    conn.execute(f"DROP TABLE {name}")  # noqa: S608 - fixed names
            conn.execute("DELETE FROM segments")
            conn.execute("DELETE FROM meta WHERE key IN ('created', 'docs', 'churn')")
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema', ?)", [SCHEMA_VERSION])
            self._bump(conn)
        if was is not None or {"docs", "docs_fts"} & set(old):  # said by the sync (whoever opened the folder first)
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('migrated', ?)", [was or 2])
        if self.dir.exists():
            self._wipe()

    @property
    def migrated(self) -> int | None:
        """The schema of the index an older jobdash left (2: FTS5, 3: tantivy with stored texts), dropped and
        not yet rebuilt by the sync's catch-up; None when there is nothing to rebuild."""
        return self._meta(self._conn(), "migrated")

    def migration_done(self) -> None:
        self._conn().execute("DELETE FROM meta WHERE key = 'migrated'")

    def _wipe(self) -> None:
        """Empty an index built under another schema (its documents may be the old ones)."""
        try:
            index = tantivy.Index(_SCHEMA, path=str(self.dir), reuse=True)
            writer = index.writer(heap_size=HEAP_BYTES, num_threads=1)
            writer.delete_all_documents()
            writer.commit()
            writer.wait_merging_threads()
        except ValueError:
            import shutil

            shutil.rmtree(self.dir)  # not even readable as an index: nothing in it is worth keeping

    def _damaged(self, what: str, detail: str, code: str = "INDEX_CORRUPT") -> StorageError:
        return StorageError(
            f"{self.dir.name}: {what}, so the search index is damaged ({self.dir}); " + REBUILD_ADVICE,
            path=self.dir,
            code=code,
            detail=detail,
        )

    def _open(self, conn: db.Connection) -> tantivy.Index:
        if not (self.dir / "meta.json").exists():
            if self._meta(conn, "created"):  # it existed: recreated empty it would answer "no matches"
                raise self._damaged(
                    "the index directory or its meta.json is missing", "missing meta.json", "INDEX_MISSING"
                )
            self.dir.mkdir(parents=True, exist_ok=True)
        try:
            if (self.dir / "meta.json").exists() and (missing := _segment_files_missing(self.dir)):
                raise self._damaged(f"{len(missing)} of its files are missing", f"missing {missing[0]}")
            index = tantivy.Index(_SCHEMA, path=str(self.dir), reuse=True)
            index.register_tokenizer(TOKENIZER, _ANALYZER)
            index.config_reader(reload_policy="manual")
        except (ValueError, OSError, KeyError, TypeError, json.JSONDecodeError) as e:
            raise self._damaged("it cannot be opened", str(e)) from e
        if not self._meta(conn, "created"):
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('created', 1)")
        return index

    def _conn(self) -> db.Connection:
        return self._conns.get()

    def close(self) -> None:
        """Close this thread's connection to the state file (the index closes with the object); a bulk not
        committed is rolled back, which lets go of tantivy's writer lock."""
        if self.bitmaps is not None:
            self.bitmaps.close()
        try:
            self.rollback()
        finally:
            self._conns.close()

    def __enter__(self) -> DescriptionIndex:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def to_fts(self, query: str) -> str:
        return to_fts(query)

    # --- reading ----------------------------------------------------------------------------------------

    def _searcher(self) -> tantivy.Searcher:
        """A searcher on the last commit this process knows of (from the generation in the state file)."""
        gen = self.generation()
        with self._reload_lock:
            try:
                if gen != self._seen_generation:
                    self._index.reload()
                    self._seen_generation = gen
                return self._index.searcher()
            except ValueError as e:
                raise self._damaged("it cannot be read", str(e)) from e

    def _search(self, s: tantivy.Searcher, q: tantivy.Query, limit: int, **kw: Any) -> list[tuple[Any, Any]]:
        if limit <= 0:
            return []
        try:
            return list(s.search(q, limit=limit, count=False, **kw).hits)
        except ValueError as e:
            raise self._damaged("a search failed", str(e)) from e

    def count(self) -> int:
        return int(self._searcher().num_docs)

    def generation(self) -> int:
        """Changes whenever an update (from any process) changed the index; a cache key for results."""
        return self._meta(self._conn(), "generation") or 0

    def _all(self, s: tantivy.Searcher) -> list[tuple[Any, Any]]:
        return self._search(s, tantivy.Query.all_query(), s.num_docs, order_by_field="id", order=tantivy.Order.Asc)

    def ids(self) -> set[str]:
        s = self._searcher()
        return {_job_id(s.doc(a)) for _, a in self._all(s)}

    def fts_ids(self) -> pa.Array:
        """Every document's integer id (fts_id of its job id)."""
        return pa.array([k for k, _ in self._all(self._searcher())], pa.int64())

    def _existing(self, s: tantivy.Searcher, ids: list[int]) -> dict[int, tuple[Any, int]]:
        """id -> (address, text hash) of the committed documents with these ids."""
        if not ids:
            return {}
        hits = self._search(s, tantivy.Query.term_set_query(_SCHEMA, "id", ids), len(ids))
        addrs = [a for _, a in hits]
        if not addrs:
            return {}
        found = s.fast_field_values("id", addrs)
        hashes = s.fast_field_values("h", addrs)
        return {int(i): (a, int(h or 0)) for i, a, h in zip(found, addrs, hashes, strict=True) if i is not None}

    # --- writing ----------------------------------------------------------------------------------------

    def _writer(self) -> tantivy.IndexWriter:
        try:
            return self._index.writer(heap_size=HEAP_BYTES, num_threads=WRITER_THREADS)
        except ValueError as e:
            if "lock" in str(e).lower():
                raise StorageError(
                    f"{self.dir.name}: another process is writing the search index ({self.dir})",
                    path=self.dir,
                    code="INDEX_LOCKED",
                    detail=str(e),
                ) from e
            raise self._damaged("it cannot be written", str(e)) from e

    @contextmanager
    def _writing(self) -> Iterator[tuple[tantivy.IndexWriter, list[int]]]:
        """The bulk writer, or one of its own committed on the way out; yields (writer, [written])."""
        if self._bulk is not None:
            box = [0]
            yield self._bulk, box
            self._bulk_written += box[0]
            return
        writer = self._writer()
        box = [0]
        try:
            yield writer, box
        except BaseException:
            writer.rollback()
            raise
        self._commit(writer, box[0])

    def _commit(self, writer: tantivy.IndexWriter, written: int) -> None:
        """Commit under the state file's write lock, so the generation moves with the commit: a locked state
        file fails the update before tantivy commits anything."""
        if not written:
            writer.rollback()
            return
        conn = self._conn()
        committed = False
        try:
            with db.tx(conn):
                try:
                    writer.commit()
                    committed = True
                except ValueError as e:
                    raise self._damaged("a commit failed", str(e)) from e
                with self._reload_lock:
                    self._index.reload()
                    n = int(self._index.searcher().num_docs)
                self._bump(conn)
                conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('docs', ?)", [n])
        except StorageError:
            if not committed:  # the state file was locked: nothing reached the index, let go of the batch
                writer.rollback()
            raise
        finally:
            writer.wait_merging_threads()

    @contextmanager
    def bulk(self) -> Iterator[DescriptionIndex]:
        """Updates inside share one writer and one commit at the end (a segment of the catch-up): far
        fewer, larger tantivy segments than a commit per batch. An exception rolls all of them back."""
        if self._bulk is not None:
            yield self
            return
        self.begin()
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        self.commit()

    def begin(self) -> None:
        """Start a bulk (see ``bulk``): updates go to one writer until ``commit`` or ``rollback``. The writer
        may be fed from another thread (the sync indexes a new segment while it writes the snapshot)."""
        if self._bulk is None:
            self._bulk, self._bulk_written = self._writer(), 0

    @property
    def in_bulk(self) -> bool:
        return self._bulk is not None

    def commit(self) -> int:
        """Commit the bulk; returns the documents it wrote or deleted."""
        writer, written = self._bulk, self._bulk_written
        self._bulk, self._bulk_written = None, 0
        if writer is not None:
            self._commit(writer, written)
        return written

    def rollback(self) -> None:
        writer, self._bulk, self._bulk_written = self._bulk, None, 0
        if writer is not None:
            try:
                writer.rollback()
            finally:
                writer.wait_merging_threads()

    def update(self, rows: pa.Table, deletes: Sequence[str] = ()) -> int:
        """Upsert ``rows`` (job_id, title, company, description) and delete ``deletes``, in one commit
        (or the enclosing ``bulk()``'s). An unchanged row is not rewritten. Returns rows written plus
        rows deleted."""
        if "job_id" not in rows.column_names:
            raise ValueError("rows need a job_id column")
        s = self._searcher()
        with self._writing() as (writer, written):
            for batch in rows.to_batches(max_chunksize=BATCH_ROWS):
                part = pa.Table.from_batches([batch], schema=rows.schema)
                latest: dict[str, tuple[str, str, str]] = {}
                for j, *vals in zip(
                    part.column("job_id").to_pylist(), *(_text_column(part, c) for c in COLUMNS), strict=True
                ):
                    if j:
                        latest[str(j)] = (vals[0], vals[1], vals[2])  # a repeated job id: the last row wins
                ids = {j: fts_id(j) for j in latest}
                have = self._existing(s, list(ids.values()))
                fresh = [
                    (j, v, h) for j, v in latest.items() if have.get(ids[j], (None, -1))[1] != (h := _doc_hash(*v))
                ]
                replaced = [ids[j] for j, _, _ in fresh if ids[j] in have]
                if replaced:
                    writer.delete_documents_by_query(tantivy.Query.term_set_query(_SCHEMA, "id", replaced))
                for j, (title, company, description), h in fresh:
                    writer.add_document(
                        tantivy.Document(
                            id=ids[j], h=h, job_id=j.encode(), title=title, company=company, description=description
                        )
                    )
                written[0] += len(fresh)
            written[0] += self._delete(s, writer, [fts_id(j) for j in deletes])
            return written[0]

    def delete_fts_ids(self, ids: Sequence[int]) -> int:
        """Delete documents by integer id (the catch-up of deletions a killed run never made)."""
        s = self._searcher()
        with self._writing() as (writer, written):
            written[0] += self._delete(s, writer, [int(i) for i in ids])
            return written[0]

    def _delete(self, s: tantivy.Searcher, writer: tantivy.IndexWriter, ids: Sequence[int]) -> int:
        """Delete the documents of these ids that exist (in batches); returns how many."""
        deleted = 0
        for start in range(0, len(ids), BATCH_ROWS):
            gone = list(self._existing(s, list(ids[start : start + BATCH_ROWS])))
            if gone:
                writer.delete_documents_by_query(tantivy.Query.term_set_query(_SCHEMA, "id", gone))
            deleted += len(gone)
        return deleted

    @staticmethod
    def _bump(conn: db.Connection) -> None:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('generation', 1) ON CONFLICT(key) DO UPDATE SET value = value + 1"
        )

    def segments_done(self) -> set[str]:
        return {r[0] for r in self._conn().execute("SELECT name FROM segments")}

    def mark_segment_done(self, name: str) -> None:
        self._conn().execute("INSERT OR IGNORE INTO segments (name) VALUES (?)", [name])

    def forget_segments(self, names: Sequence[str] | None = None) -> None:
        """Mark segments (every one when None) as not indexed, so the next catch-up reads them again."""
        conn = self._conn()
        with db.tx(conn):
            if names is None:
                conn.execute("DELETE FROM segments")
            else:
                conn.executemany("DELETE FROM segments WHERE name = ?", [(n,) for n in names])

    # --- maintenance (the sync's catch-up, doctor) ------------------------------------------------------

    def optimize(self) -> None:
        """Remove the files no commit uses any more: merged-away segments and deleted documents' space.
        The reader is moved to the last commit (the writer's merges included) first: files a live searcher
        still maps are kept by tantivy."""
        with self._reload_lock:
            self._index.reload()
        writer = self._writer()
        try:
            writer.garbage_collect_files()
        finally:
            writer.wait_merging_threads()

    def problems(self, *, full: bool = True) -> list[str]:
        """What is wrong, in words: SQLite's ``quick_check`` of the state file; files tantivy's meta.json
        lists that are gone; a document count other than the last commit's; with ``full``, every stored
        document read back. Empty when healthy. Raises StorageError if it cannot be read at all."""
        conn = self._conn()
        found = [str(r[0]) for r in conn.execute("PRAGMA quick_check").fetchall() if str(r[0]) != "ok"]
        try:
            missing = _segment_files_missing(self.dir)
        except (OSError, ValueError, KeyError) as e:
            return [*found, f"{self.dir.name}/meta.json cannot be read ({e})"]
        if missing:
            return [*found, f"{len(missing)} index file(s) are missing ({', '.join(missing[:3])})"]
        s = self._searcher()
        want = self._meta(conn, "docs")
        if want is not None and want != s.num_docs:
            found.append(f"the index holds {s.num_docs:,} documents, its last commit recorded {want:,}")
        if full and not found:
            try:
                for _, addr in self._all(s):
                    s.doc(addr)
            except (ValueError, StorageError) as e:
                found.append(f"the stored documents cannot be read ({e})")
        return found

    def maintain(self, *, cancel: Callable[[], bool] | None = None) -> dict[str, int]:
        """Keep the folder from growing with churn: remove index files no commit uses (tantivy merges its
        segments in the writer's background threads by itself) and give the state file's free pages back
        (the FTS5 tables dropped on migration are most of a data folder from before the switch)."""
        self.optimize()
        segs = int(self._searcher().num_segments)
        if cancel is not None and cancel():
            return {"segments": segs}
        conn = self._conn()
        pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
        free = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
        if free and free * 100 >= pages * VACUUM_FREE_PERCENT:
            conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return {"segments": segs, "pages": pages, "free_pages": free}

    # --- queries ----------------------------------------------------------------------------------------

    def match(self, query: str, limit: int | None = None) -> list[tuple[str, float]]:
        """(job_id, score) best first; lower scores are better matches (minus tantivy's BM25, so the order
        and sign read as FTS5's bm25() did). Negations only ("-java") match every document without them,
        unranked (score 0.0, in id order). Never raises on input; raises StorageError when the index cannot
        be read. Results are cached per (query, limit) until the index changes."""
        node = _parse(query)
        if node is None:
            return []
        key = (node, _limit(limit), self.generation())  # generation last read: a later write only misses
        rows = self._memo(self._cache, key, lambda: self._ranked(node, limit))
        return list(rows)  # a copy: the cached list stays as it was

    def _memo(self, cache: OrderedDict[_K, _V], key: _K, compute: Callable[[], _V]) -> _V:
        """``cache[key]``, computed (outside the lock) on a miss; the least recently used beyond
        CACHE_ENTRIES are dropped. Keys carry the index generation, so a write elsewhere only misses."""
        with self._cache_lock:
            hit = cache.get(key)
            if hit is not None:
                cache.move_to_end(key)
                return hit
        value = compute()
        with self._cache_lock:
            cache[key] = value
            while len(cache) > CACHE_ENTRIES:
                cache.popitem(last=False)
        return value

    def _ranked(self, node: _Node, limit: int | None) -> list[tuple[str, float]]:
        s = self._searcher()
        q, ranked = _compiled(node, boost=True)
        n = s.num_docs if limit is None else min(max(0, int(limit)), s.num_docs)
        if ranked:
            hits = self._search(s, q, n)
            return [(_job_id(s.doc(a)), -float(score)) for score, a in hits]
        hits = self._search(s, q, n, order_by_field="id", order=tantivy.Order.Asc)
        return [(_job_id(s.doc(a)), 0.0) for _, a in hits]

    def match_ids(self, query: str) -> pa.Array:
        """Every matching document's fts_id, unranked: what a filter needs. Never raises on input; raises
        StorageError when the index cannot be read (never an empty answer for a broken index)."""
        node = _parse(query)
        if node is None:
            return pa.array([], pa.int64())
        # One search per filter change: a page, its count and the facets of a rerun all ask the same.
        return self._memo(self._id_cache, (node, self.generation()), lambda: self._ids(node))

    def _ids(self, node: _Node) -> pa.Array:
        s = self._searcher()
        if self.bitmaps is not None and (ids := self._bitmap_ids(s, node, self.bitmaps)) is not None:
            return pa.array(ids, pa.int64())
        q, _ = _compiled(node, boost=False)
        return pa.array(self._read_ids(s, q), pa.int64())

    # --- the words of searches as bitmaps (core.term_bitmaps) ----------------------------------------------

    def _bitmap_ids(self, s: tantivy.Searcher, node: _Node, bitmaps: TermBitmaps[_Term]) -> np.ndarray | None:
        """The matching ids from the words' bitmaps, or None: a word with many hits has none yet (it is
        built in the background for the next search) or the bitmaps are not built for this generation."""
        view = bitmaps.view(self.generation())
        leaves = {_leaf_key(t) for t in _leaves(node)}
        held = {k for k in leaves if view is not None and k in view.masks}
        big = {k for k in leaves - held if _too_many_to_read_now(s, k)}
        bitmaps.used([*held, *big])
        if view is None or big or not held:
            return None  # not built yet, or every word is rare: one tantivy search is as quick
        try:
            mask, _ = _MaskBuild(self, s, view).top(node)
        except (_NotNow, ValueError):
            return None
        return view.ids(mask)

    def keep_words(self, queries: Sequence[str]) -> None:
        """Build the bitmaps of these searches' words with many hits ahead of time (saved views, watches)."""
        if self.bitmaps is None:
            return
        s = self._searcher()
        keys = {_leaf_key(t) for q in queries if (node := _parse(q)) is not None for t in _leaves(node)}
        big = [k for k in keys if _too_many_to_read_now(s, k)]
        if big:
            self.bitmaps.view(self.generation())  # this generation's universe first
            self.bitmaps.used(big)

    def _universe(self) -> tuple[int, np.ndarray]:
        """(generation, every document's id, sorted), from one searcher."""
        generation = self.generation()
        hits = self._all(self._searcher())
        return generation, np.fromiter((k for k, _ in hits), np.int64, len(hits))

    def _leaf_ids(self, key: _Term, generation: int) -> np.ndarray | None:
        """A word's ids, sorted, for its bitmap; None for a word tantivy refuses (the slow path says so)."""
        s = self._searcher()
        if self.generation() != generation:
            raise IndexMoved
        try:
            q = _Build(boost=False).term(key)
        except ValueError:
            return None
        return self._read_ids(s, q)

    def _read_ids(self, s: tantivy.Searcher, q: tantivy.Query) -> np.ndarray:
        hits = self._search(s, q, s.num_docs, order_by_field="id", order=tantivy.Order.Asc)
        return np.fromiter((k for k, _ in hits), np.int64, len(hits))

    def match_scores(self, query: str) -> pa.Table:
        """(fts_id, score) of every matching document, score = BM25 with the field weights, higher is better
        (0.0 for negations only): what a "best match" sort orders by after the catalog's filters. Cached like
        ``match_ids``. Never raises on input."""
        node = _parse(query)
        if node is None:
            return _SCORES.empty_table()
        return self._memo(self._score_cache, (node, self.generation()), lambda: self._scores(node))

    def top_scores(self, query: str, k: int) -> tuple[pa.Table, int]:
        """The ``k`` best (fts_id, score) of ``match_scores`` (score descending) and how many documents
        match in all: what a "best match" page needs when the best ``k`` hold it (issue 12: 17 ms for the top
        thousand of 200k hits at 1M, against ~250 ms for every score)."""
        node = _parse(query)
        if node is None:
            return _SCORES.empty_table(), 0
        s = self._searcher()
        q, ranked = _compiled(node, boost=True)
        if not ranked:  # negations only: every score is 0.0, the best k are any k
            table = self._scores(node)
            return table, table.num_rows
        try:
            found = s.search(q, limit=max(1, min(k, s.num_docs)), count=True)
        except ValueError as e:
            raise self._damaged("a search failed", str(e)) from e
        table = _score_table(s, list(found.hits), ranked=True)
        return table, int(found.count or 0)  # type: ignore[attr-defined]  # in tantivy-py, not in its stub

    def _scores(self, node: _Node) -> pa.Table:
        s = self._searcher()
        q, ranked = _compiled(node, boost=True)
        return _score_table(s, self._search(s, q, s.num_docs), ranked)


_SCORES = pa.schema([("fts_id", pa.int64()), ("score", pa.float64())])


def _score_table(s: tantivy.Searcher, hits: list[tuple[Any, Any]], ranked: bool) -> pa.Table:
    """(fts_id, score) of ranked hits; score 0.0 for every hit of negations only."""
    addrs = [a for _, a in hits]
    ids = s.fast_field_values("id", addrs) if addrs else []
    scores = [float(sc) if ranked else 0.0 for sc, _ in hits]
    return pa.table({"fts_id": pa.array(ids, pa.int64()), "score": pa.array(scores, pa.float64())}, schema=_SCORES)


def snippet(description: str, query: str, *, chars: int = 240, mark: tuple[str, str] = ("«", "»")) -> str:
    """A piece of ``description`` around the words ``query`` asks for, each marked with ``mark`` as plain text
    (never HTML: the posting's text is not ours). "" when nothing matched. The caller passes the text it
    already shows (the index stores no texts)."""
    node = _parse(query)
    if node is None or not description:
        return ""
    return snippet_of(description, _positive_words(node), chars=chars, mark=mark)


class _NotNow(Exception):
    """A word of the query turned out to have no bitmap and too many hits to read during the search."""


def _leaves(node: _Node) -> Iterator[_Term]:
    if isinstance(node, _Term):
        yield node
    elif isinstance(node, _Not):
        yield from _leaves(node.item)
    else:
        for item in node.items:
            yield from _leaves(item)


def _leaf_key(t: _Term) -> _Term:
    """One key for every spelling of a word or phrase: its tokens as the index holds them."""
    return _Term(" ".join(tokens(t.text)), t.prefix, t.column)


def _too_many_to_read_now(s: tantivy.Searcher, t: _Term) -> bool:
    """Whether a word (or phrase) may have more than READ_NOW_MAX_HITS hits, by document frequencies (a
    prefix's hits are not known without searching: it may)."""
    if t.prefix:
        return True
    fields = [t.column] if t.column else list(COLUMNS)
    hits = min((sum(s.doc_freq(f, w) for f in fields) for w in tokens(t.text)), default=0)
    return hits > READ_NOW_MAX_HITS


class _MaskBuild(_Compose[np.ndarray]):
    """The parser's AST over bitmaps, with ``_Build``'s semantics: each word from its bitmap (or, for a
    word with few hits, read from tantivy now)."""

    def __init__(self, index: DescriptionIndex, s: tantivy.Searcher, view: View[_Term]) -> None:
        self.index, self.s, self.view = index, s, view

    def term(self, t: _Term) -> np.ndarray:
        key = _leaf_key(t)
        if (mask := self.view.masks.get(key)) is not None:
            return mask
        mask = self.view.mask_of(self.index._read_ids(self.s, _Build(boost=False).term(key)))
        if mask is None:
            raise _NotNow  # read from a newer commit than the bitmaps': the slow path, this once
        return mask

    def all_of(self, items: list[np.ndarray]) -> np.ndarray:
        return np.asarray(np.bitwise_and.reduce(items))

    def any_of(self, items: list[np.ndarray]) -> np.ndarray:
        return np.asarray(np.bitwise_or.reduce(items))

    def without(self, pos: np.ndarray, neg: list[np.ndarray]) -> np.ndarray:
        return np.asarray(pos & ~self.any_of(neg))

    def everything(self) -> np.ndarray:
        return self.view.every()


def _positive_words(node: _Node) -> list[tuple[str, bool]]:
    """(token, prefix) of every term the query asks for (not the negated ones)."""
    if isinstance(node, _Term):
        words = tokens(node.text)
        return [(w, node.prefix and i == len(words) - 1) for i, w in enumerate(words)]
    if isinstance(node, _Not):
        return []
    return [w for item in node.items for w in _positive_words(item)]


_WORD = re.compile(r"[^\W_]+")


def snippet_of(
    text: str, words: list[tuple[str, bool]], *, chars: int = 240, mark: tuple[str, str] = ("«", "»")
) -> str:
    """Cut ``text`` to about ``chars`` characters around the first matched word, marking each match."""
    exact = {w for w, p in words if not p}
    prefixes = tuple(w for w, p in words if p)

    def hit(token: str) -> bool:
        folded = tokens(token)
        return bool(folded) and (folded[0] in exact or (bool(prefixes) and folded[0].startswith(prefixes)))

    spans = [m.span() for m in _WORD.finditer(text) if hit(m.group())]
    if not spans:
        return ""
    start = max(0, spans[0][0] - chars // 4)
    end = min(len(text), start + chars)
    out, pos = [], start
    for a, b in spans:
        if a < start or b > end:
            continue
        out += [text[pos:a], mark[0], text[a:b], mark[1]]
        pos = b
    out.append(text[pos:end])
    body = " ".join("".join(out).split())
    return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")


def _limit(limit: int | None) -> int:
    return -1 if limit is None else max(0, int(limit))
