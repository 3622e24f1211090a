"""Every catalog query and snapshot load is timed into core.metrics with its kind, rows and version."""

from __future__ import annotations

from pathlib import Path

from core.catalog import Catalog
from core.instrumentation import metrics
from core.query import JobFilter, Sort
from tests import catalog_fixture as cf


def test_queries_and_loads_are_recorded(tmp_path: Path) -> None:
    b = cf.build(tmp_path, 2000, seed=3)
    metrics.REGISTRY.reset()
    cat = Catalog(b.settings)
    cat.refresh()
    flt = JobFilter(text="engineer", desc="python")
    page = cat.page(flt, Sort("title", desc=False), limit=25)
    cat.facet(JobFilter(), "company")
    cat.timeseries(JobFilter())

    loads = metrics.REGISTRY.snapshot_loads()
    assert cat.snapshot is not None
    assert [(x.version, x.rows) for x in loads] == [(cat.version, cat.snapshot.rows)]
    assert loads[0].load_ms > 0

    kinds = [q.kind for q in metrics.REGISTRY.queries()]
    # The load precomputes the default view's first page; then our four queries, in order.
    assert kinds == ["page", "desc_search", "page", "facet", "timeseries"]
    pq = metrics.REGISTRY.queries(kind="page")[-1]
    assert pq.rows == page.rows.num_rows + (1 if page.has_next else 0) and pq.version == cat.version and pq.ms > 0
    assert "?" in pq.shape and "engineer" not in pq.shape, "the shape carries no values"
