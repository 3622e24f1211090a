"""`make run` as a new user runs it: real make, supervisord, dashboard and scheduler processes in a temp data folder."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import psutil
import pytest

from core.cli import logrelay
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _status(env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "core", "status", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout))


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.mark.slow
def test_make_run_supervises_dashboard_and_scheduler(tmp_path: Path) -> None:
    cfg = tmp_path / "jobdash.toml"
    cfg.write_text("", encoding="utf-8")  # no sources: the demo default, as on a fresh clone
    data = tmp_path / "data"
    env = {**os.environ, "JOBDASH_DATA_DIR": str(data), "JOBDASH_CONFIG": str(cfg)}
    port = _free_port()
    make = subprocess.Popen(
        ["make", "-s", "run", f"PORT={port}", f"VENV={sys.prefix}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # so the finally below can clean up a whole failed run
    )
    try:
        # The demo catalog exists before the dashboard serves, and the scheduler beats.
        status = wait_for(lambda: (s := _status(env))["scheduler"]["alive"] and s, 120, "scheduler alive", every=0.2)
        assert status["snapshot"] and status["snapshot"]["rows"] > 5000 and status["snapshot"]["demo"]
        assert not [a for a in status["alerts"] if a["rule"] == "scheduler_down"]
        wait_for(lambda: _healthy(port), 60, "dashboard healthy", every=0.2)
        second = subprocess.run(
            [sys.executable, "-m", "core", "run", "--port", str(_free_port())],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        assert second.returncode == 2 and "already runs on this data folder" in second.stderr
        # It answers on loopback only.
        listening = [c for c in psutil.net_connections("tcp") if c.laddr.port == port and c.status == "LISTEN"]
        assert listening and {c.laddr.ip for c in listening} <= {"127.0.0.1"}
        # Both processes' output reaches one log, each line prefixed with its process.
        log = data / "logs" / "jobdash.log"
        wait_for(
            lambda: log.exists() and "scheduler  | " in log.read_text(), 30, "scheduler lines in the log", every=0.2
        )
        wait_for(lambda: "dashboard  | " in log.read_text(), 30, "dashboard lines in the log", every=0.2)

        # The scheduler killed alone is restarted, and status (and the Sync page) says so. Killed before
        # supervisord counts it as running (startsecs), it would be a start-up failure instead: wait for that.
        wait_for(lambda: "supervisor | scheduler running" in log.read_text(), 30, "scheduler running", every=0.2)
        old = status["scheduler"]["pid"]
        os.kill(old, signal.SIGKILL)
        restarted = wait_for(
            lambda: (s := _status(env))["scheduler"]["alive"] and s["scheduler"]["pid"] != old and s,
            60,
            "restart",
            every=0.2,
        )
        assert restarted["scheduler"]["last_restart"]["dead_pid"] == old
        assert restarted["scheduler"]["last_restart"]["pid"] == restarted["scheduler"]["pid"]
        wait_for(
            lambda: "exited unexpectedly; restarting it" in log.read_text(), 10, "the restart in the log", every=0.2
        )

        # One SIGTERM to `make run` stops everything within 10 s and leaves no process behind.
        tree = psutil.Process(make.pid).children(recursive=True)
        assert len(tree) >= 4, [p.name() for p in tree]  # supervisord, the dashboard, the scheduler, the relay
        started = time.monotonic()
        make.send_signal(signal.SIGTERM)
        make.wait(timeout=10)
        gone, alive = psutil.wait_procs(tree, timeout=max(0.1, 10 - (time.monotonic() - started)))
        assert not alive, f"left behind: {[p.pid for p in alive]}"
        assert time.monotonic() - started < 10
        assert _status(env)["scheduler"]["alive"] is False, "a clean stop clears the heartbeat"
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait()


def test_log_relay_lines_survive_chunking() -> None:
    """supervisord hands output over in chunks that can end mid-line: the relay writes whole lines only."""
    partial: dict[str, str] = {}
    head = "processname:dashboard groupname:jobdash pid:1 channel:stdout\n"
    assert logrelay.describe("PROCESS_LOG_STDOUT", head + "first li", partial) == []
    assert logrelay.describe("PROCESS_LOG_STDOUT", head + "ne\r\nsecond\nthi", partial) == [
        ("dashboard", "first line"),
        ("dashboard", "second"),
    ]
    crash = "processname:scheduler groupname:jobdash from_state:RUNNING expected:0 pid:42"
    assert logrelay.describe("PROCESS_STATE_EXITED", crash, partial) == [
        ("supervisor", "scheduler (pid 42) exited unexpectedly; restarting it")
    ]
    assert partial["dashboard"] == "thi"
