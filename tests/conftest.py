"""Shared fixtures: a temp data folder with settings pointing at it, and in-memory sources."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import pyarrow as pa
import pytest

from core.errors import SourceError
from core.settings import Settings, load_settings
from core.sources.base import FetchContext, Fetched, SourceConfig


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    d = tmp_path / "data"
    monkeypatch.setenv("JOBDASH_DATA_DIR", str(d))
    monkeypatch.setenv("JOBDASH_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("", encoding="utf-8")
    yield d


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return load_settings()


@dataclass
class StaticSource:
    """A source that returns the rows it is given (or raises), for driving the sync in tests."""

    config: SourceConfig
    rows: list[dict[str, Any]]
    error: str | None = None
    partial: str | None = None
    kind: ClassVar[str] = "static"

    @classmethod
    def validate(cls, options: Mapping[str, Any], where: str) -> None:
        """Built in code, never from a config file: nothing to check."""

    def fetch(self, ctx: FetchContext) -> Fetched:
        if self.error:
            raise SourceError(self.error)
        keys = list(dict.fromkeys(k for row in self.rows for k in row)) or ["title"]
        return Fetched(pa.table({k: [row.get(k) for row in self.rows] for k in keys}), self.partial)


def static(name: str, rows: list[dict[str, Any]], **kw: Any) -> StaticSource:
    return StaticSource(SourceConfig(name, "static", timeout_s=10.0), rows, **kw)


def job(native_id: str, title: str = "Data Engineer", company: str = "Acme", **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "native_id": native_id,
        "title": title,
        "company": company,
        "location": "Berlin, Germany",
        "url": f"https://jobs.example.com/{native_id}?utm_source=x",
        "posted_at": "2026-11-01T09:00:00Z",
        "description": f"Build pipelines for {company}. Posting {native_id}.",
        "salary_text": "€60,000 - €75,000 per year",
    }
    row.update(extra)
    return row


def with_sources(settings: Settings, *configs: SourceConfig) -> Settings:
    return replace(settings, sources=tuple(configs), demo_default=False)
