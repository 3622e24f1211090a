"""Full-text search over descriptions: SQLite FTS5 in data/search.sqlite.

``docs`` holds the text once; ``docs_fts`` is an external-content FTS5 index over it, kept in step by
triggers, so an upsert or delete of a ``docs`` row is one statement and the index cannot drift.
``docs`` has an ``INTEGER PRIMARY KEY`` because FTS5 points at rowids, and an implicit rowid may be
renumbered by VACUUM; ``job_id`` is UNIQUE beside it.

User input never reaches MATCH as written: ``to_fts`` parses it (phrases, prefix*, AND/OR/NOT, -word,
parentheses, title:/company:/description: filters) and re-emits every term as a quoted FTS5 string.
Input it cannot make sense of becomes a literal search of its words. WAL lets the sync write while the
dashboard reads.

Errors: a query FTS5 still refuses (its syntax errors only) falls back to that literal search; everything
else — a locked or damaged file, a missing table — raises ``StorageError`` naming search.sqlite, never an
empty result that would read as "0 jobs match".
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import pyarrow as pa

from core import db
from core.errors import StorageError

SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    id          INTEGER PRIMARY KEY,  -- fts_id(job_id): the catalog derives it too, so hits join without a lookup
    job_id      TEXT NOT NULL UNIQUE,
    title       TEXT NOT NULL DEFAULT '',
    company     TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT ''
);
-- covering (id -> job_id) lookups for match(): far fewer pages than the wide docs rows
CREATE INDEX IF NOT EXISTS docs_id_job ON docs(id, job_id);
CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5(
    title, company, description,
    content='docs', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2'
);
-- no prefix='2 3' index: measured here it tripled indexing time (12.8 s vs 4.4 s per 50k descriptions),
-- while prefix queries still run from the term b-tree.
-- description segments (data/snapshots/desc-*.parquet) already indexed, so a crash is caught up next sync
CREATE TABLE IF NOT EXISTS segments (name TEXT PRIMARY KEY);
-- bumped by every update that changed something: a cheap "is my cached result still good?" check
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TRIGGER IF NOT EXISTS docs_ai AFTER INSERT ON docs BEGIN
    INSERT INTO docs_fts(rowid, title, company, description)
    VALUES (new.id, new.title, new.company, new.description);
END;
CREATE TRIGGER IF NOT EXISTS docs_ad AFTER DELETE ON docs BEGIN
    INSERT INTO docs_fts(docs_fts, rowid, title, company, description)
    VALUES ('delete', old.id, old.title, old.company, old.description);
END;
CREATE TRIGGER IF NOT EXISTS docs_au AFTER UPDATE ON docs BEGIN
    INSERT INTO docs_fts(docs_fts, rowid, title, company, description)
    VALUES ('delete', old.id, old.title, old.company, old.description);
    INSERT INTO docs_fts(rowid, title, company, description)
    VALUES (new.id, new.title, new.company, new.description);
END;
"""

SCHEMA_VERSION = 2  # 2: docs.id = fts_id(job_id)


def fts_id(job_id: str) -> int:
    """A document's integer id, derived from its job id (60 bits of md5; the catalog computes the same
    in SQL), so a match's rowids filter the catalog directly."""
    return int(hashlib.md5(job_id.encode("utf-8")).hexdigest()[:15], 16)


FTS_ID_SQL = "CAST(('0x' || substr(md5(job_id), 1, 15)) AS BIGINT)"  # fts_id() in DuckDB


REBUILD_ADVICE = "it only indexes the snapshots' descriptions: delete it and run `python -m core sync` to rebuild it"


def _check_tables(conn: db.Connection) -> None:
    """Before the schema script recreates what is missing: ``docs`` without ``docs_fts`` (or the reverse) is a
    damaged index. Recreated empty it would answer every search with "no matches"."""
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE name IN ('docs', 'docs_fts')")}
    if len(names) == 1:
        missing = ({"docs", "docs_fts"} - names).pop()
        raise StorageError(
            f"{conn.path.name}: the table {missing} is missing, so the search index is damaged ({conn.path}); "
            + REBUILD_ADVICE,
            path=conn.path,
            detail=f"no such table: {missing}",
        )


def _migrate(conn: db.Connection) -> None:
    """An index built with other ids is dropped; the sync's segment catch-up rebuilds it."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    if row is not None and int(row[0]) == SCHEMA_VERSION:
        return
    has_docs = conn.execute("SELECT count(*) FROM docs").fetchone()[0]
    with db.tx(conn):
        if has_docs:
            conn.execute("DELETE FROM docs")
            conn.execute("DELETE FROM segments")
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema', ?)", [SCHEMA_VERSION])


# What SQLite says about a MATCH expression it cannot parse. Only these fall back to a literal search; a
# "no such column" naming one of the index's own columns means a changed table, not a bad filter.
_SYNTAX_ERRORS = ("fts5: syntax error", "unterminated string", "unknown special query")
_OWN_COLUMNS = frozenset({"id", "rowid", "job_id", "docs_fts", *("title", "company", "description")})


def _is_query_syntax(e: StorageError) -> bool:
    detail = e.detail
    if detail.startswith(_SYNTAX_ERRORS):
        return True
    prefix = "no such column: "
    return detail.startswith(prefix) and detail[len(prefix) :].strip() not in _OWN_COLUMNS


# bm25 column weights: a word in the title says more about a job than the same word in its description.
WEIGHTS = (5.0, 3.0, 1.0)
COLUMNS = ("title", "company", "description")
COLUMN_ALIASES = {"title": "title", "company": "company", "description": "description", "desc": "description"}
MAX_QUERY_CHARS = 2000  # longer input is cut: nobody types more, and each term costs a b-tree lookup
MAX_TERMS = 32
MAX_DEPTH = 16  # nested "(" beyond this is not a query anyone means: the input is searched literally
BATCH_ROWS = 5000
OPTIMIZE_SEGMENTS = 16  # FTS5 segments before a full optimize (a bounded merge runs below that)
OPTIMIZE_CHURN_PERCENT = 25  # documents rewritten since the last optimize, as a share of all, that trigger one
VACUUM_FREE_PERCENT = 20  # free pages (of the file) that make maintain() give space back
CACHE_ENTRIES = 32  # one dashboard rerun asks the same description query for the page, count, facets, charts
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


# --- the index -------------------------------------------------------------------------------------


def _text_column(rows: pa.Table, name: str) -> list[str]:
    if name not in rows.column_names:
        return [""] * rows.num_rows
    return ["" if v is None else str(v) for v in rows.column(name).to_pylist()]


class DescriptionIndex:
    """SQLite FTS5 index of job titles, companies and descriptions, keyed by job_id."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conns = db.PerThread(path, SCHEMA, damaged_advice=REBUILD_ADVICE, check=_check_tables)
        self._cache: OrderedDict[tuple[str, str, int, int], list[tuple[str, float]]] = OrderedDict()
        self._id_cache: OrderedDict[tuple[str, str, int], pa.Array] = OrderedDict()
        self._cache_lock = threading.Lock()
        conn = self._conn()
        if (
            int(conn.execute("PRAGMA auto_vacuum").fetchone()[0]) == 0
            and not conn.execute("SELECT 1 FROM docs LIMIT 1").fetchall()
        ):
            # A new (empty) index: turn incremental auto-vacuum on now, while VACUUM costs nothing.
            try:
                conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
                conn.execute("VACUUM")
            except StorageError:
                pass  # another process has it open: maintain() converts it later
        _migrate(conn)

    def _conn(self) -> db.Connection:
        return self._conns.get()

    def close(self) -> None:
        """Close this thread's connection (the others close when their thread ends)."""
        self._conns.close()

    def __enter__(self) -> DescriptionIndex:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def to_fts(self, query: str) -> str:
        return to_fts(query)

    def count(self) -> int:
        return int(self._conn().execute("SELECT count(*) FROM docs").fetchone()[0])

    def generation(self) -> int:
        """Changes whenever an update (from any process) changed the index; a cache key for results."""
        row = self._conn().execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0]) if row else 0

    def ids(self) -> set[str]:
        return {r[0] for r in self._conn().execute("SELECT job_id FROM docs")}

    def update(self, rows: pa.Table, deletes: Sequence[str] = ()) -> int:
        """Upsert ``rows`` (job_id, title, company, description) and delete ``deletes``, in one
        transaction. An unchanged row is not rewritten. Returns rows written plus rows deleted."""
        if "job_id" not in rows.column_names:
            raise ValueError("rows need a job_id column")
        written = 0
        conn = self._conn()
        with db.tx(conn):
            for batch in rows.to_batches(max_chunksize=BATCH_ROWS):
                part = pa.Table.from_batches([batch], schema=rows.schema)
                ids = part.column("job_id").to_pylist()
                cols = [_text_column(part, c) for c in COLUMNS]
                params = [(fts_id(j), j, *vals) for j, *vals in zip(ids, *cols, strict=True) if j]
                cur = conn.executemany(
                    """
                    INSERT INTO docs (id, job_id, title, company, description) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(job_id) DO UPDATE SET
                        title = excluded.title, company = excluded.company, description = excluded.description
                    WHERE docs.title IS NOT excluded.title OR docs.company IS NOT excluded.company
                       OR docs.description IS NOT excluded.description
                    """,
                    params,
                )
                written += max(cur.rowcount, 0)  # rows of docs only: changes made by triggers are not counted
            for start in range(0, len(deletes), BATCH_ROWS):
                chunk = list(deletes[start : start + BATCH_ROWS])
                marks = ",".join("?" * len(chunk))
                written += conn.execute(f"DELETE FROM docs WHERE job_id IN ({marks})", chunk).rowcount  # noqa: S608
            if written:
                self._bump_generation(conn, written)
        return written

    def segments_done(self) -> set[str]:
        return {r[0] for r in self._conn().execute("SELECT name FROM segments")}

    def mark_segment_done(self, name: str) -> None:
        self._conn().execute("INSERT OR IGNORE INTO segments (name) VALUES (?)", [name])

    def optimize(self) -> None:
        """Merge the index b-trees into one (after a big load; queries get faster)."""
        conn = self._conn()
        conn.execute("INSERT INTO docs_fts(docs_fts) VALUES ('optimize')")

    # --- maintenance (the sync's catch-up, doctor) ------------------------------------------------------

    def fts_ids(self) -> pa.Array:
        """Every document's integer id (fts_id of its job id)."""
        return pa.array([r[0] for r in self._conn().execute("SELECT id FROM docs")], pa.int64())

    def documents(self, job_ids: Sequence[str]) -> dict[str, tuple[str, str, str]]:
        """(title, company, description) of these jobs, as indexed (doctor restores a damaged segment from it)."""
        out: dict[str, tuple[str, str, str]] = {}
        conn = self._conn()
        for start in range(0, len(job_ids), BATCH_ROWS):
            chunk = list(job_ids[start : start + BATCH_ROWS])
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT job_id, title, company, description FROM docs WHERE job_id IN ({marks})"  # noqa: S608
            for r in conn.execute(sql, chunk).fetchall():
                out[r[0]] = (r[1], r[2], r[3])
        return out

    def delete_fts_ids(self, ids: Sequence[int]) -> int:
        """Delete documents by integer id (the catch-up of deletions a killed run never made)."""
        conn = self._conn()
        gone = 0
        with db.tx(conn):
            for start in range(0, len(ids), BATCH_ROWS):
                chunk = [int(i) for i in ids[start : start + BATCH_ROWS]]
                marks = ",".join("?" * len(chunk))
                gone += conn.execute(f"DELETE FROM docs WHERE id IN ({marks})", chunk).rowcount  # noqa: S608
            if gone:
                self._bump_generation(conn, gone)
        return gone

    def forget_segments(self, names: Sequence[str] | None = None) -> None:
        """Mark segments (every one when None) as not indexed, so the next catch-up reads them again."""
        conn = self._conn()
        with db.tx(conn):
            if names is None:
                conn.execute("DELETE FROM segments")
            else:
                conn.executemany("DELETE FROM segments WHERE name = ?", [(n,) for n in names])

    @staticmethod
    def _bump_generation(conn: db.Connection, changed: int = 0) -> None:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('generation', 1) ON CONFLICT(key) DO UPDATE SET value = value + 1"
        )
        # documents rewritten or deleted since the last optimize: what maintain() weighs against the total
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('churn', ?) ON CONFLICT(key) DO UPDATE SET value = value + ?",
            [changed, changed],
        )

    def problems(self, *, full: bool = True) -> list[str]:
        """What is wrong with the file, in words: SQLite's ``quick_check`` and FTS5's own ``integrity-check``
        (the index against its content table). Empty when healthy. Raises StorageError if it cannot be read."""
        conn = self._conn()
        found = [str(r[0]) for r in conn.execute("PRAGMA quick_check").fetchall() if str(r[0]) != "ok"]
        if full and not found:
            try:
                conn.execute("INSERT INTO docs_fts(docs_fts, rank) VALUES ('integrity-check', 1)")
            except StorageError as e:
                found.append(f"the full-text index does not match its documents ({e.detail or e})")
        return found

    def maintain(self, *, cancel: Callable[[], bool] | None = None) -> dict[str, int]:
        """Keep the file from growing with churn: merge FTS5 segments (a bounded ``merge`` after each update,
        a full ``optimize`` when many segments piled up) and give free pages back (incremental vacuum, or one
        VACUUM that also turns incremental auto-vacuum on for a file made before it). Returns the figures."""
        conn = self._conn()
        segs = self._fts_segments(conn)
        row = conn.execute("SELECT value FROM meta WHERE key = 'churn'").fetchone()
        churn = int(row[0]) if row else 0
        docs = self.count()
        if segs > OPTIMIZE_SEGMENTS or (churn and churn * 100 >= max(docs, 1) * OPTIMIZE_CHURN_PERCENT):
            # Deleted and replaced entries stay in the segments until merged: merge them all once the
            # rewritten documents reach a share of the index (cost ~ index size, paid once per that share).
            with db.tx(conn):
                conn.execute("INSERT INTO docs_fts(docs_fts) VALUES ('optimize')")
                conn.execute("UPDATE meta SET value = 0 WHERE key = 'churn'")
        elif segs > 1:
            conn.execute("INSERT INTO docs_fts(docs_fts, rank) VALUES ('merge', 500)")
        if cancel is not None and cancel():
            return {"segments": segs}
        pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
        free = int(conn.execute("PRAGMA freelist_count").fetchone()[0])
        auto = int(conn.execute("PRAGMA auto_vacuum").fetchone()[0])
        if free and free * 100 >= pages * VACUUM_FREE_PERCENT:
            if auto == 2:
                conn.executescript("PRAGMA incremental_vacuum;")  # one execute() step frees one page only
            else:
                conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
                conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return {"segments": segs, "churn": churn, "pages": pages, "free_pages": free}

    @staticmethod
    def _fts_segments(conn: db.Connection) -> int:
        """How many b-tree segments the FTS5 index has (its structure record lists them; ~1 per write)."""
        return int(conn.execute("SELECT count(DISTINCT segid) FROM docs_fts_idx").fetchone()[0])

    def match(self, query: str, limit: int | None = None) -> list[tuple[str, float]]:
        """(job_id, bm25 score) best first; lower scores are better matches. Never raises on input; raises
        StorageError when the index cannot be read.

        Results are cached per (query, limit) until the index changes."""
        expr, exclude = _compile(query)
        if not expr and not exclude:
            return []
        key = (expr, exclude, _limit(limit), self.generation())  # generation first: a later write only misses
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return list(hit)
        rows = self._search(query, expr, exclude, limit)
        with self._cache_lock:
            self._cache[key] = rows
            while len(self._cache) > CACHE_ENTRIES:
                self._cache.popitem(last=False)
        return list(rows)

    def match_ids(self, query: str) -> pa.Array:
        """Every matching document's fts_id, unranked: what a filter needs. Ranking 200k hits with bm25 and
        mapping them back to job ids took ~800 ms at 1M; the bare MATCH ~70 ms. Never raises on input; raises
        StorageError when the index cannot be read (never an empty answer for a broken index)."""
        expr, exclude = _compile(query)
        if not expr and not exclude:
            return pa.array([], pa.int64())
        # One search per filter change: a page, its count and the facets of a rerun all ask the same.
        key = (expr, exclude, self.generation())
        with self._cache_lock:
            hit = self._id_cache.get(key)
            if hit is not None:
                self._id_cache.move_to_end(key)
                return hit
        ids = self._match_ids(query, expr, exclude)
        with self._cache_lock:
            self._id_cache[key] = ids
            while len(self._id_cache) > CACHE_ENTRIES:
                self._id_cache.popitem(last=False)
        return ids

    def _match_ids(self, query: str, expr: str, exclude: str) -> pa.Array:
        conn = self._conn()
        sql = "SELECT rowid FROM docs_fts WHERE docs_fts MATCH ?"
        if expr:
            try:
                rows = conn.execute(sql, [expr]).fetchall()
            except StorageError as e:
                if not _is_query_syntax(e):
                    raise
                literal = _literal(_as_text(query))  # a construct FTS5 still refused: search the words literally
                rows = conn.execute(sql, [literal]).fetchall() if literal else []
        else:  # only negations ("-java"): every document without those words
            try:
                rows = conn.execute(f"SELECT id FROM docs WHERE id NOT IN ({sql})", [exclude]).fetchall()  # noqa: S608
            except StorageError as e:
                if not _is_query_syntax(e):
                    raise
                rows = []  # nothing FTS5 can read to exclude
        return pa.array([r[0] for r in rows], pa.int64())

    def _search(self, query: str, expr: str, exclude: str, limit: int | None) -> list[tuple[str, float]]:
        if expr:
            rows = self._run_match(expr, limit)
            if rows is None:  # a construct FTS5 still refused: search the words literally
                rows = self._run_match(_literal(_as_text(query)), limit) or []
            return rows
        # only negations ("-java"): every document without those words
        sql = (
            "SELECT job_id, 0.0 FROM docs WHERE id NOT IN "
            "(SELECT rowid FROM docs_fts WHERE docs_fts MATCH ?) ORDER BY job_id LIMIT ?"
        )
        try:
            return [(r[0], float(r[1])) for r in self._conn().execute(sql, [exclude, _limit(limit)]).fetchall()]
        except StorageError as e:
            if not _is_query_syntax(e):
                raise
            return []

    def _run_match(self, expr: str, limit: int | None) -> list[tuple[str, float]] | None:
        if not expr:
            return []
        # rank inside FTS5 first, then map only the surviving rowids to job ids through the covering index
        sql = (
            "SELECT d.job_id, f.score FROM ("
            " SELECT rowid AS id, bm25(docs_fts, ?, ?, ?) AS score FROM docs_fts"
            " WHERE docs_fts MATCH ? ORDER BY score, rowid LIMIT ?"
            ") AS f JOIN docs AS d INDEXED BY docs_id_job ON d.id = f.id ORDER BY f.score, f.id"
        )
        try:
            rows = self._conn().execute(sql, [*WEIGHTS, expr, _limit(limit)]).fetchall()
        except StorageError as e:
            if not _is_query_syntax(e):
                raise
            return None  # FTS5 could not read the expression
        return [(r[0], float(r[1])) for r in rows]


def _limit(limit: int | None) -> int:
    return -1 if limit is None else max(0, int(limit))
