"""Recommendations: advice that follows from a measured cause (pure functions of ``Measurements``)."""

from __future__ import annotations

from dataclasses import dataclass

from core.instrumentation.alerts import MIN_SCRIPTS, completed_runs, sustained_cpu
from core.instrumentation.metrics import CacheSummary
from core.instrumentation.monitor import GB, Measurements
from core.settings import Thresholds

MIN_SLOW_FOR_CAUSE = 3  # slow queries needed before naming a dominant cause
DOMINANT_SHARE = 0.5


@dataclass(frozen=True)
class Recommendation:
    cause: str  # the measured finding, with its numbers
    advice: str


_KIND_ADVICE = {
    "desc_search": "narrow with other filters first (source, company, date) or use more specific words or a "
    '"quoted phrase": a broad description search ranks many matches before the page is cut',
    "page": "sort by a column with fewer ties and avoid leading-wildcard text filters on large catalogs; "
    "keep the page size at 100 rows",
    "count": "counts run on every filter change: combine several filter changes before applying, or narrow "
    "with a selective filter (source, date range) first",
    "facet": "facets group the whole filtered set: narrow the filters, or show fewer facets at once",
    "timeseries": "bucket by week or month instead of day over long date ranges",
    "salary": "restrict the salary chart to one currency or a date range",
    "export": "export a narrower filtered set; exports scan every matching row",
    "job": "single-job lookups should be instant: check the description segment files are on a local disk",
    "load": "snapshot loads scale with rows: purge delisted jobs sooner (retention.purge_delisted_after_days)",
}

_PHASE_ADVICE = {
    "fetch": "sources are the bottleneck: raise sync.max_parallel_fetch, lower a slow source's timeout_s, or give "
    "it its own schedule_minutes",
    "normalize": "normalization is CPU-bound per row: check the rejected counts for a noisy source, and keep "
    "descriptions short at the source if it allows",
    "diff": "the set-based diff is memory-bound: raise sync.memory_limit so DuckDB does not spill to disk",
    "write": "snapshot writing scales with the catalog: purge delisted jobs sooner "
    "(retention.purge_delisted_after_days) to keep the file small",
    "index": "description indexing runs for new and changed jobs only: a source that rewrites every description "
    "each run (tracking text, dates) makes everything 'changed'",
    "publish": "publishing prunes old snapshots: keep fewer (retention.snapshots)",
}


def recommend(m: Measurements, th: Thresholds) -> list[Recommendation]:
    """Advice that follows from the measured cause; nothing when nothing was measured."""
    out: list[Recommendation] = []

    if len(m.slow) >= MIN_SLOW_FOR_CAUSE:
        by_kind: dict[str, int] = {}
        for q in m.slow:
            by_kind[q.kind] = by_kind.get(q.kind, 0) + 1
        kind, n = max(by_kind.items(), key=lambda kv: kv[1])
        share = n / len(m.slow)
        if share >= DOMINANT_SHARE:
            worst = max(q.ms for q in m.slow if q.kind == kind)
            cause = f"{kind} queries are {share:.0%} of {len(m.slow)} slow queries (slowest {worst:,.0f} ms)"
            out.append(Recommendation(cause, _KIND_ADVICE.get(kind, "look at the slowest shapes in the table below")))
        text_scans = [q for q in m.slow if "ILIKE" in q.shape.upper() or "CONTAINS(" in q.shape.upper()]
        if len(text_scans) / len(m.slow) >= DOMINANT_SHARE and kind != "desc_search":
            out.append(
                Recommendation(
                    f"{len(text_scans)} of {len(m.slow)} slow queries filter by text substring",
                    "substring search scans every title and company: add a selective filter (source, country, "
                    "date) so fewer rows are scanned, or search the descriptions index instead",
                )
            )

    total = CacheSummary(sum(c.hits for c in m.cache.values()), sum(c.misses for c in m.cache.values()))
    if total.lookups >= th.cache_min_lookups and total.hit_rate is not None and total.hit_rate < th.cache_hit_rate:
        name, missed = max(m.cache.items(), key=lambda kv: kv[1].misses)
        out.append(
            Recommendation(
                f"cache hit rate {total.hit_rate:.0%} over {total.lookups} lookups; {name!r} missed "
                f"{missed.misses} of {missed.lookups}",
                f"results of {name!r} are recomputed: each new snapshot invalidates them by design, so frequent syncs "
                "lower the rate; otherwise raise that cache's max_entries or ttl",
            )
        )

    done = completed_runs(m.runs)
    if done and done[0].total_s:
        latest = done[0]
        assert latest.total_s is not None
        phase, secs = max(latest.phases, key=lambda kv: kv[1], default=("", 0.0))
        share = secs / latest.total_s
        if phase and share >= DOMINANT_SHARE:
            out.append(
                Recommendation(
                    f"the sync's {phase} phase is {share:.0%} of run #{latest.run_id} ({secs:,.1f} of {latest.total_s:,.1f} s)",
                    _PHASE_ADVICE.get(phase, "look at that phase in the run's record"),
                )
            )

    slow_pages = [(p, s) for p, s in m.scripts.items() if s.count >= MIN_SCRIPTS and s.p95 > th.page_script_ms]
    if slow_pages:
        page, s = max(slow_pages, key=lambda kv: kv[1].p95)
        script_total = sum(x.total for x in m.scripts.values())
        query_total = sum(x.total for x in m.queries.values())
        share = min(1.0, query_total / script_total) if script_total else 0.0
        if share >= DOMINANT_SHARE:
            advice = "the time is spent in queries: see the slow queries and their advice"
        else:
            advice = (
                "the time is spent outside queries (rendering, charts, the grid): show fewer rows or charts per rerun"
            )
        out.append(
            Recommendation(
                f"the {page} page's p95 script time is {s.p95:,.0f} ms; queries are {share:.0%} of script time", advice
            )
        )

    if m.dashboard_rss_mb is not None and m.dashboard_rss_mb > th.dashboard_rss_mb:
        rows = f" holding {m.snapshot_rows:,} catalog rows" if m.snapshot_rows is not None else ""
        out.append(
            Recommendation(
                f"dashboard RSS {m.dashboard_rss_mb:,.0f} MB{rows}",
                "the in-memory catalog grows with rows: purge delisted jobs sooner "
                "(retention.purge_delisted_after_days) or restart the dashboard after a large import",
            )
        )

    if m.free_disk_gb is not None and m.free_disk_gb < th.free_disk_gb:
        used = f"; snapshots use {m.snapshots_bytes / GB:,.2f} GB" if m.snapshots_bytes is not None else ""
        out.append(
            Recommendation(
                f"{m.free_disk_gb:,.2f} GB free on the data folder's disk{used}",
                "keep fewer snapshots (retention.snapshots) or move the data folder (JOBDASH_DATA_DIR)",
            )
        )

    for src in m.sources:
        if src.failures_in_a_row >= th.source_failures:
            err = f": {src.last_error}" if src.last_error else ""
            out.append(
                Recommendation(
                    f"source {src.name!r} failed {src.failures_in_a_row} runs in a row{err}",
                    "its jobs are kept untouched, not delisted; check its options in jobdash.toml or disable it",
                )
            )

    if sustained_cpu(m.cpu, m.now, th.cpu_percent) is not None and m.process_cpu:
        role, pct = max(m.process_cpu.items(), key=lambda kv: kv[1])
        out.append(
            Recommendation(
                f"machine CPU above {th.cpu_percent:.0f}% for a minute; the {role} uses {pct:.0f}%",
                "a sync is probably running: schedule syncs less often (schedule.interval_minutes)"
                if role == "scheduler"
                else "the dashboard is busy: fewer charts per rerun, narrower filters",
            )
        )
    return out
