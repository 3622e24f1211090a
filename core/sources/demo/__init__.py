"""The demo source: a seeded job board that churns between runs (the generator is ``generator.py``, its word
lists are ``words.py``). Options: ``jobs``, ``seed``, ``churn``, ``epoch`` (default: hours since 2026-01-01)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import pyarrow as pa

from core.errors import ConfigError
from core.sources import DEFAULT_DEMO_JOBS
from core.sources.base import FetchContext, Fetched, SourceConfig, optional
from core.sources.demo.generator import EPOCH_ZERO, MAX_JOBS, demo_table, epoch_of

__all__ = ["EPOCH_ZERO", "MAX_JOBS", "DemoSource", "demo_table", "epoch_of"]


class DemoSource:
    kind: ClassVar[str] = "demo"

    def __init__(self, config: SourceConfig) -> None:
        self.validate(config.options, f"sources.{config.name}.")
        self.config = config
        opts = config.options
        self.jobs: int = opts.get("jobs", DEFAULT_DEMO_JOBS)
        self.seed: int = opts.get("seed", 42)
        self.churn: bool = opts.get("churn", True)
        self.epoch: int | None = opts.get("epoch")

    @classmethod
    def validate(cls, options: Mapping[str, Any], where: str) -> None:
        known = {"jobs", "seed", "churn", "epoch"}
        for key in options:
            if key not in known:
                raise ConfigError(f"{where}{key}: unknown option for a demo source (known: {', '.join(sorted(known))})")
        jobs = optional(options, "jobs", where, int, DEFAULT_DEMO_JOBS)
        if not 1 <= jobs <= MAX_JOBS:
            raise ConfigError(f"{where}jobs: must be between 1 and {MAX_JOBS:,}, got {jobs}")
        optional(options, "seed", where, int, 42)
        optional(options, "churn", where, bool, True)
        epoch = optional(options, "epoch", where, int, None)
        if epoch is not None and epoch < 0:
            raise ConfigError(f"{where}epoch: must be 0 or more, got {epoch}")

    def fetch(self, ctx: FetchContext) -> Fetched:
        epoch = self.epoch if self.epoch is not None else epoch_of(ctx.now_iso)
        ctx.progress(0.0, f"generating {self.jobs:,} demo postings (epoch {epoch})")
        table = demo_table(self.jobs, self.seed, epoch, self.churn)
        table = table.set_column(0, "source", pa.repeat(pa.scalar(self.config.name), table.num_rows))
        ctx.progress(1.0, f"{table.num_rows:,} demo postings")
        return Fetched(table)
