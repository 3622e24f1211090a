"""The source contract: a source fetches raw postings as an Arrow table in the raw schema.

A source raises on failure (``SourceError`` with a clear reason); the sync turns any exception or
timeout into a failed source and never into a failed run. A source that got only part of its
postings returns them with ``partial`` set: they are upserted, but nothing of that source is
delisted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Mapping, Protocol

import pyarrow as pa

from core.errors import ConfigError
from core.settings import SourceConfig


@dataclass(frozen=True)
class Fetched:
    table: pa.Table  # any subset of schema.RAW_COLUMNS (conform_raw fills the rest)
    partial: str | None = None  # the reason, when only part of the postings could be fetched


@dataclass(frozen=True)
class FetchContext:
    """What a fetch may use: the run's clock and a way to report progress (0..1)."""

    now_iso: str
    progress: Callable[[float, str], None] = lambda frac, msg: None


class Source(Protocol):
    kind: ClassVar[str]
    config: SourceConfig

    def fetch(self, ctx: FetchContext) -> Fetched: ...


def require(options: Mapping[str, Any], key: str, where: str, typ: type) -> Any:
    """An option that must be present with the given type, or a ConfigError naming it."""
    if key not in options:
        raise ConfigError(f"{where}{key}: required")
    value = options[key]
    if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
        raise ConfigError(f"{where}{key}: expected {typ.__name__}, got {value!r}")
    return value


def optional(options: Mapping[str, Any], key: str, where: str, typ: type | tuple[type, ...], default: Any) -> Any:
    value = options.get(key, default)
    if value is default:
        return value
    if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
        names = typ.__name__ if isinstance(typ, type) else " or ".join(t.__name__ for t in typ)
        raise ConfigError(f"{where}{key}: expected {names}, got {value!r}")
    return value
