"""New user: a fresh data folder, a freshly started server, a fresh browser profile → the first grid rows.

    python -m benchmarks.new_user [--repeats 5] [--json] [--markdown docs/bench_new_user.md]

Each repetition makes an empty data folder with no jobdash.toml sources (the demo default), starts the
product, waits for the dashboard's health check, then opens the Jobs page in a new browser profile (cold
HTTP cache) and times until the grid shows its first row. Two ways of starting, side by side in one run:

- ``make run`` (``python -m core run``): the demo catalog is built before the dashboard starts, and the
  dashboard warms its catalog and first page while it starts (ui/warm.py);
- ``dashboard only``, the way `make run` started before issue 15 (``streamlit run app.py``): the first
  request builds the demo catalog.

Target (issue 15): first rows under 2 s from opening the page, medians.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.browser_timing import CHROMIUM_ARGS, ROOT, Session, free_port, wait_healthy
from benchmarks.common import machine, write_atomic

TARGET_FIRST_ROWS_MS = 2000.0
STARTS = {
    "make run": lambda port: [sys.executable, "-m", "core", "run", "--port", str(port)],
    "dashboard only": lambda port: [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
        "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ],
}  # fmt: skip


def once(how: str, chromium: str) -> dict[str, float]:
    """One new user: (start → healthy s, open → first rows ms)."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="jobdash-new-user-") as tmp:
        base = Path(tmp)
        (base / "jobdash.toml").write_text("", encoding="utf-8")
        env = {**os.environ, "JOBDASH_DATA_DIR": str(base / "data"), "JOBDASH_CONFIG": str(base / "jobdash.toml")}
        port = free_port()
        t0 = time.perf_counter()
        with (base / "server.log").open("wb") as out:
            proc = subprocess.Popen(STARTS[how](port), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
            try:
                url = f"http://127.0.0.1:{port}/"
                wait_healthy(url, proc)
                healthy_s = time.perf_counter() - t0
                with sync_playwright() as p:
                    browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
                    try:
                        session = Session(browser, url, base / "scripts.jsonl")  # a new context: a fresh profile
                        first_ms = session.load()
                        session.close()
                    finally:
                        browser.close()
            finally:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    return {"healthy_s": healthy_s, "first_rows_ms": first_ms}


def run(repeats: int = 5) -> dict[str, Any]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        return {"skipped": "Chromium is not installed"}
    samples: dict[str, list[dict[str, float]]] = {how: [] for how in STARTS}
    for _ in range(repeats):
        for how in STARTS:  # interleaved, so both see the same machine load
            samples[how].append(once(how, chromium))
    out: dict[str, Any] = {
        "repeats": repeats,
        "load_avg": os.getloadavg(),
        "target_first_rows_ms": TARGET_FIRST_ROWS_MS,
    }
    for how, runs in samples.items():
        first = [r["first_rows_ms"] for r in runs]
        out[how] = {
            "start_to_healthy_s": round(statistics.median(r["healthy_s"] for r in runs), 2),
            "first_rows_ms_median": round(statistics.median(first), 1),
            "first_rows_ms_max": round(max(first), 1),
            "first_rows_ms": [round(v, 1) for v in first],
        }
    out["target_met"] = out["make run"]["first_rows_ms_median"] <= TARGET_FIRST_ROWS_MS
    return out


def table(result: dict[str, Any]) -> str:
    rows = [
        "| start | start → dashboard healthy, s | open → first rows, median ms | max ms |",
        "|---|---:|---:|---:|",
    ]
    for how in STARTS:
        r = result[how]
        rows.append(
            f"| {how} | {r['start_to_healthy_s']:.1f} | {r['first_rows_ms_median']:.0f} | {r['first_rows_ms_max']:.0f} |"
        )
    return "\n".join(rows)


def markdown(result: dict[str, Any]) -> str:
    m = machine()
    return (
        "# New user: fresh server, fresh browser profile (issue 15)\n\n"
        "Written by `python -m benchmarks.new_user` (also run by `python -m core bench browser`); do not edit by hand.\n\n"
        f"{result['repeats']} new users per way of starting, interleaved; {m['cpu_count']} cores, "
        f"load average {result['load_avg'][0]:.1f} at the end; Python {m['python']}. Each: an empty data folder "
        "with no sources, the server started, then the Jobs page opened in a new browser profile (cold HTTP "
        "cache) until the grid shows its first row.\n\n"
        + table(result)
        + f"\n\nTarget: first rows ≤ {TARGET_FIRST_ROWS_MS:.0f} ms (median) with `make run`: "
        + ("**met**" if result["target_met"] else "**missed**")
        + ". Every sample, ms: "
        + "; ".join(f"{how}: {', '.join(f'{v:.0f}' for v in result[how]['first_rows_ms'])}" for how in STARTS)
        + ".\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--markdown", type=Path, help="also write the result as Markdown here")
    args = parser.parse_args()
    result = run(args.repeats)
    if "skipped" in result:
        print(result["skipped"])
        return 0
    if args.markdown:
        write_atomic(args.markdown, markdown(result))
    print(json.dumps(result, indent=2) if args.json else table(result))
    print(f"load average {result['load_avg'][0]:.1f}; target first rows ≤ {TARGET_FIRST_ROWS_MS:.0f} ms (median): "
          + ("met" if result["target_met"] else "MISSED"))  # fmt: skip
    return 0 if result["target_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
