"""Watches end to end: real syncs, real SQLite/DuckDB, a real SMTP server (aiosmtpd) and a real HTTP server
(pytest-httpserver) on 127.0.0.1 receiving the digests."""

from __future__ import annotations

import email
import json
import socket
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from email import policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from core import notify, watches
from core.cli import main as cli_main
from core.errors import ConfigError
from core.query import JobFilter, filter_to_json
from core.settings import Settings, load_settings
from core.sync import run_sync
from core.userdata import UserData
from tests.conftest import job, static

T0 = datetime(2026, 11, 1, 12, 0, 0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd API)
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(msg)  # type: ignore[arg-type]
        return "250 OK"

    def bodies(self) -> list[str]:
        return [m.get_body(preferencelist=("plain",)).get_content() for m in self.messages]  # type: ignore[union-attr]


@pytest.fixture
def smtp() -> Iterator[tuple[_Inbox, str]]:
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, f"mailto://127.0.0.1:{port}?from=jobdash@example.com&to=me@example.com&mode=insecure"
    finally:
        controller.stop()


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notify, "BACKOFF_S", 0.01)


def _hook(httpserver: HTTPServer, status: int = 200) -> tuple[list[dict[str, Any]], str]:
    got: list[dict[str, Any]] = []

    def handler(request: Request) -> Response:
        got.append(json.loads(request.get_data()))
        return Response("ok" if status == 200 else "boom", status=status)

    httpserver.expect_request("/hook", method="POST").respond_with_handler(handler)
    return got, f"json://127.0.0.1:{httpserver.port}/hook"


def _view(settings: Settings, name: str, flt: JobFilter) -> None:
    users = UserData(settings.db_path)
    try:
        users.save_view(name, filter_to_json(flt))
    finally:
        users.close()


def _sync(settings: Settings, rows: list[dict[str, Any]], at: datetime, name: str = "A") -> Any:
    result = run_sync(settings, now=at, sources=[static(name, rows)])
    assert watches.wait_for_delivery(30)
    return result


def _store(settings: Settings) -> watches.WatchStore:
    return watches.WatchStore(settings.db_path)


def _engineers(n: int, prefix: str = "e") -> list[dict[str, Any]]:
    return [job(f"{prefix}{i}", title=f"Data Engineer {prefix}{i}", company=f"Co {i}") for i in range(n)]


def test_digest_by_mail_and_webhook_no_duplicates_across_runs(
    settings: Settings, smtp: tuple[_Inbox, str], httpserver: HTTPServer
) -> None:
    inbox, mail_url = smtp
    hooked, hook_url = _hook(httpserver)
    _view(settings, "Data engineer, Berlin", JobFilter(text="data engineer", location="berlin"))
    store = _store(settings)
    w = store.add("Data engineer, Berlin", destinations=[mail_url, hook_url])
    sales = [job("s1", title="Sales Manager"), job("s2", title="Data Engineer", location="Paris, France")]
    r1 = _sync(settings, [*_engineers(3), *sales], T0)
    assert r1.status == "ok" and r1.counts["new"] == 5 and "watches" in r1.phases

    assert len(inbox.messages) == 1 and len(hooked) == 1
    mail, hook = inbox.bodies()[0], hooked[0]["message"]
    assert "3 new match" in inbox.messages[0]["Subject"] and "3 new match" in hooked[0]["title"]
    for body in (mail, hook):
        for i in range(3):
            assert f"Data Engineer e{i} — Co {i} — Berlin, Germany" in body
        assert "https://jobs.example.com/e0" in body
        assert "Sales Manager" not in body and "Paris" not in body
    assert store.unseen_counts() == {w.id: 3}

    # Run 2: the same jobs again plus one new engineer: only the new one is reported, to both.
    _sync(settings, [*_engineers(3), *sales, *_engineers(1, "n")], T0 + timedelta(hours=1))
    assert len(inbox.messages) == 2 and len(hooked) == 2
    for body in (inbox.bodies()[1], hooked[1]["message"]):
        assert "Data Engineer n0" in body and "Data Engineer e0" not in body and "1 new job" in body
    assert store.unseen_counts() == {w.id: 4}
    assert {n["status"] for n in store.notifications(w.id)} == {"sent"}

    # Run 3: nothing new: no digest at all.
    _sync(settings, [*_engineers(3), *sales, *_engineers(1, "n")], T0 + timedelta(hours=2))
    assert len(inbox.messages) == 2 and len(hooked) == 2
    store.close()


def test_digest_is_capped_and_plain_text(settings: Settings, httpserver: HTTPServer) -> None:
    hooked, hook_url = _hook(httpserver)
    _view(settings, "all engineers", JobFilter(text="engineer"))
    _store(settings).add("all engineers", destinations=[hook_url])
    hostile = job(
        "h1",
        title="Engineer <script>alert(1)</script> [click](javascript:alert(1)) **bold** @everyone",
        company="Evil <b>Corp</b> visit http://evil.example",
        url="javascript:alert(1)",
    )
    _sync(settings, [*_engineers(24), hostile], T0)
    (body,) = [h["message"] for h in hooked]
    assert "25 new jobs" in body and body.count("\n• ") == notify.DIGEST_CAP
    assert f"and {25 - notify.DIGEST_CAP} more" in body
    line = next((ln for ln in body.splitlines() if "alert(1)" in ln), None)
    if line is not None:  # the hostile posting is among the listed ones: nothing in it is live mark-up
        for live in ("<script", "](", "**", "@everyone", "http://evil", "<b>"):
            assert live not in line
    assert "javascript:" not in body


def test_plain_neutralizes_markup_and_links() -> None:
    text = notify.plain("<b>x</b> [a](http://e.vil) *b* _c_ `d` ~e~ | @here www.evil.com\nline2")
    for live in ("<", ">", "](", "*", "_", "`", "~", "|", "@", "http://", "www.", "\n"):
        assert live not in text
    assert notify.safe_link("https://ok.example/a?b=1") == "https://ok.example/a?b=1"
    for bad in ("javascript:alert(1)", "data:text/html,x", "ftp://x", "https://", "https://a b", None):
        assert notify.safe_link(bad) is None
    d = notify.build_digest("w", [{"title": "T", "url": "javascript:x"}])
    assert "(no http link)" in d.body and "javascript" not in d.body


def test_description_search_and_salary_filters_match_like_the_jobs_page(settings: Settings) -> None:
    rows = [
        job("a1", description="We use Airflow and dbt daily."),
        job("a2", description="Spark only."),
        job("a3", description="airflow, but poorly paid", salary_text="€20,000 per year"),
    ]
    _view(settings, "airflow", JobFilter(desc="airflow", salary_min=50_000))
    store = _store(settings)
    w = store.add("airflow")
    _sync(settings, rows, T0)
    matched = {m["job_id"] for m in store.matches(w.id)}
    from core.catalog import Catalog

    cat = Catalog(settings)
    try:
        expected = {r["job_id"] for r in cat.rows(JobFilter(desc="airflow", salary_min=50_000))}
        assert matched == expected and len(matched) == 1
        # The dashboard's restriction to the watch's unseen matches returns exactly those jobs.
        assert {r["job_id"] for r in cat.rows(JobFilter(watch_unseen=w.id))} == matched
        assert store.mark_seen(w.id) == 1
        assert cat.rows(JobFilter(watch_unseen=w.id)) == []
    finally:
        cat.close()
        store.close()


def test_never_twice_across_ten_syncs_with_churn_and_relisted_follows_the_setting(settings: Settings) -> None:
    _view(settings, "eng", JobFilter(text="engineer"))
    store = _store(settings)
    plain_w = store.add("eng")
    _view(settings, "eng2", JobFilter(text="engineer"))
    relisted_w = store.add("eng2", include_relisted=True)
    pool = _engineers(30)
    ever: set[str] = set()
    first_ids: set[str] = set()
    for run in range(10):
        # Churn: a sliding window of the pool is listed each run; jobs leave and come back.
        rows = [pool[(run * 7 + k) % 30] for k in range(12)]
        r = _sync(settings, rows, T0 + timedelta(hours=run))
        assert r.status == "ok"
        if run == 0:
            first_ids = {m["job_id"] for m in store.matches(plain_w.id)}
        ever |= {row["native_id"] for row in rows}
    m_plain = store.matches(plain_w.id, limit=None)
    m_rel = store.matches(relisted_w.id, limit=None)
    assert len(m_plain) == len({m["job_id"] for m in m_plain}) == len(ever) == 30  # each job once, ever
    assert all(m["outcome"] == "new" for m in m_plain)
    assert len(m_rel) == len({m["job_id"] for m in m_rel}) == 30
    assert first_ids and len(first_ids) == 12


def test_relisted_job_is_reported_only_to_a_watch_that_includes_relisted(settings: Settings) -> None:
    rows = _engineers(3)
    _sync(settings, rows, T0)  # the jobs exist before the watches do
    _sync(settings, rows[:2], T0 + timedelta(hours=1))  # e2 is delisted
    _view(settings, "eng", JobFilter(text="engineer"))
    _view(settings, "eng+relisted", JobFilter(text="engineer"))
    store = _store(settings)
    w_plain, w_rel = store.add("eng"), store.add("eng+relisted", include_relisted=True)
    _sync(settings, rows, T0 + timedelta(hours=2))  # e2 comes back: relisted
    assert store.matches(w_plain.id) == []
    (m,) = store.matches(w_rel.id)
    assert m["outcome"] == "relisted"
    _sync(settings, rows[:2], T0 + timedelta(hours=3))
    _sync(settings, rows, T0 + timedelta(hours=4))  # relisted again: still reported once
    assert len(store.matches(w_rel.id)) == 1


@pytest.mark.parametrize("down", ["refused", "500"])
def test_a_down_destination_is_retried_next_run_and_the_sync_is_unaffected(
    settings: Settings, tmp_path: Path, httpserver: HTTPServer, down: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if down == "refused":
        bad_url = f"json://127.0.0.1:{_free_port()}/hook"
    else:
        httpserver.expect_request("/down", method="POST").respond_with_data("boom", status=500)
        bad_url = f"json://127.0.0.1:{httpserver.port}/down"
    _view(settings, "eng", JobFilter(text="engineer"))
    store = _store(settings)
    w = store.add("eng", destinations=[bad_url])
    r1 = _sync(settings, _engineers(2), T0)

    # The same run without any watch gives the same result.
    other = replace(settings, data_dir=tmp_path / "other")
    r_ref = run_sync(other, now=T0, sources=[static("A", _engineers(2))])
    assert (r1.status, r1.counts, r1.version, r1.error) == (r_ref.status, r_ref.counts, r_ref.version, r_ref.error)

    (failed,) = store.notifications(w.id)
    assert failed["status"] == "failed" and failed["attempts"] == notify.RETRIES and failed["reason"]
    assert store.unnotified(w.id) == 2

    # The destination comes back: the next run sends what was missed (plus its own new match), once.
    hooked, good_url = _hook(httpserver)
    store.add("eng", destinations=[good_url])
    _sync(settings, _engineers(3), T0 + timedelta(hours=1))
    (body,) = [h["message"] for h in hooked]
    assert "3 new jobs" in body and all(f"Data Engineer e{i}" in body for i in range(3))
    assert store.unnotified(w.id) == 0
    _sync(settings, _engineers(3), T0 + timedelta(hours=2))
    assert len(hooked) == 1
    store.close()


def test_quiet_hours_min_matches_and_paused(settings: Settings, httpserver: HTTPServer) -> None:
    hooked, url = _hook(httpserver)
    _view(settings, "eng", JobFilter(text="engineer"))
    store = _store(settings)
    w = store.add("eng", destinations=[url], min_matches=3)
    _sync(settings, _engineers(2), T0)
    assert hooked == [] and store.notifications(w.id)[0]["status"] == "waiting"
    # Quiet hours around the real local time, so the sync's own background delivery is held back too.
    here = datetime.now()
    start, end = here - timedelta(hours=2), here + timedelta(hours=2)
    store.add("eng", destinations=[url], min_matches=3, quiet_hours=f"{start:%H:%M}-{end:%H:%M}")
    _sync(settings, _engineers(3), T0 + timedelta(hours=1))
    assert hooked == [] and store.notifications(w.id)[0]["status"] == "quiet"
    out = watches.deliver(settings, local_now=here)
    assert [d.status for d in out] == ["quiet"] and hooked == []
    out = watches.deliver(settings, local_now=here + timedelta(hours=6))
    assert [d.status for d in out] == ["sent"] and len(hooked) == 1 and "3 new jobs" in hooked[0]["message"]
    store.set_paused(w.id, True)
    _sync(settings, _engineers(5), T0 + timedelta(hours=2))
    assert len(store.matches(w.id)) == 3 and len(hooked) == 1  # paused: neither evaluated nor sent


def test_watches_in_jobdash_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "jobdash.toml"
    monkeypatch.setenv("JOBDASH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("JOBDASH_CONFIG", str(cfg))
    cfg.write_text(
        '[[watches]]\nview = "eng"\ndestinations = ["json://127.0.0.1:9/x"]\nquiet_hours = "22:00-07:00"\n'
        "min_matches = 2\npaused = true\n",
        encoding="utf-8",
    )
    s = load_settings()
    (c,) = s.watches
    assert (c.view, c.destinations, c.quiet_hours, c.min_matches, c.paused) == (
        "eng", ("json://127.0.0.1:9/x",), "22:00-07:00", 2, True,
    )  # fmt: skip
    store = _store(s)
    store.apply_config(s.watches)
    (w,) = store.all()
    assert w.origin == "config" and w.paused and w.min_matches == 2
    store.close()
    for bad, key in (
        ('[[watches]]\nview = "eng"\nmin_match = 2\n', "watches[0].min_match"),
        ('[[watches]]\nview = "eng"\nquiet_hours = "late"\n', "watches[0].quiet_hours"),
        ('[[watches]]\nview = "eng"\nmin_matches = 0\n', "watches[0].min_matches"),
        ('[[watches]]\nview = "eng"\ndestinations = ["nope"]\n', "watches[0].destinations"),
        ("[[watches]]\nmin_matches = 1\n", "watches[0].view"),
    ):
        cfg.write_text(bad, encoding="utf-8")
        with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
            load_settings()


def test_cli_watch(settings: Settings, httpserver: HTTPServer, capsys: pytest.CaptureFixture[str]) -> None:
    hooked, url = _hook(httpserver)
    _view(settings, "eng", JobFilter(text="engineer"))
    assert cli_main(["watch", "add", "nope"]) == 2
    assert "no saved view" in capsys.readouterr().err
    assert cli_main(["watch", "add", "eng", "--to", url, "--json"]) == 0
    added = json.loads(capsys.readouterr().out)
    assert added["view"] == "eng" and added["destinations"] == [f"json://127.0.0.1:{httpserver.port}"]
    assert cli_main(["watch", "test", "eng"]) == 0
    assert len(hooked) == 1 and "Sample: Data Engineer" in hooked[0]["message"] and "(test)" in hooked[0]["title"]
    capsys.readouterr()
    _sync(settings, _engineers(2), T0)
    assert cli_main(["watch", "list", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["unseen"] == 2
    assert cli_main(["watch", "matches", "eng", "--unseen", "--json", "--mark-seen"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2
    assert cli_main(["watch", "matches", "eng", "--unseen", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert cli_main(["watch", "pause", "eng"]) == 0 and "paused" in capsys.readouterr().out
    assert cli_main(["watch", "resume", "1"]) == 0 and "resumed" in capsys.readouterr().out


def _merged(rows: list[tuple[str, str, str]]) -> Any:
    """A sync-shaped ``merged`` table (outcome + the hot columns) in a DuckDB connection of its own."""
    import duckdb

    from core import schema

    con = duckdb.connect(":memory:")
    cols = ", ".join(
        f"v.{c}" if c in ("job_id", "title") else f"NULL::{schema.column(c).sql} AS {schema.quote(c)}"
        for c in schema.HOT_COLUMNS
    )
    con.execute("CREATE TABLE v (outcome VARCHAR, job_id VARCHAR, title VARCHAR)")
    con.executemany("INSERT INTO v VALUES (?, ?, ?)", rows)
    con.execute(f"CREATE TABLE merged AS SELECT v.outcome, {cols} FROM v")
    return con


@pytest.mark.parametrize("sqlite_json", [True, False])
def test_evaluate_in_the_sync_connection_relisted_hidden_once_and_nothing_left_behind(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, sqlite_json: bool
) -> None:
    monkeypatch.setattr(watches, "_SQLITE_JSON", sqlite_json and watches._SQLITE_JSON)  # and the executemany path
    con = _merged([
        ("new", "n1", "Data Engineer"), ("new", "n2", "Data Engineer"), ("new", "n3", "Sales Lead"),
        ("relisted", "r1", "Data Engineer"), ("unchanged", "u1", "Data Engineer"), ("delisted", "d1", "Data Engineer"),
    ])  # fmt: skip
    users = UserData(settings.db_path)
    users.set("n2", hidden=True)  # hidden jobs are left out, as on the Jobs page
    users.close()
    _view(settings, "eng", JobFilter(text="data engineer"))
    _view(settings, "eng+r", JobFilter(text="data engineer"))
    store = _store(settings)
    plain, rel = store.add("eng"), store.add("eng+r", include_relisted=True)
    before = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    ev = watches.evaluate(settings, 1, con, T0)
    assert ev.candidates == 4 and ev.errors == {} and ev.matches == {plain.id: 1, rel.id: 2}
    assert {(m["job_id"], m["outcome"]) for m in store.matches(plain.id)} == {("n1", "new")}
    assert {(m["job_id"], m["outcome"]) for m in store.matches(rel.id)} == {("n1", "new"), ("r1", "relisted")}
    assert {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()} == before
    again = watches.evaluate(settings, 2, con, T0 + timedelta(hours=1))  # the same jobs: never reported twice
    assert again.matches == {plain.id: 0, rel.id: 0} and len(store.matches(rel.id)) == 2
    store.close()
    con.close()
