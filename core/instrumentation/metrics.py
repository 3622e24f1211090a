"""In-process instrumentation: query latencies, cache hits, page script times, snapshot loads.

Everything lives in bounded ring buffers (``deque(maxlen=...)``) behind one lock, so recording is
cheap, memory is capped and any thread (Streamlit reruns, the sampler) may record or read. The
Performance page reads summaries of the same module-level ``REGISTRY``.

Percentiles use the **nearest-rank** method: the p-th percentile of n sorted values is the value at
rank ``ceil(p/100 * n)`` (1-based). It is always an observed value (never interpolated), so a test
can state it exactly: for 1..100 ms, p50 = 50, p95 = 95, p99 = 99, max = 100.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

QUERY_KINDS = ("page", "count", "facet", "timeseries", "salary", "job", "export", "desc_search", "load")
SLOW_QUERY_MS = 50.0
MAX_SHAPE_CHARS = 2000
# Latency histogram edges in ms: roughly logarithmic, so 0.3 ms and 3 s both land in a readable bin.
HISTOGRAM_EDGES_MS: tuple[float, ...] = (
    0.0,
    0.5,
    1.0,
    2.0,
    5.0,
    10.0,
    20.0,
    50.0,
    100.0,
    200.0,
    500.0,
    1000.0,
    2000.0,
    5000.0,
    math.inf,
)

_STRING_LITERAL = re.compile(r"'(?:[^']|'')*'")
_NUMBER_LITERAL = re.compile(r"(?<![\w.$])-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\b")
_SPACES = re.compile(r"\s+")


def normalize_shape(sql: str) -> str:
    """The SQL with whitespace collapsed and any literal values replaced by ``?``.

    Builders already pass values as parameters; stripping literals anyway means a value can never
    end up in the metrics even if one slipped into the text.
    """
    shape = _STRING_LITERAL.sub("?", sql)
    shape = _NUMBER_LITERAL.sub("?", shape)
    shape = _SPACES.sub(" ", shape).strip()
    return shape[:MAX_SHAPE_CHARS]


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of ``values`` (need not be sorted); ValueError on an empty sequence."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= p <= 100:
        raise ValueError(f"percentile must be within 0..100, got {p}")
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class QuerySample:
    kind: str
    ms: float
    rows: int
    version: int | None
    shape: str
    at: float  # wall clock, seconds since the epoch


@dataclass(frozen=True)
class SlowQuery:
    kind: str
    ms: float
    rows: int
    version: int | None
    shape: str
    param_types: tuple[str, ...]  # the parameters' types only: values may be personal search text
    at: float


@dataclass(frozen=True)
class CacheEvent:
    name: str
    hit: bool
    at: float


@dataclass(frozen=True)
class ScriptSample:
    page: str
    ms: float
    at: float


@dataclass(frozen=True)
class BlockSample:
    """One timed block of a page run (the query, the grid payload, the detail panel …)."""

    page: str
    block: str
    ms: float
    at: float


@dataclass(frozen=True)
class SnapshotLoad:
    version: int
    rows: int
    load_ms: float
    swap_ms: float
    at: float


@dataclass(frozen=True)
class LatencySummary:
    """Count and nearest-rank percentiles of one group of timings, in ms."""

    count: int
    p50: float
    p95: float
    p99: float
    max: float
    mean: float
    total: float

    @staticmethod
    def of(values: Sequence[float]) -> LatencySummary:
        ordered = sorted(values)
        total = math.fsum(ordered)
        return LatencySummary(
            count=len(ordered),
            p50=percentile(ordered, 50),
            p95=percentile(ordered, 95),
            p99=percentile(ordered, 99),
            max=ordered[-1],
            mean=total / len(ordered),
            total=total,
        )


@dataclass(frozen=True)
class CacheSummary:
    hits: int
    misses: int

    @property
    def lookups(self) -> int:
        return self.hits + self.misses

    @property
    def hit_rate(self) -> float | None:
        return self.hits / self.lookups if self.lookups else None


@dataclass(frozen=True)
class HistogramBin:
    lo_ms: float
    hi_ms: float
    count: int

    @property
    def label(self) -> str:
        if math.isinf(self.hi_ms):
            return f"≥ {self.lo_ms:g} ms"
        return f"{self.lo_ms:g}–{self.hi_ms:g} ms"


class QueryTimer:
    """Handed out by ``timed_query``: set ``rows`` inside the block; ``ms`` is filled in at the end."""

    def __init__(self) -> None:
        self.rows = 0
        self.ms = 0.0


class Registry:
    """Bounded, thread-safe measurements of this process. ``clock`` is injectable for tests."""

    def __init__(
        self,
        capacity: int = 20_000,
        slow_ms: float = SLOW_QUERY_MS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.slow_ms = slow_ms
        self.clock = clock
        self._lock = threading.Lock()
        self._queries: deque[QuerySample] = deque(maxlen=capacity)
        self._slow: deque[SlowQuery] = deque(maxlen=500)
        self._cache: deque[CacheEvent] = deque(maxlen=capacity)
        self._scripts: deque[ScriptSample] = deque(maxlen=5_000)
        self._loads: deque[SnapshotLoad] = deque(maxlen=500)
        self._blocks: deque[BlockSample] = deque(maxlen=capacity)

    # ------------------------------------------------------------ recording

    def record_query(
        self, kind: str, ms: float, rows: int, version: int | None, shape: str, params: Sequence[object] = ()
    ) -> None:
        now = self.clock()
        clean = normalize_shape(shape)
        sample = QuerySample(kind, float(ms), int(rows), version, clean, now)
        with self._lock:
            self._queries.append(sample)
            if ms > self.slow_ms:
                types = tuple(type(p).__name__ for p in params)
                self._slow.append(SlowQuery(kind, float(ms), int(rows), version, clean, types, now))

    def record_cache(self, name: str, hit: bool) -> None:
        event = CacheEvent(name, bool(hit), self.clock())
        with self._lock:
            self._cache.append(event)

    def record_script(self, page: str, ms: float) -> None:
        sample = ScriptSample(page, float(ms), self.clock())
        with self._lock:
            self._scripts.append(sample)

    def record_block(self, page: str, block: str, ms: float) -> None:
        sample = BlockSample(page, block, float(ms), self.clock())
        with self._lock:
            self._blocks.append(sample)

    def record_snapshot_load(self, version: int, rows: int, load_ms: float, swap_ms: float) -> None:
        load = SnapshotLoad(int(version), int(rows), float(load_ms), float(swap_ms), self.clock())
        with self._lock:
            self._loads.append(load)

    def reset(self) -> None:
        with self._lock:
            for buf in (self._queries, self._slow, self._cache, self._scripts, self._loads, self._blocks):
                buf.clear()

    # ------------------------------------------------------------ reading

    def _since(self, window_s: float | None) -> float:
        return -math.inf if window_s is None else self.clock() - window_s

    def queries(self, window_s: float | None = None, kind: str | None = None) -> list[QuerySample]:
        since = self._since(window_s)
        with self._lock:
            items = list(self._queries)
        return [q for q in items if q.at >= since and (kind is None or q.kind == kind)]

    def slow_queries(self, window_s: float | None = None, limit: int | None = None) -> list[SlowQuery]:
        """Slow queries in the window, slowest first."""
        since = self._since(window_s)
        with self._lock:
            items = [q for q in self._slow if q.at >= since]
        items.sort(key=lambda q: q.ms, reverse=True)
        return items if limit is None else items[:limit]

    def summary(self, window_s: float | None = None) -> dict[str, LatencySummary]:
        """Per query kind: count, p50, p95, p99, max (ms). Kinds with no queries are absent."""
        groups: dict[str, list[float]] = {}
        for q in self.queries(window_s):
            groups.setdefault(q.kind, []).append(q.ms)
        return {k: LatencySummary.of(v) for k, v in sorted(groups.items())}

    def histogram(
        self, window_s: float | None = None, kind: str | None = None, edges: Sequence[float] = HISTOGRAM_EDGES_MS
    ) -> list[HistogramBin]:
        """Counts of query latencies per bin [lo, hi); empty bins included so the axis is stable."""
        counts = [0] * (len(edges) - 1)
        for q in self.queries(window_s, kind):
            for i in range(len(counts)):
                if edges[i] <= q.ms < edges[i + 1]:
                    counts[i] += 1
                    break
        return [HistogramBin(edges[i], edges[i + 1], c) for i, c in enumerate(counts)]

    def cache(self, window_s: float | None = None) -> dict[str, CacheSummary]:
        """Hits and misses per cache name."""
        since = self._since(window_s)
        with self._lock:
            items = [e for e in self._cache if e.at >= since]
        tally: dict[str, list[int]] = {}
        for e in items:
            t = tally.setdefault(e.name, [0, 0])
            t[0 if e.hit else 1] += 1
        return {name: CacheSummary(h, m) for name, (h, m) in sorted(tally.items())}

    def cache_total(self, window_s: float | None = None) -> CacheSummary:
        per = self.cache(window_s).values()
        return CacheSummary(sum(c.hits for c in per), sum(c.misses for c in per))

    def scripts(self, window_s: float | None = None) -> dict[str, LatencySummary]:
        """Per page: run-time percentiles of its script (ms)."""
        since = self._since(window_s)
        with self._lock:
            items = [s for s in self._scripts if s.at >= since]
        groups: dict[str, list[float]] = {}
        for s in items:
            groups.setdefault(s.page, []).append(s.ms)
        return {k: LatencySummary.of(v) for k, v in sorted(groups.items())}

    def script_samples(self, window_s: float | None = None) -> list[ScriptSample]:
        since = self._since(window_s)
        with self._lock:
            return [s for s in self._scripts if s.at >= since]

    def blocks(self, window_s: float | None = None) -> dict[tuple[str, str], LatencySummary]:
        """Per (page, block): run-time percentiles of that block of the page's script (ms), in first-seen order."""
        since = self._since(window_s)
        with self._lock:
            items = [b for b in self._blocks if b.at >= since]
        groups: dict[tuple[str, str], list[float]] = {}
        for b in items:
            groups.setdefault((b.page, b.block), []).append(b.ms)
        return {k: LatencySummary.of(v) for k, v in groups.items()}

    def snapshot_loads(self) -> list[SnapshotLoad]:
        """Every recorded snapshot load, oldest first."""
        with self._lock:
            return list(self._loads)


REGISTRY = Registry()


def record_query(
    kind: str, ms: float, rows: int, version: int | None, shape: str, params: Sequence[object] = ()
) -> None:
    REGISTRY.record_query(kind, ms, rows, version, shape, params)


def record_cache(name: str, hit: bool) -> None:
    REGISTRY.record_cache(name, hit)


def record_script(page: str, ms: float) -> None:
    REGISTRY.record_script(page, ms)


def record_block(page: str, block: str, ms: float) -> None:
    REGISTRY.record_block(page, block, ms)


_run = threading.local()  # the blocks timed so far in this thread's current script run


def run_blocks(*, clear: bool = True) -> dict[str, float]:
    """Milliseconds per block timed on this thread since the last clear (one script run stays on one thread)."""
    out: dict[str, float] = dict(getattr(_run, "blocks", None) or {})
    if clear:
        _run.blocks = {}
    return out


@contextmanager
def timed_block(page: str, block: str, registry: Registry | None = None) -> Iterator[None]:
    """Time one block of a page run: recorded per (page, block) and kept for this run's log line.

    Recorded in ``finally``: a block cut short by a rerun (Streamlit stops a script with an exception) still
    counts the time it took."""
    start = time.perf_counter()
    try:
        yield
    finally:
        ms = (time.perf_counter() - start) * 1000
        (registry or REGISTRY).record_block(page, block, ms)
        blocks = getattr(_run, "blocks", None)
        if blocks is None:
            blocks = _run.blocks = {}
        blocks[block] = blocks.get(block, 0.0) + ms


def record_snapshot_load(version: int, rows: int, load_ms: float, swap_ms: float) -> None:
    REGISTRY.record_snapshot_load(version, rows, load_ms, swap_ms)


@contextmanager
def timed_query(
    kind: str, shape: str, version: int | None, params: Sequence[object] = (), registry: Registry | None = None
) -> Iterator[QueryTimer]:
    """Time the block and record it as one query when it finishes without an error; set ``timer.rows``."""
    timer = QueryTimer()
    start = time.perf_counter()
    yield timer
    timer.ms = (time.perf_counter() - start) * 1000
    (registry or REGISTRY).record_query(kind, timer.ms, timer.rows, version, shape, params)
