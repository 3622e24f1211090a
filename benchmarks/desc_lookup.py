"""The detail panel's description lookup: one job's description from its Parquet segment (issue 12).

    python -m benchmarks.desc_lookup DATA_DIR [--samples 30] [--seed 7]

For ``--samples`` random jobs of the current snapshot, times (ms, p50/p95):
- ``filtered``: ``pq.read_table(filters=[("job_id", "in", ...)])``, the lookup before schema 4;
- ``cold``: ``snapshots.read_descriptions`` with its footer cache emptied first (a fresh process);
- ``warm``: ``snapshots.read_descriptions`` again (the footer parsed once per segment file);
- ``job``: ``Catalog.job`` end to end (the row, its duplicates, the description).
Each read opens the file anew; the page cache is warm (the first lookup of each kind is not timed).
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from core import snapshots


def _filtered(directory: Path, job_id: str, name: str) -> str:
    t = pq.read_table(directory / name, columns=["job_id", "description"], filters=[("job_id", "in", [job_id])])
    return str(t.column("description")[0])


def _cold(directory: Path, job_id: str, name: str) -> str:
    snapshots._SEGMENTS.clear()
    return snapshots.read_descriptions(directory, [(job_id, name)])[job_id]


def _warm(directory: Path, job_id: str, name: str) -> str:
    return snapshots.read_descriptions(directory, [(job_id, name)])[job_id]


def _time(fn: Callable[[str, str], Any], picks: list[tuple[str, str]]) -> dict[str, float]:
    fn(*picks[0])  # not timed: imports, the page cache
    ms = []
    for job_id, name in picks:
        t0 = time.perf_counter()
        fn(job_id, name)
        ms.append((time.perf_counter() - t0) * 1000)
    q = statistics.quantiles(ms, n=20, method="inclusive")
    return {"p50": round(statistics.median(ms), 2), "p95": round(q[18], 2), "max": round(max(ms), 2)}


def run(data_dir: Path, samples: int, seed: int) -> dict[str, Any]:
    from core.catalog import Catalog
    from core.settings import Settings

    snap = snapshots.current(data_dir / "snapshots")
    if snap is None:
        raise SystemExit(f"no snapshot in {data_dir}")
    rows = pq.read_table(snap.jobs_path, columns=["job_id", "desc_file"]).to_pylist()
    picks = [(r["job_id"], r["desc_file"]) for r in random.Random(seed).sample(rows, samples) if r["desc_file"]]
    d = snap.directory
    segs = {name: pq.read_metadata(d / name) for _, name in picks}
    out: dict[str, Any] = {
        "jobs": snap.rows,
        "segments": {n: {"rows": m.num_rows, "row_groups": m.num_row_groups} for n, m in segs.items()},
        "samples": len(picks),
    }
    readers: dict[str, Callable[[Path, str, str], str]] = {"filtered": _filtered, "cold": _cold, "warm": _warm}
    for label, fn in readers.items():
        out[label] = _time(functools.partial(fn, d), picks)
    cat = Catalog(Settings(data_dir=data_dir, config_path=None, sources=(), demo_default=False))
    try:
        out["job"] = _time(lambda j, n: cat.job(j), picks)
    finally:
        cat.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("--samples", type=int, default=30)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    print(json.dumps(run(args.data_dir, args.samples, args.seed), indent=1))


if __name__ == "__main__":
    main()
