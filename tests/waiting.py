"""Waiting on real processes: poll a condition until it holds or the time is up."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_for(pred: Callable[[], Any], timeout: float = 90.0, what: str = "condition", every: float = 0.05) -> Any:
    """``pred()``'s first truthy value; AssertionError naming ``what`` after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if value := pred():
            return value
        time.sleep(every)
    raise AssertionError(f"{what}: not met within {timeout:.0f} s")
