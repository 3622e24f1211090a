"""Settings: optional jobdash.toml plus JOBDASH_DATA_DIR / JOBDASH_CONFIG.

A bad config fails here, naming the key and the problem, before anything is written.
"""

from __future__ import annotations

import functools
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from core.errors import ConfigError
from core.sources import demo_source, validate_options
from core.sources.base import SourceConfig

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Thresholds:
    slow_query_p95_ms: float = 50.0
    page_script_ms: float = 100.0
    dashboard_rss_mb: float = 500.0
    cache_hit_rate: float = 0.70
    cache_min_lookups: int = 50
    cpu_percent: float = 80.0
    sync_slowdown: float = 2.0
    free_disk_gb: float = 1.0
    source_failures: int = 3


QUIET_HOURS = re.compile(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)")
WATCH_KEYS = ("view", "destinations", "quiet_hours", "min_matches", "paused", "include_relisted")


@dataclass(frozen=True)
class WatchConfig:
    """A ``[[watches]]`` table of jobdash.toml: a saved view watched, and where its digests go."""

    view: str
    destinations: tuple[str, ...] = ()  # apprise URLs (mailto://, ntfy://, slack://, json://, …)
    quiet_hours: str | None = None  # "22:00-07:00", local time; digests wait until it ends
    min_matches: int = 1  # a digest waits until this many unsent matches gathered
    paused: bool = False
    include_relisted: bool = False


def parse_quiet_hours(value: object, key: str = "quiet_hours") -> str | None:
    """``HH:MM-HH:MM`` (may wrap midnight) or empty/None for none; ConfigError naming ``key`` otherwise."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not QUIET_HOURS.fullmatch(value.strip()):
        raise ConfigError(f"{key}: expected a range like '22:00-07:00', got {value!r}")
    return value.strip()


def _parse_watches(raw: Any) -> tuple[WatchConfig, ...]:
    if not isinstance(raw, list):
        raise ConfigError("watches: expected an array of tables ([[watches]])")
    out: list[WatchConfig] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        where = f"watches[{i}]."
        if not isinstance(item, dict):
            raise ConfigError(f"watches[{i}]: expected a table")
        for key in item:
            if key not in WATCH_KEYS:
                raise ConfigError(f"{where}{key}: unknown key (known: {', '.join(WATCH_KEYS)})")
        view = _typed(item, "view", where, str, None)
        if not view.strip():
            raise ConfigError(f"{where}view: must name a saved view")
        if view.strip() in seen:
            raise ConfigError(f"{where}view: {view!r} is watched twice")
        seen.add(view.strip())
        dests = item.get("destinations", [])
        if isinstance(dests, str):
            dests = [dests]
        if not isinstance(dests, list) or not all(isinstance(d, str) and "://" in d for d in dests):
            raise ConfigError(f"{where}destinations: expected a list of apprise URLs like 'mailto://…', got {dests!r}")
        min_matches = _typed(item, "min_matches", where, int, 1)
        if min_matches < 1:
            raise ConfigError(f"{where}min_matches: must be at least 1, got {min_matches!r}")
        out.append(
            WatchConfig(
                view=view.strip(),
                destinations=tuple(d.strip() for d in dests),
                quiet_hours=parse_quiet_hours(item.get("quiet_hours"), where + "quiet_hours"),
                min_matches=min_matches,
                paused=_typed(item, "paused", where, bool, False),
                include_relisted=_typed(item, "include_relisted", where, bool, False),
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    config_path: Path | None
    sources: tuple[SourceConfig, ...]
    demo_default: bool  # no sources configured: the embedded demo source is used
    interval_minutes: float = 60.0
    cron: str | None = None  # a crontab expression; replaces the interval when set
    keep_snapshots: int = 5
    purge_after_days: int = 30
    max_parallel_fetch: int = 4
    memory_limit: str = "1GB"
    thresholds: Thresholds = Thresholds()
    watches: tuple[WatchConfig, ...] = ()  # [[watches]] of jobdash.toml (core.watches applies them)

    @property
    def snapshots_dir(self) -> Path:
        return self.data_dir / "snapshots"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "jobdash.sqlite"

    @property
    def search_path(self) -> Path:
        return self.data_dir / "search.sqlite"

    @property
    def lock_path(self) -> Path:
        return self.data_dir / "sync.lock"

    @property
    def bench_dir(self) -> Path:
        return self.data_dir / "bench"

    def source(self, name: str) -> SourceConfig:
        for s in self.sources:
            if s.name == name:
                return s
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"no source named {name!r} (configured: {known})")

    def ensure_dirs(self) -> None:
        self.snapshots_dir.mkdir(parents=True, exist_ok=True)


def _typed(table: Mapping[str, Any], key: str, where: str, typ: type, default: Any) -> Any:
    value = table.get(key, default)
    ok = isinstance(value, typ) and not (typ is int and isinstance(value, bool))
    if typ is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not ok:
        raise ConfigError(f"{where}{key}: expected {typ.__name__}, got {value!r}")
    return value


def _size(value: str, key: str) -> str:
    """A DuckDB memory size such as '1GB', checked here so a bad value fails at load time, naming the key."""
    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", value.strip(), re.IGNORECASE):
        raise ConfigError(f"{key}: expected a size like '1GB', got {value!r}")
    return value.strip()


def _positive(value: int | float, key: str) -> Any:
    if value <= 0:
        raise ConfigError(f"{key}: must be positive, got {value!r}")
    return value


def _parse_sources(raw: Any, config_dir: Path | None) -> tuple[SourceConfig, ...]:
    if not isinstance(raw, list):
        raise ConfigError("sources: expected an array of tables ([[sources]])")
    out: list[SourceConfig] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        where = f"sources[{i}]."
        if not isinstance(item, dict):
            raise ConfigError(f"sources[{i}]: expected a table")
        kind = _typed(item, "kind", where, str, None)
        name = _typed(item, "name", where, str, kind)
        if not name.strip():
            raise ConfigError(f"{where}name: must not be empty")
        if name in seen:
            raise ConfigError(f"{where}name: duplicate source name {name!r}")
        seen.add(name)
        enabled = _typed(item, "enabled", where, bool, True)
        sched = item.get("schedule_minutes")
        if sched is not None:
            sched = _positive(_typed(item, "schedule_minutes", where, float, None), where + "schedule_minutes")
        cron = _cron(item, where)
        timeout = _positive(_typed(item, "timeout_s", where, float, 120.0), where + "timeout_s")
        common = {"kind", "name", "enabled", "schedule_minutes", "cron", "timeout_s"}
        options = {k: v for k, v in item.items() if k not in common}
        if kind == "file" and config_dir is not None:
            options.setdefault("base_dir", str(config_dir))  # relative paths are relative to the config file
        validate_options(kind, options, where)
        out.append(SourceConfig(name, kind, enabled, sched, cron, timeout, MappingProxyType(options)))
    return tuple(out)


def _cron(table: Mapping[str, Any], where: str) -> str | None:
    """A crontab expression, checked by APScheduler's own parser so a typo fails at load time."""
    expr = table.get("cron")
    if expr is None:
        return None
    if not isinstance(expr, str):
        raise ConfigError(f"{where}cron: expected a crontab string, got {expr!r}")
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(expr, timezone="UTC")
    except ValueError as e:
        raise ConfigError(f"{where}cron: {e}") from e
    return expr


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """The settings for this environment, parsed once per version of the config file.

    Memoized on the two environment variables, the working directory (relative paths) and the config file's
    identity (inode, size, mtime), so a page
    that asks many times per rerun parses the TOML once, and an edited file applies on the next call.
    """
    env = os.environ if env is None else env
    data_env, config_env = env.get("JOBDASH_DATA_DIR"), env.get("JOBDASH_CONFIG")
    candidate = Path(config_env).expanduser() if config_env else ROOT / "jobdash.toml"
    try:
        st = candidate.stat()
        stamp: tuple[int, ...] | None = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    except OSError:
        stamp = None
    return _load_settings(data_env, config_env, os.getcwd(), stamp)


@functools.lru_cache(maxsize=8)
def _load_settings(data_env: str | None, config_env: str | None, _cwd: str, _stamp: tuple[int, ...] | None) -> Settings:
    env = {k: v for k, v in (("JOBDASH_DATA_DIR", data_env), ("JOBDASH_CONFIG", config_env)) if v}
    data_dir = Path(env.get("JOBDASH_DATA_DIR") or ROOT / "data").expanduser().resolve()
    explicit = env.get("JOBDASH_CONFIG")
    candidate = Path(explicit).expanduser() if explicit else ROOT / "jobdash.toml"
    if explicit and not candidate.is_file():
        raise ConfigError(f"JOBDASH_CONFIG: no such file {candidate}")
    config_path = candidate if candidate.is_file() else None
    doc: dict[str, Any] = {}
    if config_path is not None:
        try:
            doc = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(f"{config_path}: {e}") from e

    known = {"sources", "schedule", "retention", "sync", "alerts", "data_dir", "watches"}
    for key in doc:
        if key not in known:
            raise ConfigError(f"{key}: unknown key (known: {', '.join(sorted(known))})")
    if "data_dir" in doc and not env.get("JOBDASH_DATA_DIR"):
        data_dir = Path(_typed(doc, "data_dir", "", str, "")).expanduser().resolve()

    schedule = _typed(doc, "schedule", "", dict, {})
    retention = _typed(doc, "retention", "", dict, {})
    sync = _typed(doc, "sync", "", dict, {})
    alerts = _typed(doc, "alerts", "", dict, {})
    sources = _parse_sources(doc.get("sources", []), config_path.parent if config_path else None)
    demo_default = not sources
    if demo_default:
        sources = (demo_source(),)

    defaults = Thresholds()
    th: dict[str, Any] = {}
    for key, default in vars(defaults).items():
        th[key] = _typed(alerts, key, "alerts.", type(default), default)
    for key in alerts:
        if key not in th:
            raise ConfigError(f"alerts.{key}: unknown threshold")

    return Settings(
        data_dir=data_dir,
        config_path=config_path,
        sources=sources,
        demo_default=demo_default,
        interval_minutes=_positive(
            _typed(schedule, "interval_minutes", "schedule.", float, 60.0), "schedule.interval_minutes"
        ),
        cron=_cron(schedule, "schedule."),
        keep_snapshots=max(2, _typed(retention, "snapshots", "retention.", int, 5)),
        purge_after_days=_positive(
            _typed(retention, "purge_delisted_after_days", "retention.", int, 30), "retention.purge_delisted_after_days"
        ),
        max_parallel_fetch=_positive(_typed(sync, "max_parallel_fetch", "sync.", int, 4), "sync.max_parallel_fetch"),
        memory_limit=_size(_typed(sync, "memory_limit", "sync.", str, "1GB"), "sync.memory_limit"),
        thresholds=Thresholds(**th),
        watches=_parse_watches(doc.get("watches", [])),
    )
