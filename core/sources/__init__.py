"""Source registry: kind name → adapter class. Each class validates its own options."""

from __future__ import annotations

import importlib
from typing import Any, Mapping

from core.errors import ConfigError
from core.settings import SourceConfig
from core.sources.base import Source

# kind → "module:Class"; imported lazily so an optional dependency only matters when used.
KINDS: dict[str, str] = {
    "demo": "core.sources.demo:DemoSource",
    "file": "core.sources.files:FileSource",
    "greenhouse": "core.sources.greenhouse:GreenhouseSource",
    "lever": "core.sources.lever:LeverSource",
    "ashby": "core.sources.ashby:AshbySource",
    "remoteok": "core.sources.remoteok:RemoteOkSource",
    "jobspy": "core.sources.jobspy:JobSpySource",
}


def source_class(kind: str) -> Any:
    if kind not in KINDS:
        raise ConfigError(f"unknown source kind {kind!r} (known: {', '.join(sorted(KINDS))})")
    module, cls = KINDS[kind].split(":")
    return getattr(importlib.import_module(module), cls)


def validate_options(kind: str, options: Mapping[str, Any], where: str) -> None:
    """Raise ConfigError naming the key if a source's options are wrong."""
    source_class(kind).validate(options, where)


def build(config: SourceConfig) -> Source:
    src: Source = source_class(config.kind)(config)
    return src
