"""Source registry: kind name → adapter class. Each class validates its own options."""

from __future__ import annotations

import importlib
from types import MappingProxyType
from typing import Any, Mapping

from core.errors import ConfigError
from core.sources.base import Source, SourceConfig

# kind → "module:Class"; imported lazily so an optional dependency only matters when used.
KINDS: dict[str, str] = {
    "demo": "core.sources.demo:DemoSource",
    "file": "core.sources.files:FileSource",
    "greenhouse": "core.sources.greenhouse:GreenhouseSource",
    "lever": "core.sources.lever:LeverSource",
    "ashby": "core.sources.ashby:AshbySource",
    "remoteok": "core.sources.remoteok:RemoteOkSource",
    "jobspy": "core.sources.jobspy:JobSpySource",
    "workable": "core.sources.workable:WorkableSource",
    "smartrecruiters": "core.sources.smartrecruiters:SmartRecruitersSource",
    "recruitee": "core.sources.recruitee:RecruiteeSource",
    "workday": "core.sources.workday:WorkdaySource",
}


def source_class(kind: str) -> type[Source]:
    if kind not in KINDS:
        raise ConfigError(f"unknown source kind {kind!r} (known: {', '.join(sorted(KINDS))})")
    module, name = KINDS[kind].split(":")
    cls: type[Source] = getattr(importlib.import_module(module), name)
    return cls


def validate_options(kind: str, options: Mapping[str, Any], where: str) -> None:
    """Raise ConfigError naming the key if a source's options are wrong."""
    source_class(kind).validate(options, where)


def build(config: SourceConfig) -> Source:
    return source_class(config.kind)(config)


DEFAULT_DEMO_JOBS = 5000


def demo_source(jobs: int = DEFAULT_DEMO_JOBS) -> SourceConfig:
    """The embedded demo source a fresh install runs on."""
    return SourceConfig("demo", "demo", options=MappingProxyType({"jobs": jobs}))
