"""A load test that measures the dashboard server, not a browser: N concurrent sessions of the Jobs page.

``python -m benchmarks.load_test [--jobs 100000] [--sessions 1,5,10,20] [--duration 60] [--think 1.0]``

Builds a demo catalog of ``--jobs`` jobs (``python -m core demo``) in a temp data folder (or reuses
``--data-dir``), starts ``streamlit run app.py`` on a free 127.0.0.1 port with ``JOBDASH_DATA_DIR`` pointing
at it, and drives it with a protocol-level client: each session is one websocket to ``/_stcore/stream``
speaking Streamlit's own protobufs (``BackMsg`` ``rerun_script`` with the page hash, fragment id and widget
states; ``ForwardMsg`` deltas back), exactly what the browser sends, without a browser.

Per session, in a loop: **search** (the sidebar "Search title or company" text input, a full rerun), **sort**
(the AgGrid component's value: the JSON the grid's ``RETURN_MODEL`` returns — sort model, filter model,
selected ids — sent as the component's ``json_value``, a fragment rerun), **page** (the pager's "Next ▶" button
trigger, a fragment rerun), **open** (the grid's value with one selected job id → the detail panel). An
action's time is send → the ``script_finished`` of that rerun; every request must get one ("nothing lost").
Like a browser, each session also sends the live-notice fragment's auto-rerun (``AutoRerun`` interval, 3 s) when
it falls due — reported as ``live_poll``. One request per session at a time, with a seeded think time between
actions (``--think`` seconds mean, uniform ±50 %).

Every search is a title word or word pair taken from the grid's own rows, in a random upper/lower-case
spelling, so it is a filter no cache has seen (the search itself is case-insensitive); sorts pick a sortable
column and direction at random; "open" selects a random row of the page on screen. Each action is checked
against what the server sent back (the search redrew the grid with other rows, the page number moved, the
detail panel shows the selected job's title); a failed check or an error element counts as an error.

The server's RSS (peak) and CPU (mean, % of one core) are sampled with psutil during each level, beside the
client's own CPU so a saturated client would show. Writes ``data/bench/load-<jobs>.json`` and a Markdown
section (``docs/bench_load.md``). Bounded: sessions × at most ``--max-actions`` actions, each level capped at
``--duration`` seconds, every wait has ``--timeout``; loopback only; the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Coroutine, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import psutil
import pyarrow as pa
import streamlit
import websockets
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

from benchmarks.common import machine, write_atomic

ROOT = Path(__file__).resolve().parent.parent
ACTIONS = ("search", "sort", "page", "open")
REPORTED = ("load", *ACTIONS, "live_poll")
TARGET_P95_MS = {10: 500.0, 20: 1000.0}  # issue 13: concurrent sessions → p95 of an action
TARGET_RSS_MB = 1024.0
SORTABLE = ("title", "company", "location", "workplace_type", "seniority", "employment_type", "salary_annual_min",
            "salary_annual_max", "posted_at", "first_seen_at", "source")  # fmt: skip
TEXT_KEY = "f_text"  # ui/keys.py F_TEXT
GRID_KEY = "grid"  # ui/keys.py GRID
NEXT_KEY = "page_next"  # ui/keys.py PAGE_NEXT
FIRST_KEY = "page_first"  # ui/keys.py PAGE_FIRST
DETAIL_KEY = "d_starred"  # ui/keys.py D_STARRED: drawn only when the detail panel shows a job
MATCH_RE = re.compile(r"\*\*([\d,]+)\*\* jobs match .*\(page (\d+)\)")
FINISHED = ForwardMsg.ScriptFinishedStatus
SAMPLE_S = 0.25


# --------------------------------------------------------------------------- the protocol client


@dataclass
class Widget:
    id: str
    kind: str  # the Element oneof: text_input, button, component_instance, …
    fragment_id: str
    disabled: bool = False


@dataclass
class Reply:
    """What the server sent for one rerun request, up to its script_finished."""

    ms: float
    status: str  # ok | lost (no script_finished within the timeout) | closed (the socket closed)
    finish: str = ""  # the terminal ScriptFinishedStatus name
    early: int = 0  # FINISHED_EARLY_FOR_RERUN hops (a server-side st.rerun) before the terminal one
    errors: list[str] = field(default_factory=list)
    messages: int = 0
    bytes: int = 0
    texts: list[str] = field(default_factory=list)  # st.text / st.markdown bodies
    grid: list[tuple[str, str]] | None = None  # (job_id, title) rows of the grid payload, if the grid was drawn
    keys: set[str] = field(default_factory=set)  # user keys of the widgets drawn


_T = TypeVar("_T")


def run_async(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run a coroutine on a fresh event loop in its own thread: works even where the caller's thread already
    runs a loop (a test runner, a notebook), which asyncio.run refuses."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _user_key(widget_id: str) -> str | None:
    """``$$ID-<hash>-<user key>`` → the user key (ids of widgets without a key have no third part)."""
    parts = widget_id.split("-", 2)
    return parts[2] if len(parts) == 3 and parts[0] == "$$ID" else None


def _grid_rows(component: Any) -> list[tuple[str, str]]:
    for arg in component.special_args:
        if arg.key == "data" and arg.WhichOneof("value") == "arrow_dataframe":
            table = pa.ipc.open_stream(arg.arrow_dataframe.data.data).read_all()
            ids = [str(x) for x in table.column("job_id").to_pylist()] if "job_id" in table.column_names else []
            titles = [str(x) for x in table.column("title").to_pylist()] if "title" in table.column_names else []
            return list(zip(ids, titles + [""] * (len(ids) - len(titles)), strict=True))
    return []


class Session:
    """One browser tab's worth of protocol: a websocket, the widgets on screen and the values the tab holds."""

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.timeout = timeout
        self.ws: Any = None
        self.page_hash = ""
        self.widgets: dict[str, Widget] = {}  # by user key (the ids are looked up fresh before every send)
        self.values: dict[str, tuple[str, Any]] = {}  # user key → (WidgetState field, value) the tab holds
        self.auto: dict[str, float] = {}  # fragment id → auto-rerun interval (s), as the server asked
        self.grid: list[tuple[str, str]] = []
        self.grid_value: dict[str, Any] = {"event": "", "sort": [], "filter": {}, "selected": []}
        self.matched: tuple[int, int] | None = None  # (jobs matching, page number) on screen
        self.broken = False

    async def connect(self) -> None:
        self.ws = await websockets.connect(
            self.url, subprotocols=[websockets.Subprotocol("streamlit")], max_size=None, open_timeout=self.timeout
        )

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    def fragment_of(self, key: str) -> str:
        w = self.widgets.get(key)
        return w.fragment_id if w else ""

    def _states(self, triggers: Sequence[str]) -> list[WidgetState]:
        out = []
        for key, (kind, value) in self.values.items():
            w = self.widgets.get(key)
            if w is None:
                continue
            ws = WidgetState(id=w.id)
            setattr(ws, kind, value)
            out.append(ws)
        for key in triggers:
            w = self.widgets.get(key)
            if w is not None:
                out.append(WidgetState(id=w.id, trigger_value=True))
        return out

    async def rerun(self, fragment_id: str = "", triggers: Sequence[str] = (), auto: bool = False) -> Reply:
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = ""
        cs.page_script_hash = self.page_hash
        cs.fragment_id = fragment_id
        cs.is_auto_rerun = auto
        cs.widget_states.widgets.extend(self._states(triggers))
        if not fragment_id:
            self.auto.clear()  # a full run registers its auto-rerun fragments again
        started = time.perf_counter()
        reply = Reply(ms=0.0, status="ok")
        try:
            await self.ws.send(msg.SerializeToString())
            while True:
                left = self.timeout - (time.perf_counter() - started)
                if left <= 0:
                    raise TimeoutError
                data = await asyncio.wait_for(self.ws.recv(), left)
                fwd = ForwardMsg()
                fwd.ParseFromString(data)
                reply.messages += 1
                reply.bytes += len(data)
                kind = fwd.WhichOneof("type")
                if kind == "script_finished":
                    if fwd.script_finished == FINISHED.FINISHED_EARLY_FOR_RERUN:
                        reply.early += 1
                        continue
                    reply.finish = FINISHED.Name(fwd.script_finished)
                    if fwd.script_finished == FINISHED.FINISHED_WITH_COMPILE_ERROR:
                        reply.errors.append("script compile error")
                    break
                self._absorb(fwd, kind, reply)
        except TimeoutError:
            reply.status = "lost"
            self.broken = True
        except websockets.ConnectionClosed:
            reply.status = "closed"
            self.broken = True
        reply.ms = (time.perf_counter() - started) * 1000
        if reply.grid is not None:
            self.grid = reply.grid
        return reply

    def _absorb(self, fwd: ForwardMsg, kind: str | None, reply: Reply) -> None:
        if kind == "new_session":
            self.page_hash = fwd.new_session.page_script_hash or self.page_hash
        elif kind == "navigation":
            self.page_hash = fwd.navigation.page_script_hash or self.page_hash
        elif kind == "auto_rerun":
            self.auto[fwd.auto_rerun.fragment_id] = fwd.auto_rerun.interval
        elif kind == "page_not_found":
            reply.errors.append("page not found")
        elif kind == "ref_hash":
            reply.errors.append("a cached-message reference the client never announced")
        elif kind == "session_event" and fwd.session_event.WhichOneof("type") == "script_compilation_exception":
            reply.errors.append("script compilation exception")
        elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
            self._element(fwd.delta.new_element, fwd.delta.fragment_id, reply)

    def _element(self, el: Any, fragment_id: str, reply: Reply) -> None:
        kind = el.WhichOneof("type")
        if kind is None:
            return
        sub = getattr(el, kind)
        if kind == "exception":
            reply.errors.append(f"exception: {sub.type}: {sub.message[:200]}")
        elif kind == "alert" and sub.format == Alert.ERROR:
            reply.errors.append(f"error: {sub.body[:200]}")
        elif kind in ("text", "markdown"):
            body = sub.body
            reply.texts.append(body)
            m = MATCH_RE.search(body)
            if m:
                self.matched = (int(m.group(1).replace(",", "")), int(m.group(2)))
        elif kind == "component_instance" and _user_key(sub.id) == GRID_KEY:
            reply.grid = _grid_rows(sub)
        wid = getattr(sub, "id", "") if kind != "exception" else ""
        key = _user_key(wid) if isinstance(wid, str) and wid else None
        if key is not None:
            self.widgets[key] = Widget(wid, kind, fragment_id, bool(getattr(sub, "disabled", False)))
            reply.keys.add(key)


# --------------------------------------------------------------------------- the actions


@dataclass
class Outcome:
    action: str
    reply: Reply
    check: str | None = None  # a failed check of what came back, else None
    verified: bool = False  # a check of what came back was made and passed


def _spelling(text: str, rng: random.Random) -> str:
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in text)


def search_terms(rows: Sequence[tuple[str, str]]) -> list[str]:
    """Title words (4+ letters) and adjacent word pairs of the rows on screen: searches that match something."""
    terms: set[str] = set()
    for _, title in rows:
        words = [w for w in re.findall(r"[A-Za-z]+", title.lower()) if len(w) >= 4]
        terms.update(words)
        terms.update(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))
    return sorted(terms)


def _search_text(s: Session, rng: random.Random, terms: Sequence[str]) -> str:
    """Mostly one title word (broad, several pages), sometimes a word pair, sometimes a cleared search;
    never the text already in the box (that would not be a new search)."""
    current = s.values.get(TEXT_KEY, ("", ""))[1]
    words = [t for t in terms if " " not in t] or ["engineer"]
    pairs = [t for t in terms if " " in t] or words
    for _ in range(10):
        roll = rng.random()
        text = "" if roll < 0.15 else _spelling(rng.choice(pairs if roll < 0.3 else words), rng)
        if text != current:
            return text
    return "" if current else "engineer"


async def act(s: Session, action: str, rng: random.Random, terms: Sequence[str]) -> Outcome | None:
    """One user action on the Jobs page; None when the action is not possible on this screen."""
    grid_fragment = s.fragment_of(GRID_KEY)
    if action == "search":
        before = [r[0] for r in s.grid]
        text = _search_text(s, rng, terms)
        s.values[TEXT_KEY] = ("string_value", text)
        r = await s.rerun()
        check = None
        after = [x[0] for x in r.grid] if r.grid is not None else None
        if r.status == "ok":
            if after is None:
                check = "search: the grid was not redrawn"
            elif after and after == before:
                check = f"search {text!r}: the grid shows the same rows as before"
        return Outcome(action, r, check, verified=r.status == "ok" and after is not None and after != before)
    if action == "sort":
        col = rng.choice(SORTABLE)
        s.grid_value = {
            **s.grid_value,
            "event": "sortChanged",
            "sort": [{"colId": col, "sort": rng.choice(("asc", "desc"))}],
        }
        s.values[GRID_KEY] = ("json_value", json.dumps(s.grid_value))
        r = await s.rerun(fragment_id=grid_fragment)
        check = None if r.status != "ok" or r.grid is not None else "sort: the grid was not redrawn"
        return Outcome(action, r, check, verified=r.status == "ok" and check is None)
    if action == "page":
        nxt, first = s.widgets.get(NEXT_KEY), s.widgets.get(FIRST_KEY)
        shown = s.matched
        if nxt is not None and not nxt.disabled:
            key, want = NEXT_KEY, (shown[1] + 1 if shown else None)
        elif first is not None and not first.disabled:
            key, want = FIRST_KEY, 1
        else:
            return None  # a single page: a user cannot turn it (counted as skipped)
        r = await s.rerun(fragment_id=s.fragment_of(key), triggers=(key,))
        check = None
        if r.status == "ok" and (s.matched is None or s.matched[1] != want):
            check = f"page: {key} went to page {s.matched[1] if s.matched else '?'}, expected {want}"
        return Outcome(action, r, check, verified=r.status == "ok" and check is None)
    if action == "open":
        if not s.grid:
            return None  # an empty grid has no row to open
        job_id, title = rng.choice(s.grid)
        s.grid_value = {**s.grid_value, "event": "selectionChanged", "selected": [job_id]}
        s.values[GRID_KEY] = ("json_value", json.dumps(s.grid_value))
        r = await s.rerun(fragment_id=grid_fragment)
        check = None
        if r.status == "ok" and (DETAIL_KEY not in r.keys or (title and title not in r.texts)):
            check = f"open: the detail panel does not show job {job_id}"
        return Outcome(action, r, check, verified=r.status == "ok" and check is None)
    raise ValueError(f"unknown action {action!r}")


# --------------------------------------------------------------------------- one level: N sessions


@dataclass
class Tally:
    ms: list[float] = field(default_factory=list)  # answered requests (status ok)
    requests: int = 0
    lost: int = 0
    errors: list[str] = field(default_factory=list)
    bytes: int = 0

    verified: int = 0  # answers whose content was checked and right
    skipped: int = 0  # actions the screen did not allow (a one-page result has no pager)

    def add(self, o: Outcome) -> None:
        self.requests += 1
        self.verified += o.verified
        self.bytes += o.reply.bytes
        if o.reply.status == "ok":
            self.ms.append(o.reply.ms)
        else:
            self.lost += 1
        self.errors.extend(o.reply.errors)
        if o.check:
            self.errors.append(o.check)

    def summary(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "answered": len(self.ms),
            "lost": self.lost,
            "errors": len(self.errors),
            "verified": self.verified,
            "skipped": self.skipped,
            "error_samples": sorted(set(self.errors))[:5],
            "p50_ms": _pct(self.ms, 50),
            "p95_ms": _pct(self.ms, 95),
            "max_ms": round(max(self.ms), 1) if self.ms else None,
            "mean_kb": round(self.bytes / self.requests / 1024, 1) if self.requests else None,
        }


def _pct(xs: Sequence[float], p: float) -> float | None:
    if not xs:
        return None
    if len(xs) == 1:
        return round(xs[0], 1)
    return round(statistics.quantiles(xs, n=100, method="inclusive")[int(p) - 1], 1)


class Sampler:
    """Samples a process tree's RSS and CPU every SAMPLE_S seconds on a thread, and this process's CPU."""

    def __init__(self, pid: int) -> None:
        self.proc = psutil.Process(pid)
        self.me = psutil.Process()
        self.rss: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _tree(self) -> list[psutil.Process]:
        try:
            return [self.proc, *self.proc.children(recursive=True)]
        except psutil.Error:
            return [self.proc]

    def _cpu(self, procs: Sequence[psutil.Process]) -> float:
        total = 0.0
        for p in procs:
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                pass
        return total

    def _loop(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            rss = 0
            for p in self._tree():
                try:
                    rss += p.memory_info().rss
                except psutil.Error:
                    pass
            self.rss.append(rss / 2**20)

    def __enter__(self) -> Sampler:
        self._t0 = time.perf_counter()
        self._server0 = self._cpu(self._tree())
        self._client0 = self._cpu([self.me])
        self._load0 = os.getloadavg()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.wall = time.perf_counter() - self._t0
        self.server_cpu_s = self._cpu(self._tree()) - self._server0
        self.client_cpu_s = self._cpu([self.me]) - self._client0
        self.load = (self._load0, os.getloadavg())

    def summary(self) -> dict[str, Any]:
        return {
            "wall_s": round(self.wall, 1),
            "server_rss_peak_mb": round(max(self.rss), 1) if self.rss else None,
            "server_rss_mean_mb": round(statistics.fmean(self.rss), 1) if self.rss else None,
            "server_cpu_mean_pct": round(100 * self.server_cpu_s / self.wall, 1) if self.wall else None,
            "client_cpu_mean_pct": round(100 * self.client_cpu_s / self.wall, 1) if self.wall else None,
            "loadavg_start": [round(x, 2) for x in self.load[0]],
            "loadavg_end": [round(x, 2) for x in self.load[1]],
            "samples": len(self.rss),
        }


async def _drive(
    s: Session, rng: random.Random, tallies: dict[str, Tally], deadline: float, max_actions: int, think: float
) -> int:
    """One session's loop: actions with think time between them; due live-notice auto-reruns in the gaps."""
    terms = search_terms(s.grid)
    done = 0
    now = time.perf_counter()
    next_poll = {frag: now + iv for frag, iv in s.auto.items()}
    next_action = now
    while not s.broken and done < max_actions and time.perf_counter() < deadline:
        now = time.perf_counter()
        due = [f for f, t in next_poll.items() if t <= now and f in s.auto]
        if due:
            frag = due[0]
            tallies["live_poll"].add(Outcome("live_poll", await s.rerun(fragment_id=frag, auto=True)))
            next_poll[frag] = time.perf_counter() + s.auto.get(frag, 3.0)
            continue
        if now >= next_action:
            name = ACTIONS[done % len(ACTIONS)]
            o = await act(s, name, rng, terms)
            done += 1
            if o is None:
                tallies[name].skipped += 1
                continue
            tallies[o.action].add(o)
            if o.action == "search" and s.grid:
                terms = sorted(set(terms) | set(search_terms(s.grid)))
            for frag, iv in s.auto.items():  # a full run re-registers the auto-rerun fragments
                next_poll.setdefault(frag, time.perf_counter() + iv)
            next_action = time.perf_counter() + think * rng.uniform(0.5, 1.5)
            continue
        wake = min([next_action, deadline, *[t for f, t in next_poll.items() if f in s.auto]])
        await asyncio.sleep(max(0.0, wake - time.perf_counter()))
    return done


async def _open(url: str, timeout: float, tally: Tally) -> Session:
    s = Session(url, timeout)
    started = time.perf_counter()
    try:
        await s.connect()
    except (OSError, TimeoutError, websockets.InvalidHandshake) as e:
        s.broken = True
        tally.add(Outcome("load", Reply(ms=(time.perf_counter() - started) * 1000, status="closed", errors=[str(e)])))
        return s
    r = await s.rerun()
    r.ms = (time.perf_counter() - started) * 1000  # connect + first full run of the Jobs page
    check = None if r.status != "ok" or (r.grid is not None and GRID_KEY in s.widgets) else "load: no grid drawn"
    tally.add(Outcome("load", r, check))
    return s


async def run_level(
    url: str, sessions: int, duration: float, max_actions: int, think: float, timeout: float, seed: int
) -> tuple[dict[str, Tally], dict[str, Any]]:
    tallies = {a: Tally() for a in REPORTED}
    opened = await asyncio.gather(*[_open(url, timeout, tallies["load"]) for _ in range(sessions)])
    deadline = time.perf_counter() + duration
    try:
        counts = await asyncio.gather(
            *[
                _drive(s, random.Random(seed * 1000 + i), tallies, deadline, max_actions, think)
                for i, s in enumerate(opened)
                if not s.broken
            ]
        )
    finally:
        await asyncio.gather(*[s.close() for s in opened], return_exceptions=True)
    info = {"sessions": sessions, "actions": sum(counts), "broken_sessions": sum(s.broken for s in opened)}
    return tallies, info


# --------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build_catalog(jobs: int, data_dir: Path) -> float:
    """``python -m core demo --jobs N`` into ``data_dir``; returns the seconds it took."""
    started = time.perf_counter()
    env = {**os.environ, "JOBDASH_DATA_DIR": str(data_dir)}
    env.pop("JOBDASH_CONFIG", None)
    subprocess.run(
        [sys.executable, "-m", "core", "demo", "--jobs", str(jobs), "--json"],
        cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, timeout=1800,
    )  # fmt: skip
    return time.perf_counter() - started


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/_stcore/stream"

    def tail(self, n: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def export_rev(rev: str, dest: Path) -> str:
    """The app as committed at ``rev`` (``git archive``, the checkout is not touched) in ``dest``; its commit."""
    commit = subprocess.run(["git", "rev-parse", "--verify", f"{rev}^{{commit}}"], cwd=ROOT, check=True,
                            capture_output=True, text=True, timeout=30).stdout.strip()  # fmt: skip
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", "--format=tar", commit], cwd=ROOT, check=True, capture_output=True,
                             timeout=120).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True, timeout=120)
    return commit


def code_identity() -> dict[str, Any]:
    """Which code the server ran: the commit, and whether the page's files differed from it (a working tree)."""

    def git(*a: str) -> str:
        try:
            return subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    dirty = git("status", "--porcelain", "--", "app.py", "pages", "ui", "core").splitlines()
    return {"app_dir": "working tree", "commit": git("rev-parse", "HEAD"), "dirty_files": [d[3:] for d in dirty]}


@contextmanager
def server(
    data_dir: Path,
    log: Path,
    port: int = 0,
    ready_s: float = 120.0,
    app_dir: Path = ROOT,
    options: Sequence[str] = (),
) -> Iterator[Server]:
    """``streamlit run app.py`` on 127.0.0.1 with the data folder; stopped (terminate, then kill) on exit."""
    port = port or free_port()
    env = {**os.environ, "JOBDASH_DATA_DIR": str(data_dir)}
    env.pop("JOBDASH_CONFIG", None)
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(app_dir / "app.py"), "--server.headless", "true",
        "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    for opt in options:  # "runner.postScriptGC=false" → --runner.postScriptGC false
        name, _, value = opt.partition("=")
        cmd += [f"--{name.strip()}", value.strip()]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=app_dir, env=env, stdout=out, stderr=subprocess.STDOUT)
    srv = Server(proc, port, log)
    try:
        deadline = time.monotonic() + ready_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited with {proc.returncode}:\n{srv.tail()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:  # noqa: S310
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not answer /_stcore/health in {ready_s:.0f} s:\n{srv.tail()}")
            time.sleep(0.25)
        yield srv
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


# --------------------------------------------------------------------------- the run


def run_levels(
    srv: Server,
    levels: Sequence[int],
    duration: float,
    max_actions: int,
    think: float,
    timeout: float,
    seed: int,
    say: Any = print,
) -> dict[str, Any]:
    """A warm-up session (not reported), then each level with fresh sessions; figures per level and action."""
    warm = Tally()
    t0 = time.perf_counter()

    async def warmup() -> None:
        s = await _open(srv.url, timeout, warm)
        try:
            if not s.broken:
                rng, terms = random.Random(seed), search_terms(s.grid)
                for a in ACTIONS:
                    o = await act(s, a, rng, terms)
                    if o is not None:
                        warm.add(o)
        finally:
            await s.close()

    run_async(warmup())
    out: dict[str, Any] = {"warmup": {"s": round(time.perf_counter() - t0, 1), **warm.summary()}, "levels": []}
    say(f"warm-up {out['warmup']['s']} s ({warm.requests} requests, lost {warm.lost}, errors {len(warm.errors)})")
    for n in levels:
        uptime = _uptime()
        with Sampler(srv.proc.pid) as sampler:
            tallies, info = run_async(run_level(srv.url, n, duration, max_actions, think, timeout, seed + n))
        level = {
            **info,
            "uptime": uptime,
            **sampler.summary(),
            "per_action": {a: tallies[a].summary() for a in REPORTED},
            "all_actions": _merge([tallies[a] for a in ACTIONS]).summary(),
        }
        requests = sum(t.requests for t in tallies.values())
        level["requests"] = requests  # every request: loads, actions and live polls
        level["throughput_per_s"] = round(requests / sampler.wall, 2) if sampler.wall else None
        level["server_cpu_ms_per_request"] = round(1000 * sampler.server_cpu_s / requests, 1) if requests else None
        out["levels"].append(level)
        aa = level["all_actions"]
        say(
            f"{n:>3} sessions: {info['actions']} actions, p50 {aa['p50_ms']} ms, p95 {aa['p95_ms']} ms, "
            f"lost {sum(t.lost for t in tallies.values())}, errors {sum(len(t.errors) for t in tallies.values())}, "
            f"RSS peak {level['server_rss_peak_mb']} MB, server CPU {level['server_cpu_mean_pct']} %, "
            f"client CPU {level['client_cpu_mean_pct']} % · {uptime}"
        )
    return out


def _merge(tallies: Sequence[Tally]) -> Tally:
    t = Tally()
    for x in tallies:
        t.ms += x.ms
        t.requests += x.requests
        t.lost += x.lost
        t.errors += x.errors
        t.bytes += x.bytes
        t.verified += x.verified
        t.skipped += x.skipped
    return t


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def verdict(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, judged on the measured figures: p95 at 10 and 20 sessions, nothing lost, RSS."""
    out = []
    for level in result["levels"]:
        n = level["sessions"]
        label = f"{n} session{'' if n == 1 else 's'}"
        lost = sum(a["lost"] for a in level["per_action"].values())
        errors = sum(a["errors"] for a in level["per_action"].values())
        if n in TARGET_P95_MS:
            p95 = level["all_actions"]["p95_ms"]
            worst = max((a["p95_ms"] or 0.0) for k, a in level["per_action"].items() if k in ACTIONS)
            out.append({"target": f"{label}: p95 ≤ {TARGET_P95_MS[n]:.0f} ms", "measured": p95,
                        "worst_action_p95": worst, "met": p95 is not None and p95 <= TARGET_P95_MS[n]})  # fmt: skip
        out.append({"target": f"{label}: nothing lost", "measured": lost, "errors": errors,
                    "met": lost == 0 and not level["broken_sessions"]})  # fmt: skip
        rss = level["server_rss_peak_mb"]
        out.append({"target": f"{label}: RSS ≤ {TARGET_RSS_MB:.0f} MB", "measured": rss,
                    "met": rss is not None and rss <= TARGET_RSS_MB})  # fmt: skip
    return out


def markdown(result: dict[str, Any]) -> str:
    cfg = result["config"]
    lines = [
        f"## Load: concurrent sessions of the Jobs page ({cfg['jobs']:,} jobs)",
        "",
        f"`{result['command']}` — {result['started_at']} · {result['machine']['cpu_count']} CPUs "
        f"({result['machine']['cpu_model']}), shared and noisy: `uptime` is recorded with each level.",
        "",
        "A protocol-level client (`benchmarks/load_test.py`, Streamlit's own websocket protobufs, no browser) "
        f"drives N sessions against one `streamlit run app.py` on 127.0.0.1. Each session loops search → sort → "
        f"page → open a job, one request at a time, think time {cfg['think_s']} s ±50 % between actions, and "
        "sends the live notice's 3 s auto-rerun when due (`live_poll`), like a browser. An action's time is send → "
        "its `script_finished`; searches are words from the grid in a fresh upper/lower-case spelling (cold caches). "
        f"Each level: fresh sessions for {cfg['duration_s']:.0f} s (≤ {cfg['max_actions']} actions per session), after "
        "one unreported warm-up session. Server RSS and CPU (% of one core) are sampled with psutil every "
        f"{SAMPLE_S} s; the client's own CPU is shown beside them.",
        "",
        "| Sessions | Action | Requests | Lost | Errors | p50 ms | p95 ms | max ms |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for level in result["levels"]:
        for name in (*REPORTED, "all"):
            a = level["all_actions"] if name == "all" else level["per_action"][name]
            if not a["requests"]:
                continue
            label = "**all actions**" if name == "all" else name
            lines.append(
                f"| {level['sessions']} | {label} | {a['requests']} | {a['lost']} | {a['errors']} | "
                f"{_fmt(a['p50_ms'])} | {_fmt(a['p95_ms'])} | {_fmt(a['max_ms'])} |"
            )
    lines += [
        "",
        "`load` is connect + the first full run of the page (all sessions open at once); `all actions` is search, "
        "sort, page and open together (live polls excluded). Requests/s and CPU ms per request count every request "
        "(loads, actions, live polls); CPU % is of one core (the script runs share one GIL).",
        "",
        "| Sessions | Actions | Requests/s | Server CPU ms per request | Server RSS peak MB | Server CPU mean % "
        "| Client CPU mean % | Wall s | uptime at start |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for level in result["levels"]:
        lines.append(
            f"| {level['sessions']} | {level['actions']} | {_fmt(level.get('throughput_per_s'))} | "
            f"{_fmt(level.get('server_cpu_ms_per_request'))} | {_fmt(level['server_rss_peak_mb'])} | "
            f"{_fmt(level['server_cpu_mean_pct'])} | {_fmt(level['client_cpu_mean_pct'])} | {level['wall_s']} | "
            f"`{level['uptime']}` |"
        )
    lines += ["", "| Target (issue 13) | Measured | Met |", "|---|---|---|"]
    for v in result["verdict"]:
        extra = ""
        if "worst_action_p95" in v:
            extra = f" (worst action p95 {_fmt(v['worst_action_p95'])} ms)"
        if "errors" in v:
            extra = f" lost, {v['errors']} errors"
        lines.append(f"| {v['target']} | {_fmt(v['measured'])}{extra} | {'yes' if v['met'] else '**no**'} |")
    lines.append("")
    return "\n".join(lines)


BEGIN, END = "<!-- load_test: begin (generated) -->", "<!-- load_test: end -->"


def merge_section(path: Path, section: str) -> str:
    """The file with its generated section replaced (text outside the markers, e.g. an analysis, is kept)."""
    block = f"{BEGIN}\n{section.rstrip()}\n{END}\n"
    try:
        old = path.read_text(encoding="utf-8")
    except OSError:
        return block
    if BEGIN in old and END in old:
        head, rest = old.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].lstrip("\n")
        return head + block + ("\n" + tail if tail else "")
    return block


def _fmt(x: Any) -> str:
    if x is None:
        return "—"
    if isinstance(x, float):
        return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"
    return f"{x:,}" if isinstance(x, int) else str(x)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.load_test", description=__doc__.split("\n\n")[0])
    p.add_argument("--jobs", type=int, default=100_000, help="demo catalog size (default 100,000)")
    p.add_argument("--sessions", default="1,5,10,20", help="comma-separated concurrency levels")
    p.add_argument("--duration", type=float, default=60.0, help="seconds of actions per level (cap)")
    p.add_argument("--max-actions", type=int, default=400, help="actions per session per level (cap)")
    p.add_argument("--think", type=float, default=1.0, help="mean think time between a session's actions (s)")
    p.add_argument("--timeout", type=float, default=30.0, help="a request without script_finished by then is lost")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--data-dir", type=Path, help="reuse a data folder with a built catalog (else a temp one)")
    p.add_argument("--app-dir", type=Path, help="serve the app from this folder (an experiment; default: the checkout)")
    p.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    p.add_argument(
        "--rev", help="serve the app as committed at this git revision (exported; default: the working tree)"
    )
    p.add_argument("--streamlit-opt", action="append", default=[], metavar="NAME=VALUE",
                   help="a Streamlit config option for the server, e.g. runner.postScriptGC=false (repeatable)")  # fmt: skip
    p.add_argument("--json", type=Path, help="results file (default data/bench/load-<jobs>.json)")
    p.add_argument("--markdown", type=Path, default=ROOT / "docs" / "bench_load.md")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    levels = [int(x) for x in args.sessions.split(",") if x.strip()]
    if not levels or min(levels) < 1 or max(levels) > 200:
        raise SystemExit("--sessions: levels between 1 and 200")
    started_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    tmp = Path(tempfile.mkdtemp(prefix="jobdash-load-"))
    try:
        data_dir = args.data_dir
        build_s = None
        if data_dir is None:
            data_dir = tmp / "data"
            print(f"building a {args.jobs:,}-job demo catalog in {data_dir} …", flush=True)
            build_s = round(build_catalog(args.jobs, data_dir), 1)
        app_dir = ROOT
        code: dict[str, Any]
        if args.app_dir:
            app_dir = args.app_dir.resolve()
            code = {"app_dir": str(app_dir), "dirty_files": []}
        elif args.rev:
            app_dir = tmp / "app"
            code = {"app_dir": f"git archive {args.rev}", "commit": export_rev(args.rev, app_dir), "dirty_files": []}
        else:
            code = code_identity()
        with server(data_dir, tmp / "server.log", args.port, app_dir=app_dir, options=args.streamlit_opt) as srv:
            print(f"server pid {srv.proc.pid} on 127.0.0.1:{srv.port}", flush=True)
            result = run_levels(srv, levels, args.duration, args.max_actions, args.think, args.timeout, args.seed)
            result["server_log_tail"] = srv.tail(10)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result = {
        "command": "python -m benchmarks.load_test " + " ".join(argv if argv is not None else sys.argv[1:]),
        "started_at": started_at,
        "machine": {**machine(), "streamlit": streamlit.__version__},
        "config": {
            "jobs": args.jobs,
            "sessions": levels,
            "duration_s": args.duration,
            "think_s": args.think,
            "max_actions": args.max_actions,
            "timeout_s": args.timeout,
            "seed": args.seed,
            "catalog_build_s": build_s,
            "reused_data_dir": args.data_dir is not None,
        },  # fmt: skip
        "code": code,
        **result,
    }
    result["verdict"] = verdict(result)
    out = args.json or ROOT / "data" / "bench" / f"load-{args.jobs}.json"
    write_atomic(out, json.dumps(result, indent=2) + "\n")
    write_atomic(args.markdown, merge_section(args.markdown, markdown(result)))
    print(f"wrote {out} and {args.markdown}")
    for v in result["verdict"]:
        print(f"  {'ok  ' if v['met'] else 'MISS'} {v['target']}: {v['measured']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
