"""Benchmark results as the Performance page reads them: the JSON documents under ``settings.bench_dir``.

``benchmarks/harness.py`` (``python -m core bench``) writes one ``bench-<UTC time>.json`` per run; this module
only reads them, so core never imports the benchmarks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PATTERN = "bench-*.json"


def all_results(bench_dir: Path) -> list[dict[str, Any]]:
    """Every readable results document, oldest first (file names sort by time); ``path`` says where it is."""
    out = []
    for path in sorted(bench_dir.glob(PATTERN)) if bench_dir.exists() else []:
        try:
            doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        doc["path"] = str(path)
        out.append(doc)
    return out


def latest_results(bench_dir: Path) -> dict[str, Any] | None:
    """The newest results JSON under ``bench_dir``, or None."""
    docs = all_results(bench_dir)
    return docs[-1] if docs else None
