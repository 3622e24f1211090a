"""AppTest fixtures: a 20k-job catalog built once per session (copied per test, since tests edit user data),
an empty data folder, and helpers that read the grid's payload out of the opaque AgGrid component."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from core.search import DescriptionIndex
from tests import catalog_fixture

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
ROWS = 20_000
TIMEOUT = 60
# A configured-but-disabled source: not the embedded demo default, so an empty folder stays empty.
NO_DEMO_TOML = '[[sources]]\nkind = "demo"\nname = "demo"\nenabled = false\n'

pytestmark = pytest.mark.xdist_group("app")


@pytest.fixture(scope="session")
def built_catalog(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    data = tmp_path_factory.mktemp("catalog20k") / "data"
    built = catalog_fixture.build(data, ROWS)
    table = catalog_fixture.jobs_table(ROWS)  # the same seeded rows the snapshot holds
    hot = table.select(["job_id", "title", "company"])
    texts = catalog_fixture.descriptions(table)
    # Closed before any test copies the folder: the last connection checkpoints and removes the WAL, so the
    # copy is one consistent file (copying a live WAL database can copy the -wal and the db out of step).
    with DescriptionIndex(built.settings.search_path) as index:
        index.update(hot.append_column("description", pa.array(texts)))
    assert not (built.settings.search_path.parent / (built.settings.search_path.name + "-wal")).exists()
    return data, built.job_ids


@dataclass
class AppEnv:
    data_dir: Path
    job_ids: list[str]

    def app(self, page: str | None = None) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=TIMEOUT)
        at.run()
        if page:
            at.switch_page(page)
            at.run()
        assert not at.exception, [e.value for e in at.exception]
        return at


def _clear_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def demo_env(
    built_catalog: tuple[Path, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[AppEnv]:
    src, ids = built_catalog
    data = tmp_path / "data"
    shutil.copytree(src, data)
    (tmp_path / "jobdash.toml").write_text("", encoding="utf-8")
    monkeypatch.setenv("JOBDASH_DATA_DIR", str(data))
    monkeypatch.setenv("JOBDASH_CONFIG", str(tmp_path / "jobdash.toml"))
    yield AppEnv(data, ids)
    _clear_caches()


@pytest.fixture
def empty_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppEnv]:
    data = tmp_path / "data"
    (tmp_path / "jobdash.toml").write_text(NO_DEMO_TOML, encoding="utf-8")
    monkeypatch.setenv("JOBDASH_DATA_DIR", str(data))
    monkeypatch.setenv("JOBDASH_CONFIG", str(tmp_path / "jobdash.toml"))
    yield AppEnv(data, [])
    _clear_caches()


# --- reading the grid out of AppTest ------------------------------------------------------------------


@dataclass(frozen=True)
class GridPayload:
    rows: pa.Table
    options: dict[str, Any]

    def column(self, name: str) -> list[Any]:
        return self.rows.column(name).to_pylist()

    @property
    def ids(self) -> list[str]:
        return self.column("job_id")


def grid_payload(at: AppTest) -> GridPayload:
    """The Arrow table and grid options the page sent to the (opaque) AgGrid component."""
    found = [c for c in at.get("component_instance") if "agGrid" in c.proto.component_name]
    assert len(found) == 1, f"expected one AgGrid on the page, found {len(found)}"
    proto = found[0].proto
    args = json.loads(proto.json_args)
    data = next(a for a in proto.special_args if a.key == "data")
    table = pa.ipc.open_stream(data.arrow_dataframe.data.data).read_all()
    keep = [n for n in table.column_names if not n.startswith("::") and not n.startswith("__index")]
    return GridPayload(table.select(keep), args["gridOptions"])


def match_count(at: AppTest) -> int:
    """The "N jobs match" figure above the grid."""
    for md in at.markdown:
        if "jobs match" in md.value:
            return int(md.value.split("**")[1].replace(",", ""))
    raise AssertionError("no 'jobs match' line on the page")
