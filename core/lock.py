"""One sync at a time across processes: an exclusive, non-blocking flock on data/sync.lock.

The kernel drops the lock when its holder dies (even by SIGKILL), so a crash never leaves it stuck.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from core.clock import iso, utcnow
from core.errors import SyncBusy
from core.process import pid_alive


def holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return "another process"
    return f"pid {info.get('pid', '?')} ({info.get('trigger', '?')}) since {info.get('since', '?')}"


# A holder that lets go within this long is not a running sync (a probe by an older version, a process just
# exiting): retry instead of refusing. A real sync holds the lock for seconds at least.
RETRY_S = 0.25


def _acquire(fd: int, path: Path) -> None:
    deadline = time.monotonic() + RETRY_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise SyncBusy(f"a sync is already running ({holder(path)})") from None
            time.sleep(0.01)


@contextmanager
def sync_lock(path: Path, trigger: str) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, path)
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "trigger": trigger, "since": iso(utcnow())}).encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _proc_locks_holder(path: Path) -> bool | None:
    """Whether /proc/locks lists a FLOCK on this file (Linux), or None when that cannot be told."""
    try:
        st = path.stat()
        with open("/proc/locks", encoding="ascii", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    dev = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    for line in lines:
        parts = line.split()
        # "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF" (a blocked waiter has "->" after the number)
        if "->" in parts:
            continue
        if len(parts) >= 6 and parts[1] == "FLOCK" and parts[5] == dev:
            return True
    return False


def _pid_holder(path: Path) -> bool:
    """Fallback without /proc/locks: the pid the holder wrote is alive."""
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
        pid = int(info.get("pid", 0))
    except (OSError, ValueError, TypeError):
        return False
    return pid > 0 and pid_alive(pid)


def is_locked(path: Path) -> bool:
    """True while some process holds the sync lock. Probes without taking the lock (it used to take it for a
    moment, so a sync starting at that instant was refused): /proc/locks on Linux, else the holder's pid."""
    if not path.exists():
        return False
    found = _proc_locks_holder(path)
    return _pid_holder(path) if found is None else found
