"""Translate low: every storage failure is a StorageError naming the file — a lost or garbled index file, a
locked database, a corrupt file — never a sqlite3 or tantivy traceback, and never an empty answer that reads
as "0 jobs match".

Real files damaged the way they get damaged: another connection holding a lock, garbage bytes over the
file, an index file removed or overwritten behind the app's back. The busy timeout is shortened so a lock
fails in a moment. The FTS5 syntax classification is the baseline's (benchmarks/fts5_index.py).
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from benchmarks.fts5_index import Fts5DescriptionIndex, _is_query_syntax
from core import control, db
from core.catalog import Catalog
from core.errors import JobdashError, StorageError
from core.query import JobFilter
from core.runs import RunLog
from core.search import DescriptionIndex, index_dir
from core.settings import Settings
from core.userdata import UserData
from tests import catalog_fixture

ROWS = 400
DOCS = pa.table(
    {
        "job_id": ["a", "b", "c"],
        "title": ["Python developer", "Rust engineer", "Data analyst"],
        "company": ["Acme", "Globex", "Initech"],
        "description": ["python and kubernetes", "rust systems", "sql and python"],
    }
)


@pytest.fixture(autouse=True)
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "BUSY_TIMEOUT_S", 0.2)


@pytest.fixture
def index_path(tmp_path: Path) -> Path:
    path = tmp_path / "search.sqlite"
    with DescriptionIndex(path) as ix:
        ix.update(DOCS)
    return path


@pytest.fixture
def fts5_path(tmp_path: Path) -> Path:
    path = tmp_path / "fts5.sqlite"
    with Fts5DescriptionIndex(path) as ix:
        ix.update(DOCS)
    return path


def garble_index(search_path: Path) -> None:
    """What another process's commit over a damaged folder looks like: tantivy's meta.json is garbage and
    the generation moved, so every reader reloads from it."""
    (index_dir(search_path) / "meta.json").write_text("{not json", encoding="utf-8")
    with sqlite3.connect(search_path) as other:
        other.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")


def lose_segment_file(search_path: Path) -> str:
    victim = sorted(index_dir(search_path).glob("*.idx"))[0]
    victim.unlink()
    return victim.name


@pytest.fixture
def built(tmp_path: Path) -> catalog_fixture.Built:
    return catalog_fixture.build(tmp_path / "data", ROWS)


def garbage(path: Path, keep_header: bool = False) -> None:
    """Overwrite a closed SQLite file with random bytes (keeping the 100-byte header: a damaged body)."""
    for extra in ("-wal", "-shm"):
        assert not Path(f"{path}{extra}").exists(), "close every connection first (the WAL is checkpointed)"
    data = bytearray(path.read_bytes())
    rng = random.Random(5)
    start = 100 if keep_header else 0
    data[start:] = bytes(rng.randrange(256) for _ in range(len(data) - start))
    path.write_bytes(bytes(data))


@pytest.fixture
def holder() -> Iterator[list[sqlite3.Connection]]:
    """Raw connections a test uses to lock a file (another program); rolled back and closed after."""
    held: list[sqlite3.Connection] = []
    yield held
    for conn in held:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.close()


def lock(path: Path, held: list[sqlite3.Connection], *, readers_too: bool = False) -> None:
    """``BEGIN EXCLUSIVE`` from another connection. In WAL that stops writers; with ``locking_mode=EXCLUSIVE``
    (what some tools set) and a write, readers are shut out too."""
    conn = sqlite3.connect(path, isolation_level=None)
    held.append(conn)
    if readers_too:
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
    conn.execute("BEGIN EXCLUSIVE")
    if readers_too:
        conn.execute("CREATE TABLE IF NOT EXISTS _held (x)")


def release(held: list[sqlite3.Connection]) -> None:
    """The other program lets go (exclusive locking mode needs no other connection open)."""
    while held:
        conn = held.pop()
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        conn.close()


def says(err: pytest.ExceptionInfo[StorageError], name: str, *words: str) -> None:
    msg = str(err.value)
    assert msg.startswith(f"{name}: "), msg
    for word in words:
        assert word in msg, msg
    assert err.value.path is not None and err.value.path.name == name


# --- the search index ---------------------------------------------------------------------------------


def test_a_garbled_index_raises_instead_of_matching_nothing(index_path: Path) -> None:
    with DescriptionIndex(index_path) as ix:
        assert len(ix.match_ids("python")) == 2
        garble_index(index_path)
        with pytest.raises(StorageError) as err:
            ix.match_ids("rust")
        says(err, "search.tantivy", "damaged", "python -m core sync")
        with pytest.raises(StorageError):
            ix.match("rust")
        with pytest.raises(StorageError):
            ix.match_ids("-rust")  # the negation path too
    # reopened, an empty index would be created in its place: refused instead
    with pytest.raises(StorageError) as err:
        DescriptionIndex(index_path)
    says(err, "search.tantivy", "cannot be opened", "python -m core sync")
    assert err.value.code == "INDEX_CORRUPT"


def test_a_lost_index_file_or_directory_raises(index_path: Path) -> None:
    with DescriptionIndex(index_path) as ix:
        name = lose_segment_file(index_path)
        assert len(ix.match_ids("python")) == 2, "the open index still reads its mapped files: right, not empty"
    with pytest.raises(StorageError) as err:
        DescriptionIndex(index_path)
    says(err, "search.tantivy", "missing", "python -m core sync")
    assert name in err.value.detail
    index_dir(index_path).rename(index_path.with_name("elsewhere"))  # gone from the folder
    with pytest.raises(StorageError) as err:  # the state file says it was made: gone is damage, not "new"
        DescriptionIndex(index_path)
    says(err, "search.tantivy", "missing")
    assert err.value.code == "INDEX_MISSING"


def test_a_locked_index_raises(index_path: Path, holder: list[sqlite3.Connection]) -> None:
    with DescriptionIndex(index_path) as ix:
        lock(index_path, holder)
        assert len(ix.match_ids("python")) == 2, "WAL: a writer's lock does not stop readers"
        with pytest.raises(StorageError) as err:
            ix.update(pa.table({"job_id": ["d"], "title": ["x"], "company": ["y"], "description": ["z"]}))
        says(err, "search.sqlite", "database is locked")
        assert err.value.code.startswith("SQLITE_BUSY")
    release(holder)
    lock(index_path, holder, readers_too=True)
    with pytest.raises(StorageError) as err:
        with DescriptionIndex(index_path) as ix:
            ix.match_ids("python")
    says(err, "search.sqlite", "database is locked")


@pytest.mark.parametrize("keep_header", [False, True], ids=["not-a-database", "malformed"])
def test_a_corrupt_index_raises(index_path: Path, keep_header: bool) -> None:
    garbage(index_path, keep_header)
    with pytest.raises(StorageError) as err:
        with DescriptionIndex(index_path) as ix:
            ix.match_ids("python")
    says(err, "search.sqlite", "damaged", "python -m core sync")
    assert err.value.code in ("SQLITE_NOTADB", "SQLITE_CORRUPT")


@pytest.mark.parametrize(
    "expr", ['"unterminated', "AND", "a AND", "(a", "nocolumn : x", "+", "*", "a OR OR b", "title : "]
)
def test_only_fts_syntax_errors_fall_back_to_a_literal_search(fts5_path: Path, expr: str) -> None:
    """What SQLite really says about malformed MATCH text is classified as syntax (the literal fallback)."""
    with db.opened(fts5_path, "") as conn:
        with pytest.raises(StorageError) as err:
            conn.execute("SELECT rowid FROM docs_fts WHERE docs_fts MATCH ?", [expr]).fetchall()
    assert _is_query_syntax(err.value), err.value.detail


def test_storage_failures_are_not_syntax_errors(fts5_path: Path, holder: list[sqlite3.Connection]) -> None:
    with db.opened(fts5_path, "") as conn:
        with pytest.raises(StorageError) as err:
            conn.execute("SELECT rowid FROM no_such_fts WHERE no_such_fts MATCH 'x'").fetchall()
        assert not _is_query_syntax(err.value)
        with pytest.raises(StorageError) as err:
            conn.execute("SELECT job_id FROM docs_fts WHERE docs_fts MATCH 'x'").fetchall()  # a changed table
        assert not _is_query_syntax(err.value)


def test_unreadable_user_input_still_searches_literally(index_path: Path) -> None:
    with DescriptionIndex(index_path) as ix:
        assert {j for j, _ in ix.match('python AND "unclosed')} == set()  # parsed: a phrase nobody wrote
        assert len(ix.match_ids("python)")) == 2  # unbalanced: the words literally


def test_the_index_is_a_context_manager(index_path: Path) -> None:
    with DescriptionIndex(index_path) as ix:
        conn = ix._conn()
        assert ix.count() == 3
    with pytest.raises(sqlite3.ProgrammingError):
        conn.execute("SELECT 1")  # closed on the way out


# --- the catalog: a search over a broken index is an error, never "0 jobs match" ----------------------


def test_catalog_count_over_a_broken_index_raises(built: catalog_fixture.Built) -> None:
    s = built.settings
    cat = Catalog(s)
    try:
        flt = JobFilter(desc="python")
        assert cat.count(flt) > 0
        everything = cat.count(JobFilter())
        garble_index(s.search_path)
        flt = JobFilter(desc="kubernetes")
        with pytest.raises(StorageError, match=r"^search\.tantivy: "):
            cat.count(flt)
        with pytest.raises(StorageError):
            cat.page(flt)
        assert cat.count(JobFilter()) == everything > 0, "the rest of the catalog still answers"
    finally:
        cat.close()


def test_catalog_over_a_corrupt_user_database(built: catalog_fixture.Built) -> None:
    garbage(built.settings.db_path)
    with pytest.raises(StorageError) as err:
        Catalog(built.settings)
    says(err, "jobdash.sqlite", "file is not a database", "restore it from a backup")


def test_a_truncated_snapshot_is_a_clear_error(built: catalog_fixture.Built) -> None:
    path = built.snapshot.jobs_path
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    # The only snapshot is damaged: nothing valid to fall back to (tests/integration/test_damaged_folder.py
    # covers the fallback to an older one).
    with pytest.raises(StorageError, match=rf"{path.name}.*no older valid snapshot"):
        Catalog(built.settings)


def test_a_truncated_description_segment_is_a_clear_error(built: catalog_fixture.Built) -> None:
    cat = Catalog(built.settings)
    try:
        job_id = built.job_ids[0]
        assert cat.job(job_id)["description"]
        for seg in built.settings.snapshots_dir.glob("desc-*.parquet"):
            seg.write_bytes(seg.read_bytes()[:64])
        with pytest.raises(StorageError, match=r"^desc-\d+\.parquet: cannot read the description"):
            cat.job(built.job_ids[1])
    finally:
        cat.close()


# --- user data, runs, control ---------------------------------------------------------------------------


def test_user_data_locked(settings: Settings, holder: list[sqlite3.Connection]) -> None:
    users = UserData(settings.db_path)
    try:
        users.set("j1", starred=True)
        lock(settings.db_path, holder)
        assert users.get("j1") is not None, "WAL: reads go on while another process writes"
        with pytest.raises(StorageError) as err:
            users.set("j1", notes="while locked")
        says(err, "jobdash.sqlite", "database is locked", "try again")
        holder[0].execute("ROLLBACK")
        got = users.get("j1")
        assert got is not None and got["notes"] == "", "the failed write left nothing behind"
        assert not users._conn().in_transaction
    finally:
        users.close()


@pytest.mark.parametrize("keep_header", [False, True], ids=["not-a-database", "malformed"])
def test_user_data_runs_and_control_over_a_corrupt_file(settings: Settings, keep_header: bool) -> None:
    users = UserData(settings.db_path)
    users.set("j1", starred=True, notes="x" * 5000)
    users.close()
    garbage(settings.db_path, keep_header)
    for call in (
        lambda: UserData(settings.db_path).table(),
        lambda: RunLog(settings.db_path).recent(),
        lambda: control.scheduler(settings),
        lambda: control.request_sync(settings, "test"),
    ):
        with pytest.raises(StorageError) as err:
            call()
        says(err, "jobdash.sqlite", "damaged", "restore it from a backup")


def test_runs_and_control_locked(settings: Settings, holder: list[sqlite3.Connection]) -> None:
    log = RunLog(settings.db_path)
    try:
        lock(settings.db_path, holder)
        with pytest.raises(StorageError, match=r"^jobdash\.sqlite: database is locked"):
            log.start("test")
        with pytest.raises(StorageError, match=r"^jobdash\.sqlite: database is locked"):
            control.request_sync(settings, "test")
        assert control.pending_requests(settings) == 0  # reads still work in WAL
    finally:
        log.close()
    release(holder)
    lock(settings.db_path, holder, readers_too=True)
    with pytest.raises(StorageError, match=r"^jobdash\.sqlite: database is locked"):
        control.pending_requests(settings)


def test_an_unwritable_folder_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(StorageError, match=r"^jobdash\.sqlite: cannot open"):
        UserData(blocker / "jobdash.sqlite")  # its folder is a file


def test_storage_error_is_what_pages_catch() -> None:
    assert issubclass(StorageError, JobdashError)
