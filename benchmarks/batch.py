"""The benchmark's sync batch: a seeded mix of unchanged, updated and new demo postings against a demo catalog."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from core.sources.demo.generator import generate_rows, posted_seconds


def benchmark_batch(catalog_jobs: int, batch_jobs: int, seed: int = 42) -> pa.Table:
    """A sync batch against ``demo_table(catalog_jobs, seed, epoch=0, churn=False)``: 60% of its rows
    unchanged, 20% updated (content changed), 20% new ids; rows shuffled deterministically."""
    n_unchanged, n_updated = round(0.6 * batch_jobs), round(0.2 * batch_jobs)
    n_new = batch_jobs - n_unchanged - n_updated
    if n_unchanged + n_updated > catalog_jobs:
        raise ValueError(f"batch of {batch_jobs} needs at least {n_unchanged + n_updated} catalog jobs")
    rng = np.random.default_rng(seed)
    known = np.sort(rng.choice(catalog_jobs, size=n_unchanged + n_updated, replace=False)).astype(np.int64)
    updated = np.zeros(len(known), dtype=bool)
    updated[rng.choice(len(known), size=n_updated, replace=False)] = True
    ids = np.concatenate([known, catalog_jobs + np.arange(n_new, dtype=np.int64)])
    revision = np.concatenate([updated.astype(np.int64), np.zeros(n_new, dtype=np.int64)])
    posted = posted_seconds(seed, ids, catalog_jobs, 0)
    table = generate_rows(seed, ids, revision, posted).set_column(0, "source", pa.repeat(pa.scalar("demo"), len(ids)))
    return table.take(pa.array(rng.permutation(len(ids))))
