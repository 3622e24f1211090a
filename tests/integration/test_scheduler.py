"""scheduler.py as a real process: runs once at start, beats, honours Sync now, exits on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core import control
from core.runs import RunLog
from core.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]


def _wait(pred, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


@pytest.mark.slow
def test_scheduler_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "jobdash.toml"
    cfg.write_text('[[sources]]\nname = "demo"\nkind = "demo"\njobs = 300\nchurn = false\n', encoding="utf-8")
    monkeypatch.setenv("JOBDASH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("JOBDASH_CONFIG", str(cfg))
    settings = load_settings()
    proc = subprocess.Popen([sys.executable, "scheduler.py"], cwd=ROOT, env=os.environ.copy(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        def runs() -> list[dict]:  # type: ignore[type-arg]
            log = RunLog(settings.db_path)
            try:
                return [r for r in log.recent(10) if r["status"] in ("ok", "partial")]
            finally:
                log.close()

        _wait(lambda: len(runs()) >= 1)
        assert runs()[0]["trigger"] == "scheduler" and runs()[0]["counts"]["new"] == 300
        _wait(lambda: control.scheduler(settings) is not None)
        hb = control.scheduler(settings)
        assert hb is not None and hb.pid == proc.pid and hb.next_run is not None

        # Two quick clicks become one deferred-or-immediate run, never a dropped one.
        control.request_sync(settings, "test")
        control.request_sync(settings, "test")
        _wait(lambda: any(r["trigger"] == "request" for r in runs()))
        assert control.pending_requests(settings) == 0

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert control.scheduler(settings) is None, "a clean exit clears the heartbeat"
    finally:
        if proc.poll() is None:
            proc.kill()
