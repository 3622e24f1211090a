"""scheduler.py as a real process in a temp data folder with a short interval."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from core import control
from core.runs import RunLog
from core.settings import load_settings
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_scheduler_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "jobdash.toml"
    # 0.1 min = 6 s between runs; 20k demo jobs make a run long enough to send a request during it.
    cfg.write_text('[schedule]\ninterval_minutes = 0.1\n[[sources]]\nname = "demo"\nkind = "demo"\njobs = 20000\n')
    monkeypatch.setenv("JOBDASH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("JOBDASH_CONFIG", str(cfg))
    settings = load_settings()
    proc = subprocess.Popen(
        [sys.executable, "scheduler.py"],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def runs() -> list[dict[str, Any]]:
        log = RunLog(settings.db_path)
        try:
            return list(reversed(log.recent(50)))
        finally:
            log.close()

    try:
        wait_for(lambda: [r for r in runs() if r["status"] == "ok"])
        first = runs()[0]
        assert first["trigger"] == "scheduler" and first["counts"]["new"] > 19000, "runs at start"
        hb = wait_for(lambda: control.scheduler(settings))
        assert hb.pid == proc.pid and hb.next_run is not None

        # A request sent while a run is in progress is deferred, then served after it.
        running = wait_for(lambda: control.running_run(settings), timeout=60)
        control.request_sync(settings, "test")
        served = wait_for(lambda: [r for r in runs() if r["trigger"] == "request" and r["finished_at"]])
        during = next(r for r in runs() if r["id"] == running["id"])
        assert served[0]["started_at"] >= during["finished_at"], "served after the run it arrived during"
        assert control.pending_requests(settings) == 0
        wait_for(lambda: sum(r["trigger"] == "scheduler" for r in runs()) >= 2)  # and again on the interval

        proc.send_signal(signal.SIGTERM)
        t = time.monotonic()
        assert proc.wait(timeout=10) == 0
        assert time.monotonic() - t < 5, "SIGTERM exits within 5 s"
        assert control.scheduler(settings) is None, "a clean exit clears the heartbeat"
        assert (settings.data_dir / "logs" / "scheduler.log").read_text().count("run #") >= 2

        done = [r for r in runs() if r["finished_at"]]
        spans = sorted(
            (datetime.fromisoformat(r["started_at"]), datetime.fromisoformat(r["finished_at"])) for r in done
        )
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            assert start >= end, "no two runs overlap"
        assert all(r["status"] in ("ok", "cancelled") for r in done)
    finally:
        if proc.poll() is None:
            proc.kill()
