"""The source contract: a source fetches raw postings as an Arrow table in the raw schema.

A source raises on failure (``SourceError`` with a clear reason); the sync turns any exception or
timeout into a failed source and never into a failed run. A source that got only part of its
postings returns them with ``partial`` set: they are upserted, but nothing of that source is
delisted.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, ClassVar, Mapping, Protocol

import pyarrow as pa

from core.errors import ConfigError


@dataclass(frozen=True)
class SourceConfig:
    """One configured source: a value type (a cache key), parsed from jobdash.toml by core.settings."""

    name: str
    kind: str
    enabled: bool = True
    schedule_minutes: float | None = None  # per-source override of the global interval
    cron: str | None = None  # per-source crontab override
    timeout_s: float = 120.0
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Fetched:
    table: pa.Table  # any subset of schema.RAW_COLUMNS (conform_raw fills the rest)
    partial: str | None = None  # the reason, when only part of the postings could be fetched
    warnings: tuple[str, ...] = ()  # what was skipped or repaired on the way; shown with the run


@dataclass(frozen=True)
class FetchContext:
    """What a fetch may use: the run's clock, a way to report progress (0..1), and when to stop.

    The sync gives each source its own context: ``deadline`` (``time.monotonic()``, the source's
    ``timeout_s`` from its start) and ``cancel`` (set when the sync gives up on the fetch). A fetch
    checks them before each request and between chunks and then stops and closes its sockets; the
    shared HTTP client does so for every network adapter. ``warnings`` collects what that client
    noticed on the way (bytes replaced in a non-UTF-8 body …); the sync adds them to the source's.
    """

    now_iso: str
    progress: Callable[[float, str], None] = lambda frac, msg: None
    deadline: float | None = None
    cancel: threading.Event | None = None
    warnings: list[str] = field(default_factory=list)


class Source(Protocol):
    """What the sync and the settings loader use of an adapter, and nothing else."""

    kind: ClassVar[str]
    config: SourceConfig

    def __init__(self, config: SourceConfig) -> None: ...

    @classmethod
    def validate(cls, options: Mapping[str, Any], where: str) -> None:
        """Raise ConfigError naming the key (prefixed by ``where``) if an option is wrong."""
        ...

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
