"""The load test's client speaks Streamlit's protocol: against a real server on a tiny catalog, every request gets
its script_finished, the search changes the grid's payload, the pager moves, and opening a row shows its detail."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks import load_test as lt

pytestmark = pytest.mark.slow

JOBS = 2_000


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("load") / "data"
    lt.build_catalog(JOBS, data)
    return data


@pytest.fixture(scope="module")
def srv(catalog: Path) -> Iterator[lt.Server]:
    with lt.server(catalog, catalog.parent / "server.log") as s:
        yield s
    assert s.proc.poll() is not None, "the server is stopped at the end"


def test_actions_get_their_script_finished_and_change_the_page(srv: lt.Server) -> None:
    async def scenario() -> list[lt.Outcome]:
        tally = lt.Tally()
        s = await lt._open(srv.url, 60.0, tally)
        try:
            assert tally.lost == 0 and not tally.errors, tally.summary()
            assert s.grid and lt.GRID_KEY in s.widgets and lt.TEXT_KEY in s.widgets
            assert s.matched is not None and s.matched[0] >= JOBS // 2 and s.matched[1] == 1
            rng = random.Random(1)
            out: list[lt.Outcome] = []
            for name in ("page", "page", "sort", "open", "search", "open"):
                before = [r[0] for r in s.grid]
                o = await lt.act(s, name, rng, lt.search_terms(s.grid))
                assert o is not None, name
                if name == "search":
                    assert [r[0] for r in s.grid] != before, "the search changed the grid payload"
                    assert s.values[lt.TEXT_KEY][1]
                out.append(o)
            return out
        finally:
            await s.close()

    outcomes = lt.run_async(scenario())
    for o in outcomes:
        assert o.reply.status == "ok", (o.action, o.reply)
        assert o.reply.finish in ("FINISHED_SUCCESSFULLY", "FINISHED_FRAGMENT_RUN_SUCCESSFULLY"), o.action
        assert not o.reply.errors and o.check is None, (o.action, o.reply.errors, o.check)
        assert o.verified, o.action
    # The grid's actions rerun only the fragment; the sidebar search reruns the whole page.
    finish = {o.action: o.reply.finish for o in outcomes}
    assert finish["sort"] == finish["page"] == finish["open"] == "FINISHED_FRAGMENT_RUN_SUCCESSFULLY"
    assert finish["search"] == "FINISHED_SUCCESSFULLY"


def test_two_sessions_lose_nothing_and_are_measured(catalog: Path, tmp_path: Path) -> None:
    out, md = tmp_path / "load.json", tmp_path / "bench_load.md"
    md.write_text("<!-- load_test: begin (generated) -->\nold\n<!-- load_test: end -->\n\n## Analysis\nkept\n")
    argv = ["--jobs", str(JOBS), "--data-dir", str(catalog), "--sessions", "2", "--duration", "8", "--max-actions", "6",
            "--think", "0.2", "--timeout", "60", "--json", str(out), "--markdown", str(md)]  # fmt: skip
    assert lt.main(argv) == 0
    result = json.loads(out.read_text())
    level = result["levels"][0]
    assert level["sessions"] == 2 and level["broken_sessions"] == 0
    per = level["per_action"]
    assert per["load"]["requests"] == 2 and per["load"]["answered"] == 2
    done = sum(per[a]["requests"] + per[a]["skipped"] for a in lt.ACTIONS)
    assert done == level["actions"] and level["actions"] >= 4
    for name, a in per.items():
        assert a["lost"] == 0 and a["answered"] == a["requests"], (name, a)
        assert a["errors"] == 0, (name, a["error_samples"])
    assert per["search"]["verified"] == per["search"]["requests"] >= 1
    assert level["server_rss_peak_mb"] and level["server_rss_peak_mb"] > 50
    assert level["server_cpu_mean_pct"] is not None and level["server_cpu_mean_pct"] > 0
    assert level["server_cpu_ms_per_request"] > 0
    assert {v["target"]: v["met"] for v in result["verdict"] if "lost" in v["target"]} == {
        "2 sessions: nothing lost": True
    }
    # The Markdown section is what was measured, replaced between its markers; the text after it is kept.
    text = md.read_text()
    assert f"| 2 | search | {per['search']['requests']} | 0 | 0 |" in text
    assert "\nold\n" not in text and text.endswith("## Analysis\nkept\n")
