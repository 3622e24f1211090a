"""A real `streamlit run app.py` on a free port over a demo catalog, driven by Debian's Chromium.

Without chromium the browser tests skip with a reason, except in CI (CI=true), where they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from benchmarks.browser_timing import free_port, wait_healthy

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
DEMO_JOBS = 3000  # the app's own demo source has 5,000: "Sync now" then finds ~2,000 new jobs
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip
GRID_FRAME = "iframe[title='st_aggrid.AgGrid.agGrid']"


def chromium_or_skip() -> str:
    path = shutil.which("chromium")
    if path:
        return path
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail("chromium is not installed, and CI requires the browser tests (apt-get install chromium)")
    pytest.skip("chromium is not installed (apt-get install chromium); browser tests skipped outside CI")


@dataclass
class Server:
    url: str
    data_dir: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes]
    log: Path
    script_log: Path


def build_demo(data_dir: Path, config: Path, jobs: int) -> dict[str, str]:
    env = {**os.environ, "JOBDASH_DATA_DIR": str(data_dir), "JOBDASH_CONFIG": str(config)}
    subprocess.run(
        [sys.executable, "-m", "core", "demo", "--jobs", str(jobs)], cwd=ROOT, env=env, check=True, capture_output=True
    )
    return env


def start_streamlit(env: dict[str, str], log: Path) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
        "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port),
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
    ]  # fmt: skip
    out = log.open("wb")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    wait_healthy(url, proc)
    return url, proc


@pytest.fixture(scope="session")
def chromium_path() -> str:
    return chromium_or_skip()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("browser")
    (base / "jobdash.toml").write_text("", encoding="utf-8")  # no sources: the embedded demo default
    env = build_demo(base / "data", base / "jobdash.toml", DEMO_JOBS)
    env["JOBDASH_SCRIPT_LOG"] = str(base / "scripts.jsonl")  # every page and fragment run, as JSON lines
    url, proc = start_streamlit(env, base / "streamlit.log")
    yield Server(url, base / "data", env, proc, base / "streamlit.log", base / "scripts.jsonl")
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1500, "height": 1200})  # type: ignore[attr-defined]
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()


def shot(pg: object, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    pg.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path
